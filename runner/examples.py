"""Saved examples: the response they describe (served by the mock) and their check against ``expect``."""

from __future__ import annotations

import json
from typing import Any, Iterator

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
    """One event of an example stream as ``data:`` lines: strings as they are, anything else as JSON."""
    data = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    return "".join(f"data: {line}\n" for line in data.split("\n")).encode("utf-8") + b"\n"


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
            yield f"fails {check.label}: expected {check.expected}, got {check.actual}", assertion.location or example.location
    if spec.expect.schema is not None and example.events is None:
        try:
            results = check_schema(spec.expect, view, store)
        except InputError:
            return  # reported by the template/schema checks
        for check in results:
            if not check.passed:
                yield f"fails schema {check.target} at {check.pointer or '/'} ({check.keyword}): {check.message}", example.location
    if example.events is not None and spec.expect.events is not None:
        from .streaming import Event, check_event_list

        events = [Event(i, item if isinstance(item, str) else json.dumps(item)) for i, item in enumerate(example.events)]
        for check in check_event_list(spec.expect.events, events, example.done, 0.0, store, templates, scope.values):
            if not check.passed and check.target != "first_ms":
                yield f"fails {check.label}: {check.message or f'expected {check.expected}, got {check.actual}'}", example.location
