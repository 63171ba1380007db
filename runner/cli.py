"""The command line: click commands -> plan -> engine.  The ONE place errors become messages.

Heavy modules (httpx, jsonschema, jinja2, rich) are imported inside the commands,
so ``runner --help`` and ``runner --version`` start fast.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, TypeVar

import click

from . import __version__
from .completion import complete_report, complete_request_name
from .errors import EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK

F = TypeVar("F", bound=Callable[..., Any])


class _Finite(click.FloatRange):
    """A ``FloatRange`` that also refuses ``nan`` and ``inf`` (float() takes them; a NaN bound compares false with everything)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        """The number, or click's usage error (exit 2) for ``nan``/``inf``."""
        number = super().convert(value, param, ctx)
        if number != number or number in (float("inf"), float("-inf")):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number



def _variables_options(func: F) -> F:
    func = click.option("--var", "cli_vars", multiple=True, metavar="NAME=VALUE", help="Set a variable (beats collection vars, environment and data rows). VALUE is JSON when it parses and reads back as typed (5, true, [1, 2]); else text (12e45, 007, 1.10 stay text).")(func)
    func = click.option("-e", "--env", "env_file", type=click.Path(dir_okay=False), help="Environment file (YAML mapping of variables, with optional 'secrets').")(func)
    return func


def _outside_refs_option(func: F) -> F:
    return click.option("--allow-outside-refs", is_flag=True, help="Let schema files and their $refs come from outside the collection's project folder (never from the network).")(func)


def _outside_files_option(func: F) -> F:
    return click.option("--allow-outside-files", is_flag=True, help="Let multipart uploads (file: PATH), certificates (verify, client_cert) and report paths that a symlink leads elsewhere be outside the project folder.")(func)


def _traceback_option(func: F) -> F:
    return click.option("--traceback", is_flag=True, help="On an internal error, show the Python traceback (for a bug report).")(func)


def _fail(error: Exception, traceback: bool = False) -> None:
    """Print a ``RunnerError`` (or an unexpected exception) and exit with its code."""
    from .errors import RunnerError

    if isinstance(error, RunnerError):
        from .terminal import printable

        click.echo(printable(error.format()), err=True)  # it may quote a file's line, a name, a server's text
        sys.exit(error.exit_code)
    if traceback:
        raise error
    # no redactor knows this one's secrets: its message is not shown (it may quote one), --traceback shows it;
    # an ImportError's names a module
    detail = f": {error}" if isinstance(error, ImportError) else ""
    click.echo(f"internal error: {type(error).__name__}{detail}\n(run again with --traceback for details; please report this)", err=True)
    sys.exit(EXIT_INPUT)


def _guard(traceback: bool, action: Callable[[], int]) -> None:
    from .errors import InternalError, RunInterrupted, RunnerError

    try:
        code = action()
    except (KeyboardInterrupt, RunInterrupted):
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:  # `runner run ... | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_FAILED)
    except RunnerError as error:
        if traceback and isinstance(error, InternalError):
            raise
        _fail(error)
    except click.exceptions.Exit:
        raise
    except Exception as error:  # the last line of defence: never a bare traceback
        _fail(error, traceback)
    else:
        sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="runner")
