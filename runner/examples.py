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
    body, _ = example_body(example)
    view = ResponseView(example.status, example_headers(example), body.decode("utf-8"), 0.0)
    for assertion in spec.expect.assertions:
        if assertion.kind == "max_ms":
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
