"""The pytest plugin: runner collections as pytest items (``python -m pytest collections/``).

Each YAML file with a top-level ``requests:`` key is a pytest node and each of its
requests an item (``collections/chat.yaml::single-turn chat``).  The items of one
file share one variable scope, cookie jar and HTTP client, so captures flow from
request to request as in ``runner run``; tags become markers, and every item is in
the ``xdist_group`` of its file, and ``-n`` without ``--dist`` is switched to
``loadfile``: ``pytest -n 4`` keeps each collection's requests in order on one worker.
A failed item shows runner's own failure block, not a Python traceback.

Registered through the ``pytest11`` entry point, so this module is imported by
every pytest run of an environment that has runner installed: it imports nothing
but pytest and the standard library until a collection file is found.
Opting out is one line: ``-p no:runner_collections`` or ``runner_collect = false`` in the ini.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest

_SUFFIXES = (".yaml", ".yml")
_REQUESTS_KEY = re.compile(rb"^requests\s*:", re.MULTILINE)
_SNIFF_BYTES = 1 << 20  # a collection's requests: key is found in its first MiB, or the file is not one


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--runner-env``, ``--runner-var``, ``--runner-mock`` and the ``runner_collect`` ini switch."""
    group = parser.getgroup("runner", "runner collections (YAML files with requests:)")
    group.addoption("--runner-env", metavar="ENV_FILE", help="Environment file for every collection (as runner run -e).")
    group.addoption("--runner-var", metavar="NAME=VALUE", action="append", default=[], help="Set a variable (as runner run --var); repeatable.")
    group.addoption("--runner-mock", action="store_true", help="Serve every request's saved example on loopback and run against it (as runner run --mock).")
    group.addoption("--runner-timeout", metavar="S", type=_positive_seconds, help="Timeout in seconds for requests that set none.")
    parser.addini("runner_collect", type="bool", default=True, help="Collect YAML files with a top-level 'requests:' key as runner collections (default true).")


def _positive_seconds(text: str) -> float:
    """``--runner-timeout``'s value: seconds above 0 (as ``runner run --timeout``); argparse reports the ``ValueError``."""
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise ValueError(text)
    return value


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker every item carries (pytest-xdist registers it too, when installed)."""
    config.addinivalue_line("markers", "xdist_group(name): run the tests of one group on one pytest-xdist worker")


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Iterator[None]:
    """``-n N`` without ``--dist``: ``loadfile``, so each collection's requests stay in order on one worker.

    A wrapper runs before pytest-xdist's own hook, which would otherwise turn ``-n`` into ``load``.
    ``loadfile`` rather than ``loadgroup``: a file is exactly a collection, and xdist 3.8's
    ``loadgroup`` does not group under pytest 9 (its node-id suffix is not applied).
    """
    option = config.option
    if getattr(option, "numprocesses", None) and getattr(option, "dist", None) == "no":
        option.dist = "loadfile"
    return (yield)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A ``*.yaml``/``*.yml`` file with a top-level ``requests:`` key is a collection node."""
    if file_path.suffix in _SUFFIXES and parent.config.getini("runner_collect") and _is_collection(file_path):
        return CollectionFile.from_parent(parent, path=file_path)
    return None