def main() -> None:
    """Run HTTP request collections written in YAML: check every response, report, exit honestly.

    Exit codes: 0 every request passed, 1 a request failed, 2 invalid input or
    usage (nothing was sent), 130 interrupted.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@_variables_options
@click.option("--mock", is_flag=True, help="Serve every request's saved example from a loopback server and run against it.")
@click.option("--report", "reports", multiple=True, metavar="FORMAT:PATH", shell_complete=complete_report, help="Write a report: junit, json, html, markdown or github; PATH '-' is stdout. Repeatable.")
@click.option("-k", "selection", metavar="EXPR", shell_complete=complete_request_name, help="Select requests by name or tag: words (or \"quoted phrases\") with and/or/not and parentheses.")
@click.option("--request", "request_names", multiple=True, metavar="NAME", shell_complete=complete_request_name, help="Run only the request with this exact name (spaces and all). Repeatable.")
@click.option("-s", "--show", is_flag=True, help="Response pane: status, headers, pretty body, streams live (implied on a terminal when one request is selected).")
@click.option("--watch", is_flag=True, help="Run again whenever a collection, environment, data or schema file read changes; Ctrl-C stops.")
@click.option("--save-examples", is_flag=True, help="Save each passed response as its request's example: (edits the YAML in place, secrets templated or masked).")
@click.option("--save-failed", is_flag=True, help="Save failed responses as examples too (implies --save-examples).")
@click.option("--diff-examples", is_flag=True, help="List how each response's JSON shape differs from its saved example (drift).")
@click.option("--fail-on-drift", is_flag=True, help="Exit 1 when any response drifted from its example (implies --diff-examples).")
@click.option("--bail", is_flag=True, help="Stop at the first failed request.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Collections run in parallel (requests in a collection stay in order).")
@click.option("--data", "data_file", type=click.Path(dir_okay=False), help="CSV or JSON data file: the collection runs once per row.")
@click.option("--iterations", type=click.IntRange(min=1), default=1, show_default=True, help="Run every collection N times.")
@click.option("--shard", metavar="K/N", help="Run only shard K of N: a stable, balanced share of the collection files (for CI matrices; see docs/scale.md).")
@click.option("--timeout", type=_Finite(min=0, min_open=True), help="Timeout in seconds for requests that set none (default 30).")
@click.option("--retries", type=click.IntRange(min=0), help="Retry each request up to N times (see docs/format.md#retries).")
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates.")
@click.option("--ca-cert", type=click.Path(exists=True, dir_okay=False), help="CA bundle (PEM) to verify servers with, instead of every collection's 'verify'.")
@click.option("--client-cert", type=click.Path(exists=True, dir_okay=False), help="Client certificate and its key (one PEM file), instead of every collection's 'client_cert'.")
@click.option("--proxy", metavar="URL", help="Send every request through this proxy (http://, https://, socks5://; user:password@ masked). Beats the collection's 'proxy' and HTTP(S)_PROXY/ALL_PROXY; NO_PROXY still applies; '' for none.")
@click.option("--rate", metavar="COUNT/UNIT", help="Pace requests to each host: 5/s, 60/m, 100/10s (beats the environment's and collections' rate; see docs/llm.md).")
@click.option("--budget", type=_Finite(min=0), metavar="AMOUNT", help="Stop sending before the run could spend more than AMOUNT, in the price table's currency (see docs/llm.md).")
@click.option("--max-requests", type=click.IntRange(min=0), metavar="N", help="Send at most N requests; the rest are reported skipped (exit 1).")
@_outside_refs_option
@_outside_files_option
@click.option("-v", "--verbose", is_flag=True, help="Print every request and response (secrets masked).")
@click.option("-q", "--quiet", is_flag=True, help="Print only failures and the summary.")
@click.option("--no-color", is_flag=True, help="No colours (also when NO_COLOR is set or output is not a terminal).")
@_traceback_option
def run(paths: tuple[str, ...], verbose: bool, quiet: bool, no_color: bool, traceback: bool, **options: Any) -> None:
    """Run collections (files, or folders of *.yaml) and check every response."""

    def action() -> int:
        from .errors import UsageError
        from .session import RunSettings, run_session

        if verbose and quiet:
            raise UsageError("-v and -q cannot be used together")
        # every other option maps by name onto RunSettings: a new option is a decorator and a field, nothing here
        fields = {name: list(value) if isinstance(value, tuple) else value for name, value in options.items()}
        settings = RunSettings(paths=list(paths), verbose=verbose, quiet=quiet, color=_color(no_color), traceback=traceback, **fields)
        settings.save_examples |= settings.save_failed  # --save-failed alone: save, failed responses too
        settings.diff_examples |= settings.fail_on_drift
        if settings.watch:
            from .explore.watch import watch_session

            return watch_session(settings, lambda error: click.echo(error.format(), err=True))
        return run_session(settings)

    _guard(traceback, action)


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@_variables_options
@click.option("--mock", is_flag=True, help="Check as 'run --mock' would: base_url is the built-in mock's.")
@_outside_refs_option
@_outside_files_option
@_traceback_option
def validate(paths: tuple[str, ...], env_file: str | None, cli_vars: tuple[str, ...], mock: bool, allow_outside_refs: bool, allow_outside_files: bool, traceback: bool) -> None:
    """Check collections without sending anything: format, templates, variables, schemas, examples.

    It rejects whatever 'run' with the same options would reject before sending.
    """

    def action() -> int:
        from .plan import PlanInput, build_plan

        # the same preflight as run: without --mock there is no base_url unless the input sets one
        mock_url = "http://127.0.0.1:0" if mock else None
        plan = build_plan(PlanInput(list(paths), env_file, list(cli_vars), mock_url=mock_url, allow_outside_refs=allow_outside_refs, allow_outside_files=allow_outside_files), check_saved_examples=True)
        if any(isinstance(c.tls.verify, str) or c.tls.client_cert for c in plan.collections):  # httpx only when needed
            from .http import HttpClients

            HttpClients().check(c.tls for c in plan.collections)
        count = sum(len(c.requests) for c in plan.collections)
        click.echo(f"ok: {len(plan.collections)} collection(s), {count} request(s), nothing sent")
        for folder in _project_folders(plan.collections):
            click.echo(f"project folder: {folder}")
        return EXIT_OK

    _guard(traceback, action)


@main.command()
@click.argument("path", metavar="PATH")
@click.option("--request", "request_name", metavar="NAME", shell_complete=complete_request_name, help="The request to show (default: every request).")
@click.option("--format", "output_format", type=click.Choice(["http", "curl", "httpie", "python"]), default="http", show_default=True, help="http: the HTTP message; curl, httpie: a shell command line; python: httpx code. Secrets from the environment are read from it, others are ****.")
@_variables_options
@click.option("-v", "--verbose", is_flag=True, help="Also list every variable and the layer it comes from.")
@_outside_refs_option
@_outside_files_option
@_traceback_option
def show(path: str, request_name: str | None, output_format: str, env_file: str | None, cli_vars: tuple[str, ...], verbose: bool, allow_outside_refs: bool, allow_outside_files: bool, traceback: bool) -> None:
    """Print requests fully rendered, as HTTP or as a curl, HTTPie or Python command, with secrets masked."""

    def action() -> int:
        from .show import show_requests

        shown = show_requests(path, request_name, output_format, env_file, list(cli_vars), verbose, allow_outside_refs, allow_outside_files)
        click.echo(shown, nl=False)
        return EXIT_OK

    _guard(traceback, action)


@main.command("mock")
@click.argument("paths", nargs=-1, required=True, metavar="PATH|OPENAPI...")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8080, show_default=True, help="Port (0 picks a free one).")
@_variables_options
@click.option("--dynamic", is_flag=True, help="Answer a request no example fits with a body generated from its response schema.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated (--dynamic) bodies: the same seed, the same bodies.")
@click.option("--strict-auth", is_flag=True, help="Demand the exact credential the collections render (default: any non-empty one of the right kind).")
@click.option("--no-cors", is_flag=True, help="Send no CORS headers and answer no preflight OPTIONS.")
@click.option("-v", "--verbose", is_flag=True, help="Log every request served.")
@click.option("--ready-file", metavar="PATH", help="Once every route is served, write PATH (JSON: url, health, pid); removed on a clean stop.")
@click.option("--force", is_flag=True, help="Overwrite an existing --ready-file.")
@_traceback_option
def mock_command(paths: tuple[str, ...], host: str, port: int, env_file: str | None, cli_vars: tuple[str, ...], dynamic: bool, seed: int, strict_auth: bool, no_cors: bool, verbose: bool, ready_file: str | None, force: bool, traceback: bool) -> None:
    """Serve every request's saved example (or an OpenAPI document) over HTTP until Ctrl-C."""

    def action() -> int:
        from .mock import serve_forever

        serve_forever(list(paths), host, port, verbose, env_file, list(cli_vars), strict_auth=strict_auth, cors=not no_cors, dynamic=dynamic, seed=seed, ready_file=ready_file, force=force)
        return EXIT_OK

    _guard(traceback, action)


