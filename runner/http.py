"""Send a rendered request with httpx; httpx errors become ``TransportError`` with a one-line cause.

One ``httpx.AsyncClient`` (one connection pool) per TLS configuration per run.
Bodies are read incrementally so a size limit can stop reading without holding
the rest in memory; redirects are followed here so ``max_redirects`` can be
set per request.  The clients keep no cookies: each collection run has its own
``SessionCookies``, so cookies never pass between collections, iterations or
data rows sharing a client.
"""

from __future__ import annotations

import errno
import io
import re
import socket
import ssl
import sys
import time
import types
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Iterable


def _import_httpx_without_its_cli() -> None:
    """Import httpx, keeping out its command-line tool (``httpx._main``).

    httpx loads its CLI whenever rich and click are installed (they are: the runner
    uses them), and with it rich's console, progress and syntax modules and
    pygments: about 45 ms of every ``runner run`` start-up for code never called.
    A stand-in is in ``sys.modules`` only while httpx is first imported.
    """
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    stand_in = types.ModuleType("httpx._main")
    stand_in.main = lambda: sys.exit("httpx's command-line tool is not loaded in this process")  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stand_in
    try:
        import httpx  # noqa: F401
    finally:
        del sys.modules["httpx._main"]


_import_httpx_without_its_cli()

import httpx  # noqa: E402

from .decoding import BodyTooLargeError, DecodeError, decoded_chunks
from .errors import InputError, Problem, TransportError
from .model import TlsSpec
from .redact import shorten
from .redirects import Hop, next_request
from .render import RenderedRequest


@dataclass
class HttpResponse:
    """A received response, fully read (or cut at the size limit)."""

    status: int
    headers: httpx.Headers
    body: bytes
    elapsed_ms: float
    http_version: str = "HTTP/1.1"
    truncated: bool = False
    redirects: int = 0
    url: str = ""
    events: list[Any] | None = None
    first_event_ms: float | None = None
    stream_error: str = ""
    hops: list[Hop] = field(default_factory=list)  # every redirect followed, in order
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The body decoded with the response's charset (UTF-8 by default), invalid bytes replaced."""
        from .bodytext import body_charset

        return self.body.decode(body_charset(self.headers), errors="replace")


class HttpClients:
    """The run's connection pools, one per TLS configuration.

    ``--insecure``, ``--ca-cert`` and ``--client-cert`` override every collection's
    ``verify`` and ``client_cert``.
    """

    def __init__(self, insecure: bool = False, ca_cert: str | None = None, client_cert: str | None = None, blocking: bool = False):
        self._clients: dict[Any, httpx.AsyncClient] = {}
        self.insecure = insecure
        self.blocking = blocking  # one request at a time: sync I/O behind the async client (transport.py)
        self.ca_cert = ca_cert
        self.client_cert = client_cert

    def settings(self, tls: TlsSpec) -> tuple[Any, Any]:
        """The ``(verify, client_cert)`` a collection gets, the command line winning."""
        verify: Any = False if self.insecure else (self.ca_cert or tls.verify)
        return verify, self.client_cert or tls.client_cert

    def check(self, specs: Iterable[TlsSpec]) -> None:
        """Load every CA bundle and client certificate now: a bad one is an ``InputError`` before anything is sent."""
        for verify, cert in {self.settings(tls) for tls in specs}:
            if isinstance(verify, str) or cert is not None:
                _ssl_context(verify, cert)

    def client(self, tls: TlsSpec) -> httpx.AsyncClient:
        """The client for ``tls`` (created on first use)."""
        key = self.settings(tls)
        client = self._clients.get(key)
        if client is None:
            from .transport import RunTransport

            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
            transport = RunTransport(lambda: _ssl_context(*key), limits, self.blocking)
            client = httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False, cookies=_no_cookies())
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        """Close every pool."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def _no_cookies() -> CookieJar:
    """A jar whose policy accepts no cookie: the shared client neither stores nor sends any."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class SessionCookies:
    """The cookies of one collection run (a session, as in Postman or Bruno), with the usual domain and path rules.

    Every cookie value received is a credential: it goes to the run's redactor
    (``Redactor.add_cookie``) as soon as it arrives, before anything can show it.
    """

    def __init__(self, redactor: Any):
        self.jar = httpx.Cookies()
        self._redactor = redactor

    def attach(self, request: httpx.Request, own: str | None = None) -> None:
        """Add the jar's cookies for ``request``'s URL to its ``Cookie`` header (or to ``own``, the request's own line).

        The request's own cookies come first and win over the jar's of the same
        name (as in curl and Hurl); the jar's others are added after them.
        """
        own = own if own is not None else request.headers.get("cookie")
        if not self.jar:
            if own is not None:
                request.headers["Cookie"] = own
            return
        if own is None:
            self.jar.set_cookie_header(request)
            return
        probe = httpx.Request(request.method, request.url)
        self.jar.set_cookie_header(probe)
        names = {part.partition("=")[0].strip() for part in own.split(";") if part.strip()}
        added = [part.strip() for part in probe.headers.get("cookie", "").split(";") if part.strip() and part.partition("=")[0].strip() not in names]
        request.headers["Cookie"] = "; ".join([own.strip().rstrip(";"), *added]) if added else own

    def receive(self, response: httpx.Response) -> None:
        """Keep the cookies ``response`` sets, and mark each value secret."""
        headers = response.headers.get_list("set-cookie")
        if not headers:  # most responses: skip the cookie machinery
            return
        for header in headers:
            name, equals, value = header.partition(";")[0].partition("=")
            name, value = (name.strip(), value.strip()) if equals else ("", name.strip())
            self._redactor.add_cookie(name, value)
            if len(value) > 1 and value[0] == value[-1] == '"':
                self._redactor.add_cookie("", value[1:-1])
        self.jar.extract_cookies(response)


