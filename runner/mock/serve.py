"""``runner mock``: load the collections and OpenAPI documents, build every route, then listen, until Ctrl-C."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .server import HEALTH_PATH, MockServer


@dataclass(frozen=True)
class MockSettings:
    """What ``runner mock`` was asked for."""

    paths: list[str]
    host: str = "127.0.0.1"
    port: int = 8080
    verbose: bool = False
    env_file: str | None = None
    cli_vars: list[str] = field(default_factory=list)
    strict_auth: bool = False
    cors: bool = True
    dynamic: bool = False
    seed: int = 0
    ready_file: str | None = None
    force: bool = False


def serve_forever(paths: list[str], host: str, port: int, verbose: bool, env_file: str | None = None, cli_vars: list[str] | None = None, **options: Any) -> None:
    """``runner mock``: serve the collections (and OpenAPI documents) in ``paths`` until Ctrl-C or SIGTERM."""
    settings = MockSettings(list(paths), host, port, verbose, env_file, list(cli_vars or []), **options)
    ready = Path(settings.ready_file) if settings.ready_file else None
    if ready is not None:
        check_ready_file(ready, settings.force)  # before anything is loaded or bound: exit 2, nothing served
    server = MockServer(host, port, verbose=verbose, strict_auth=settings.strict_auth, cors=settings.cors, dynamic=settings.dynamic, seed=settings.seed)
    url = server.start()  # bound, not yet listening: a client waiting for the port waits for the routes
    previous = _stop_on_sigterm()
    stopped = False
    written = False
    try:
        notes = load_and_serve(server, settings, url)
        print_banner(sys.stderr, server, settings, url, notes)
        if ready is not None:
            write_ready_file(ready, url)
            written = True
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stopped = True
    finally:
        server.stop()
        if written and ready is not None:
            remove_ready_file(ready)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if stopped:  # after stop(): every request's log line is out by then
        sys.stderr.write("mock: stopped\n")


def check_ready_file(path: Path, force: bool) -> None:
    """Refuse a ``--ready-file`` that exists (a mock still running, or one that was killed) unless ``--force``."""
    from ..errors import UsageError
    from ..interop.writer import check_writable

    if path.is_dir():
        raise UsageError(f"mock: --ready-file {path} is a folder: give a file name")
    check_writable(path, force)
    probe = path.with_name(f".{path.name}.tmp{os.getpid()}")  # a folder it cannot be written to is known now, not once serving
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"mock: cannot write --ready-file {path}: {exc.strerror or exc}") from None


def write_ready_file(path: Path, url: str) -> None:
    """Say the mock is ready (every route built, the socket listening): ``{"url", "health", "pid"}``, written atomically."""
    from ..interop.writer import write_text

    write_text(path, json.dumps({"url": url, "health": url + HEALTH_PATH, "pid": os.getpid()}, indent=2) + "\n")


def remove_ready_file(path: Path) -> None:
    """Remove the ready file on a clean stop, unless another process has written its own there since."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass  # gone already, or not ours any more


def load_and_serve(server: MockServer, settings: MockSettings, url: str) -> list[str]:
    """Build every route of ``settings.paths`` and start serving them; return the start-up warnings."""
    from ..plan import PlanInput, build_plan
    from ..schemas import SchemaStore
    from ..templating import Templates
    from .checks import check_templated_examples, example_warnings
    from .openapi import is_openapi_document, openapi_routes
    from .routes import build_routes

    specs = [path for path in settings.paths if is_openapi_document(path)]
    collections = [path for path in settings.paths if path not in specs]
    notes: list[str] = []
    routes = []
    templates = Templates()
    schemas = SchemaStore()
    if collections:
        plan = build_plan(PlanInput(collections, settings.env_file, settings.cli_vars, mock_url=url))
        templates, schemas = plan.templates, plan.schemas
        scopes = {id(run.collection): run.scope for run in plan.runs}
        routes = build_routes(plan.collections, templates, scopes, dynamic=settings.dynamic)
        redactor = next((scope.redactor for scope in scopes.values()), None)
        if redactor is not None:
            server._mask = redactor.mask
        check_templated_examples(plan.collections, routes, templates, server._mask)
        notes += [f"warning: {line}" for line in example_warnings(plan)]
    for path in specs:
        found, warnings = openapi_routes(path, len(routes), schemas)
        routes += found
        notes += warnings
    if not routes:  # a mock that answers nothing is a mistake, not a server
        from ..errors import InputError, Problem

        hint = "give a request a saved response to serve, e.g. example: {status: 200, json: {ok: true}} (see docs/mock.md)"
        raise InputError(Problem(f"nothing to serve: no request in {', '.join(settings.paths)} has an example", None, hint))
    server.serve_routes(routes, templates, schemas)
    return [server._mask(note) for note in notes]


def print_banner(out: TextIO, server: MockServer, settings: MockSettings, url: str, notes: list[str]) -> None:
    """What is served, which credential is accepted, and how to run against it."""
    for note in notes:
        out.write(f"mock: {note}\n")
    out.write(f"mock: serving {len(server.routes)} examples on {url} (Ctrl-C to stop)\n")
    for label in sorted({route.label for route in server.routes}):
        out.write(f"  {label}\n")
    out.write(f"auth: {describe_auth(server, settings.strict_auth)}\n")
    out.write(f"health: {url}{HEALTH_PATH}\n")
    from .openapi import is_openapi_document

    collections = [path for path in settings.paths if not is_openapi_document(path)] or ["COLLECTION.yaml"]
    same = [f"-e {shlex.quote(settings.env_file)}"] if settings.env_file else []
    out.write(f"run against it: runner run {' '.join([*map(shlex.quote, collections), *same])} --var base_url={url}\n")
    out.flush()


def describe_auth(server: MockServer, strict: bool) -> str:
    """One line on the credential the mock accepts (templates are named, values never shown)."""
    kinds = set()
    for route in server.routes:
        auth = route.auth
        if auth is None or auth.kind == "none" or route.example.status == 401:
            continue
        if auth.kind == "bearer":
            kinds.add(f"Authorization: Bearer {auth.token}" if strict else "Authorization: Bearer <any token>")
        elif auth.kind == "basic":
            kinds.add(f"Authorization: Basic {auth.username}:…" if strict else "Authorization: Basic <any user and password>")
        elif auth.kind == "api_key":
            where = f"header {auth.key_name}" if auth.key_in == "header" else f"query parameter {auth.key_name}"
            kinds.add(f"{where} = {auth.value}" if strict else f"{where} = <any value>")
    if not kinds:
        return "no credential needed"
    accepted = "; ".join(sorted(kinds))
    if strict:
        return f"only the collections' own credential (--strict-auth): {accepted}"
    return f"any non-empty credential: {accepted} (no credential: 401; --strict-auth demands the collections' own)"


def _stop_on_sigterm() -> Any:
    """Make SIGTERM (``kill``, ``docker stop``) stop the mock like Ctrl-C; return the previous handler."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        return None  # ignored when the process started: it stays ignored, as for a run
    return signal.signal(signal.SIGTERM, interrupt)
