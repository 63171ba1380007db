"""Saved examples: the response they describe (served by the mock) and their check against ``expect``."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any, Iterator, Mapping

import httpx

from .assertions import ResponseView, check_assertion, check_schema
from .errors import InputError, Location
from .model import ExampleSpec, RequestSpec
from .schemas import SchemaStore
from .templating import TemplateError, Templates, iter_strings
from .variables import Scope


def example_body(example: ExampleSpec) -> tuple[bytes, str]:
    """The body bytes of an example and the content type they imply."""
    if example.events is not None:
        return b"".join(event_bytes(item) for item in example.events), "text/event-stream"
    if example.has_json:
        return json.dumps(example.json, ensure_ascii=False).encode("utf-8"), "application/json"
    if example.body is not None:
        return example.body.encode("utf-8"), "text/plain; charset=utf-8"
    return b"", ""


def json_text(value: Any) -> str:
    """``value`` as an example's JSON text (raises ``TemplateError`` when a template rendered what JSON cannot hold)."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"it renders a value that is not JSON ({exc})") from None


def event_bytes(item: Any) -> bytes:
    """One event of an example stream as ``data:`` lines: strings as they are, anything else as compact JSON."""
    data = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    return "".join(f"data: {line}\n" for line in re.split(r"\r\n|\r|\n", data)).encode("utf-8") + b"\n"


def stream_chunks(example: ExampleSpec) -> list[bytes]:
    """The wire form of a streamed example, one chunk per event, then ``data: [DONE]`` unless ``done`` is false."""
    chunks = [event_bytes(item) for item in example.events or ()]
    if example.done:
        chunks.append(b"data: [DONE]\n\n")
    return chunks


def resolve_stream(example: ExampleSpec, templates: Templates, values: Mapping[str, Any]) -> ExampleSpec:
    """The example with ``done`` and ``event_delay_ms`` rendered; one that cannot be rendered keeps its default."""
    if example.events is None:
        return example
    done, delay = example.done, example.event_delay_ms
    try:
        done = templates.render(done, values)
    except TemplateError:
        done = True
    if isinstance(done, str):
        done = done.strip().lower() not in ("false", "no", "off", "0", "")
    try:
        delay = float(templates.render(delay, values))
    except (TemplateError, TypeError, ValueError):
        delay = 0.0
    return replace(example, done=bool(done), event_delay_ms=max(0.0, delay))


def vector(size: int, seed: Any = "") -> list[float]:
    """A unit vector of ``size`` floats, the same for the same ``seed`` (a stand-in embedding)."""
    import hashlib
    import math
    import random

    size = max(0, min(int(size), 65536))
    generator = random.Random(hashlib.blake2b(str(seed).encode("utf-8"), digest_size=8).digest())
    values = [generator.gauss(0.0, 1.0) for _ in range(size)]
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    return [round(value / norm, 6) for value in values]