def _ssl_context(verify: Any, cert: Any) -> Any:
    if verify is False and cert is None:
        return False
    try:
        context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    except (OSError, ssl.SSLError) as exc:
        raise InputError(Problem(f"cannot use the CA bundle {verify}: {_file_error(exc)}", hint="verify / --ca-cert takes a PEM file of trusted certificates")) from None
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        _use_system_certifi(context, verify)
    if cert is not None:
        certfile, keyfile = cert if isinstance(cert, tuple) else (cert, None)
        try:
            context.load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise InputError(Problem(f"cannot use the client certificate {certfile}: {_file_error(exc)}", hint="client_cert / --client-cert takes a PEM file holding the certificate and its private key")) from None
    return context


def _file_error(exc: Exception) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"not a usable PEM file ({exc.reason or exc})"
    return getattr(exc, "strerror", None) or str(exc)


def _use_system_certifi(context: ssl.SSLContext, verify: Any) -> None:
    if isinstance(verify, str):
        return
    try:
        import certifi

        context.load_verify_locations(certifi.where())
    except (ImportError, OSError):  # pragma: no cover - certifi ships with httpx
        pass


async def send(client: httpx.AsyncClient, request: RenderedRequest, on_stream: Any = None, cookies: SessionCookies | None = None, redactor: Any = None) -> HttpResponse:
    """Send ``request`` (with ``cookies``, which keep what each response sets) and read its response; raises ``TransportError`` on any transport fault.

    ``redactor`` knows the run's secrets: a header or query parameter holding one is not carried to another origin (``redirects.py``).
    """
    started = time.perf_counter()
    try:
        outgoing = client.build_request(
            request.method,
            _with_params(request.url, request.params),
            headers=_wire_headers(request.headers),
            content=request.content,
            data=_form_mapping(request.form),
            files=request.files,  # type: ignore[arg-type]
            timeout=request.timeout,
            extensions={"runner_proxy": request.proxy, **({"runner_http2": True} if request.http2 else {})},
        )
        hops: list[Hop] = []
        own_cookie = outgoing.headers.get("cookie")  # the request's own: on a hop, next_request keeps a Cookie header only where it may go
        auth = httpx.DigestAuth(*request.digest) if request.digest is not None else httpx.USE_CLIENT_DEFAULT
        while True:
            if cookies is not None:  # again on every redirect hop: httpx drops the Cookie header there
                cookies.attach(outgoing, own_cookie if "cookie" in outgoing.headers else None)
            response = await client.send(outgoing, stream=True, auth=auth)
            if cookies is not None:
                cookies.receive(response)
            if not (request.follow_redirects and response.is_redirect and response.next_request is not None):
                break
            await response.aclose()
            hops.append(Hop(response.status_code, response.headers.get("location", ""), str(response.url)))
            if len(hops) > request.max_redirects:
                raise TransportError(f"too many redirects (more than {request.max_redirects})", "redirects")
            outgoing = next_request(outgoing, response, request, redactor)
        try:
            if on_stream is not None and on_stream.wants(request, response):
                result = await on_stream.read(response, request, started)
            else:
                body, truncated = await _read_body(response, request.max_response_bytes)
                result = HttpResponse(
                    status=response.status_code,
                    headers=response.headers,
                    body=body,
                    elapsed_ms=(time.perf_counter() - started) * 1000,
                    truncated=truncated,
                )
        finally:
            await response.aclose()
        result.http_version = response.http_version
        result.redirects = len(hops)
        result.hops = hops
        result.url = str(response.url)
        return result
    except BodyTooLargeError as exc:
        raise TransportError(str(exc), "size") from exc
    except DecodeError as exc:
        raise TransportError(f"cannot decode the body as its Content-Encoding says: {_shorten(str(exc))}", "transport") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise TransportError(describe_transport_error(exc, request.timeout) + _through_proxy(exc), _kind(exc)) from exc
    except OSError as exc:  # httpx wraps most of these, but not a TLS alert met while reading the body
        raise TransportError(describe_transport_error(exc, request.timeout), _kind(exc)) from exc
    except UnicodeEncodeError as exc:  # httpx encodes header values as ASCII
        # named, never quoted: the text may be part of a secret the redactor cannot recognise in pieces
        name = next((name for name, value in request.headers if value == exc.object), None)
        where = f"header {name!r}" if name else "a header"
        raise TransportError(f"cannot send the request: {where} holds non-ASCII text (headers are ASCII: percent-encode or base64 it)", "request") from exc


