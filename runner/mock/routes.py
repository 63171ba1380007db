"""The mock's routes: one per saved ``example``, and how an incoming request picks one.

Pure code (no sockets), so the choice can be tested table-driven.  A route knows
the method, a path pattern (each ``{{ … }}`` in the URL matches one or more
characters within a path segment), the credential the collection's ``auth``
renders to, and the query parameters and JSON body the request sends, rendered
with the collection's variables.  Values that cannot be known before the run (a
captured variable, ``uuid4()``, ``now()``) become wildcards.

``choose_route`` keeps the routes whose method and path match, and whose kind
of answer fits the request's protocol (a streamed example answers only a request
that asks for a stream: ``"stream": true`` in its JSON body or, without that key,
``Accept: text/event-stream``), and ranks them, best first, by:

1. auth fit: the route needs a credential and the request sends exactly that one,
   or the route needs none and the request sends none; then (unless ``strict``)
   any non-empty credential of the route's kind, for a route whose example is
   not a 401;
2. fewest mismatches of query parameters and JSON body values (a missing or extra
   key, a different value, a list of another length);
3. most values equal to the route's (literal or rendered);
4. most values matched only by a wildcard;
5. the longest literal path (``/v1/models/latest`` beats ``/v1/models/{…}``);
6. the order of the collections and requests.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping, Sequence
from urllib.parse import parse_qs, parse_qsl

from ..assertions import parse_json
from ..examples import resolve_stream
from ..model import AuthSpec, CollectionSpec, ExampleSpec, RequestSpec
from ..render import render_method
from ..templating import HELPER_NAMES, TemplateError, Templates, is_template
from .matching import Matcher, Wildcard, matcher

ANY_METHOD = "*"  # a templated method that only a real run can render matches any method

_PLACEHOLDER = "\x00"
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_ONE_NAME = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")


@dataclass(frozen=True)
class Route:
    """One example the mock can serve, and how to recognise the request it answers."""

    method: str
    pattern: re.Pattern[str]
    literal: int
    label: str
    collection: str
    spec: RequestSpec
    example: ExampleSpec
    auth: AuthSpec | None
    credential: Any = None  # str, (username, password) for basic, or None: any non-empty one
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    has_json_body: bool = False
    order: int = 0
    names: tuple[str, ...] = ()  # the path's named segments ({{ name }} in the URL), for request.path_params
    request_schema: Any = None  # a SchemaRef the request body must fit (422 otherwise)
    response_schema: Any = None  # a SchemaRef (or a schema) to generate answers from (--dynamic)
    values: Any = field(default=None, compare=False, repr=False)  # the collection's variables, for templated examples

    @property
    def streamed(self) -> bool:
        """Whether the route answers with an event stream."""
        return self.example.events is not None

    def path_params(self, path: str) -> dict[str, str]:
        """The values of the route's named path segments in ``path``."""
        match = self.pattern.match(path)
        if match is None:
            return {}
        return {name: value for name, value in match.groupdict().items() if value is not None}

    @cached_property
    def needs_auth(self) -> bool:
        """Whether a request must carry a credential."""
        return self.auth is not None and self.auth.kind not in ("none", "oauth2", "digest")  # an OAuth2 token cannot be known, a Digest answer needs a challenge: not checked

    @cached_property
    def query_form(self) -> dict[str, list[Any]]:
        """``params`` as a parsed query string holds them (lists of text), computed once."""
        return {name: [_query_text(v) for v in (value if isinstance(value, list) else [value])] for name, value in self.params.items() if value is not None}

    @cached_property
    def prepared(self) -> Any:
        """The example's body made ready once (``PreparedBody``), or None when it is rendered whole."""
        from .prepared import prepare_body

        return prepare_body(self.example)

    @cached_property
    def query_matcher(self) -> Matcher:
        """``query_form`` compiled for ranking."""
        return matcher(self.query_form)

    @cached_property
    def body_matcher(self) -> Matcher:
        """``body`` compiled for ranking."""
        return matcher(self.body)

    @property
    def title(self) -> str:
        """``collection: request`` for log lines."""
        return f"{self.collection}: {self.spec.name}"