def example_scope(request: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """What a templated example sees: the collection's variables, ``request`` and ``vector()``."""
    return {**values, "request": request, "vector": vector}


def render_example(example: ExampleSpec, templates: Templates, scope: Mapping[str, Any]) -> ExampleSpec:
    """A templated example rendered for one request (raises ``TemplateError``); others as they are."""
    if not example.template:
        return example
    headers = {name: templates.render_text(value, scope) for name, value in example.headers.items()}
    json_value = templates.render(example.json, scope) if example.has_json else None
    if example.has_json:
        json_text(json_value)  # a value JSON cannot hold ({{ request.json.keys }}, a method) is the template's error
    body = templates.render_text(example.body, scope) if example.body is not None else None
    events = tuple(templates.render(list(example.events), scope)) if example.events is not None else None
    return replace(example, headers=headers, json=json_value, body=body, events=events)


def sample_request(spec: RequestSpec, values: Mapping[str, Any], templates: Templates) -> dict[str, Any]:
    """The request a templated example is tried with before serving: the collection's own, as far as it renders."""

    def rendered(value: Any, placeholder: str) -> Any:
        if isinstance(value, dict):
            return {key: rendered(item, placeholder) for key, item in value.items()}
        if isinstance(value, list):
            return [rendered(item, placeholder) for item in value]
        try:
            return templates.render(value, values)
        except TemplateError:
            return placeholder  # a captured value or a missing variable: some text stands for it

    path = re.sub(r"^\{\{[^}]*\}\}", "", str(spec.url)).split("?", 1)[0]
    names = re.findall(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", path)
    params = {name: str(rendered("{{ %s }}" % name, f"sample-{name}")) for name in names}
    body = spec.body.value if spec.body is not None else None
    is_json = spec.body is not None and spec.body.kind == "json"
    return {
        "method": str(rendered(spec.method, "GET")).upper(),
        "path": path,
        "path_params": params,
        "query": {str(k): rendered(v, "sample") for k, v in spec.params.items()},
        "headers": {str(k).lower(): str(rendered(v, "sample")) for k, v in spec.headers.items()},
        "json": rendered(body, "sample") if is_json else None,
        "body": "" if is_json or body is None else str(rendered(body, "sample")),
    }


def example_headers(example: ExampleSpec) -> httpx.Headers:
    """The example's headers, with a Content-Type matching its body when it sets none."""
    headers = httpx.Headers(example.headers)
    _, content_type = example_body(example)
    if content_type and "content-type" not in headers:
        headers["content-type"] = content_type
    return headers


def example_failures(spec: RequestSpec, scope: Scope, templates: Templates, store: SchemaStore, captured: set[str]) -> Iterator[tuple[str, Location | None]]:
    """Each way the example breaks the request's ``expect`` (timing checks excepted)."""
    example = spec.example
    assert example is not None
    if example.template:
        try:
            example = render_example(example, templates, example_scope(sample_request(spec, scope.values, templates), scope.values))
        except TemplateError as exc:
            yield f"does not render (it is a template): {exc.message}", example.location
            return
    if example.dynamic and not (example.has_json or example.body is not None or example.events is not None):
        return  # generated from expect.schema by the mock: valid by construction
    body, _ = example_body(example)
    view = ResponseView(example.status, example_headers(example), body.decode("utf-8"), 0.0, body=body)
    for assertion in spec.expect.assertions:
        if assertion.kind in ("max_ms", "url", "redirects", "http_version"):  # the transport's, not the example's
            continue
        names = set()
        for text in iter_strings(assertion.predicate):
            names |= templates.names(text)
        if names & captured:  # depends on a value only a real run has
            continue
        try:
            predicate = templates.render(assertion.predicate, scope.values)
        except TemplateError:
            continue
        check = check_assertion(assertion, predicate, view)
        if not check.passed:
            yield f"fails {check.label}: {check.detail}", assertion.location or example.location
    if spec.expect.schema is not None and example.events is None:
        try:
            results = check_schema(spec.expect, view, store)
        except InputError:
            return  # reported by the template/schema checks
        for check in results:
            if not check.passed:
                yield f"fails schema {check.target} at {check.pointer or '/'} ({check.keyword}): {check.message}", example.location
    if example.events is not None and spec.expect.events is not None:
        yield from _event_failures(spec, resolve_stream(example, templates, scope.values), scope, templates, store, captured)


def _event_failures(spec: RequestSpec, example: ExampleSpec, scope: Scope, templates: Templates, store: SchemaStore, captured: set[str]) -> Iterator[tuple[str, Location | None]]:
    from .streaming import check_event_list, read_events, render_events

    assert spec.expect.events is not None
    log = read_events(b"".join(stream_chunks(example)))  # read as a run would read what the mock sends
    expect = render_events(spec.expect.events, templates, scope.values, skip=captured)
    for check in check_event_list(expect, log, store):
        if check.passed or check.target == "first_ms":  # an example has no timing
            continue
        where = f" at {check.pointer} ({check.keyword})" if check.keyword else ""
        detail = check.message or f"expected {check.expected}, got {check.actual}"
        yield f"fails {check.label}{where}: {detail}", example.location
