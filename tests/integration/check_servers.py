"""Servers for the checks of issue 16: one werkzeug app with a route per kind of response, an HTTP/2 server.

The app answers JSON, bytes, a Latin-1 text, XML with namespaces, HTML, a
redirect chain, cookies with attributes, an echo of the request (headers as a
list of lines, the body's SHA-256), a job that succeeds at its third poll, and
Digest authentication (RFC 7616, MD5, qop=auth).
"""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from werkzeug import Request, Response

ITEM = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "created": "2024-03-05T10:20:30Z",
    "price": 1.0,
    "count": 3,
    "tags": ["a", "b", "c"],
    "name": "Comté",
    "empty": [],
    "payload": '{"inner": 5}',
    "link": "https://x.test/cb?code=abc123&state=s",
    "b64": "aGVsbG8=",
    "csv": "a,b,c",
    "when": "05/03/2024",
}
PNG_HEAD = bytes.fromhex("89504e470d0a1a0a")
XML = (
    b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:m="urn:m"><title>News</title>'
    b'<entry m:id="1"><title>A</title></entry><entry m:id="2"><title>B</title></entry></feed>'
)
HTML = b'<html><head><title>Home</title></head><body><ul><li>a</li><li class="x">b</li></ul><a href="/next">n</a></body></html>'
DIGEST_USER, DIGEST_PASSWORD, REALM, NONCE = "ana", "s3cret-digest-pw", "runner-test", "dcd98b7102dd2f0e8b11d0f600bfb0c093"


class CheckApp:
    """A WSGI app; ``polls`` counts the job's polls, ``big`` is the size of ``/big``."""

    def __init__(self) -> None:
        self.polls = 0
        self.big = 10 * 1024 * 1024

    def __call__(self, environ: dict[str, Any], start: Any) -> Any:
        request = Request(environ)
        handler = getattr(self, "route_" + request.path.strip("/").replace("-", "_") or "root", None)
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start)

    def route_item(self, request: Request) -> Response:
        return Response(json.dumps(ITEM), content_type="application/json")

    def route_png(self, request: Request) -> Response:
        return Response(PNG_HEAD + b"\x00\xff", content_type="image/png")

    def route_latin(self, request: Request) -> Response:
        return Response("café".encode("latin-1"), content_type="text/plain; charset=iso-8859-1")

    def route_xml(self, request: Request) -> Response:
        return Response(XML, content_type="application/atom+xml")

    def route_html(self, request: Request) -> Response:
        return Response(HTML, content_type="text/html; charset=utf-8")

    def route_big(self, request: Request) -> Response:
        return Response(b"x" * self.big, content_type="text/plain")

    def route_br(self, request: Request) -> Response:
        import brotli

        return Response(brotli.compress(json.dumps(ITEM).encode()), content_type="application/json", headers={"Content-Encoding": "br"})

    def route_zstd(self, request: Request) -> Response:
        try:
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:
            from backports import zstd  # type: ignore[no-redef]

        return Response(zstd.compress(json.dumps(ITEM).encode()), content_type="application/json", headers={"Content-Encoding": "zstd"})

    def route_r1(self, request: Request) -> Response:
        return Response("", status=301, headers={"Location": "/r2"})

    def route_r2(self, request: Request) -> Response:
        return Response("", status=302, headers={"Location": "/item"})

    def route_cookie(self, request: Request) -> Response:
        response = Response("ok")
        response.headers.add("Set-Cookie", "sid=abc123; Path=/app; Domain=localhost; Max-Age=3600; Secure; HttpOnly; SameSite=Lax")
        response.headers.add("Set-Cookie", "plain=1")
        return response

    def route_session(self, request: Request) -> Response:
        response = Response("ok")
        response.headers.add("Set-Cookie", "SESSIONID=0123456789abcdefghij; Path=/")  # 20 characters: a secret, masked alone
        return response

    def route_echo(self, request: Request) -> Response:
        body = request.get_data()
        lines = [[name, value] for name, value in request.headers.items()]
        return Response(json.dumps({"headers": lines, "sha256": hashlib.sha256(body).hexdigest(), "length": len(body)}), content_type="application/json")

    def route_job(self, request: Request) -> Response:
        self.polls += 1
        return Response(json.dumps({"status": "SUCCESS" if self.polls >= 3 else "RUNNING", "polls": self.polls}), content_type="application/json")

    def route_digest(self, request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        if header.startswith("Digest ") and _digest_ok(header[7:], request.method, request.full_path.rstrip("?")):
            return Response(json.dumps({"user": DIGEST_USER}), content_type="application/json")
        challenge = f'Digest realm="{REALM}", qop="auth", nonce="{NONCE}", algorithm=MD5'
        return Response("", status=401, headers={"WWW-Authenticate": challenge})


def _digest_ok(text: str, method: str, uri: str) -> bool:
    fields = dict(part.strip().split("=", 1) for part in text.split(","))
    fields = {key: value.strip('"') for key, value in fields.items()}
    md5 = lambda value: hashlib.md5(value.encode()).hexdigest()  # noqa: E731
    ha1, ha2 = md5(f"{DIGEST_USER}:{REALM}:{DIGEST_PASSWORD}"), md5(f"{method}:{fields.get('uri', uri)}")
    expected = md5(f"{ha1}:{NONCE}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
    return fields.get("username") == DIGEST_USER and fields.get("response") == expected


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Serve a WSGI app on a free loopback port for a ``with`` block; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def serve_h2(context: ssl.SSLContext, body: bytes = b'{"ok": true}') -> Iterator[int]:
    """An HTTP/2-capable TLS server (ALPN h2, else HTTP/1.1) on a free loopback port, answering every request with ``body``.

    Bounded: at most 8 connections, each served until the client closes it or 5 s pass.
    """
    import h2.config
    import h2.connection
    import h2.events

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve_h2_connection(tls: ssl.SSLSocket) -> None:
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        tls.sendall(conn.data_to_send())
        while not stop.is_set():
            data = tls.recv(65536)
            if not data:
                return
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    conn.send_headers(event.stream_id, [(":status", "200"), ("content-type", "application/json"), ("content-length", str(len(body)))])
                    conn.send_data(event.stream_id, body, end_stream=True)
            tls.sendall(conn.data_to_send())

    def serve_one(raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            with context.wrap_socket(raw, server_side=True) as tls:
                if tls.selected_alpn_protocol() == "h2":
                    serve_h2_connection(tls)
                else:
                    tls.recv(65536)
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        except (OSError, ssl.SSLError):
            pass

    def accept() -> None:
        for _ in range(8):
            while not stop.is_set():
                try:
                    raw, _ = listener.accept()
                    break
                except socket.timeout:
                    continue
            else:
                return
            threading.Thread(target=serve_one, args=(raw,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def run_requests(run_cli: Any, write: Any, base: str, requests: str, *flags: str) -> Any:
    """Write ``requests`` (YAML list items) as ``c.yaml`` against ``base`` and run it."""
    path = write("c.yaml", f"name: c\nbase_url: {base}\nrequests:\n{requests}")
    return run_cli("run", str(path), *flags)


def failure_lines(result: Any) -> list[str]:
    """The console's failed-check lines (``x ...``), stripped."""
    return [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("x ")]
