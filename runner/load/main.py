"""``runner load``: build the plan, make the user classes, and drive a Locust runner (local, master or worker)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError
from .settings import LoadSettings, parse_seconds, parse_think

WORKER_WAIT_SECONDS = 60.0  # --master: how long to wait for --expect-workers before giving up


def run_load(settings: LoadSettings) -> int:
    """Run the load test and return the exit code (0 no failure, 1 failures, 2 input, 130 interrupted)."""
    _check(settings)
    import gevent
    from locust.env import Environment
    from locust.log import setup_logging

    from ..engine import RunContext
    from ..plan import PlanInput, build_plan
    from ..render import RunOptions
    from ..streaming import StreamReader
    from .user import _gevent_sleep, make_user_class

    think = parse_think(settings.think)
    run_time = parse_seconds(settings.run_time, "--run-time") if settings.run_time else None
    server = None
    mock_url = None
    if settings.mock and settings.master:  # the master sends nothing: it plans as its workers do, with no server
        mock_url = "http://127.0.0.1:0"
    elif settings.mock:
        from ..mock import MockServer

        server = MockServer()
        mock_url = server.start()
    try:
        plan = build_plan(PlanInput(settings.paths, settings.env_file, settings.cli_vars, mock_url=mock_url))
        if server is not None:
            server.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs})
        if not plan.runs:
            raise UsageError("runner load: no request to send")
        context = RunContext(templates=plan.templates, schemas=plan.schemas, options=RunOptions(timeout=settings.timeout, mock_url=mock_url), stream_reader=StreamReader(), keep_details=False, keep_results=False, sleep=_gevent_sleep)
        user_classes = [make_user_class(number, run, context, think) for number, run in enumerate(plan.runs)]
        setup_logging("INFO")
        for name in ("httpx", "httpcore"):  # their INFO lines quote every URL, which may hold a secret
            logging.getLogger(name).setLevel(logging.WARNING)
        environment = Environment(user_classes=user_classes, host=mock_url or "")
        try:
            runner = _make_runner(environment, settings)
        except UsageError as exc:  # it may quote what was typed (--master-host, --master-wait): a secret is masked
            raise exc.mask(plan.redactor.mask) from None
        if settings.web and not settings.worker:
            # Locust's web UI parses sys.argv with its own parser on every page it renders;
            # runner's options are not Locust's (``--web`` is ambiguous to it, an exit).
            sys.argv[1:] = []
            web = environment.create_web_ui("127.0.0.1", settings.web_port)
            for _ in range(500):  # the server binds in its own greenlet: let it (5 s at most)
                if web.server is not None and web.server.started:
                    break
                gevent.sleep(0.01)
            if web.server is None or not web.server.started:
                raise UsageError(f"--web: Locust's web UI could not listen on 127.0.0.1:{settings.web_port}")
            print(f"runner load: Locust's web UI on http://127.0.0.1:{web.server.server_port}", file=sys.stderr, flush=True)
        if not settings.worker and not settings.web:
            _start(runner, settings, run_time, gevent)
        interrupted = _quit_on_signals(runner, gevent)
        try:
            runner.greenlet.join()
        except KeyboardInterrupt:
            interrupted.append(True)
            runner.quit()
        if interrupted:
            _finish(environment, settings, plan.redactor)
            return EXIT_INTERRUPTED
        if settings.worker:
            return EXIT_OK
        return _finish(environment, settings, plan.redactor)
    finally:
        if server is not None:
            server.stop()


def _quit_on_signals(runner: Any, gevent: Any) -> list[bool]:
    """Ctrl-C and SIGTERM stop the users, in the hub (not as a KeyboardInterrupt in whatever greenlet runs).

    The returned list gets an entry when a signal came. A signal ignored at start (a
    background job) stays ignored, as in ``runner run``.
    """
    import signal

    received: list[bool] = []

    def stop() -> None:
        received.append(True)
        runner.quit()

    for number in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(number) is not signal.SIG_IGN:
            gevent.signal_handler(number, stop)
    return received


def _check(settings: LoadSettings) -> None:
    if settings.master and settings.worker:
        raise UsageError("--master and --worker cannot be used together")
    if settings.users < 1 or settings.spawn_rate <= 0:
        raise UsageError("--users must be at least 1 and --spawn-rate above 0")
    parse_seconds(settings.master_wait, "--master-wait")  # before anything starts
    outputs = [settings.html] + ([f"{settings.csv}_{kind}.csv" for kind in ("stats", "failures", "exceptions")] if settings.csv else [])
    for path in outputs:
        if not path or settings.worker:
            continue
        if Path(path).is_dir():
            raise UsageError(f"runner load: {path} is a folder; name a file")
        if Path(path).exists() and not settings.force:
            raise UsageError(f"runner load: {path} exists; pass --force to overwrite it")
        try:  # up front, as runner run does for its reports: not after the whole load
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"runner load: cannot write {path}: {exc.strerror or exc}") from exc


def _make_runner(environment: Any, settings: LoadSettings) -> Any:
    if settings.master:
        return environment.create_master_runner("*", settings.master_port)
    if settings.worker:
        return _connect_worker(environment, settings)
    return environment.create_local_runner()


def _connect_worker(environment: Any, settings: LoadSettings) -> Any:
    """A worker runner once its master answers; exit 2 after ``--master-wait`` (Locust alone knocks for 5 minutes)."""
    import math

    from locust import runners

    wait = parse_seconds(settings.master_wait, "--master-wait")
    # Locust's worker sends "client_ready" and waits CONNECT_TIMEOUT for an answer, CONNECT_RETRY_COUNT + 1 times;
    # both are read when it connects, so setting them bounds the whole wait
    tries = max(1, math.ceil(wait / 5.0))  # at most 5 s apart, as Locust's own
    runners.CONNECT_TIMEOUT = max(0.1, wait / tries)
    runners.CONNECT_RETRY_COUNT = tries - 1
    from zmq.error import ZMQError

    try:
        return environment.create_worker_runner(settings.master_host, settings.master_port)
    except ZMQError as exc:  # an address zmq cannot read (user:pass@host): its message quotes it whole
        raise UsageError(f"runner load --worker: cannot connect to --master-host {settings.master_host!r} port {settings.master_port}: {exc.strerror}") from None
    except ConnectionError:
        where = f"{settings.master_host}:{settings.master_port}"
        raise UsageError(f"runner load --worker: no master answered on {where} within {settings.master_wait}; start it first (runner load ... --master --master-port {settings.master_port}), check --master-host and --master-port, or wait longer with --master-wait") from None


def _start(runner: Any, settings: LoadSettings, run_time: float | None, gevent: Any) -> None:
    """Start the users (a master first waits for its workers) and stop after ``run_time``."""
    if settings.master:
        waited = 0.0
        while len(runner.clients.ready) < settings.expect_workers:
            if waited >= WORKER_WAIT_SECONDS:
                runner.quit()
                raise UsageError(f"--expect-workers {settings.expect_workers}: only {len(runner.clients.ready)} connected in {WORKER_WAIT_SECONDS:.0f} s")
            gevent.sleep(0.1)
            waited += 0.1
    runner.start(settings.users, spawn_rate=settings.spawn_rate)
    if run_time is not None:
        gevent.spawn_later(run_time, runner.quit)


def _finish(environment: Any, settings: LoadSettings, redactor: Any) -> int:
    """Print Locust's tables, write the HTML report; 1 when any request failed."""
    from locust.stats import print_error_report, print_percentile_stats, print_stats

    stats = environment.stats
    print_stats(stats, current=False)
    print_percentile_stats(stats)
    print_error_report(stats)
    if settings.csv:
        _write_csv(environment, settings.csv, redactor)
    if settings.html:
        from locust.html import get_html_report

        _write_text(settings.html, redactor.mask(get_html_report(environment, show_download_link=False)))
    return EXIT_FAILED if stats.total.num_failures else EXIT_OK


def _write_csv(environment: Any, prefix: str, redactor: Any) -> None:
    """``PREFIX_stats.csv``, ``PREFIX_failures.csv``, ``PREFIX_exceptions.csv``: Locust's own columns, final figures."""
    import csv
    import io

    from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

    tables = StatsCSV(environment, PERCENTILES_TO_REPORT)
    for kind, write in (("stats", tables.requests_csv), ("failures", tables.failures_csv), ("exceptions", tables.exceptions_csv)):
        buffer = io.StringIO()
        write(csv.writer(buffer))
        _write_text(f"{prefix}_{kind}.csv", redactor.mask(buffer.getvalue()))


def _write_text(path: str, text: str) -> None:
    temp = f"{path}.tmp{os.getpid()}"
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temp, path)