def _wire_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str | bytes]]:
    """Header values as sent: a value that is not ASCII goes as UTF-8 bytes, as curl and Hurl send it."""
    return [(name, value if value.isascii() else value.encode("utf-8")) for name, value in headers]


def _through_proxy(exc: Exception) -> str:
    """`` (through the proxy http://host:port)`` when the failed request went through one."""
    request = getattr(exc, "_request", None)
    proxy = request.extensions.get("runner_proxy_used") if request is not None else None
    if not proxy:
        return ""
    from .proxy import shown

    return f" (through the proxy {shown(proxy)})"


def _with_params(url: str, params: list[tuple[str, str]]) -> Any:
    """``url`` with ``params`` after its own query string (httpx's ``params=`` would replace it)."""
    if not params:
        return url
    parsed = httpx.URL(url)
    return parsed.copy_with(params=httpx.QueryParams([*parsed.params.multi_items(), *params]))


def _form_mapping(pairs: list[tuple[str, str]] | None) -> dict[str, list[str]] | None:
    """Form pairs as the mapping httpx wants (a list value repeats the key)."""
    if not pairs:
        return None
    mapping: dict[str, list[str]] = {}
    for name, value in pairs:
        mapping.setdefault(name, []).append(value)
    return mapping


def body_chunks(response: httpx.Response, limit: int) -> Any:
    """The body of ``response`` decoded as it arrives, an encoded body never past ``limit`` (``decoding.py``)."""
    return decoded_chunks(response.aiter_raw(), response.headers.get("content-encoding", ""), limit)


async def _read_body(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The body, at most ``limit`` bytes, and whether there was more.

    Gathered in one growing buffer whose bytes ``getvalue`` hands over without a
    copy: a list of chunks joined at the end held the body twice at its peak.
    """
    buffer = io.BytesIO()
    size = 0
    async for chunk in body_chunks(response, limit):
        size += len(chunk)
        if size > limit:
            buffer.write(chunk[: len(chunk) - (size - limit)])
            return buffer.getvalue(), True
        buffer.write(chunk)
    return buffer.getvalue(), False


def _kind(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if _tls_error(exc) is not None:
        return "tls"
    return "transport"


def _chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and every exception behind it: causes, contexts, and members of exception groups.

    anyio reports a failed connect as ``OSError("All connection attempts failed")``
    caused by a group holding the real errors (one per address tried).
    """
    out: list[BaseException] = []
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        out.append(current)
        pending.extend(getattr(current, "exceptions", None) or ())
        pending.extend((current.__cause__, current.__context__))
    return out


def _find(exc: BaseException | None, kind: type) -> Any:
    return next((item for item in _chain(exc) if isinstance(item, kind)), None)


def _tls_error(exc: BaseException) -> ssl.SSLError | None:
    return next((item for item in _chain(exc) if isinstance(item, ssl.SSLError) and not isinstance(item, _TLS_FLOW)), None)


_ERRNO_CAUSES = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by peer",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "connection closed by the server while sending the request",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ETIMEDOUT: "connection timed out",
    errno.EADDRNOTAVAIL: "address not available",
}

