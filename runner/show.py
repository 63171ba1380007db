"""``runner show``: requests fully rendered, as HTTP or a generated command (``codegen``), with every secret masked."""

from __future__ import annotations

import json

from .errors import InternalError, RunnerError, UsageError
from .plan import Plan, PlanInput, build_plan, scope_for_show
from .redact import Redactor
from .render import RenderedRequest, RunOptions, render_request
from .templating import TemplateError
from .terminal import printable, printable_line
from .variables import Scope


def format_http(request: RenderedRequest, redactor: Redactor) -> str:
    """The request as an HTTP message (body excerpt), masked."""
    lines = [f"{redactor.mask(request.method)} {redactor.mask(request.full_url())}"]
    lines += [f"{name}: {value}" for name, value in redactor.mask_headers(request.headers)]
    body = request.body_text()
    if body:
        lines += ["", redactor.mask(body)]
    return "\n".join(lines) + "\n"


def format_variables(scope: Scope) -> str:
    """Every variable with the layer it came from (``show -v``), secrets masked."""
    lines = ["# variables (lowest precedence first: collection vars < environment file < data row < --var < capture)"]
    for name in sorted(scope.values):
        value = scope.values[name]
        text = "****" if name in scope.secret_names else scope.redactor.mask(json.dumps(value, default=str))
        lines.append(printable_line(f"#   {name} = {text}  ({scope.origins.get(name, 'capture')})"))
    return "\n".join(lines) + "\n\n"


def show_requests(path: str, name: str | None, output_format: str, env_file: str | None, cli_vars: list[str], verbose: bool = False, allow_outside_refs: bool = False, allow_outside_files: bool = False) -> str:
    """Render the requests of one collection (or only ``name``) for display."""
    plan = build_plan(PlanInput([path], env_file, cli_vars, allow_outside_refs=allow_outside_refs, allow_outside_files=allow_outside_files))
    try:
        return _show_plan(plan, path, name, output_format, verbose, allow_outside_files)
    except RunnerError as exc:  # a --request NAME may be a secret
        exc.mask(plan.redactor.mask)
        raise


def _show_plan(plan: Plan, path: str, name: str | None, output_format: str, verbose: bool, allow_outside_files: bool) -> str:
    """``show_requests`` once the plan (and so every secret) is known."""
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
        except (RunnerError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: its message may quote a secret
            raise InternalError(scope.redactor.mask(f"request {spec.name!r}: {type(exc).__name__}: {exc}")) from exc
        if request.oauth2 is not None:  # fetched only by a real run (and masked like any credential header)
            request.headers.append(("Authorization", "Bearer <oauth2 token>"))
        if output_format == "http":
            text = printable(format_http(request, scope.redactor))  # a body may hold ESC, or a line GitHub would obey
        else:
            from .codegen import format_command

            text = format_command(request, scope.redactor, output_format)
        out.append(f"# {printable_line(spec.name)}  ({printable_line(str(spec.location))})\n{text}" if len(specs) > 1 else text)
    return "\n".join(out)
