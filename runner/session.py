"""One ``runner run``: plan, optional mock, reporters, the engine, the exit code."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from typing import Any

from .errors import EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK, InternalError, RunnerError
from .inputs import CollectionInput
from .plan import PlanInput, build_plan
from .results import RunResult



@dataclass
class RunSettings(CollectionInput):
    """Everything ``runner run`` was asked to do."""

    reports: list[str] = field(default_factory=list)
    selection: str | None = None
    bail: bool = False
    jobs: int = 1
    data_file: str | None = None
    iterations: int = 1
    timeout: float | None = None
    retries: int | None = None
    insecure: bool = False
    ca_cert: str | None = None
    client_cert: str | None = None
    allow_outside_refs: bool = False
    allow_outside_files: bool = False
    verbose: bool = False
    quiet: bool = False
    color: bool = False
    stdout: Any = None
    proxy: str | None = None  # --proxy URL
    traceback: bool = False  # --traceback: an internal error inside a request prints its traceback (masked)
    shard: str | None = None
    rate: str | None = None  # paid APIs (runner/llm): --rate, --budget, --max-requests
    budget: float | None = None
    max_requests: int | None = None
    request_names: list[str] = field(default_factory=list)  # --request NAME (exact, repeatable)
    show: bool = False  # --show: the response pane (runner/explore/pane.py)
    watch: bool = False  # --watch: cli.py hands the run to runner/explore/watch.py
    save_examples: bool = False
    save_failed: bool = False
    diff_examples: bool = False
    fail_on_drift: bool = False
    explore_state: Any = None  # --watch: what one run leaves the next (captures, files read)


def run_session(settings: RunSettings) -> int:
    """Run everything ``settings`` asks for and return the exit code."""
    from .engine import RunContext
    from .http import HttpClients
    from .render import RunOptions
    from .reports import make_reporters
    from .reports.console import ConsoleOptions, ConsoleReporter
    from .streaming import StreamReader

    server = None
    redactor = None
    sending = False  # once the engine runs, exit 2 ("nothing was sent") would be a lie
    try:
        mock_url = None
        if settings.mock:
            from .mock import MockServer

            server = MockServer(verbose=settings.verbose)
            mock_url = server.start()
        state = settings.explore_state  # --watch: captures carried from the last run
        plan = build_plan(
            PlanInput(settings.paths, settings.env_file, settings.cli_vars, settings.data_file, settings.iterations, settings.selection, mock_url, settings.allow_outside_refs, settings.allow_outside_files, settings.shard,
                      request_names=settings.request_names, carried=state.carried if state else {}, widen=state.widen if state else None)
        )
        redactor = plan.redactor
        options = RunOptions(timeout=settings.timeout, mock_url=mock_url, retries=settings.retries, insecure=settings.insecure, ca_cert=settings.ca_cert, client_cert=settings.client_cert, allow_outside_files=settings.allow_outside_files, proxy=settings.proxy)
        _proxy_secrets(redactor, settings.proxy)
        HttpClients(options.insecure, options.ca_cert, options.client_cert).check(c.tls for c in plan.collections)
        if server is not None:
            server.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs})
        stdout = settings.stdout or sys.stdout
        inputs = [collection.path for collection in plan.collections] + [path for path in (settings.env_file, settings.data_file) if path]
        file_reporters, console_file = make_reporters(settings.reports, plan.redactor, stdout, inputs, allow_outside=settings.allow_outside_files)
        if settings.verbose:
            from .cli import _project_folders

            for folder in _project_folders(plan.collections):
                console_file.write(f"project folder: {folder}\n")
        tty = bool(getattr(console_file, "isatty", lambda: False)())
        from .explore import explorer_for

        explorer = explorer_for(settings, plan, console_file, settings.color and tty, tty)
        console = ConsoleReporter(console_file, ConsoleOptions(color=settings.color and tty, quiet=settings.quiet, verbose=settings.verbose, progress=tty and not settings.verbose and not (explorer and explorer.pane)), redactor.mask)
        context = RunContext(
            templates=plan.templates,
            schemas=plan.schemas,
            options=options,
            bail=settings.bail,
            jobs=settings.jobs,
            stream_reader=StreamReader(explorer.stream_listener if explorer else None),
            observe=explorer.observe if explorer else None,
            keep_bodies=settings.verbose,  # reports keep the bodies of failed requests only
            keep_details=settings.verbose or any(reporter.wants_details for reporter in file_reporters),
            keep_results=any(reporter.needs_run_results for reporter in file_reporters),  # else memory stays flat
            traceback=settings.traceback,
        )
        context.paid = _paid_run(settings, plan)
        sending = True
        result: RunResult = _run(plan.runs, context, [console, *file_reporters])
    except RunnerError as exc:
        if redactor is not None:  # a --report path, a --proxy URL, ... may hold a secret
            exc.mask(redactor.mask)
        raise
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # a bug: its message may quote a secret, so mask it before anyone sees it
        if redactor is None:
            raise
        raise InternalError(redactor.mask(f"{type(exc).__name__}: {exc}"), EXIT_FAILED if sending else EXIT_INPUT) from exc
    finally:
        if server is not None:
            server.stop()
    if result.interrupted:
        return EXIT_INTERRUPTED
    code = EXIT_OK if result.ok else EXIT_FAILED
    return explorer.finish(result, code) if explorer is not None else code


def _paid_run(settings: RunSettings, plan: Any) -> Any:
    """The run's ``llm.PaidRun``: usage and cost always; budget, pacing and OAuth2 tokens when asked for."""
    from .llm import PaidRun, PaidSettings

    environment = plan.environment.settings if plan.environment is not None else {}
    paid = PaidSettings(budget=settings.budget, max_requests=settings.max_requests, rate=settings.rate, environment=environment, mock=settings.mock)
    return PaidRun(paid, plan.collections, plan.redactor)


def _proxy_secrets(redactor: Any, proxy: str | None) -> None:
    """Proxy passwords (``--proxy``, HTTP(S)_PROXY, ALL_PROXY) are secrets from the start."""
    from urllib.parse import urlsplit

    from .errors import UsageError
    from .proxy import ProxyRule, normalise, register_proxy_secrets

    register_proxy_secrets(redactor, [proxy, *ProxyRule().environment_proxies()])
    for url in filter(None, [proxy and proxy.strip(), *ProxyRule().environment_proxies()]):
        try:
            parts = urlsplit(normalise(url))
            parts.port  # noqa: B018 - parsing the port is the check
        except ValueError as exc:
            raise UsageError(f"a proxy URL (--proxy, HTTP_PROXY, HTTPS_PROXY or ALL_PROXY) is not valid: {exc}") from None  # not shown: it may hold a password
        if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
            raise UsageError(f"proxy {redactor.mask(url)!r}: expected http://, https:// or socks5://HOST:PORT")


def _run(runs: list[Any], context: Any, reporters: list[Any]) -> RunResult:
    from .engine import run_plan
    from .transport import Interrupts, cancel_on_sigterm, interrupt_anywhere

    # Ctrl-C or SIGTERM: the engine records an interrupted run and its reports are written (exit 130);
    # a second signal is held while they are written, a third forces the exit (transport.Interrupts)
    context.interrupts = interrupts = Interrupts()
    with interrupt_anywhere(context.blocking, interrupts):  # a signal held after the last request: the run's own exit code
        return asyncio.run(cancel_on_sigterm(run_plan(runs, context, reporters), enabled=not context.blocking, interrupts=interrupts))


__all__ = ["RunSettings", "run_session"]
