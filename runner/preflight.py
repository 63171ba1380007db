"""Everything checked before the first request is sent: templates, variables, schemas, examples.

``run`` and ``validate`` both call ``check_collection``; ``validate`` also checks
every saved ``example`` against its request's ``expect`` so examples cannot drift
from the contract.
"""

from __future__ import annotations

from typing import Any, Iterator

from .errors import InputError, Problem
from .model import CollectionSpec, RequestSpec, SchemaRef
from .schemas import SchemaStore
from .source import escape_pointer
from .templating import TemplateError, Templates, is_template
from .variables import Scope

# Keys whose values are not templates: names, tags, captures' paths, saved examples.
_NOT_TEMPLATES = {"name", "description", "tags", "capture", "example", "secrets", "vars", "requests", "schema"}


def _walk(value: Any, pointer: str, skip: set[str]) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if is_template(value):
            yield pointer, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{pointer}/{index}", set())
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in skip:
                continue
            child_skip = {"schema"} if key in ("expect", "events") else set()
            yield from _walk(item, f"{pointer}/{escape_pointer(key)}", child_skip)


def check_collection(collection: CollectionSpec, scope: Scope, templates: Templates, store: SchemaStore, selected: tuple[int, ...] | None = None, extra_names: frozenset[str] = frozenset(), allow_outside_files: bool = False) -> None:
    """Raise ``InputError`` with every template, variable and schema problem of ``collection``."""
    doc = collection.source
    problems: list[Problem] = []
    known = set(scope.values) | set(extra_names)
    process_env = templates.process_env

    def check_templates(items: Iterator[tuple[str, str]], request: str, captured: set[str]) -> None:
        for pointer, text in items:
            try:
                names = templates.names(text)
                templates.compile(text)
            except TemplateError as exc:
                hint = 'templates use Jinja2 syntax: "{{ name }}"'
                if "No filter named" in exc.message:
                    hint = "filters: b64encode, b64decode, tojson and Jinja2's built-in filters (default, lower, upper, int, ...)"
                problems.append(doc.problem(f"{request}: {exc.message}", pointer, hint))
                continue
            for name in sorted(names - known - captured):
                hint = f"define {name!r} in vars, an environment file (-e) or with --var {name}=..."
                if name == "base_url":
                    hint += "; or run against the built-in mock with --mock"
                producer = _captured_by(collection, name)
                if producer is not None and ("default" in text or "defined" in text):
                    continue  # a template that guards a captured value ("is defined", "| default") copes without it
                if producer is not None and producer.index not in wanted:
                    hint = f"{name!r} is captured by {producer.name!r}, which the selection (-k, --request) leaves out: select it too"
                elif producer is not None:
                    hint = f"{name!r} is captured by {producer.name!r}, which runs later"
                problems.append(doc.problem(f"{request}: undefined variable {name!r}", pointer, hint))
            if "default" not in text:
                for env_name in sorted(templates.env_names(text) - set(process_env)):
                    problems.append(doc.problem(f"{request}: environment variable {env_name} is not set", pointer, f"export {env_name}=... before running"))

    data = doc.data
    if not allow_outside_files:
        problems.extend(_tls_files_outside_project(collection))
    check_templates(_walk(data, "", _NOT_TEMPLATES), "collection", set())
    collection_ok = not problems  # else every request would repeat the collection's problem when rendered
    wanted = set(range(len(collection.requests))) if selected is None else set(selected)
    captured: set[str] = set()
    all_captures = {capture.name for spec in collection.requests for capture in spec.captures}
    for spec in collection.requests:
        raw = data["requests"][spec.index]
        if spec.index in wanted:
            before = len(problems)
            items = list(_walk(raw, f"/requests/{spec.index}", _NOT_TEMPLATES))
            check_templates(iter(items), f"request {spec.name!r}", captured)
            if len(problems) == before and collection_ok:
                problems.extend(_dry_render(collection, spec, scope, templates, items, all_captures))
            for ref in _schema_refs(spec):
                try:
                    store.validator(ref)
                except InputError as exc:
                    problems.extend(_located(exc.problems, doc))
            if not allow_outside_files:
                problems.extend(_uploads_outside_project(collection, spec))
        if spec.index in wanted:  # a request left out by -k captures nothing
            captured |= {capture.name for capture in spec.captures}
    if problems:
        raise InputError(problems)


