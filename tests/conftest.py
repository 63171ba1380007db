"""Shared fixtures: a clean environment, a project folder, the CLI, and real loopback servers."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from runner.cli import main

REPO = Path(__file__).resolve().parent.parent
# tests/cases and tests/data hold collections that tests load on purpose (many invalid): the
# runner pytest plugin must not collect them as items of this suite
collect_ignore = ["cases", "data"]
pytest_plugins = ["pytester"]  # the runner pytest plugin is tested by running pytest itself
_KEEP = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "PYTHONPATH", "VIRTUAL_ENV"}


def pytest_configure(config: pytest.Config) -> None:
    """Deliver Ctrl-C to the runner processes the tests start and signal.

    A shell's background job starts with SIGINT ignored, and a child inherits an
    ignored signal (the runner, like Python, then leaves it ignored).  A handled
    signal is reset to the default in a child: so handle it here.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_REAL_GETADDRINFO = socket.getaddrinfo


def _loopback_only_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    """Resolve loopback names and IP literals as usual; any other name fails here, as an unknown name does.

    Tests send traffic to this machine only: a name such as ``no-such-host.invalid``
    would otherwise be sent to the system's DNS server.
    """
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        if name.lower().rstrip(".") not in ("localhost", "localhost.localdomain"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
    return _REAL_GETADDRINFO(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test's DNS lookup leaves the machine (the runner's resolver errors are still the real code path)."""
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only_getaddrinfo)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with a minimal process environment (no keys, no CI variables, no colour)."""
    for name in list(os.environ):
        if name not in _KEEP:
            monkeypatch.delenv(name, raising=False)


@dataclass
class CliResult:
    """What a CLI invocation produced."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    @property
    def output(self) -> str:
        """stdout and stderr together."""
        return self.stdout + self.stderr


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run ``runner ARGS...`` in-process (click's runner) and return exit code, stdout and stderr."""

    def invoke(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(main, list(args), catch_exceptions=True)
        exception = result.exception if not isinstance(result.exception, SystemExit) else None
        return CliResult(result.exit_code, result.stdout, result.stderr, exception)

    return invoke


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder (its pyproject.toml marks the root schemas must stay inside)."""
    (tmp_path / "pyproject.toml").write_text("")
    return tmp_path


@pytest.fixture
def write(project: Path) -> Any:
    """Write a file into the project folder and return its path."""

    def write_file(name: str, text: str) -> Path:
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write_file


@pytest.fixture(scope="session")
def httpbin_url() -> Iterator[str]:
    """httpbin (a real third-party server) on a free loopback port, for the whole session."""
    from httpbin import app
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def threaded_server() -> Iterator[Any]:
    """A pytest-httpserver that serves concurrent requests (each in its own thread), on a free loopback port."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()
