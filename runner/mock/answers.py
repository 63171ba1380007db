"""From a decided route to the reply the mock sends: validation, templated examples, dynamic bodies.

Pure of sockets: ``reply_to`` takes the parsed request and returns a ``Reply``
(status, headers, body or event chunks, and the note ``-v`` logs), so the HTTP
handler in ``server.py`` only writes it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ..examples import example_body, example_scope, render_example, stream_chunks
from ..templating import TemplateError, Templates
from .dynamic import DynamicAnswers
from .routes import Incoming, Route, RouteTable, allowed_methods, answer, path_routes
from .validation import VerdictCache, not_json_error, validation_error


@dataclass
class Reply:
    """What the mock sends for one request."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    events: list[bytes] | None = None  # a stream: one chunk per event
    delay: float = 0.0  # seconds before each event
    note: str = ""


@dataclass
class MockState:
    """Everything a request is answered from: the routes and the settings of ``runner mock``."""

    routes: Sequence[Route] = field(default_factory=RouteTable)
    templates: Templates | None = None
    schemas: Any = None  # a SchemaStore, for request validation and dynamic bodies
    strict_auth: bool = False
    dynamic: bool = False
    answers: DynamicAnswers = field(default_factory=DynamicAnswers)
    verdicts: VerdictCache = field(default_factory=VerdictCache)
    mask: Callable[[str], str] = str  # the redactor's: an error told to a client never quotes a secret


def json_reply(status: int, payload: Any, note: str, headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON reply."""
    return Reply(status, json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8"), "application/json", dict(headers or {}), note=note)


def mistral_401() -> bytes:
    """A 401 body shaped like the Mistral API's gateway answer."""
    return json.dumps({"message": "Unauthorized", "request_id": uuid.uuid4().hex}).encode()


def reply_to(state: MockState, request: Incoming) -> Reply:
    """The reply to ``request``: an example, a 401, 404, 405 or 422, or a generated body."""
    decided = answer(state.routes, request, strict=state.strict_auth)
    if decided.unmet:
        return json_reply(404, {"error": decided.unmet}, "Prefer cannot be met")
    if decided.matched is None:
        return _no_route(state, request)
    if decided.refused:
        if decided.example is not None:
            return _example_reply(state, decided.example, request, f"{decided.matched.title}: missing or wrong credential; saved 401 of {decided.example.title}")
        return Reply(401, mistral_401(), note=f"{decided.matched.title}: missing or wrong credential")
    route = decided.example
    assert route is not None
    if route.example.status < 400:  # a saved error example answers the invalid request it was saved for
        invalid = _invalid(state, route, request)
        if invalid is not None:
            return invalid
    return _example_reply(state, route, request, route.title)


def _no_route(state: MockState, request: Incoming) -> Reply:
    allowed = allowed_methods(state.routes, request.path)
    if allowed and request.method not in allowed:
        message = f"the mock has no {request.method} for {request.path}; it answers {', '.join(allowed)}"
        return json_reply(405, {"error": message, "allow": allowed}, "method not allowed", {"Allow": ", ".join(allowed)})
    if path_routes(state.routes, request):
        kind = "a streamed" if request.wants_stream else "a non-streamed"
        message = f"the mock has no {kind} example for {request.method} {request.path} (the request {'asks' if request.wants_stream else 'does not ask'} for a stream)"
        return json_reply(404, {"error": message, "serves": _serves(state)}, "no example of that kind")
    message = f"the mock has no example for {request.method} {request.path}"
    return json_reply(404, {"error": message, "serves": _serves(state)}, "no example")


def _serves(state: MockState) -> list[str]:
    return sorted({route.label for route in state.routes})


def _invalid(state: MockState, route: Route, request: Incoming) -> Reply | None:
    """A 422 when the route expects JSON and the body is not JSON, or its ``request_schema`` refuses it."""
    expects_json = route.has_json_body or route.request_schema is not None
    if expects_json and request.json_error:
        return json_reply(422, not_json_error(request.json_error, request.raw), f"{route.title}: body is not JSON")
    if route.request_schema is None or state.schemas is None:
        return None
    if not request.has_json_body:
        detail = [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
        return json_reply(422, validation_error(detail), f"{route.title}: no JSON body")
    detail = state.verdicts.check(state.schemas, route.request_schema, id(route), request.raw, request.body)
    if detail:
        return json_reply(422, validation_error(detail), f"{route.title}: request refused by its request_schema ({len(detail)} errors)")
    return None


def request_view(route: Route, request: Incoming) -> dict[str, Any]:
    """``request`` as a templated example sees it."""
    query = {name: values[0] if len(values) == 1 else values for name, values in request.query.items()}
    return {
        "method": request.method,
        "path": request.path,
        "path_params": route.path_params(request.path),
        "query": query,
        "headers": dict(request.headers),
        "json": request.body if request.has_json_body else None,
        "body": request.raw.decode("utf-8", errors="replace"),
    }


def _example_reply(state: MockState, route: Route, request: Incoming, note: str) -> Reply:
    example = route.example
    if _wants_dynamic(state, route, request):
        generated = _dynamic_reply(state, route, note)
        if generated is not None:
            return generated
    prepared = route.prepared  # serialised at start-up: only the templated strings are rendered now
    if prepared is not None and not prepared.templated:
        return Reply(example.status, prepared.fixed or b"", prepared.content_type or "application/octet-stream", dict(prepared.headers), note=note)
    if example.template:
        assert state.templates is not None
        scope = example_scope(request_view(route, request), route.values or {})
        try:
            if prepared is not None:
                body, headers = prepared.render(state.templates, scope)
                return Reply(example.status, body, prepared.content_type, headers, note=note)
            example = render_example(example, state.templates, scope)
        except TemplateError as exc:  # the request lacks what the template reads: the client's mistake, told in JSON
            return json_reply(400, {"error": state.mask(f"the example of {route.title} cannot answer this request: {exc.message}")}, f"{note}: template error")
    if example.events is not None and request.method != "HEAD":
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        given = {name.lower() for name in example.headers}
        headers = {name: value for name, value in headers.items() if name.lower() not in given} | dict(example.headers)
        return Reply(example.status, b"", "", headers, stream_chunks(example), float(example.event_delay_ms) / 1000, note)
    body, content_type = example_body(example)
    return Reply(example.status, body, content_type or "application/octet-stream", dict(example.headers), note=note)


def _wants_dynamic(state: MockState, route: Route, request: Incoming) -> bool:
    if route.response_schema is None:
        return False
    example = route.example
    no_body = not (example.has_json or example.body is not None or example.events is not None)
    return example.dynamic or no_body or request.prefer().get("dynamic", "").lower() == "true"


def _dynamic_reply(state: MockState, route: Route, note: str) -> Reply | None:
    if state.schemas is None:
        return None
    validator = state.schemas.validator(route.response_schema) if not isinstance(route.response_schema, dict) else None
    if validator is None:
        from jsonschema import Draft202012Validator

        validator = Draft202012Validator(route.response_schema)
    body, valid = state.answers.body(id(route), validator.schema, validator)
    suffix = "generated" if valid else "generated, NOT valid against its schema"
    status = route.example.status if route.example.status < 300 else 200
    return Reply(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json", note=f"{note} ({suffix})")