@dataclass(frozen=True)
class Incoming:
    """The parts of an HTTP request the choice looks at."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    query: dict[str, list[str]]
    body: Any = None
    has_json_body: bool = False
    raw: bytes = b""
    json_error: str = ""  # why a body sent as JSON (or with no content type) is not JSON
    credentials: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)  # by kind of auth, once read

    @classmethod
    def parse(cls, method: str, target: str, headers: Any, raw_body: bytes) -> "Incoming":
        """From the request line, headers (a mapping or pairs) and body bytes; a JSON body is parsed."""
        path, _, query = target.partition("?")
        pairs = headers.items() if hasattr(headers, "items") else headers
        lowered = {str(name).lower(): str(value) for name, value in pairs}
        body: Any = None
        has_json = False
        error = ""
        content_type = lowered.get("content-type", "").lower()
        if raw_body and ("json" in content_type or not content_type):
            try:  # depth-limited: a hostile client's [[[[...]]]] is just not JSON
                body, has_json = parse_json(raw_body.decode("utf-8", errors="strict")), True
            except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
                error = f"the body is not valid JSON: {str(exc)[:200]}"
        elif raw_body:
            error = f"the body is {content_type.split(';')[0] or 'not JSON'}, not JSON"
        return cls(method.upper(), path or "/", lowered, parse_qs(query, keep_blank_values=True) if query else {}, body, has_json, raw_body, error)

    @property
    def wants_stream(self) -> bool | None:
        """Whether the request asks for an event stream: ``"stream"`` in its JSON body decides, else ``Accept``.

        None: it does not say (no ``stream`` key, no ``Accept`` or only ``*/*``).
        """
        if isinstance(self.body, dict) and isinstance(self.body.get("stream"), bool):
            return bool(self.body["stream"])
        accept = self.headers.get("accept", "").lower()
        if "text/event-stream" in accept:
            return True
        if accept and accept.replace(" ", "") not in ("*/*", "*"):
            return False
        return None

    def prefer(self) -> dict[str, str]:
        """The ``Prefer`` header's preferences (``code=422, example=NAME, dynamic=true``), as Prism reads them."""
        found: dict[str, str] = {}
        if "prefer" not in self.headers:
            return found
        for part in re.split(r"[,;]", self.headers["prefer"]):
            name, sep, value = part.strip().partition("=")
            if sep and name.strip():
                found[name.strip().lower()] = value.strip().strip('"')
        return found


# --- building routes --------------------------------------------------------------


def path_pattern(url: Any) -> tuple[re.Pattern[str], int, str, str]:
    """The path regex of a request URL, its literal length, its label, and its literal query string.

    A segment that is one variable (``{{ model_id }}``) is a named group, read as ``request.path_params``.
    """
    names = [match.group(1) if match else "" for match in (_ONE_NAME.match(t) for t in _TEMPLATE.findall(str(url)))]
    text = _TEMPLATE.sub(_PLACEHOLDER, str(url))
    if "://" in text:
        text = "/" + text.split("://", 1)[1].partition("/")[2]
    elif text.startswith(_PLACEHOLDER):
        text = text[1:]  # "{{ base_url }}/v1/models"
    text, _, query = text.partition("?")
    text = text or "/"
    if not text.startswith("/"):
        text = "/" + text
    parts = text.split(_PLACEHOLDER)
    names = names[: len(names) - query.count(_PLACEHOLDER)]  # the query's templates come last
    names = names[len(names) - len(parts) + 1 :] if len(parts) > 1 else []  # a base_url or host template was dropped
    seen: set[str] = set()
    regex = re.escape(parts[0])
    for name, part in zip(names, parts[1:]):
        group = f"(?P<{name}>[^/]+)" if name and name not in seen else "[^/]+"
        seen.add(name)
        regex += group + re.escape(part)
    label = text.replace(_PLACEHOLDER, "{…}")
    return re.compile(f"^{regex.rstrip('/')}/?$"), sum(len(p) for p in parts), label, query


def build_routes(collections: list[CollectionSpec], templates: Templates, scopes: Mapping[int, Any], dynamic: bool = False) -> list[Route]:
    """A route for every request that has an example (with ``dynamic``, also every one with an ``expect.schema``)."""
    routes: list[Route] = []
    for collection in collections:
        scope = scopes.get(id(collection))
        values = dict(scope.values) if scope is not None else dict(collection.vars)
        for spec in collection.requests:
            example = spec.example
            if example is None and dynamic and spec.expect.schema is not None and spec.expect.events is None:
                example = ExampleSpec(dynamic=True, location=spec.location)  # generated from expect.schema
            if example is None:
                continue
            pattern, literal, label, url_query = path_pattern(spec.url)
            auth = spec.auth or collection.auth
            params: dict[str, Any] = {}
            for name, value in parse_qsl(url_query, keep_blank_values=True):  # "/search?q=cheese&page={{ n }}"
                params.setdefault(name, []).append(Wildcard() if _PLACEHOLDER in value else value)
            for name, value in {**collection.params, **spec.params}.items():
                params[name] = resolve(value, values, templates)
            if auth is not None and auth.kind == "api_key" and auth.key_in == "query":
                params.pop(auth.key_name, None)  # the credential, checked as auth
            is_json = spec.body is not None and spec.body.kind == "json"
            body = resolve(spec.body.value, values, templates) if is_json and spec.body is not None else None
            example = resolve_stream(example, templates, values)  # done, event_delay_ms may be templates
            method = _route_method(spec.method, values, templates)
            routes.append(
                Route(
                    method, pattern, literal, f"{method} {label}", collection.name, spec, example,
                    auth, _credential(auth, values, templates), params, body, is_json, len(routes),
                    tuple(pattern.groupindex), example.request_schema, spec.expect.schema, values,
                )
            )
    return routes


def _route_method(method: str, values: Mapping[str, Any], templates: Templates) -> str:
    """The route's method; ``ANY_METHOD`` when it is a template that needs a captured value (a wildcard, as for paths)."""
    resolved = resolve(method, values, templates)
    return ANY_METHOD if isinstance(resolved, Wildcard) else render_method(method, dict(values), templates)


def resolve(value: Any, values: Mapping[str, Any], templates: Templates) -> Any:
    """``value`` rendered where its templates use only known variables; the rest become ``Wildcard``s."""
    if isinstance(value, list):
        return [resolve(item, values, templates) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, values, templates) for key, item in value.items()}
    if not is_template(value):
        return value
    try:
        if templates.names(value) <= values.keys() and not _calls_helper(value, templates):
            return templates.render(value, values)
    except TemplateError:
        pass
    pieces = _TEMPLATE.split(value)
    if len(pieces) == 2 and not pieces[0] and not pieces[1]:
        return Wildcard()  # one expression: any value, of any type
    return Wildcard(re.compile(".*".join(re.escape(piece) for piece in pieces), re.DOTALL))


