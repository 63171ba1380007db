"""The mock's routes: one per saved ``example``, and how an incoming request picks one.

Pure code (no sockets), so the choice can be tested table-driven.  A route knows
the method, a path pattern (each ``{{ … }}`` in the URL matches one or more
characters within a path segment), the credential the collection's ``auth``
renders to, and the query parameters and JSON body the request sends, rendered
with the collection's variables.  Values that cannot be known before the run (a
captured variable, ``uuid4()``, ``now()``) become wildcards.

``choose_route`` keeps the routes whose method and path match and ranks them, best
first, by:

1. auth fit: the route needs a credential and the request sends exactly that one,
   or the route needs none and the request sends none;
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
from typing import Any, Mapping
from urllib.parse import parse_qs, parse_qsl

from .assertions import parse_json
from .examples import resolve_stream
from .model import AuthSpec, CollectionSpec, ExampleSpec, RequestSpec
from .render import render_method
from .templating import HELPER_NAMES, TemplateError, Templates, is_template

ANY_METHOD = "*"  # a templated method that only a real run can render matches any method

_PLACEHOLDER = "\x00"
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True)
class Wildcard:
    """A value only the run knows: matches anything, or strings matching ``pattern``."""

    pattern: re.Pattern[str] | None = None

    def matches(self, value: Any) -> bool:
        """Whether ``value`` fits the wildcard."""
        if self.pattern is None:
            return True
        return isinstance(value, str) and self.pattern.fullmatch(value) is not None


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

    @property
    def needs_auth(self) -> bool:
        """Whether a request must carry a credential."""
        return self.auth is not None and self.auth.kind != "none"

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

    @classmethod
    def parse(cls, method: str, target: str, headers: Any, raw_body: bytes) -> "Incoming":
        """From the request line, headers (a mapping or pairs) and body bytes; a JSON body is parsed."""
        path, _, query = target.partition("?")
        pairs = headers.items() if hasattr(headers, "items") else headers
        lowered = {str(name).lower(): str(value) for name, value in pairs}
        body: Any = None
        has_json = False
        if raw_body and "json" in lowered.get("content-type", "").lower():
            try:  # depth-limited: a hostile client's [[[[...]]]] is just not JSON
                body, has_json = parse_json(raw_body.decode("utf-8", errors="replace")), True
            except ValueError:
                pass
        return cls(method.upper(), path or "/", lowered, parse_qs(query, keep_blank_values=True), body, has_json)


# --- building routes --------------------------------------------------------------


def path_pattern(url: Any) -> tuple[re.Pattern[str], int, str, str]:
    """The path regex of a request URL, its literal length, its label, and its literal query string."""
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
    regex = "[^/]+".join(re.escape(part) for part in parts)
    label = text.replace(_PLACEHOLDER, "{…}")
    return re.compile(f"^{regex.rstrip('/')}/?$"), sum(len(p) for p in parts), label, query


def build_routes(collections: list[CollectionSpec], templates: Templates, scopes: Mapping[int, Any]) -> list[Route]:
    """A route for every request that has an example, values rendered in its collection's scope."""
    routes: list[Route] = []
    for collection in collections:
        scope = scopes.get(id(collection))
        values = dict(scope.values) if scope is not None else dict(collection.vars)
        for spec in collection.requests:
            if spec.example is None:
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
            example = resolve_stream(spec.example, templates, values)  # done, event_delay_ms may be templates
            method = _route_method(spec.method, values, templates)
            routes.append(
                Route(
                    method, pattern, literal, f"{method} {label}", collection.name, spec, example,
                    auth, _credential(auth, values, templates), params, body, is_json, len(routes),
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


def is_authorized(route: Route, request: Incoming) -> bool:
    """Whether the request carries the credential the route demands (any one when unknown)."""
    if not route.needs_auth:
        return True
    sent = sent_credential(route, request)
    return sent is not None and (route.credential is None or sent == route.credential)


def _sends_any_credential(request: Incoming, route: Route) -> bool:
    if request.headers.get("authorization"):
        return True
    auth = route.auth
    return auth is not None and auth.kind == "api_key" and sent_credential(route, request) is not None


def compare(expected: Any, actual: Any) -> tuple[int, int, int]:
    """``(mismatches, equal values, wildcard matches)`` of ``actual`` against a route's value."""
    if isinstance(expected, Wildcard):
        return (0, 0, 1) if expected.matches(actual) else (1, 0, 0)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return (1, 0, 0)
        totals = [sum(1 for key in actual if key not in expected) + sum(1 for key in expected if key not in actual), 0, 0]
        for key, value in expected.items():
            if key in actual:
                for index, count in enumerate(compare(value, actual[key])):
                    totals[index] += count
        return (totals[0], totals[1], totals[2])
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return (1, 0, 0)
        totals = [0, 0, 0]
        for item, other in zip(expected, actual):
            for index, count in enumerate(compare(item, other)):
                totals[index] += count
        return (totals[0], totals[1], totals[2])
    return (0, 1, 0) if _same(expected, actual) else (1, 0, 0)


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def _compare_params(route: Route, request: Incoming) -> tuple[int, int, int]:
    auth = route.auth
    ignored = auth.key_name if auth is not None and auth.kind == "api_key" and auth.key_in == "query" else None
    actual = {name: values for name, values in request.query.items() if name != ignored}
    expected = {name: [_query_text(v) for v in (value if isinstance(value, list) else [value])] for name, value in route.params.items() if value is not None}
    return compare(expected, actual)


def _query_text(value: Any) -> Any:
    if isinstance(value, Wildcard):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def rank(route: Route, request: Incoming) -> tuple[int, ...]:
    """The sort key of a candidate route: higher is a better fit (see the module docstring)."""
    auth_fit = is_authorized(route, request) if route.needs_auth else not _sends_any_credential(request, route)
    params = _compare_params(route, request)
    if route.has_json_body:
        body = compare(route.body, request.body) if request.has_json_body else (1, 0, 0)
    else:
        body = (1, 0, 0) if request.has_json_body else (0, 0, 0)
    return (int(auth_fit), -(params[0] + body[0]), params[1] + body[1], params[2] + body[2], route.literal, -route.order)


def candidates(routes: list[Route], request: Incoming) -> list[Route]:
    """The routes whose method and path match the request (HEAD is answered by a GET route, as HTTP servers do)."""
    found = [route for route in routes if route.method in (request.method, ANY_METHOD) and route.pattern.match(request.path)]
    if found or request.method != "HEAD":
        return found
    return [route for route in routes if route.method == "GET" and route.pattern.match(request.path)]


def choose_route(routes: list[Route], request: Incoming) -> Route | None:
    """The best route for the request, or None when no method and path match."""
    found = candidates(routes, request)
    return max(found, key=lambda route: rank(route, request)) if found else None


def unauthorized_route(routes: list[Route], request: Incoming) -> Route | None:
    """A saved 401 example for the request's method and path, if the collections have one."""
    found = [route for route in candidates(routes, request) if route.example.status == 401]
    return max(found, key=lambda route: rank(route, request)) if found else None


@dataclass(frozen=True)
class Answer:
    """What the mock answers: an example, a generated 401 (``refused`` without ``example``), or a 404."""

    matched: Route | None  # the best route for the request's method and path (None: 404)
    example: Route | None  # the route whose example is sent
    refused: bool = False  # the matched route's credential was missing or wrong


def answer(routes: list[Route], request: Incoming) -> Answer:
    """Decide the answer to ``request``: its route's example, a 401 when refused, or nothing (404)."""
    route = choose_route(routes, request)
    if route is None:
        return Answer(None, None)
    if is_authorized(route, request):
        return Answer(route, route)
    return Answer(route, unauthorized_route(routes, request), refused=True)
