"""The HTML report counts and colours by outcome (issue 11, item 18): one count everywhere."""

from __future__ import annotations

import re

from runner.errors import Location
from runner.redact import Redactor
from runner.reports.document import build_document
from runner.reports.html import format_html
from runner.results import ERROR, FAILED, PASSED, CollectionResult, RequestResult, RunResult


def _result(name: str, outcome: str, status: int | None) -> RequestResult:
    return RequestResult("auth", name, "GET", "http://h/x", Location("c.yaml", 3, 5), outcome, status=status)


def _page(interrupted: bool = False) -> str:
    requests = [_result("expected 401", PASSED, 401), _result("unexpected 200", FAILED, 200), _result("refused", ERROR, None), _result("bad 500", FAILED, 500)]
    run = RunResult([CollectionResult("auth", "c.yaml", requests, 10.0)], "2026-05-04T10:20:30+00:00", 10.0, interrupted)
    return format_html(build_document(run, Redactor()), lambda text: text)


def test_each_filter_button_counts_what_its_card_counts() -> None:
    page = _page()
    buttons = dict(re.findall(r'data-filter="(\w+)">\w+<span class="c">(\d+)</span>', page))
    cards = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    assert buttons["failed"] == cards["failed"] == "2" and buttons["error"] == cards["error"] == "1"
    assert 'o === filter || (filter === "failed"' not in page  # the Failed button shows failed requests only


def test_a_status_is_coloured_by_the_outcome_not_the_code() -> None:
    page = _page()
    assert '<span class="status ok">401</span>' in page  # expected, passing: green
    assert '<span class="status bad">200</span>' in page and '<span class="status bad">500</span>' in page


def test_an_interrupted_run_is_not_drawn_as_failed() -> None:
    page = _page(interrupted=True)
    assert 'id="verdict">INTERRUPTED<' in page and 'class="verdict stopped"' in page
    assert ">FAILED<" not in page and "<title>Interrupted" in page
    assert 'id="verdict">FAILED<' in _page()