def _calls_helper(text: str, templates: Templates) -> bool:
    """Whether a template calls ``uuid4()``, ``now()``, ... (a new value every time)."""
    from jinja2 import nodes

    try:
        ast = templates.env.parse(text)
    except Exception:  # noqa: BLE001 - a syntax error is reported by the preflight, not here
        return True
    return any(isinstance(call.node, nodes.Name) and call.node.name in HELPER_NAMES for call in ast.find_all(nodes.Call))


def _credential(auth: AuthSpec | None, values: Mapping[str, Any], templates: Templates) -> Any:
    """The credential a route demands, rendered from the collection's variables (None: any)."""
    if auth is None or auth.kind == "none":
        return None
    try:
        if auth.kind == "basic":
            return (templates.render_text(auth.username, values), templates.render_text(auth.password, values))
        raw = auth.token if auth.kind == "bearer" else auth.value
        return templates.render_text(raw, values) or None
    except TemplateError:
        return None


# --- choosing a route -------------------------------------------------------------


def sent_credential(route: Route, request: Incoming) -> Any:
    """The credential the request carries for the route's kind of auth (None: none)."""
    auth = route.auth
    if auth is None or auth.kind == "none":
        return None
    key = (auth.kind, auth.key_in, auth.key_name) if auth.kind == "api_key" else auth.kind
    memo = request.credentials  # read once per request, not once per candidate route
    if key not in memo:
        memo[key] = _read_credential(auth, request)
    return memo[key]