def _dry_render(collection: CollectionSpec, spec: RequestSpec, scope: Scope, templates: Templates, items: list[tuple[str, str]], captures: set[str]) -> list[Problem]:
    """Render a request that needs no captured value, so what only rendering finds fails before sending.

    Bad helper arguments, a relative URL without a base, a URL that is not http(s),
    a line break in a header: without this they would fail the request after
    earlier requests were sent.
    """
    from urllib.parse import urlsplit

    from .render import RunOptions, render_request

    if any(templates.names(text) & captures for _, text in items):
        return []  # depends on a value only a real run has
    where = f"request {spec.name!r}"
    try:
        request = render_request(collection, spec, scope.child(), templates, RunOptions(allow_outside_files=True))
    except TemplateError as exc:
        hint = "set base_url in the collection, an environment file (-e) or with --var base_url=...; or run against the built-in mock with --mock" if "base_url" in exc.message else ""
        return [collection.source.problem(f"{where}: cannot be rendered: {scope.redactor.mask(exc.message)}", _pointer_of(collection, spec, exc.message), hint)]
    problems = []
    url = urlsplit(request.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        problems.append(collection.source.problem(f"{where}: {scope.redactor.mask(request.url)!r} is not an http(s) URL with a host", f"/requests/{spec.index}/url", "a url is absolute (https://host/path) or a path joined to base_url"))
    for name, value in request.headers:
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            problems.append(collection.source.problem(f"{where}: header {name!r} holds a line break", f"/requests/{spec.index}", "a header value is one line"))
        elif any(ord(char) < 0x20 and char != "\t" or ord(char) == 0x7F for char in value):
            problems.append(collection.source.problem(f"{where}: header {name!r} holds a control character", f"/requests/{spec.index}", "HTTP header values cannot hold NUL or other control characters (a tab is allowed)"))
    return problems


def _pointer_of(collection: CollectionSpec, spec: RequestSpec, message: str) -> str:
    """Where a render error points: the setting or header it names, in the request or else the collection; else the request."""
    from .render import SETTING_KEYS

    request = f"/requests/{spec.index}"
    key = message.partition(":")[0].split(" ")[0]
    if key == "url":
        return f"{request}/url"
    if key == "header":
        key = "headers"
    if key in SETTING_KEYS or key == "headers":
        raw = collection.source.data["requests"][spec.index]
        if isinstance(raw, dict) and key in raw:
            return f"{request}/{key}"
        if key in collection.source.data:
            return f"/{key}"
    return request


def _tls_files_outside_project(collection: CollectionSpec) -> list[Problem]:
    """``verify: CA.pem`` and ``client_cert`` are files the collection names: inside the project, as uploads and schemas."""
    from pathlib import Path

    from .schemas import find_project_root

    root = find_project_root(Path(collection.base_dir))
    cert = collection.tls.client_cert
    files = [("verify", collection.tls.verify)] if isinstance(collection.tls.verify, str) else []
    if isinstance(cert, tuple):
        files += [("client_cert/cert", cert[0]), ("client_cert/key", cert[1])]
    elif cert is not None:
        files.append(("client_cert", cert))
    out = []
    for key, path in files:
        if not Path(path).resolve().is_relative_to(root):
            out.append(collection.source.problem(f"{key.partition('/')[0]}: {path} is outside the project folder {root}", f"/{key}", "keep certificates inside the project, pass them with --ca-cert / --client-cert, or pass --allow-outside-files"))
    return out


def _uploads_outside_project(collection: CollectionSpec, spec: RequestSpec) -> list[Problem]:
    """A multipart ``file:`` or a ``body: {file:}`` may not reach outside the project (a shared collection must not upload ~/.ssh)."""
    from .render import outside_project

    if spec.body is not None and spec.body.kind == "bytes" and isinstance(spec.body.value, dict):
        path = spec.body.value.get("file")  # body: {file: PATH}, read as bytes: the same rule as an upload
        if isinstance(path, str) and not is_template(path) and outside_project(collection.base_dir, path):
            return [collection.source.problem(f"request {spec.name!r}: body file {path!r} is outside the project folder", f"/requests/{spec.index}/body/file", "keep body files inside the project, or pass --allow-outside-files")]
        return []
    if spec.body is None or spec.body.kind != "multipart" or not isinstance(spec.body.value, dict):
        return []
    out = []
    for name, value in spec.body.value.items():
        if isinstance(value, dict) and isinstance(value.get("file"), str) and not is_template(value["file"]):
            if outside_project(collection.base_dir, value["file"]):
                pointer = f"/requests/{spec.index}/multipart/{escape_pointer(name)}/file"
                out.append(collection.source.problem(f"request {spec.name!r}: multipart file {value['file']!r} is outside the project folder", pointer, "keep uploads inside the project, or pass --allow-outside-files"))
    return out


def _captured_by(collection: CollectionSpec, name: str) -> RequestSpec | None:
    """The first request of the collection that captures ``name``."""
    return next((spec for spec in collection.requests if any(capture.name == name for capture in spec.captures)), None)


def _schema_refs(spec: RequestSpec) -> list[SchemaRef]:
    refs = []
    if spec.expect.schema is not None:
        refs.append(spec.expect.schema)
    if spec.expect.events is not None and spec.expect.events.schema is not None:
        refs.append(spec.expect.events.schema)
    return refs


def _located(problems: list[Problem], doc: Any) -> list[Problem]:
    for problem in problems:
        if problem.location is not None and not problem.source_line:
            problem.source_line = doc.source_line(problem.location.line)
    return problems


def check_examples(collection: CollectionSpec, scope: Scope, templates: Templates, store: SchemaStore) -> None:
    """Raise ``InputError`` when a saved ``example`` does not satisfy its request's ``expect``."""
    from .examples import example_failures

    doc = collection.source
    problems: list[Problem] = []
    captured: set[str] = set()
    for spec in collection.requests:
        if spec.example is not None:
            for message, location in example_failures(spec, scope, templates, store, captured):
                problems.append(Problem(f"request {spec.name!r}: the example {message}", location, "update the example or the expect block so they agree", doc.source_line(location.line) if location else ""))
        captured |= {capture.name for capture in spec.captures}
    if problems:
        raise InputError(problems)
