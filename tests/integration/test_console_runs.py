"""The console report of real runs: -q, -v (secrets masked), NO_COLOR / --no-color, progress only on a TTY."""

from __future__ import annotations

import io
import re
import sys
import uuid
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from runner.cli import _color
from runner.session import RunSettings, run_session

ESCAPE = re.compile(r"\x1b")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class FakeTTY(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def canary() -> str:
    return f"canary-{uuid.uuid4().hex}"


@pytest.fixture
def collection(write, httpserver: HTTPServer, canary: str) -> Path:
    def echo(request: Request) -> Response:
        token = request.headers.get("Authorization", "")
        return Response(f'{{"seen": "{token}"}}', content_type="application/json", headers={"X-Echo": token})

    httpserver.expect_request("/ok").respond_with_handler(echo)
    httpserver.expect_request("/bad").respond_with_json({"error": "boom"}, status=500)
    return write(
        "c.yaml",
        f"""name: console
base_url: {httpserver.url_for('')}
auth: {{bearer: {canary}}}
requests:
  - name: fine
    url: /ok
    expect: {{status: 200}}
  - name: broken
    url: /bad
    expect: {{status: 200}}
""",
    )


def test_quiet(run_cli, collection: Path, canary: str) -> None:
    result = run_cli("run", str(collection), "-q")
    assert result.exit_code == 1
    assert "PASS" not in result.stdout and "c.yaml  console" not in result.stdout
    assert result.stdout.startswith("FAIL  GET    broken")
    assert "x status: expected 200, got 500" in result.stdout and "1 passed, 1 failed, 0 skipped" in result.stdout


def test_verbose_masks_secrets(run_cli, collection: Path, canary: str) -> None:
    result = run_cli("run", str(collection), "-v")
    assert "  > GET " in result.stdout and "  > Authorization: Bearer ****" in result.stdout
    assert "  < 200" in result.stdout and "  < x-echo: ****" in result.stdout and '  < {"seen": "****"}' in result.stdout
    assert canary not in result.output


def test_quiet_and_verbose_together_is_a_usage_error(run_cli, collection: Path, httpserver: HTTPServer) -> None:
    result = run_cli("run", str(collection), "-q", "-v")
    assert result.exit_code == 2 and "-v and -q cannot be used together" in result.stderr and httpserver.log == []


@pytest.mark.parametrize(("args", "env"), [(["--no-color"], {}), ([], {"NO_COLOR": "1"})], ids=["flag", "env"])
def test_no_color_means_no_escape_codes(run_cli, collection: Path, args: list[str], env: dict[str, str]) -> None:
    result = run_cli("run", str(collection), *args, env=env)
    assert result.exit_code == 1 and not ESCAPE.search(result.output)


@pytest.mark.parametrize(
    ("no_color", "env", "expected"),
    [(False, {}, True), (True, {}, False), (False, {"NO_COLOR": "1"}, False), (False, {"NO_COLOR": ""}, False)],
    ids=["tty", "flag", "env", "env-empty"],
)
def test_colour_decision_on_a_terminal(monkeypatch: pytest.MonkeyPatch, no_color: bool, env: dict[str, str], expected: bool) -> None:
    monkeypatch.setattr(sys, "stdout", FakeTTY())
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _color(no_color) is expected


@pytest.mark.parametrize(
    ("stream", "color", "progress", "colour"),
    [
        (io.StringIO(), False, False, False),
        (io.StringIO(), True, False, False),  # colour asked for but the console is no terminal
        (FakeTTY(), False, True, False),
        (FakeTTY(), True, True, True),
    ],
    ids=["pipe", "pipe-color-asked", "tty-no-color", "tty-color"],
)
def test_session_console_on_and_off_a_tty(collection: Path, stream: io.StringIO, color: bool, progress: bool, colour: bool) -> None:
    code = run_session(RunSettings(paths=[str(collection)], color=color, stdout=stream))
    out = stream.getvalue()
    assert code == 1 and "FAIL  GET    broken" in COLOUR.sub("", out)
    assert ("\x1b[?25l" in out) is progress  # the (delayed) progress display went live: TTY only
    assert bool(COLOUR.search(out)) is colour
    if not progress:
        assert not ESCAPE.search(out)


def test_no_progress_with_verbose_even_on_a_tty(collection: Path) -> None:
    stream = FakeTTY()
    run_session(RunSettings(paths=[str(collection)], verbose=True, stdout=stream))
    assert not ESCAPE.search(stream.getvalue()) and "  < 200" in stream.getvalue()