def _read_credential(auth: AuthSpec, request: Incoming) -> Any:
    if auth.kind == "api_key":
        if auth.key_in == "header":
            return request.headers.get(auth.key_name.lower()) or None
        values = request.query.get(auth.key_name) or [""]
        return values[0] or None
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if not value or scheme.lower() != auth.kind:
        return None
    if auth.kind == "bearer":
        return value
    try:
        username, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if sep else None


def is_authorized(route: Route, request: Incoming, strict: bool = True) -> bool:
    """Whether the request carries the credential the route demands (any one of its kind unless ``strict``).

    A saved 401 example answers only the credential it was saved with (none, or that exact one).
    """
    if not route.needs_auth:
        return True
    sent = sent_credential(route, request)
    if sent is None:
        return False
    return route.credential is None or sent == route.credential or (not strict and route.example.status != 401)


def _sends_any_credential(request: Incoming, route: Route) -> bool:
    if request.headers.get("authorization"):
        return True
    auth = route.auth
    return auth is not None and auth.kind == "api_key" and sent_credential(route, request) is not None


def _auth_fit(route: Route, request: Incoming, strict: bool) -> int:
    """2: the exact credential (or none for a route without auth); 1: accepted as any credential; 0: refused."""
    if not route.needs_auth:
        return 0 if _sends_any_credential(request, route) else 2
    sent = sent_credential(route, request)
    if sent is None:
        return 0
    if route.credential is None or sent == route.credential:
        return 2
    return int(not strict and route.example.status != 401)  # is_authorized, the credential read once


def _query_text(value: Any) -> Any:
    if isinstance(value, Wildcard):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rank(route: Route, request: Incoming, strict: bool = True) -> tuple[int, ...]:
    """The sort key of a candidate route: higher is a better fit (see the module docstring)."""
    auth_fit = _auth_fit(route, request, strict)
    totals = [0, 0, 0]  # mismatches, equal values, wildcard matches: of the query, then the body
    query = request.query
    if query or route.query_form:
        ignored = route.auth.key_name if route.auth is not None and route.auth.kind == "api_key" and route.auth.key_in == "query" else None
        route.query_matcher(query if ignored not in query else {name: values for name, values in query.items() if name != ignored}, totals)
    if route.has_json_body:
        if request.has_json_body:
            route.body_matcher(request.body, totals)
        else:
            totals[0] += 1
    elif request.has_json_body:
        totals[0] += 1
    return (auth_fit, -totals[0], totals[1], totals[2], route.literal, -route.order)


class RouteTable(tuple):  # type: ignore[type-arg]
    """The routes served, indexed for the choice: by the number of ``/`` in the paths they match (a spec of 200
    paths has hundreds of routes; a request's pattern matching looks at a few), and remembering the routes that
    matched a method and path. Immutable, so neither can go stale; the memory is bounded (short paths only,
    forgotten all at once when full)."""

    matches: dict[tuple[str, str], list[Route]]
    by_slashes: dict[int, list[Route]]
    unshaped: list[Route]

    def __init__(self, routes: Any = ()) -> None:
        self.matches = {}
        shapes = [_slashes(route.pattern) for route in self]
        self.unshaped = [route for route, shape in zip(self, shapes) if shape is None]
        self.by_slashes = {count: [route for route, shape in zip(self, shapes) if shape in (count, None)] for count in set(shapes) - {None}}

    def near(self, path: str) -> list[Route]:
        """The routes that can match ``path``, in their order."""
        return self.by_slashes.get(path.rstrip("/").count("/"), self.unshaped)


_MEMO_SIZE = 4096
_MEMO_PATH = 256  # longer paths are matched every time, so a client's junk paths cannot fill memory
# a path pattern as path_pattern and the OpenAPI reader write it: literal characters and one-segment groups
_PATTERN_TOKEN = r"\\.|\(\?P<[A-Za-z_]\w*>\[\^/\]\+\)|\[\^/\]\+|[^\\()\[\]{}|*+?.^$]"
_SHAPED = re.compile(rf"\^(?:{_PATTERN_TOKEN})*/\?\$")


def _slashes(pattern: re.Pattern[str]) -> int | None:
    """How many ``/`` every path the pattern matches has (a trailing one aside); None when that is not plain."""
    if not _SHAPED.fullmatch(pattern.pattern):
        return None
    return sum(1 for token in re.findall(_PATTERN_TOKEN, pattern.pattern[1:-3]) if token in ("/", "\\/"))