# Raised and handled inside the TLS read/write loop: they show up in exception contexts but explain nothing.
_TLS_FLOW = (ssl.SSLWantReadError, ssl.SSLWantWriteError, ssl.SSLZeroReturnError)

# OpenSSL reasons that deserve plainer words.
_TLS_REASONS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the server requires a client certificate (client_cert or --client-cert)",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "handshake failure (no common protocol or cipher, or a client certificate is required)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the server rejected the client certificate",
    "TLSV1_ALERT_UNKNOWN_CA": "the server does not trust the client certificate's issuer",
    "WRONG_VERSION_NUMBER": "the server did not answer with TLS (is it plain http?)",
    "RECORD_LAYER_FAILURE": "the server did not answer with TLS (is it plain http?)",
    "UNSAFE_LEGACY_RENEGOTIATION_DISABLED": "the server needs legacy TLS renegotiation, which is disabled",
}


def describe_transport_error(exc: BaseException, timeout: float | None = None) -> str:
    """A one-line, user-facing cause for a transport failure."""
    limit = f" after {timeout:g} s" if timeout else ""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timeout{limit}: no answer from the server"
    if isinstance(exc, httpx.ReadTimeout):
        return f"read timeout{limit}: the server sent nothing more"
    if isinstance(exc, httpx.WriteTimeout):
        return f"write timeout{limit}: the server stopped reading the request"
    if isinstance(exc, httpx.PoolTimeout):
        return f"no free connection{limit}"
    cert = _find(exc, ssl.SSLCertVerificationError)
    if cert is not None:
        return f"TLS certificate verify failed: {cert.verify_message or cert.reason}"
    tls = _tls_error(exc)
    if tls is not None:
        reason = tls.reason or str(tls)
        return f"TLS error: {_TLS_REASONS.get(reason, reason)}"
    gai = _find(exc, socket.gaierror)
    if gai is not None:
        return f"DNS lookup failed: {gai.strerror or gai}"
    for item in _chain(exc):
        cause = _ERRNO_CAUSES.get(getattr(item, "errno", None) or 0)
        if cause:
            return cause
    text = " ".join(str(exc).split())  # one line, whatever the library put in it
    if isinstance(exc, httpx.RemoteProtocolError):
        if "complete message body" in text:
            detail = text.partition("(")[2].rstrip(")")
            return "connection closed before the whole body arrived" + (f" ({detail})" if detail else "")
        if "without sending" in text or "Server disconnected" in text:
            return "server closed the connection without a response"
        if "Receive buffer too long" in text:
            return "the response head (status line and headers) is too large"
        if "status line" in text or "illegal" in text.lower() or "malformed" in text.lower():
            # h11 quotes what came as bytearray(b'...'): show the bytes as text
            text = _BYTES_REPR.sub(lambda match: match.group(1), text)
            return f"not a valid HTTP response ({_shorten(text)})"
        return f"protocol error: {_shorten(text)}"
    if isinstance(exc, httpx.DecodingError):
        return f"cannot decode the body as its Content-Encoding says: {_shorten(text)}"
    if isinstance(exc, httpx.LocalProtocolError):
        return f"cannot send the request: {_shorten(text)}"
    if isinstance(exc, httpx.ReadError):
        return f"read error: {_shorten(text) or 'connection lost'}"
    if isinstance(exc, httpx.WriteError):
        return f"write error: {_shorten(text) or 'connection lost'}"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {_shorten(text)}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"unsupported URL: {_shorten(text)}"
    if isinstance(exc, httpx.InvalidURL):
        return f"invalid URL: {_shorten(text)}"
    return f"{type(exc).__name__}: {_shorten(text)}"


_BYTES_REPR = re.compile(r"""bytearray\(b(['"].*?['"])\)""")


def _shorten(text: str, limit: int = 160) -> str:
    return shorten(text, limit)
