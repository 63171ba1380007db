"""Prepared example bodies: the same bytes and headers as rendering the whole example, for every kind of example."""

from __future__ import annotations

from typing import Any

import pytest

from runner.examples import example_body, render_example
from runner.mock.prepared import _MARKER, prepare_body
from runner.model import ExampleSpec
from runner.templating import TemplateError, Templates

SCOPE = {"n": 3, "name": "Zoë", "request": {"json": {"model": "mistral-small", "tags": ["a", "b"], "opts": {"t": 0.5}}, "path": "/v1/x"}}


@pytest.mark.parametrize(
    "example",
    [
        ExampleSpec(json={"model": "{{ request.json.model }}", "object": "chat.completion", "n": 1}, has_json=True, template=True),
        ExampleSpec(json={"count": "{{ n }}", "ratio": "{{ n / 2 }}", "flag": "{{ n > 2 }}", "none": "{{ none }}"}, has_json=True, template=True),
        ExampleSpec(json={"tags": "{{ request.json.tags }}", "opts": "{{ request.json.opts }}"}, has_json=True, template=True),
        ExampleSpec(json=[{"id": "x-{{ n }}", "deep": [["{{ name }}", 1, None, True]]}, "{{ request.path }}"], has_json=True, template=True),
        ExampleSpec(json={"{{ n }}": "keys are not templates", "é": "ünïcode {{ name }}"}, has_json=True, template=True),
        ExampleSpec(json="{{ request.json.model }}", has_json=True, template=True),
        ExampleSpec(json={"plain": "no template", "n": 1.5}, has_json=True, template=True),
        ExampleSpec(json={"model": "{{ request.json.model }}"}, has_json=True, headers={"X-Model": "{{ request.json.model }}", "X-Fixed": "f"}, template=True),
        ExampleSpec(json={"model": "{{ not rendered }}"}, has_json=True, headers={"X-Raw": "{{ kept }}"}),
        ExampleSpec(body="plain text {{ kept }}"),
        ExampleSpec(status=204),
    ],
    ids=["echo", "native-values", "nested-values", "lists", "keys-and-unicode", "top-level", "no-template", "templated-headers", "not-templated", "text", "empty"],
)
def test_prepared_body_is_the_rendered_example(example: ExampleSpec) -> None:
    templates = Templates(environ={})
    prepared = prepare_body(example)
    assert prepared is not None
    whole = render_example(example, templates, SCOPE)
    body, content_type = example_body(whole)
    if prepared.templated:
        assert prepared.render(templates, SCOPE) == (body, whole.headers)
    else:
        assert (prepared.fixed, dict(prepared.headers)) == (body, whole.headers)
    assert prepared.content_type == content_type


@pytest.mark.parametrize(
    "example",
    [
        ExampleSpec(events=({"model": "{{ n }}"},), template=True),
        ExampleSpec(body="text {{ n }}", template=True),
        ExampleSpec(dynamic=True),
        ExampleSpec(json={"odd": _MARKER, "t": "{{ n }}"}, has_json=True, template=True),
    ],
    ids=["stream", "templated-text", "dynamic", "holds-the-marker"],
)
def test_rendered_whole(example: ExampleSpec) -> None:
    assert prepare_body(example) is None


def test_a_template_error_is_raised() -> None:
    prepared = prepare_body(ExampleSpec(json={"model": "{{ request.json.missing }}"}, has_json=True, template=True))
    assert prepared is not None
    scope: dict[str, Any] = {"request": {"json": {}}}
    with pytest.raises(TemplateError, match="has no attribute 'missing'"):
        prepared.render(Templates(environ={}), scope)
