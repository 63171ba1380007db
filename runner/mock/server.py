"""The mock's HTTP server: the standard library's ``ThreadingHTTPServer``, one thread per connection.

No extra dependency; HTTP/1.1 keep-alive; chunked transfer for event streams.
The port is bound by ``start()`` but listens only once every route is built, so
nothing is answered before it is ready. What to answer is decided without
sockets in ``answers.reply_to`` (routes, auth, validation, templated and dynamic
examples); this module reads requests, writes replies, adds CORS, answers
preflights and ``/__runner/health``, and turns every error into JSON: the
stdlib's own (a bad request line, a header too long), unknown methods, a client
that resets its connection (one ``-v`` line, never a traceback).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping, Sequence, TextIO

from ..model import CollectionSpec
from ..templating import Templates
from ..terminal import printable_line
from .answers import MockState, Reply, json_reply, reply_to
from .routes import Incoming, Route, RouteTable, build_routes

HANDLER_THREAD_NAME = "runner-mock-handler"
HEALTH_PATH = "/__runner/health"  # 200 once the routes are served (the socket accepts only then anyway)
MAX_BODY = 64 * 1024 * 1024  # a request body larger than this is refused (413)
_FRAMING = ("content-length", "transfer-encoding", "connection")  # set by the server, never by an example
_ONE_WRITE = 256 * 1024  # a body up to this size goes out with its head in one write
_SERVER_LINE = f"Server: {BaseHTTPRequestHandler.server_version} {BaseHTTPRequestHandler.sys_version}"
_date: tuple[int, str] = (0, "")


def _date_line() -> str:
    """The ``Date`` header line, formatted once a second (the stdlib formats it for every answer)."""
    global _date
    now = int(time.time())
    second, line = _date
    if second != now:
        line = f"Date: {formatdate(now, usegmt=True)}"
        _date = (now, line)
    return line


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client reuses its connection
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: "_Server"
    timeout = 30  # an idle keep-alive connection is closed after this many seconds
    error_content_type = "application/json"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # one line per request is logged by the owner, when asked (-v)

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass  # the client went away before the last bytes were flushed
        finally:
            self.server.track(self.connection, False)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # any method token: unknown ones get a JSON 405/404, not the stdlib's HTML 501
            return self._guarded
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's errors (a bad request line, a header too long) as JSON, like every other answer."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # an unreadable request line still gets a status line and headers
        body = json.dumps({"error": message or explain or "bad request", "status": code}).encode()
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            return
        self.server.owner.log(f"{self.command or '-'} {self.path if hasattr(self, 'path') else '-'} -> {code} ({message or 'bad request'})")

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline(100).split(b";", 1)[0].strip() or b"0", 16)
                total += size
                if total > MAX_BODY:
                    return None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(100)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY or length < 0:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        owner = self.server.owner
        try:
            raw = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(json_reply(400, {"error": "the mock could not read the request body"}, "unreadable body"))
            return
        if raw is None:
            self.close_connection = True
            self._send(json_reply(413, {"error": f"request body larger than {MAX_BODY} bytes"}, "body too large"))
            return
        path = self.path.partition("?")[0]
        if path == HEALTH_PATH and self.command in ("GET", "HEAD"):
            self._send(json_reply(200, {"status": "ready", "routes": len(owner.state.routes)}, "health"))
            return
        if self.command == "OPTIONS" and owner.cors and self.headers.get("Access-Control-Request-Method"):
            self._send(self._preflight())
            return
        request = Incoming.parse(self.command, self.path, self.headers.items(), raw)
        self._send(reply_to(owner.state, request))

    def _preflight(self) -> Reply:
        """A CORS preflight: 204 allowing the asked method and headers (as Prism does)."""
        headers = {
            "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": self.headers.get("Access-Control-Request-Headers") or "*",
            "Access-Control-Max-Age": "600",
        }
        return Reply(204, b"", "", headers, note="CORS preflight")

    def _guarded(self) -> None:
        try:
            self._handle()
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away; nothing to answer
            self.server.owner.log(f"{self.command} {self.path} -> client closed the connection")
        except Exception as exc:  # noqa: BLE001 - a bug must answer 500, not kill the connection silently
            self.close_connection = True
            try:
                self._send(json_reply(500, {"error": f"mock error: {type(exc).__name__}: {exc}"}, "mock error"))
            except OSError:
                pass

    def _send(self, reply: Reply) -> None:
        headers = dict(reply.headers)
        if self.server.owner.cors:
            origin = self.headers.get("Origin")
            headers.setdefault("Access-Control-Allow-Origin", origin or "*")
            headers.setdefault("Access-Control-Expose-Headers", "*")
            if origin:
                headers.setdefault("Vary", "Origin")
                headers.setdefault("Access-Control-Allow-Credentials", "true")
        pairs = [(name, value) for name, value in headers.items() if name.lower() not in _FRAMING]
        if reply.content_type and not any(name.lower() == "content-type" for name in headers):
            pairs.append(("Content-Type", reply.content_type))
        if reply.events is not None:
            self._send_stream(reply, pairs)
            return
        if reply.status != 204:
            pairs.append(("Content-Length", len(reply.body)))
        # the stdlib's send_response/send_header/end_headers, in one string: the same status line and headers
        status = f"{self.protocol_version} {reply.status} {self.responses.get(reply.status, ('',))[0]}"
        lines = [status, _SERVER_LINE, _date_line(), *(f"{name}: {value}" for name, value in pairs), "\r\n"]
        head = "\r\n".join(lines).encode("latin-1", "strict")
        body = reply.body if self.command != "HEAD" and reply.status != 204 else b""
        if len(body) <= _ONE_WRITE:  # head and body in one send: one packet for a small answer, no wait for an ACK
            self.wfile.write(head + body)
        else:
            self.wfile.write(head)
            self.wfile.write(body)
        owner = self.server.owner
        if owner.verbose:
            owner.log(f"{self.command} {self.path} -> {reply.status} ({reply.note})")

    def _send_stream(self, reply: Reply, pairs: list[tuple[str, Any]]) -> None:
        self.send_response(reply.status)
        for name, value in pairs:
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = reply.events or []
        stopping = self.server.stopping
        for chunk in events:
            if reply.delay and stopping.wait(reply.delay):
                self.close_connection = True
                return  # the server is stopping: end the stream now
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.server.owner.log(f"{self.command} {self.path} -> {reply.status} ({reply.note}, {len(events)} events)")


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
        # bound now (the port is taken and known), listening only once the routes are built
        super().__init__(address, _Handler, bind_and_activate=False)
        try:
            self.server_bind()
        except OSError:
            self.server_close()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        threading.current_thread().name = HANDLER_THREAD_NAME
        super().process_request_thread(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that broke (a client reset it): one ``-v`` line, never a traceback."""
        kind, exc = sys.exc_info()[:2]
        self.owner.log(f"connection from {client_address[0]} ended: {kind.__name__ if kind else 'error'}: {exc}")

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
    """A mock server on a thread of its own: ``start()`` (bind), ``serve_collections(...)`` (listen), ``stop()``.

    The port is bound by ``start()`` so its URL is known before the collections are
    loaded, but connections are accepted only once ``serve_collections`` (or
    ``serve_routes``) has built every route: nothing is answered before it is ready.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, verbose: bool = False, log_file: TextIO | None = None, *, strict_auth: bool = False, cors: bool = True, dynamic: bool = False, seed: int = 0):
        from .dynamic import DynamicAnswers

        self.host, self.port = host, port
        self.verbose = verbose
        self.log_file = log_file or sys.stderr
        self.cors = cors
        self.state = MockState(strict_auth=strict_auth, dynamic=dynamic, answers=DynamicAnswers(seed))
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()
        self._mask: Callable[[str], str] = lambda text: text

    @property
    def routes(self) -> Sequence[Route]:
        """The routes served."""
        return self.state.routes

    @property
    def url(self) -> str:
        """The base URL the server answers on."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"

    def start(self) -> str:
        """Bind the port and return the base URL; connections are accepted once routes are served."""
        from ..errors import UsageError

        try:
            self._server = _Server((self.host, self.port), self)
        except OSError as exc:
            raise UsageError(f"mock: cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        return self.url

    def _listen(self) -> None:
        server = self._server
        if server is None or self._thread is not None:
            return
        server.server_activate()  # listen(): the first connection is accepted now, with every route ready
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="runner-mock", daemon=True)
        self._thread.start()

    def serve_collections(self, collections: list[CollectionSpec], templates: Templates, scopes: Mapping[int, Any] | None = None, schemas: Any = None) -> None:
        """Serve the examples of ``collections``; ``scopes`` (by ``id(collection)``) render their values."""
        from ..schemas import SchemaStore
        from .checks import check_templated_examples

        scopes = scopes or {}
        routes = build_routes(collections, templates, scopes, dynamic=self.state.dynamic)
        redactor = next((scope.redactor for scope in scopes.values()), None)
        if redactor is not None:
            self._mask = redactor.mask
        check_templated_examples(collections, routes, templates, self._mask)  # a template error is an input error now, not a 500 later
        self.serve_routes(routes, templates, schemas or SchemaStore())

    def serve_routes(self, routes: list[Route], templates: Templates, schemas: Any) -> None:
        """Serve ``routes`` and start accepting connections."""
        for route in routes:
            route.prepared  # noqa: B018 - each body serialised now, not by the first request
        self.state.routes = RouteTable(routes)
        self.state.templates = templates
        self.state.schemas = schemas
        self.state.mask = self._mask
        self._listen()

    def log(self, line: str) -> None:
        """One line per request served, with ``-v`` (secrets masked, control characters escaped)."""
        if self.verbose:
            line = self._mask(line).encode("unicode_escape").decode("ascii")
            with self._log_lock:
                self.log_file.write(f"mock: {printable_line(line)}\n")  # a client's path may hold ESC or a workflow command
                self.log_file.flush()

    def stop(self) -> None:
        """Stop serving, close every connection and join every thread."""
        server = self._server
        if server is None:
            return
        server.stopping.set()
        if self._thread is not None:
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
