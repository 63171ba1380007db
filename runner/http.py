"""Send a rendered request with httpx; httpx errors become ``TransportError`` with a one-line cause.

One ``httpx.AsyncClient`` (one connection pool) per TLS configuration per run.
Bodies are read incrementally so a size limit can stop reading without holding
the rest in memory; redirects are followed here so ``max_redirects`` can be
set per request.
"""

from __future__ import annotations

import errno
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .errors import TransportError
from .model import TlsSpec
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
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The body decoded with the response's charset (UTF-8 by default), invalid bytes replaced."""
        charset = "utf-8"
        content_type = self.headers.get("content-type", "")
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class HttpClients:
    """The run's connection pools, one per TLS configuration."""

    def __init__(self, insecure: bool = False):
        self._clients: dict[Any, httpx.AsyncClient] = {}
        self.insecure = insecure

    def client(self, tls: TlsSpec) -> httpx.AsyncClient:
        """The client for ``tls`` (created on first use)."""
        verify: Any = False if self.insecure else tls.verify
        key = (verify, tls.client_cert)
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(
                verify=_ssl_context(verify, tls.client_cert),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                follow_redirects=False,
                trust_env=False,
            )
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        """Close every pool."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def _ssl_context(verify: Any, cert: Any) -> Any:
    if verify is False and cert is None:
        return False
    try:
        context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
        if verify is False:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            _use_system_certifi(context, verify)
        if cert is not None:
            certfile, keyfile = cert if isinstance(cert, tuple) else (cert, None)
            context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise TransportError(f"TLS setup failed: {exc}", "tls") from None
    return context


def _use_system_certifi(context: ssl.SSLContext, verify: Any) -> None:
    if isinstance(verify, str):
        return
    try:
        import certifi

        context.load_verify_locations(certifi.where())
    except (ImportError, OSError):  # pragma: no cover - certifi ships with httpx
        pass


async def send(client: httpx.AsyncClient, request: RenderedRequest, on_stream: Any = None) -> HttpResponse:
    """Send ``request`` and read its response; raises ``TransportError`` on any transport fault."""
    started = time.perf_counter()
    try:
        outgoing = client.build_request(
            request.method,
            request.url,
            params=request.params or None,
            headers=request.headers,
            content=request.content,
            data=_form_mapping(request.form),
            files=request.files,  # type: ignore[arg-type]
            timeout=request.timeout,
        )
        redirects = 0
        while True:
            response = await client.send(outgoing, stream=True)
            if not (request.follow_redirects and response.is_redirect and response.next_request is not None):
                break
            await response.aclose()
            redirects += 1
            if redirects > request.max_redirects:
                raise TransportError(f"too many redirects (more than {request.max_redirects})", "redirects")
            outgoing = response.next_request
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
        result.redirects = redirects
        result.url = str(response.url)
        return result
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise TransportError(describe_transport_error(exc, request.timeout), _kind(exc)) from exc
    except (OSError, ssl.SSLError) as exc:  # pragma: no cover - httpx normally wraps these
        raise TransportError(f"network error: {exc}") from exc


def _form_mapping(pairs: list[tuple[str, str]] | None) -> dict[str, list[str]] | None:
    """Form pairs as the mapping httpx wants (a list value repeats the key)."""
    if not pairs:
        return None
    mapping: dict[str, list[str]] = {}
    for name, value in pairs:
        mapping.setdefault(name, []).append(value)
    return mapping


async def _read_body(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            chunks.append(chunk[: len(chunk) - (size - limit)])
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


def _kind(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if _find(exc, ssl.SSLError):
        return "tls"
    return "transport"


def _find(exc: BaseException | None, kind: type) -> Any:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def describe_transport_error(exc: BaseException, timeout: float | None = None) -> str:
    """A one-line, user-facing cause for a transport failure."""
    limit = f" after {timeout:g} s" if timeout else ""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timeout{limit}"
    if isinstance(exc, httpx.ReadTimeout):
        return f"read timeout{limit}: the server sent nothing more"
    if isinstance(exc, httpx.WriteTimeout):
        return f"write timeout{limit}"
    if isinstance(exc, httpx.PoolTimeout):
        return f"no free connection{limit}"
    cert = _find(exc, ssl.SSLCertVerificationError)
    if cert is not None:
        return f"TLS certificate verify failed: {cert.verify_message or cert.reason}"
    tls = _find(exc, ssl.SSLError)
    if tls is not None:
        return f"TLS error: {tls.reason or tls}"
    gai = _find(exc, socket.gaierror)
    if gai is not None:
        return f"DNS lookup failed: {gai.strerror or gai}"
    os_error = _find(exc, OSError)
    if os_error is not None and os_error.errno == errno.ECONNREFUSED:
        return "connection refused"
    if os_error is not None and os_error.errno == errno.ECONNRESET:
        return "connection reset by peer"
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc) or "protocol error"
        if "without sending" in text or "Server disconnected" in text:
            return "server closed the connection without a response"
        if "peer closed connection" in text or "incomplete" in text.lower():
            return "connection closed before the whole body arrived"
        return f"protocol error: {text}"
    if isinstance(exc, httpx.ReadError):
        return f"read error: {exc or 'connection lost'}"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "Name or service not known" in text or "nodename nor servname" in text:
            return f"DNS lookup failed: {text}"
        if "Connection refused" in text or "111" in text:
            return "connection refused"
        return f"cannot connect: {text}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"unsupported URL: {exc}"
    if isinstance(exc, httpx.InvalidURL):
        return f"invalid URL: {exc}"
    return f"{type(exc).__name__}: {exc}"
