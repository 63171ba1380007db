"""``runner show``: requests fully rendered, as HTTP or curl, with every secret masked."""

from __future__ import annotations

import json
import os
import shlex

from .errors import UsageError
from .plan import PlanInput, build_plan, scope_for_show
from .redact import Redactor
from .render import RenderedRequest, RunOptions, render_request
from .templating import TemplateError
from .variables import Scope


def format_http(request: RenderedRequest, redactor: Redactor) -> str:
    """The request as an HTTP message (body excerpt), masked."""
    lines = [f"{request.method} {redactor.mask(request.full_url())}"]
    lines += [f"{name}: {value}" for name, value in redactor.mask_headers(request.headers)]
    body = request.body_text()
    if body:
        lines += ["", redactor.mask(body)]
    return "\n".join(lines) + "\n"


def format_curl(request: RenderedRequest, redactor: Redactor) -> str:
    """The request as a curl command line, masked."""
    parts = ["curl", "-X", request.method, shlex.quote(redactor.mask(request.full_url()))]
    for name, value in redactor.mask_headers(request.headers):
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.files:
        for name, value in request.form or []:  # the text fields that go with the files
            parts += ["-F", shlex.quote(f"{name}={redactor.mask(value)}")]
        for name, (filename, data, content_type) in request.files:
            parts += ["-F", shlex.quote(_curl_file(name, request.file_paths[name], filename, content_type) if filename else f"{name}={redactor.mask(data.decode('utf-8', 'replace'))}")]
    else:
        body = request.body_text()
        if body:
            parts += ["--data-raw", shlex.quote(redactor.mask(body))]
    if request.follow_redirects:
        parts.append("-L")
    return " ".join(parts) + "\n"


def _curl_file(name: str, path: str, filename: str, content_type: str) -> str:
    """A curl ``-F`` file part: the file as a path from the working folder, with the name and type sent."""
    part = f"{name}=@{_curl_word(os.path.relpath(path))}"
    if filename != os.path.basename(path):
        part += f";filename={_curl_word(filename)}"
    return part + f";type={content_type}"


def _curl_word(text: str) -> str:
    """``text`` as curl reads it in a ``-F`` value: quoted when it holds a separator curl would split at."""
    if not any(char in text for char in ';,"'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_variables(scope: Scope) -> str:
    """Every variable with the layer it came from (``show -v``), secrets masked."""
    lines = ["# variables (lowest precedence first: collection vars < environment file < data row < --var < capture)"]
    for name in sorted(scope.values):
        value = scope.values[name]
        text = "****" if name in scope.secret_names else scope.redactor.mask(json.dumps(value, default=str))
        lines.append(f"#   {name} = {text}  ({scope.origins.get(name, 'capture')})")
    return "\n".join(lines) + "\n\n"


def show_requests(path: str, name: str | None, output_format: str, env_file: str | None, cli_vars: list[str], verbose: bool = False, allow_outside_refs: bool = False, allow_outside_files: bool = False) -> str:
    """Render the requests of one collection (or only ``name``) for display."""
    plan = build_plan(PlanInput([path], env_file, cli_vars, allow_outside_refs=allow_outside_refs, allow_outside_files=allow_outside_files))
    if len(plan.collections) != 1:
        raise UsageError(f"show takes one collection file; {path} holds {len(plan.collections)}")
    collection = plan.collections[0]
    specs = [spec for spec in collection.requests if name is None or spec.name == name]
    if not specs:
        names = ", ".join(repr(spec.name) for spec in collection.requests)
        raise UsageError(f"no request named {name!r} in {collection.path} (requests: {names})")
    scope = scope_for_show(plan, collection)
    out = [format_variables(scope)] if verbose else []
    for spec in specs:
        try:
            request = render_request(collection, spec, scope, plan.templates, RunOptions(allow_outside_files=allow_outside_files))
        except TemplateError as exc:
            raise UsageError(f"request {spec.name!r}: {scope.redactor.mask(exc.message)}") from None
        text = format_curl(request, scope.redactor) if output_format == "curl" else format_http(request, scope.redactor)
        out.append(f"# {spec.name}  ({spec.location})\n{text}" if len(specs) > 1 else text)
    return "\n".join(out)
