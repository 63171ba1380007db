"""Start-up checks of what the mock serves: templated examples must render, examples should fit ``expect``."""

from __future__ import annotations

from typing import Any, Callable, Iterator

from ..errors import InputError, Problem
from ..examples import example_scope, render_example, sample_request
from ..model import CollectionSpec
from ..templating import TemplateError, Templates
from .routes import Route


def check_templated_examples(collections: list[CollectionSpec], routes: list[Route], templates: Templates, mask: Callable[[str], str] | None = None) -> None:
    """Raise ``InputError`` (exit 2, file:line) when a templated example cannot render for its own request.

    ``mask`` is the redactor's: Jinja's message may quote a secret (``request.json[api_key]``: no attribute 's3cr3t')."""
    docs = {id(spec): collection.source for collection in collections for spec in collection.requests}
    problems: list[Problem] = []
    for route in routes:
        example = route.example
        if not example.template:
            continue
        values = route.values or {}
        try:
            render_example(example, templates, example_scope(sample_request(route.spec, values, templates), values))
        except TemplateError as exc:
            location = example.location
            doc = docs.get(id(route.spec))
            line = doc.source_line(location.line) if doc is not None and location is not None else ""
            hint = "a templated example sees `request` (method, path, path_params, query, headers, json, body), vector(n, seed) and the collection's variables"
            problems.append(Problem(f"request {route.spec.name!r}: its templated example does not render: {exc.message}", location, hint, line))
    if problems:
        raise InputError(problems).mask(mask) if mask is not None else InputError(problems)


def example_warnings(plan: Any) -> Iterator[str]:
    """One line per saved example that breaks its request's ``expect`` (``runner validate`` refuses them)."""
    from ..examples import example_failures

    for run in plan.runs:
        captured: set[str] = set()
        for spec in run.collection.requests:
            if spec.example is not None:
                for message, location in example_failures(spec, run.scope, plan.templates, plan.schemas, captured):
                    where = f"{location.file}:{location.line}" if location is not None else run.collection.path
                    yield f"{where}: request {spec.name!r}: the example {message}"
            captured |= {capture.name for capture in spec.captures}