def path_routes(routes: Sequence[Route], request: Incoming) -> list[Route]:
    """The routes whose method and path match the request (HEAD is answered by a GET route, as HTTP servers do)."""
    memo = routes.matches if isinstance(routes, RouteTable) else None
    key = (request.method, request.path)
    if memo is not None and key in memo:
        return memo[key]
    near = routes.near(request.path) if isinstance(routes, RouteTable) else routes
    found = [route for route in near if route.method in (request.method, ANY_METHOD) and route.pattern.match(request.path)]
    if not found and request.method == "HEAD":
        found = [route for route in near if route.method == "GET" and route.pattern.match(request.path)]
    if memo is not None and len(request.path) <= _MEMO_PATH:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = found
    return found


def candidates(routes: Sequence[Route], request: Incoming) -> list[Route]:
    """The routes of the request's method and path whose kind of answer (stream or not) the request asks for."""
    found = path_routes(routes, request)
    wish = request.wants_stream
    if wish:
        return [route for route in found if route.streamed] or found
    plain = [route for route in found if not route.streamed]
    return plain if wish is False else plain or found


def allowed_methods(routes: Sequence[Route], path: str) -> list[str]:
    """The methods the mock answers on ``path`` (for a 405's ``Allow``), empty when the path is unknown."""
    methods = {route.method for route in routes if route.pattern.match(path)}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods) if methods and ANY_METHOD not in methods else []


def choose_route(routes: Sequence[Route], request: Incoming, strict: bool = True) -> Route | None:
    """The best route for the request, or None when no method and path match.

    A saved error example (a 4xx other than 401) answers only the request it was saved
    for (no mismatch in query and body): a valid request that resembles it gets a
    success example instead, and is checked against that route's ``request_schema``.
    """
    found = candidates(routes, request)
    if not found:
        return None
    ranks = {route.order: rank(route, request, strict) for route in found}  # once each: the hot path of every request
    fitting = [route for route in found if not _is_error_example(route) or ranks[route.order][1] == 0]
    return max(fitting or found, key=lambda route: ranks[route.order])


def _is_error_example(route: Route) -> bool:
    return 400 <= route.example.status < 500 and route.example.status != 401


def unauthorized_route(routes: Sequence[Route], request: Incoming, strict: bool = True) -> Route | None:
    """A saved 401 example for the request's method and path, if the collections have one."""
    found = [route for route in candidates(routes, request) if route.example.status == 401]
    return max(found, key=lambda route: rank(route, request, strict)) if found else None


@dataclass(frozen=True)
class Answer:
    """What the mock answers: an example, a generated 401 (``refused`` without ``example``), or a 404."""

    matched: Route | None  # the best route for the request's method and path (None: 404)
    example: Route | None  # the route whose example is sent
    refused: bool = False  # the matched route's credential was missing or wrong
    unmet: str = ""  # a Prefer header asked for what the route does not have


def answer(routes: Sequence[Route], request: Incoming, strict: bool = True) -> Answer:
    """Decide the answer to ``request``: its route's example, a 401 when refused, or nothing (404).

    ``Prefer: code=N`` and ``Prefer: example=NAME`` narrow the choice to the examples with that
    status or request name (Prism's per-request overrides).
    """
    prefer = request.prefer()
    pool = routes
    if "code" in prefer or "example" in prefer:
        found = path_routes(routes, request)
        pool = [r for r in found if str(r.example.status) == prefer.get("code", str(r.example.status)) and r.spec.name == prefer.get("example", r.spec.name)]
        if found and not pool:
            wanted = ", ".join(f"{key}={value}" for key, value in prefer.items() if key in ("code", "example"))
            have = ", ".join(sorted({f"code={r.example.status} example={r.spec.name}" for r in found}))
            return Answer(found[0], None, unmet=f"no example with {wanted} for {request.method} {request.path}; saved: {have}")
        if prefer.get("code") == "401":
            return Answer(pool[0], pool[0]) if pool else Answer(None, None)
    route = choose_route(pool, request, strict)
    if route is None:
        return Answer(None, None)
    if is_authorized(route, request, strict):
        return Answer(route, route)
    return Answer(route, unauthorized_route(routes, request, strict), refused=True)