@main.command("load")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@_variables_options
@click.option("--mock", is_flag=True, help="Send the load to the built-in mock (each worker starts its own).")
@click.option("--users", type=click.IntRange(min=1), default=1, show_default=True, help="Concurrent users; each runs a collection's requests in order, again and again.")
@click.option("--spawn-rate", type=_Finite(min=0, min_open=True), default=1.0, show_default=True, help="Users started per second.")
@click.option("--run-time", default="30s", show_default=True, metavar="DURATION", help="Stop after this long (30s, 5m, 1h).")
@click.option("--think", default="0", show_default=True, metavar="DURATION|LOW-HIGH", help="Pause between two passes of a user (0.5-2s: uniform between).")
@click.option("--csv", "csv_prefix", metavar="PREFIX", help="Write Locust's PREFIX_stats.csv, PREFIX_failures.csv, PREFIX_exceptions.csv.")
@click.option("--html", "html_file", metavar="FILE", help="Write Locust's HTML report.")
@click.option("--web", is_flag=True, help="Serve Locust's web UI and start the load from it (instead of headless).")
@click.option("--web-port", type=click.IntRange(min=0, max=65535), default=8089, show_default=True, help="Port of the web UI.")
@click.option("--master", is_flag=True, help="Coordinate workers (runner load ... --worker) instead of sending requests.")
@click.option("--expect-workers", type=click.IntRange(min=1), default=1, show_default=True, help="With --master: wait for this many workers before starting.")
@click.option("--worker", is_flag=True, help="Send requests for a master (runner load ... --master).")
@click.option("--master-host", default="127.0.0.1", show_default=True, help="With --worker: the master's address.")
@click.option("--master-port", type=click.IntRange(min=1, max=65535), default=5557, show_default=True, help="The master's port (both sides).")
@click.option("--master-wait", default="30s", show_default=True, metavar="DURATION", help="With --worker: give up (exit 2) when no master answers within this long.")
@click.option("--timeout", type=_Finite(min=0, min_open=True), help="Timeout in seconds for requests that set none (default 30).")
@click.option("--force", is_flag=True, help="Overwrite existing CSV and HTML files.")
@_traceback_option
def load_command(paths: tuple[str, ...], env_file: str | None, cli_vars: tuple[str, ...], csv_prefix: str | None, html_file: str | None, traceback: bool, **options: Any) -> None:
    """Load-test with Locust: every collection is a user running its requests in order, checked as usual."""

    def action() -> int:
        try:
            import locust  # noqa: F401 - first: gevent patches the standard library before sockets exist
        except ImportError:
            from .errors import UsageError

            raise UsageError("runner load needs Locust, an optional extra: pip install 'runner[load]'") from None
        from .load import LoadSettings, run_load

        return run_load(LoadSettings(paths=list(paths), env_file=env_file, cli_vars=list(cli_vars), csv=csv_prefix, html=html_file, **options))

    _guard(traceback, action)


@main.command("merge-reports")
@click.argument("kind", type=click.Choice(["junit", "json"]), metavar="junit|json")
@click.argument("output", metavar="OUT")
@click.argument("inputs", nargs=-1, required=True, metavar="IN...")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@_traceback_option
def merge_reports_command(kind: str, output: str, inputs: tuple[str, ...], force: bool, traceback: bool) -> None:
    """Join the JUnit or JSON reports of several shards (run --shard K/N) into one."""

    def action() -> int:
        from .reports.merge import merge_reports

        click.echo(merge_reports(kind, output, list(inputs), force), err=True)
        return EXIT_OK

    _guard(traceback, action)


def _project_folders(collections: Any) -> list[str]:
    """Each project folder of the collections, and why: the limit for schemas, uploads and certificates (docs/security.md)."""
    from pathlib import Path

    from .schemas import describe_project_root

    return list(dict.fromkeys(describe_project_root(Path(c.base_dir)) for c in collections))


def _color(no_color: bool) -> bool:
    if no_color or "NO_COLOR" in os.environ:
        return False
    return sys.stdout.isatty()


from .interop.commands import register as _register_interop  # noqa: E402  (click only: start-up stays light)

_register_interop(main)


if __name__ == "__main__":  # pragma: no cover
    main()
