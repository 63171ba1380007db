"""The transport under the run's ``httpx.AsyncClient``: blocking I/O for sequential runs, TLS set up on demand.

Blocking I/O.  A run without ``--jobs`` has one request in flight at a time, so
the event loop has nothing to interleave, and httpx's async stack (anyio, the
async connection pool, a select() round trip per read) costs about twice the CPU
of its sync stack per request.  ``BlockingTransport`` keeps the engine's async
code as it is and does the I/O with ``httpx.HTTPTransport`` (blocking sockets;
timeouts are socket timeouts).  ``--jobs N`` uses httpx's async transport.

Ctrl-C.  Python 3.11's ``asyncio.run`` installs a SIGINT handler that cancels
the run at its next ``await``, which a blocking read never reaches;
``interrupt_anywhere`` keeps the plain behaviour for the run (``KeyboardInterrupt``
where the program is, as on 3.10), which the engine turns into an interrupted run.
SIGTERM does the same in every mode.

TLS on demand.  Building a verifying SSL context (system and certifi CA bundles)
takes about 40 ms, a sixth of a short run's start-up: ``RunTransport`` creates the
pool for each URL scheme when it is first used, so plain-http runs never pay it.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from typing import Any, Callable, TypeVar

import httpx


T = TypeVar("T")
HTTP2_EXTENSION = "runner_http2"  # set on a request that offers HTTP/2 (``http2: true``)


class Interrupts:
    """The SIGINT and SIGTERM of one run: the first stops it, the next is held, the third forces the exit.

    Stopping writes every report for the requests that finished; a second
    signal (``timeout -s INT`` without ``--foreground`` delivers two, so does an
    impatient Ctrl-C) must not throw that work away, so it only says the reports
    are being written.  A third raises ``KeyboardInterrupt`` wherever the program
    is: the report being written is then left as it was (files are replaced
    atomically: complete or not there), and the run exits 130.  A signal that
    arrives while the reports of a finished run are written (``holding``) is
    held too.
    """

    FORCE = 3

    def __init__(self) -> None:
        self.count = 0
        self.holding = False
        self._stop: Callable[[], None] = self._raise

    @staticmethod
    def _raise() -> None:
        raise KeyboardInterrupt

    def received(self, *_: Any) -> None:
        """A signal handler (also usable with ``loop.add_signal_handler``)."""
        import sys

        self.count += 1
        if self.count >= self.FORCE:
            sys.stderr.write("interrupted again: exiting without finishing the reports\n")
            raise KeyboardInterrupt
        if self.count == 1 and not self.holding:
            self._stop()
            return
        sys.stderr.write("writing the reports before exiting (interrupt twice more to exit now)\n")

    @contextmanager
    def hold(self) -> Iterator[None]:
        """While the reports are written: a signal is held (until the third)."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False


@contextmanager
def interrupt_anywhere(enabled: bool = True, interrupts: Interrupts | None = None) -> Iterator[None]:
    """Ctrl-C and SIGTERM raise ``KeyboardInterrupt`` where the program is, also inside ``asyncio.run``.

    For blocking runs only (``enabled``): a concurrent run is cancelled at its next
    ``await`` instead (``cancel_on_sigterm``).  SIGTERM is how CI services,
    ``timeout`` and ``docker stop`` cancel a job: it ends the run as Ctrl-C does
    (reports written, exit 130).  ``interrupts`` counts them (see ``Interrupts``).
    A signal that was ignored when the process started (a shell's background job)
    stays ignored.  Main thread only.
    """
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = (interrupts or Interrupts()).received
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number, old in previous.items():
        if old is not signal.SIG_IGN:
            signal.signal(number, handler)  # not default_int_handler: asyncio.run then leaves SIGINT alone
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old if old is not None else signal.SIG_DFL)


async def cancel_on_sigterm(coroutine: Awaitable[T], enabled: bool = True, interrupts: Interrupts | None = None) -> T:
    """Await ``coroutine``; SIGINT or SIGTERM cancels it at its next ``await`` (concurrent runs), counted by ``interrupts``."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    installed = []
    if enabled and task is not None and threading.current_thread() is threading.main_thread():
        counter = interrupts or Interrupts()
        counter._stop = task.cancel  # type: ignore[method-assign,assignment]
        for number in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(number) is not signal.SIG_IGN:
                loop.add_signal_handler(number, counter.received)
                installed.append(number)
    try:
        return await coroutine
    finally:
        for number in installed:
            loop.remove_signal_handler(number)


class _BlockingBody(httpx.AsyncByteStream):
    """A sync response body read through the async interface (an iterator, not an async generator: cheaper)."""

    def __init__(self, stream: httpx.SyncByteStream):
        self._stream = stream
        self._chunks: Iterator[bytes] | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._chunks = iter(self._stream)
        return self

    async def __anext__(self) -> bytes:
        assert self._chunks is not None
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self._stream.close()


class BlockingTransport(httpx.AsyncBaseTransport):
    """An async transport doing blocking I/O with ``httpx.HTTPTransport`` (same settings, same errors)."""

    def __init__(self, **settings: Any):
        self._sync = httpx.HTTPTransport(**settings)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return once the response head has arrived."""
        response = self._sync.handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _BlockingBody(response.stream)  # the same response, its body read through the async interface
        return response

    async def aclose(self) -> None:
        """Close the pool's connections."""
        self._sync.close()


class RunTransport(httpx.AsyncBaseTransport):
    """One pool per URL scheme and proxy, each created on first use; ``ssl_context()`` is called only for https.

    The proxy of each request is chosen here (``proxy.ProxyRule``): its own
    setting (``--proxy``, ``proxy:``), carried in ``request.extensions``, or the
    environment's; ``NO_PROXY`` for both.
    """

    def __init__(self, ssl_context: Callable[[], Any], limits: httpx.Limits, blocking: bool, proxies: Any = None):
        from .proxy import ProxyRule

        self._ssl_context = ssl_context
        self._limits = limits
        self._blocking = blocking
        self._proxies = proxies if proxies is not None else ProxyRule()
        self._pools: dict[tuple[str, str | None], httpx.AsyncBaseTransport] = {}

    def _pool(self, scheme: str, proxy: str | None = None, http2: bool = False) -> httpx.AsyncBaseTransport:
        tls = scheme == "https"  # any other scheme goes to the plain pool, which rejects what it cannot send
        http2 = http2 and tls  # HTTP/2 is offered by ALPN in the TLS handshake; plain http stays HTTP/1.1
        key = ("https/2" if http2 else "https" if tls else "http", proxy)
        pool = self._pools.get(key)
        if pool is None:
            kind: Any = BlockingTransport if self._blocking else httpx.AsyncHTTPTransport
            settings: dict[str, Any] = {"verify": self._ssl_context() if tls else False, "limits": self._limits, "trust_env": False}
            if http2:
                settings["http2"] = True
            if proxy is not None:
                from .proxy import httpx_proxy

                settings["proxy"] = httpx_proxy(proxy)
            pool = self._pools[key] = kind(**settings)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the pool for its scheme, proxy and HTTP version offer (``http2: true``); the proxy used is noted in its extensions."""
        url = request.url
        proxy = self._proxies.proxy_for(url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme), request.extensions.get("runner_proxy"))
        request.extensions["runner_proxy_used"] = proxy
        return await self._pool(url.scheme, proxy, bool(request.extensions.get(HTTP2_EXTENSION))).handle_async_request(request)

    async def aclose(self) -> None:
        """Close every pool."""
        for pool in self._pools.values():
            await pool.aclose()
        self._pools.clear()
