"""The built-in mock: serves every request's saved ``example`` over HTTP on loopback.

Built on the standard library's ``ThreadingHTTPServer``: no extra dependency, one
thread per connection (so concurrent requests and slow event streams do not block
each other), HTTP/1.1 keep-alive, and chunked transfer for event streams.  Which
example answers a request is decided in ``mock_routes`` (method, path, auth,
query parameters, JSON body); see docs/mock.md.

The collection's auth is enforced: a request without the credential the
collection's ``auth`` renders to gets the collections' own 401 example for that
method and path, or a 401 shaped like the Mistral API's.
"""

from __future__ import annotations

import json
import shlex
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping, TextIO

from .examples import example_body, stream_chunks
from .mock_routes import Incoming, Route, answer, build_routes
from .model import CollectionSpec
from .templating import Templates

HANDLER_THREAD_NAME = "runner-mock-handler"
_MAX_BODY = 64 * 1024 * 1024  # a request body larger than this is refused (413)


def mistral_401() -> bytes:
    """A 401 body shaped like the Mistral API's gateway answer."""
    return json.dumps({"message": "Unauthorized", "request_id": uuid.uuid4().hex}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client reuses its connection
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: "_Server"
    timeout = 30  # an idle keep-alive connection is closed after this many seconds

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # one line per request is logged by the owner, when asked (-v)

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        owner = self.server.owner
        try:
            raw = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send_json(400, {"error": "the mock could not read the request body"}, "unreadable body")
            return
        if raw is None:
            self.close_connection = True
            self._send_json(413, {"error": f"request body larger than {_MAX_BODY} bytes"}, "body too large")
            return
        request = Incoming.parse(self.command, self.path, self.headers, raw)
        decided = answer(owner.routes, request)
        if decided.matched is None:
            serves = sorted({r.label for r in owner.routes})
            message = f"the mock has no example for {request.method} {request.path}"
            self._send_json(404, {"error": message, "serves": serves}, "no example")
        elif not decided.refused and decided.example is not None:
            self._send_example(decided.example, decided.example.title)
        elif decided.example is not None:
            self._send_example(decided.example, f"{decided.matched.title}: missing or wrong credential; saved 401 of {decided.example.title}")
        else:
            self._send_raw(401, mistral_401(), "application/json", f"{decided.matched.title}: missing or wrong credential")

    def _guarded(self) -> None:
        try:
            self._handle()
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception as exc:  # noqa: BLE001 - a bug must answer 500, not kill the connection silently
            self.close_connection = True
            try:
                self._send_json(500, {"error": f"mock error: {type(exc).__name__}: {exc}"}, "mock error")
            except OSError:
                pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_TRACE = _guarded

    def _send_json(self, status: int, payload: Any, note: str) -> None:
        self._send_raw(status, json.dumps(payload, indent=2).encode(), "application/json", note)

    def _send_raw(self, status: int, body: bytes, content_type: str, note: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        headers = dict(headers or {})
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        if content_type and not any(name.lower() == "content-type" for name in headers):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.owner.log(f"{self.command} {self.path} -> {status} ({note})")

    def _send_example(self, route: Route, note: str) -> None:
        example = route.example
        if example.events is not None and self.command != "HEAD":
            self._send_stream(route, note)
            return
        body, content_type = example_body(example)
        self._send_raw(example.status, body, content_type or "application/octet-stream", note, example.headers)

    def _send_stream(self, route: Route, note: str) -> None:
        example = route.example
        self.send_response(example.status)
        given = {name.lower() for name in example.headers}
        headers = {k: v for k, v in {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}.items() if k.lower() not in given}
        headers.update(example.headers)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = stream_chunks(example)
        delay = float(example.event_delay_ms) / 1000  # rendered when the route was built
        stopping = self.server.stopping
        for chunk in events:
            if delay and stopping.wait(delay):
                self.close_connection = True
                return  # the server is stopping: end the stream now
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.server.owner.log(f"{self.command} {self.path} -> {example.status} ({note}, {len(events)} events)")


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins every handler thread
    request_queue_size = 128  # the listen backlog: socketserver's 5 resets bursts of concurrent connects
    owner: "MockServer"

    def __init__(self, address: tuple[str, int], owner: "MockServer"):
        self.owner = owner
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        threading.current_thread().name = HANDLER_THREAD_NAME
        super().process_request_thread(request, client_address)

    def track(self, connection: socket.socket, alive: bool) -> None:
        """Remember open connections, so ``close_connections`` can end idle keep-alive ones."""
        with self._lock:
            if not alive:
                self._connections.discard(connection)
            elif self.stopping.is_set():
                _shutdown(connection)  # accepted just before the stop: do not wait for it
            else:
                self._connections.add(connection)

    def close_connections(self) -> None:
        """Shut down every open connection (their handler threads then end)."""
        with self._lock:
            for connection in list(self._connections):
                _shutdown(connection)


def _shutdown(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class MockServer:
    """A mock server on a thread of its own: ``start()``, ``serve_collections(...)``, ``stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, verbose: bool = False, log_file: TextIO | None = None):
        self.host, self.port = host, port
        self.verbose = verbose
        self.log_file = log_file or sys.stderr
        self.routes: list[Route] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()
        self._mask: Callable[[str], str] = lambda text: text

    @property
    def url(self) -> str:
        """The base URL the server answers on."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"

    def start(self) -> str:
        """Bind and serve in a background thread; return the base URL."""
        from .errors import UsageError

        try:
            self._server = _Server((self.host, self.port), self)
        except OSError as exc:
            raise UsageError(f"mock: cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="runner-mock", daemon=True)
        self._thread.start()
        return self.url

    def serve_collections(self, collections: list[CollectionSpec], templates: Templates, scopes: Mapping[int, Any] | None = None) -> None:
        """Serve the examples of ``collections``; ``scopes`` (by ``id(collection)``) render their values."""
        scopes = scopes or {}
        self.routes = build_routes(collections, templates, scopes)
        redactor = next((scope.redactor for scope in scopes.values()), None)
        if redactor is not None:
            self._mask = redactor.mask

    def log(self, line: str) -> None:
        """One line per request served, with ``-v`` (secrets masked)."""
        if self.verbose:
            with self._log_lock:
                self.log_file.write(f"mock: {self._mask(line)}\n")
                self.log_file.flush()

    def stop(self) -> None:
        """Stop serving, close every connection and join every thread."""
        server = self._server
        if server is None:
            return
        server.stopping.set()
        server.shutdown()  # serve_forever returns: no new connections
        server.close_connections()
        server.server_close()  # joins the handler threads (block_on_close)
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> "MockServer":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_forever(paths: list[str], host: str, port: int, verbose: bool, env_file: str | None = None, cli_vars: list[str] | None = None) -> None:
    """``runner mock``: load the collections (with an environment file and ``--var`` values), serve them until Ctrl-C."""
    from .plan import PlanInput, build_plan

    server = MockServer(host, port, verbose=verbose)
    url = server.start()
    previous = _stop_on_sigterm()
    stopped = False
    try:
        plan = build_plan(PlanInput(paths, env_file, cli_vars or [], mock_url=url))
        server.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs})
        if not server.routes:  # a mock that answers nothing is a mistake, not a server
            from .errors import InputError, Problem

            hint = "give a request a saved response to serve, e.g. example: {status: 200, json: {ok: true}} (see docs/mock.md)"
            raise InputError(Problem(f"nothing to serve: no request in {', '.join(paths)} has an example", None, hint))
        out = sys.stderr
        out.write(f"mock: serving {len(server.routes)} examples on {url} (Ctrl-C to stop)\n")
        for label in sorted({route.label for route in server.routes}):
            out.write(f"  {label}\n")
        same = [f"-e {shlex.quote(env_file)}"] if env_file else []
        out.write(f"run against it: runner run {' '.join([*paths, *same])} --var base_url={url}\n")
        out.flush()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stopped = True
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if stopped:  # after stop(): every request's log line is out by then
        sys.stderr.write("mock: stopped\n")


def _stop_on_sigterm() -> Any:
    """Make SIGTERM (``kill``, ``docker stop``) stop the mock like Ctrl-C; return the previous handler."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        return None  # ignored when the process started: it stays ignored, as for a run
    return signal.signal(signal.SIGTERM, interrupt)
