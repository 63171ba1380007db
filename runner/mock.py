"""The built-in mock: serves every request's saved ``example`` over HTTP on loopback.

Built on the standard library's ``ThreadingHTTPServer``: no extra dependency, one
thread per connection (so concurrent requests and slow event streams do not block
each other), HTTP/1.1 keep-alive, and chunked transfer for event streams.

Matching: method and path (``{{ ... }}`` segments match any one segment; the query
string is ignored for matching but breaks ties), then the best fit among candidates
by auth presence, query parameters and JSON body keys.  The collection's auth is
enforced: a request without the credential gets the collection's own 401 example
or a 401 shaped like the Mistral API's.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from .examples import event_bytes, example_body
from .model import AuthSpec, CollectionSpec, ExampleSpec, RequestSpec
from .templating import TemplateError, Templates, is_template

_PLACEHOLDER = "\x00"


@dataclass
class Route:
    """One example the mock can serve, and how to recognise the request it answers."""

    method: str
    pattern: re.Pattern[str]
    literal: int
    label: str
    spec: RequestSpec
    example: ExampleSpec
    auth: AuthSpec | None
    credential: str | None
    params: dict[str, str] = field(default_factory=dict)
    body_keys: dict[str, Any] = field(default_factory=dict)


def _path_pattern(url: Any) -> tuple[re.Pattern[str], int, str]:
    text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", _PLACEHOLDER, str(url))
    if "://" in text:
        text = "/" + text.split("://", 1)[1].partition("/")[2]
    elif text.startswith(_PLACEHOLDER):
        text = text[1:]  # "{{ base_url }}/v1/models"
    text = text.split("?", 1)[0] or "/"
    if not text.startswith("/"):
        text = "/" + text
    parts = text.split(_PLACEHOLDER)
    regex = "[^/]+".join(re.escape(part) for part in parts)
    label = text.replace(_PLACEHOLDER, "{…}")
    return re.compile(f"^{regex.rstrip('/')}/?$"), sum(len(p) for p in parts), label


def build_routes(collections: list[CollectionSpec], templates: Templates, scopes: dict[int, Any]) -> list[Route]:
    """A route for every request that has an example."""
    routes = []
    for collection in collections:
        scope = scopes.get(id(collection))
        values = scope.values if scope is not None else dict(collection.vars)
        for spec in collection.requests:
            if spec.example is None:
                continue
            pattern, literal, label = _path_pattern(spec.url)
            auth = spec.auth or collection.auth
            credential = _credential(auth, values, templates)
            params = {k: str(v) for k, v in {**collection.params, **spec.params}.items() if not is_template(v) and not isinstance(v, list)}
            body_keys = spec.body.value if spec.body is not None and spec.body.kind == "json" and isinstance(spec.body.value, dict) else {}
            routes.append(Route(spec.method, pattern, literal, f"{spec.method} {label}", spec, spec.example, auth, credential, params, body_keys))
    return routes


def _credential(auth: AuthSpec | None, values: dict[str, Any], templates: Templates) -> str | None:
    """The credential a route demands, rendered from the collection's variables (None: any)."""
    if auth is None or auth.kind == "none":
        return None
    raw = {"bearer": auth.token, "api_key": auth.value, "basic": auth.password}[auth.kind]
    try:
        return templates.render_text(raw, values) or None
    except TemplateError:
        return None


def _has_auth(route: Route, headers: Any, query: dict[str, str]) -> bool:
    auth = route.auth
    if auth is None or auth.kind == "none":
        return True
    if auth.kind == "bearer":
        value = headers.get("Authorization", "")
        scheme, _, token = value.partition(" ")
        return scheme.lower() == "bearer" and bool(token.strip()) and (route.credential is None or token.strip() == route.credential)
    if auth.kind == "basic":
        return headers.get("Authorization", "").lower().startswith("basic ")
    given = headers.get(auth.key_name, "") if auth.key_in == "header" else query.get(auth.key_name, "")
    return bool(given) and (route.credential is None or given == route.credential)


def _score(route: Route, headers: Any, query: dict[str, str], body: Any) -> float:
    score = route.literal / 1000
    needs_auth = route.auth is not None and route.auth.kind != "none"
    sends_auth = bool(headers.get("Authorization")) or (route.auth is not None and route.auth.kind == "api_key" and (headers.get(route.auth.key_name) or query.get(route.auth.key_name)))
    score += 3 if needs_auth == bool(sends_auth) else 0
    score += sum(1 for key, value in route.params.items() if query.get(key) == value)
    if isinstance(body, dict):
        for key, value in route.body_keys.items():
            if key not in body:
                score -= 1
            elif not is_template(value) and body[key] == value:
                score += 2
            else:
                score += 1
        score -= sum(1 for key in body if key not in route.body_keys)
    return score