def _is_collection(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return bool(_REQUESTS_KEY.search(handle.read(_SNIFF_BYTES)))
    except OSError:
        return False


class RunnerInputError(Exception):
    """A collection that runner refuses (what ``runner validate`` would print, exit 2)."""


class RequestFailed(Exception):
    """A request whose check failed or which could not be completed."""

    def __init__(self, result: Any):
        super().__init__(result.name)
        self.result = result


class CollectionFile(pytest.File):
    """One collection file: loads and checks it, then yields one item per request."""

    state: "_FileState | None" = None

    def collect(self) -> Iterator[pytest.Item]:
        """Build the file's plan (everything runner checks before sending) and one item per request."""
        from .errors import RunnerError

        try:
            self.state = _FileState.start(self.config, self.path)
        except RunnerError as exc:
            raise RunnerInputError(exc.format()) from None
        self.config.add_cleanup(self.state.close)
        group = pytest.mark.xdist_group(name=str(self.path))
        for index in self.state.run.selected:
            spec = self.state.run.collection.requests[index]
            item = RequestItem.from_parent(self, name=spec.name, index=index)
            item.add_marker(group)
            for tag in spec.tags:
                self.config.addinivalue_line("markers", f"{tag}: runner tag")
                item.add_marker(tag)
            yield item

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """runner's own input error block instead of a traceback."""
        if isinstance(excinfo.value, RunnerInputError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def teardown(self) -> None:
        """The file's last item ran: close its HTTP client and mock."""
        if self.state is not None:
            self.state.close()


class RequestItem(pytest.Item):
    """One request of a collection: render, send, check, capture."""

    def __init__(self, *, index: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.index = index

    def runtest(self) -> None:
        """Run the request in the file's scope; a failed check raises ``RequestFailed``."""
        from .results import ERROR, FAILED, SKIPPED

        parent = self.parent
        assert isinstance(parent, CollectionFile) and parent.state is not None
        result = parent.state.send(self.index)
        if result.outcome == SKIPPED:
            pytest.skip(result.skip_reason or "skipped")
        if result.outcome in (FAILED, ERROR):
            raise RequestFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """runner's failure block: each failed check with expected, actual and file:line."""
        if isinstance(excinfo.value, RequestFailed):
            from .reports.console import format_failure

            return "\n".join("".join(text for text, _ in line) for line in format_failure(excinfo.value.result))
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the request is written, for pytest's headers and ``--junitxml``."""
        parent = self.parent
        assert isinstance(parent, CollectionFile) and parent.state is not None
        spec = parent.state.run.collection.requests[self.index]
        line = spec.location.line - 1 if spec.location is not None and spec.location.line else None
        return self.path, line, f"{parent.state.run.collection.name} > {spec.name}"


class _FileState:
    """What the items of one collection file share: plan, scope, cookies, client, event loop, mock."""

    def __init__(self, run: Any, context: Any, server: Any):
        import asyncio

        from .http import HttpClients, SessionCookies

        self.run = run
        self.context = context
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.clients = HttpClients(context.options.insecure, blocking=True)
        self.client = self.clients.client(run.collection.tls)
        self.scope = run.start_scope(context.templates)
        self.cookies = SessionCookies(self.scope.redactor)
        self.closed = False

    @classmethod
    def start(cls, config: pytest.Config, path: Path) -> "_FileState":
        """Load and check ``path`` as ``runner run`` would (with the mock started first under ``--runner-mock``)."""
        from .engine import RunContext
        from .errors import UsageError
        from .plan import PlanInput, build_plan
        from .render import RunOptions
        from .streaming import StreamReader

        server = None
        mock_url = None
        if config.getoption("runner_mock"):
            from .mock import MockServer

            server = MockServer()
            mock_url = server.start()
        try:
            plan = build_plan(PlanInput([str(path)], config.getoption("runner_env"), list(config.getoption("runner_var")), mock_url=mock_url))
            if not plan.runs:
                raise UsageError(f"{path}: no request to run")
            if server is not None:
                server.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs})
        except BaseException:
            if server is not None:
                server.stop()
            raise
        options = RunOptions(timeout=config.getoption("runner_timeout"), mock_url=mock_url)
        context = RunContext(templates=plan.templates, schemas=plan.schemas, options=options, stream_reader=StreamReader(), keep_bodies=False, keep_details=True)
        return cls(plan.runs[0], context, server)

    def send(self, index: int) -> Any:
        """The result of the collection's request ``index``, run in this file's scope."""
        from .engine import run_request

        spec = self.run.collection.requests[index]
        return self.loop.run_until_complete(run_request(self.run.collection, spec, self.scope, self.context, self.client, None, self.cookies))

    def close(self) -> None:
        """Close the client, the loop and the mock (once)."""
        if self.closed:
            return
        self.closed = True
        try:
            self.loop.run_until_complete(self.clients.aclose())
        finally:
            self.loop.close()
            if self.server is not None:
                self.server.stop()


__all__ = ["CollectionFile", "RequestItem"]
