"""The console report driven by engine events: quiet, verbose, colour, and the progress bar on a TTY only."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace
from typing import Any

import pytest

from runner.errors import Location
from runner.reports.console import ConsoleOptions, ConsoleReporter
from runner.results import FAILED, PASSED, CheckResult, CollectionResult, RequestResult, RunResult, SentRequest

COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # SGR: colours and text styles
ANY_ESCAPE = re.compile(r"\x1b")


class FakeTTY(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _results() -> list[RequestResult]:
    passed = RequestResult("c", "list models", "GET", "http://h/v1/models", Location("c.yaml", 3, 5), PASSED, status=200, elapsed_ms=5.0, size=10)
    passed.request = SentRequest("GET", "http://h/v1/models", [("Authorization", "Bearer ****")])
    passed.response_headers = [("content-type", "application/json")]
    passed.body_excerpt = '{"data": []}'
    failed = RequestResult("c", "chat", "POST", "http://h/v1/chat", Location("c.yaml", 8, 5), FAILED, status=500, elapsed_ms=7.0, size=12)
    failed.checks = [CheckResult("status", "", False, "200", "500", "unexpected status", Location("c.yaml", 11, 15))]
    failed.body_excerpt = '{"error": "boom"}'
    return [passed, failed]


def drive(stream: Any, options: ConsoleOptions) -> str:
    """Feed a console reporter the events of a two-request run and return what it printed."""
    reporter = ConsoleReporter(stream, options)
    results = _results()
    collection = SimpleNamespace(name="c", path="c.yaml", requests=[SimpleNamespace(name=r.name) for r in results])
    reporter.run_started([SimpleNamespace(selected=(0, 1))])
    reporter.collection_started(collection, None)  # type: ignore[arg-type]
    for result in results:
        reporter.request_finished(result)
    reporter.collection_finished(CollectionResult("c", "c.yaml", results))
    reporter.run_finished(RunResult([CollectionResult("c", "c.yaml", results)], "", 12.0))
    return stream.getvalue()


def test_default_prints_every_request_then_failures_and_summary() -> None:
    out = drive(io.StringIO(), ConsoleOptions())
    assert out.splitlines()[:3] == ["c.yaml  c", "PASS  GET    list models  200  5 ms  10 B", "FAIL  POST   chat         500  7 ms  12 B"]
    assert "Failures\nFAIL  c > chat  (c.yaml:8:5)" in out and "x status: expected 200, got 500  (c.yaml:11:15)" in out
    assert out.rstrip().endswith("1 passed, 1 failed, 0 skipped in 0.01 s")


def test_quiet_prints_only_failures_and_the_summary() -> None:
    out = drive(io.StringIO(), ConsoleOptions(quiet=True))
    assert "PASS" not in out and "c.yaml  c" not in out
    assert out.startswith("FAIL  POST   chat")
    assert "Failures" in out and out.rstrip().endswith("1 passed, 1 failed, 0 skipped in 0.01 s")


def test_verbose_prints_each_request_and_response() -> None:
    out = drive(io.StringIO(), ConsoleOptions(verbose=True))
    assert "  > GET http://h/v1/models\n  > Authorization: Bearer ****\n  < 200\n  < content-type: application/json\n  < {\"data\": []}" in out


@pytest.mark.parametrize(
    ("stream", "options", "colour"),
    [
        (io.StringIO(), ConsoleOptions(), False),
        (FakeTTY(), ConsoleOptions(color=False), False),
        (FakeTTY(), ConsoleOptions(color=False, progress=True, progress_after=0), False),
        (FakeTTY(), ConsoleOptions(color=True), True),
    ],
    ids=["pipe", "tty-no-color", "tty-no-color-with-progress", "tty-color"],
)
def test_colour_only_when_asked(stream: Any, options: ConsoleOptions, colour: bool) -> None:
    out = drive(stream, options)
    assert bool(COLOUR.search(out)) is colour
    assert "FAIL  POST   chat" in COLOUR.sub("", out)


def test_no_escape_codes_at_all_without_tty_features() -> None:
    assert not ANY_ESCAPE.search(drive(FakeTTY(), ConsoleOptions(color=False, progress=False)))


def test_progress_bar_on_a_tty_once_the_delay_has_passed() -> None:
    out = drive(FakeTTY(), ConsoleOptions(progress=True, progress_after=0))
    assert "requests" in out and "2/2" in out
    assert "\x1b[?25l" in out and "\x1b[?25h" in out  # cursor hidden while live, shown again


def test_progress_bar_stays_hidden_for_a_quick_run() -> None:
    out = drive(FakeTTY(), ConsoleOptions(progress=True, progress_after=3600))
    assert "requests" not in out and "2/2" not in out
    assert "FAIL  POST   chat" in out and "1 passed, 1 failed" in out