def mistral_401() -> bytes:
    """A 401 body shaped like the Mistral API's."""
    return json.dumps({"message": "Unauthorized", "request_id": uuid.uuid4().hex}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: "_Server"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # we log one line per request ourselves, when asked

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def _handle(self) -> None:
        owner = self.server.owner
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        if raw and "json" in (self.headers.get("Content-Type") or ""):
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        candidates = [r for r in owner.routes if r.method == self.command and r.pattern.match(split.path)]
        if not candidates:
            self._send_json(404, {"error": f"the mock has no example for {self.command} {split.path}", "serves": sorted({r.label for r in owner.routes})}, "no route")
            return
        route = max(candidates, key=lambda r: _score(r, self.headers, query, body))
        if not _has_auth(route, self.headers, query):
            unauthorized = next((r for r in candidates if r.example.status == 401), None)
            if unauthorized is not None:
                self._send_example(unauthorized)
            else:
                self._send_raw(401, mistral_401(), "application/json", f"401 for {route.spec.name!r}: missing or wrong credential")
            return
        self._send_example(route)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def _send_json(self, status: int, payload: Any, note: str) -> None:
        self._send_raw(status, json.dumps(payload, indent=2).encode(), "application/json", note)

    def _send_raw(self, status: int, body: bytes, content_type: str, note: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if not headers or not any(name.lower() == "content-type" for name in headers):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.owner.log(f"{self.command} {self.path} -> {status} ({note})")

    def _send_example(self, route: Route) -> None:
        example = route.example
        if example.events is not None:
            self._send_stream(route)
            return
        body, content_type = example_body(example)
        self._send_raw(example.status, body, content_type or "application/octet-stream", route.spec.name, example.headers)

    def _send_stream(self, route: Route) -> None:
        example = route.example
        self.send_response(example.status)
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", **example.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = [event_bytes(item) for item in example.events or ()]
        if example.done:
            events.append(b"data: [DONE]\n\n")
        delay = example.event_delay_ms / 1000
        for index, chunk in enumerate(events):
            if index and delay:
                time.sleep(delay)
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.server.owner.log(f"{self.command} {self.path} -> {example.status} ({route.spec.name}, {len(events)} events)")


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    owner: "MockServer"

    def __init__(self, address: tuple[str, int], owner: "MockServer"):
        self.owner = owner
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, alive: bool) -> None:
        with self._lock:
            (self._connections.add if alive else self._connections.discard)(connection)

    def close_connections(self) -> None:
        with self._lock:
            for connection in list(self._connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class MockServer:
    """A mock server on a thread of its own: ``start()``, give it collections, ``stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, verbose: bool = False, log_file: TextIO | None = None):
        self.host, self.port = host, port
        self.verbose = verbose
        self.log_file = log_file or sys.stderr
        self.routes: list[Route] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base URL the server answers on."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

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

    def serve_collections(self, collections: list[CollectionSpec], templates: Templates, scopes: dict[int, Any] | None = None) -> None:
        """Serve the examples of ``collections``."""
        self.routes = build_routes(collections, templates, scopes or {})

    def log(self, line: str) -> None:
        """One line per request served, with ``-v``."""
        if self.verbose:
            with self._log_lock:
                self.log_file.write(f"mock: {line}\n")
                self.log_file.flush()

    def stop(self) -> None:
        """Stop serving, close every connection and join every thread."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()  # joins the handler threads (block_on_close)
        if self._thread is not None:
            self._thread.join()
        self._server = None

    def __enter__(self) -> "MockServer":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_forever(paths: list[str], host: str, port: int, verbose: bool) -> None:
    """``runner mock``: load the collections, serve them until Ctrl-C."""
    from .plan import PlanInput, build_plan

    server = MockServer(host, port, verbose=verbose)
    url = server.start()
    try:
        plan = build_plan(PlanInput(paths, mock_url=url))
        server.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs})
        labels = sorted({route.label for route in server.routes})
        sys.stderr.write(f"mock: serving {len(server.routes)} examples on {url} (Ctrl-C to stop)\n")
        for label in labels:
            sys.stderr.write(f"  {label}\n")
        sys.stderr.flush()
        while True:
            time.sleep(3600)
    finally:
        server.stop()
