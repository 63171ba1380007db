"""How the mock picks the example that answers a request (runner/mock_routes.py): pure, no sockets."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from runner.loader import load_collection
from runner.mock.matching import compare
from runner.mock.routes import Answer, Incoming, Route, Wildcard, answer, build_routes, choose_route, is_authorized, path_pattern, resolve, unauthorized_route
from runner.plan import PlanInput, build_plan
from runner.query import json_value
from runner.render import RunOptions, render_request
from runner.templating import Templates

REPO = Path(__file__).resolve().parents[2]
MOCK_URL = "http://127.0.0.1:9"  # never contacted: requests are only rendered


@pytest.mark.parametrize(
    ("url", "path", "matches"),
    [
        ("{{ base_url }}/v1/models", "/v1/models", True),
        ("{{ base_url }}/v1/models", "/v1/models/", True),
        ("{{ base_url }}/v1/models", "/v1/model", False),
        ("/v1/models/{{ first_model }}", "/v1/models/mistral-medium", True),
        ("/v1/models/{{ first_model }}", "/v1/models", False),
        ("/v1/models/{{ first_model }}", "/v1/models/a/b", False),
        ("/v1/files/{{ id }}/content", "/v1/files/f-1/content", True),
        ("https://api.mistral.ai/v1/embeddings", "/v1/embeddings", True),
        ("https://{{ host }}/v1/embeddings?x=1", "/v1/embeddings", True),
        ("/v1/{{ a }}-{{ b }}", "/v1/x-y", True),
        ("/v1/{{ a }}-{{ b }}", "/v1/xy", False),
    ],
    ids=["base-url", "trailing-slash", "other-path", "path-param", "param-missing", "param-one-segment", "param-middle", "absolute", "absolute-template-host", "two-params", "two-params-no-dash"],
)
def test_path_pattern(url: str, path: str, matches: bool) -> None:
    pattern, _, _, _ = path_pattern(url)
    assert bool(pattern.match(path)) is matches


@pytest.mark.parametrize(
    ("url", "literal", "label", "query"),
    [
        ("{{ base_url }}/v1/models", 10, "/v1/models", ""),
        ("/v1/models/{{ id }}", 11, "/v1/models/{…}", ""),
        ("https://api.example.com/search?q={{ q }}&page=2", 7, "/search", "q=\x00&page=2"),
    ],
    ids=["plain", "param", "absolute-with-query"],
)
def test_path_pattern_literal_label_and_query(url: str, literal: int, label: str, query: str) -> None:
    _, found_literal, found_label, found_query = path_pattern(url)
    assert (found_literal, found_label, found_query) == (literal, label, query)


VALUES = {"model": "mistral-small-latest", "max_tokens": 64, "temperature": 0.3}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("literal", "literal"),
        (7, 7),
        ("{{ model }}", "mistral-small-latest"),
        ("{{ max_tokens }}", 64),
        ("{{ temperature * 2 }}", 0.6),
        ({"a": ["{{ max_tokens }}", "x"]}, {"a": [64, "x"]}),
        ("{{ captured }}", Wildcard()),
        ("{{ uuid4() }}", Wildcard()),
    ],
    ids=["text", "number", "known-var", "native-int", "expression", "nested", "unknown-var", "helper-call"],
)
def test_resolve(value: Any, expected: Any) -> None:
    assert resolve(value, VALUES, Templates(environ={})) == expected


def test_resolve_partial_template_is_a_pattern() -> None:
    wildcard = resolve("Bearer {{ token }}.", VALUES, Templates(environ={}))
    assert isinstance(wildcard, Wildcard)
    assert wildcard.matches("Bearer abc.")
    assert not wildcard.matches("Basic abc.")
    assert not wildcard.matches(3)


@pytest.mark.parametrize(
    ("expected", "actual", "counts"),
    [
        ({"a": 1, "b": "x"}, {"a": 1, "b": "x"}, (0, 2, 0)),
        ({"a": 1}, {"a": 2}, (1, 0, 0)),
        ({"a": 1}, {"a": 1, "extra": 0}, (1, 1, 0)),
        ({"a": 1, "b": 2}, {"a": 1}, (1, 1, 0)),
        ({"m": [1, 2]}, {"m": [1, 2, 3]}, (1, 0, 0)),
        ({"m": [Wildcard(), 2]}, {"m": ["any", 2]}, (0, 1, 1)),
        ({"flag": True}, {"flag": 1}, (1, 0, 0)),
        ({"n": 1}, {"n": 1.0}, (0, 1, 0)),
        ({"a": {"b": 1}}, {"a": "text"}, (1, 0, 0)),
        (Wildcard(re.compile("x.*")), "y", (1, 0, 0)),
        ({"n": 1, "z": 0}, {"n": True, "z": False}, (2, 0, 0)),
        ({"n": None, "s": "x"}, {"n": None, "s": ["x"]}, (1, 1, 0)),
        ({"m": [{"role": "user", "content": Wildcard()}], "k": {"t": 0.5}}, {"m": [{"role": "user", "content": "hi", "name": "x"}], "k": {"t": 0.5}, "e": 1}, (2, 2, 1)),
        ([1, "a", None], [1, "b", None], (1, 2, 0)),
        ({"a": 1}, ["a"], (1, 0, 0)),
        (True, True, (0, 1, 0)),
        (False, 0, (1, 0, 0)),
        ("x", "x", (0, 1, 0)),
    ],
    ids=[
        "equal", "different-value", "extra-key", "missing-key", "list-length", "wildcard-item", "bool-is-not-int", "int-equals-float", "type-differs", "pattern-mismatch",
        "int-is-not-bool", "none-and-type", "nested-messages", "top-list", "dict-vs-list", "top-bool", "false-is-not-zero", "top-text",
    ],
)
def test_compare(expected: Any, actual: Any, counts: tuple[int, int, int]) -> None:
    assert compare(expected, actual) == counts


# --- choosing among the routes of tests/data/mock/shop.yaml ---------------------------------

SHOP = REPO / "tests" / "data" / "mock" / "shop.yaml"


@pytest.fixture
def routes() -> list[Route]:
    collection = load_collection(SHOP)
    return build_routes([collection], Templates(environ={}), {})


def incoming(method: str, target: str, headers: dict[str, str] | None = None, body: Any = None) -> Incoming:
    headers = {"Authorization": "Bearer shop-token", **(headers or {})}
    raw = b""
    if body is not None:
        raw = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    return Incoming.parse(method, target, {k: v for k, v in headers.items() if v is not None}, raw)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("method", "target", "headers", "body", "chosen"),
    [
        ("GET", "/search?q=pen", None, None, "search pens"),
        ("GET", "/search?q=book", None, None, "search books"),
        ("GET", "/items/42", None, None, "item by id"),
        ("GET", "/items/newest", None, None, "newest item"),
        ("POST", "/items", None, {"name": "pen", "tags": ["a", "b"]}, "create item"),
        ("POST", "/items", None, {"name": "pen"}, "create item without tags"),
        ("POST", "/items", None, {"name": "a-different-name"}, "create item without tags"),
        ("GET", "/private", {"Authorization": None}, None, "anonymous is refused"),
        ("GET", "/private", None, None, "private"),
    ],
    ids=["query-pen", "query-book", "path-param", "literal-beats-param", "json-body", "json-body-fewer-keys", "json-body-other-value", "no-credential", "credential"],
)
def test_choose_route(routes: list[Route], method: str, target: str, headers: dict[str, str] | None, body: Any, chosen: str) -> None:
    route = choose_route(routes, incoming(method, target, headers, body))
    assert route is not None and route.spec.name == chosen


@pytest.mark.parametrize(
    ("method", "target"),
    [("GET", "/nowhere"), ("DELETE", "/items/42"), ("GET", "/items/1/2")],
    ids=["unknown-path", "unknown-method", "too-deep"],
)
def test_no_route(routes: list[Route], method: str, target: str) -> None:
    assert choose_route(routes, incoming(method, target)) is None


@pytest.mark.parametrize(
    ("target", "headers", "authorized"),
    [
        ("/search?q=pen", {}, True),
        ("/search?q=pen", {"Authorization": None}, False),
        ("/search?q=pen", {"Authorization": "Bearer wrong-token"}, False),
        ("/search?q=pen", {"Authorization": "Basic shop-token"}, False),
        ("/keyed", {"X-Key": "k1"}, True),
        ("/keyed", {"x-key": "k1"}, True),
        ("/keyed", {"X-Key": "nope"}, False),
        ("/tickets?ticket=canary-7f3a9c", {}, True),
        ("/tickets?ticket=nope", {}, False),
        ("/tickets", {}, False),
        ("/basic", {"Authorization": basic("ann", "pw")}, True),
        ("/basic", {"Authorization": basic("ann", "wrong")}, False),
        ("/basic", {"Authorization": "Basic !!!"}, False),
    ],
    ids=["bearer", "bearer-missing", "bearer-wrong", "bearer-wrong-scheme", "header-key", "header-key-any-case", "header-key-wrong", "query-key", "query-key-wrong", "query-key-missing", "basic", "basic-wrong", "basic-garbage"],
)
def test_auth_enforced(routes: list[Route], target: str, headers: dict[str, str], authorized: bool) -> None:
    request = incoming("GET", target, headers)
    route = choose_route(routes, request)
    assert route is not None
    assert is_authorized(route, request) is authorized


@pytest.mark.parametrize(
    ("target", "headers", "sent", "refused"),
    [
        ("/private", {}, "private", False),
        ("/private", {"Authorization": None}, "anonymous is refused", False),
        ("/private", {"Authorization": "Bearer wrong-token"}, "anonymous is refused", False),
        ("/search?q=pen", {"Authorization": "Bearer wrong-token"}, None, True),
        ("/search?q=pen", {"Authorization": None}, None, True),
        ("/keyed", {"X-Key": "nope"}, None, True),
    ],
    ids=["authorized", "saved-401-no-credential", "saved-401-wrong-credential", "generated-401-wrong", "generated-401-missing", "generated-401-api-key"],
)
def test_answer(routes: list[Route], target: str, headers: dict[str, str], sent: str | None, refused: bool) -> None:
    decided = answer(routes, incoming("GET", target, headers))
    assert decided.matched is not None
    assert (decided.example.spec.name if decided.example else None, decided.refused) == (sent, refused)


def test_answer_without_route_is_a_404(routes: list[Route]) -> None:
    assert answer(routes, incoming("GET", "/nowhere")) == Answer(None, None)


def test_unauthorized_route_finds_the_saved_401(routes: list[Route]) -> None:
    saved = unauthorized_route(routes, incoming("GET", "/private", {"Authorization": "Bearer wrong-token"}))
    assert saved is not None and saved.spec.name == "anonymous is refused"
    assert unauthorized_route(routes, incoming("GET", "/search?q=pen")) is None


# --- every shipped request gets its own example ---------------------------------------------


def shipped_requests() -> list[tuple[str, str]]:
    found = []
    for path in sorted((REPO / "collections").glob("*.yaml")):
        for spec in load_collection(path).requests:
            if spec.example is not None:
                found.append((path.name, spec.name))
    return found


@pytest.fixture(scope="module")
def shipped() -> tuple[Any, list[Route]]:
    plan = build_plan(PlanInput([str(REPO / "collections")], mock_url=MOCK_URL))
    routes = build_routes(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs})
    return plan, routes


def to_incoming(rendered: Any) -> Incoming:
    split = urlsplit(rendered.url)
    query = urlencode(rendered.params)
    target = split.path + (f"?{query}" if query else "")
    return Incoming.parse(rendered.method, target, rendered.headers, rendered.content or b"")


@pytest.mark.parametrize(("file", "name"), shipped_requests(), ids=[f"{f}:{n}" for f, n in shipped_requests()])
def test_every_shipped_request_is_answered_by_its_own_example(shipped: tuple[Any, list[Route]], file: str, name: str) -> None:
    plan, routes = shipped
    run = next(run for run in plan.runs if Path(run.collection.path).name == file)
    scope = run.scope.child()
    for spec in run.collection.requests:  # the requests before it, with captures taken from their examples
        if spec.name == name:
            break
        example_json = spec.example.json if spec.example is not None else None
        for capture in spec.captures:  # a value from a stream only needs to be some text: the route has a wildcard
            value = json_value(capture.expr, example_json) if capture.source == "json" else f"<{capture.source}>"
            scope.capture(capture.name, value)
    rendered = render_request(run.collection, spec, scope, plan.templates, RunOptions(mock_url=MOCK_URL))
    request = to_incoming(rendered)
    route = choose_route(routes, request)
    assert route is not None
    assert (Path(route.spec.location.file).name, route.spec.name) == (file, name)
    assert is_authorized(route, request)


# --- protocol, Prefer, path parameters, any-key auth ------------------------------------------


@pytest.mark.parametrize(
    ("body", "accept", "wish"),
    [
        ({"stream": True}, "", True),
        ({"stream": False}, "text/event-stream", False),
        ({}, "text/event-stream", True),
        ({}, "application/json", False),
        ({}, "*/*", None),
        (None, "", None),
    ],
    ids=["body-true", "body-false-wins", "accept-sse", "accept-json", "accept-any", "silent"],
)
def test_wants_stream(body: Any, accept: str, wish: bool | None) -> None:
    assert incoming("POST", "/x", {"Accept": accept or None}, body).wants_stream is wish


def test_prefer_is_read_like_prism() -> None:
    request = incoming("GET", "/x", {"Prefer": 'code=422, example="JSON mode"; dynamic=true'})
    assert request.prefer() == {"code": "422", "example": "JSON mode", "dynamic": "true"}


def test_path_params_are_named_by_the_url_variable() -> None:
    pattern, _, _, _ = path_pattern("{{ base_url }}/v1/models/{{ model_id }}/versions/{{ n }}?q={{ q }}")
    assert pattern.match("/v1/models/m-1/versions/3").groupdict() == {"model_id": "m-1", "n": "3"}  # type: ignore[union-attr]


def test_any_key_unless_strict(routes: list[Route]) -> None:
    request = incoming("GET", "/search?q=pen", {"Authorization": "Bearer my-own-key"})
    route = choose_route(routes, request, strict=False)
    assert route is not None and is_authorized(route, request, strict=False)
    assert not is_authorized(route, request, strict=True)
    assert not is_authorized(route, incoming("GET", "/search?q=pen", {"Authorization": None}), strict=False)
