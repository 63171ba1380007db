"""Report formats as pure functions of a run: document, JUnit, JSON, HTML, Markdown, GitHub; atomic files."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree

from runner.errors import Location, ReportError
from runner.redact import Redactor
from runner.model import CollectionSpec
from runner.reports import make_reporters
from runner.reports.base import Reporters
from runner.reports.document import build_document, describe_check, exit_status
from runner.reports.files import ReportFile
from runner.reports.github import escape_data, escape_property, format_annotations, workspace_path
from runner.reports.html import format_html, format_when, pretty_body
from runner.reports.json_report import JsonReporter, format_json
from runner.reports.junit import JunitReporter, format_junit, remask_markup
from runner.reports.markdown import code, code_block, escape, format_markdown
from runner.results import ERROR, FAILED, PASSED, SKIPPED, Attempt, CheckResult, CollectionResult, RequestResult, RunResult, SentRequest

REPO = Path(__file__).resolve().parents[2]
XSD = etree.XMLSchema(etree.parse(str(REPO / "tests/data/junit/junit-10.xsd")))
REPORT_SCHEMA = json.loads((REPO / "schemas/report.schema.json").read_text())
SECRET = "tok-unit-5f0c2a9e"


def _request(name: str, outcome: str, **fields: Any) -> RequestResult:
    base: dict[str, Any] = {"collection": "chat", "name": name, "method": "GET", "url": "http://h/x", "location": Location("c/chat.yaml", 7, 5), "outcome": outcome}
    base.update(fields)
    return RequestResult(**base)


def sample_run(iteration: int | None = None, interrupted: bool = False) -> RunResult:
    """Passed, failed (check and schema), errored, skipped; a secret in a body, a header and a capture."""
    passed = _request(
        "list <models> & co",
        PASSED,
        status=200,
        elapsed_ms=12.34,
        size=40,
        request=SentRequest("GET", "http://h/v1/models", [("Authorization", "Bearer ****")], ""),
        response_headers=[("content-type", "application/json"), ("x-echo", f"echo {SECRET}")],
        body_excerpt='{"data": [{"id": "m1"}]}',
        content_type="application/json",
        checks=[CheckResult("status", "", True, "200", "200", location=Location("c/chat.yaml", 9, 15))],
        captures={"first": "m1", "token": SECRET, "count": 3},
        attempts=[Attempt(1, 200, 12.34)],
        iteration=iteration,
        tags=("smoke",),
    )
    failed = _request(
        "chat\x01completion",
        FAILED,
        method="POST",
        status=500,
        elapsed_ms=1500.0,
        size=60,
        request=SentRequest("POST", "http://h/v1/chat", [("Content-Type", "application/json")], '{"q": "\\u0074ok-unit-5f0c2a9e"}'),
        body_excerpt=json.dumps({"error": "bad", "echo": SECRET, "escaped": "\\u0074ok"}) + "\x00",
        content_type="application/json",
        checks=[
            CheckResult("status", "", False, "200", "500", "unexpected status", Location("c/chat.yaml", 14, 15)),
            CheckResult("schema", "(inline)", False, "required holds", "", "'choices' is a required property", Location("c/chat.yaml", 15, 9), "/", "required"),
            CheckResult("json", "$.model", True, '"m"', '"m"'),
        ],
        attempts=[Attempt(1, 503, 4.0), Attempt(2, 500, 1500.0)],
        iteration=iteration,
        location=Location("c/chat.yaml", 11, 5),
    )
    errored = _request("refused", ERROR, error="cannot connect: connection refused", error_kind="connect", attempts=[Attempt(1, None, 0.0, "connection refused")], iteration=iteration, location=Location("c/chat.yaml", 20, 5))
    skipped = _request("later", SKIPPED, skip_reason="skip condition is true", iteration=iteration, location=Location("c/chat.yaml", 24, 5))
    streamed = _request("stream", PASSED, status=200, elapsed_ms=80.0, first_event_ms=20.5, event_count=4, attempts=[Attempt(1, 200, 80.0)], iteration=iteration)
    collection = CollectionResult("chat", "c/chat.yaml", [passed, failed, errored, skipped, streamed], 1600.0, iteration)
    empty = CollectionResult("empty", "c/empty.yaml", [], 0.0, iteration)
    return RunResult([collection, empty], "2026-05-04T10:20:30+00:00", 1612.5, interrupted)


def redactor() -> Redactor:
    masker = Redactor()
    masker.add(SECRET)
    return masker


@pytest.fixture
def document() -> dict[str, Any]:
    return build_document(sample_run(), redactor())


# -- the document ------------------------------------------------------------------------------


def test_document_counts_and_exit_status(document: dict[str, Any]) -> None:
    assert document["counts"] == {"total": 5, PASSED: 2, FAILED: 1, ERROR: 1, SKIPPED: 1}
    assert document["exit_status"] == 1 and document["interrupted"] is False
    assert [c["counts"]["total"] for c in document["collections"]] == [5, 0]


@pytest.mark.parametrize(
    ("run", "status"),
    [(RunResult(), 0), (sample_run(), 1), (sample_run(interrupted=True), 130)],
    ids=["nothing-failed", "failed", "interrupted"],
)
def test_exit_status(run: RunResult, status: int) -> None:
    assert exit_status(run) == status


def test_document_is_masked_everywhere(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert SECRET not in text
    request = document["collections"][0]["requests"][0]
    assert request["captures"] == {"first": "m1", "token": "****", "count": 3}
    assert {"name": "x-echo", "value": "echo ****"} in request["response"]["headers"]


def test_document_validates_against_the_published_schema(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(document)
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(build_document(sample_run(iteration=2, interrupted=True), Redactor()))


def test_document_request_fields(document: dict[str, Any]) -> None:
    passed, failed, errored, skipped, streamed = document["collections"][0]["requests"]
    assert passed["location"] == {"file": "c/chat.yaml", "line": 7, "col": 5} and passed["tags"] == ["smoke"]
    assert passed["request"]["headers"] == [{"name": "Authorization", "value": "Bearer ****"}]
    assert passed["response"]["status"] == 200 and passed["response"]["size"] == 40 and passed["elapsed_ms"] == 12.3
    assert failed["attempts"] == [{"number": 1, "status": 503, "elapsed_ms": 4.0, "error": None}, {"number": 2, "status": 500, "elapsed_ms": 1500.0, "error": None}]
    assert [c["passed"] for c in failed["checks"]] == [False, False, True]
    assert failed["checks"][1]["pointer"] == "/" and failed["checks"][1]["keyword"] == "required"
    assert errored["error"] == {"kind": "connect", "message": "cannot connect: connection refused"} and errored["response"] is None
    assert skipped["skip_reason"] == "skip condition is true" and skipped["request"] is None
    assert streamed["stream"] == {"first_event_ms": 20.5, "event_count": 4} and passed["stream"] is None


CHECKS = {
    "value": ({"kind": "status", "label": "status", "expected": "200", "actual": "500", "message": "unexpected status", "keyword": None, "pointer": None}, "status: expected 200, got 500"),
    "schema": ({"kind": "schema", "label": "schema x.json", "expected": "", "actual": "", "message": "'id' is a required property", "keyword": "required", "pointer": "/0"}, "schema x.json at /0 (required): 'id' is a required property"),
    "no-json": ({"kind": "json", "label": "json $.a", "expected": "1", "actual": "(no JSON)", "message": "the body is not JSON", "keyword": None, "pointer": None}, "json $.a: expected 1, got (no JSON) - the body is not JSON"),
    "event": ({"kind": "events", "label": "events event 2", "expected": "JSON data", "actual": "oops", "message": "event 2 is not JSON", "keyword": None, "pointer": None}, "events event 2: event 2 is not JSON (got oops)"),
}


@pytest.mark.parametrize(("check", "text"), CHECKS.values(), ids=CHECKS.keys())
def test_describe_check(check: dict[str, Any], text: str) -> None:
    assert describe_check(check) == text


# -- JUnit --------------------------------------------------------------------------------------


def _junit(run: RunResult) -> Any:
    text = format_junit(build_document(run, redactor()))
    assert SECRET not in text
    root = etree.fromstring(text.encode("utf-8"))
    XSD.assertValid(root)
    return root


def test_remasking_junit_markup_changes_nothing_but_secrets() -> None:
    text = format_junit(build_document(sample_run(), redactor()))
    assert remask_markup(text, lambda value: value) == text  # unescape, then escape again, gives the same bytes
    late = 'say "hi" & <bye>\n\tnow'  # a value with every character ElementTree escapes in text and attributes
    marked = text.replace('name="chat"', f'name="{late}"'.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"hi"', "&quot;hi&quot;").replace("\n", "&#10;").replace("\t", "&#09;"), 1)
    masked = remask_markup(marked, lambda value: value.replace(late, "****"))
    assert 'name="****"' in masked and "bye" not in masked
    XSD.assertValid(etree.fromstring(masked.encode("utf-8")))


def test_junit_validates_and_counts() -> None:
    root = _junit(sample_run())
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("time")) == ("5", "1", "1", "1.613")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["chat", "empty"]
    chat = suites[0]
    assert (chat.get("tests"), chat.get("failures"), chat.get("errors"), chat.get("skipped"), chat.get("file")) == ("5", "1", "1", "1", "c/chat.yaml")
    properties = {p.get("name"): p.get("value") for p in chat.find("properties")}
    assert properties["file"] == "c/chat.yaml" and "runner.version" in properties


def test_junit_testcases() -> None:
    cases = _junit(sample_run()).find("testsuite").findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("chat", "list <models> & co"),
        ("chat", "chat\ufffdcompletion"),  # a control character XML cannot carry
        ("chat", "refused"),
        ("chat", "later"),
        ("chat", "stream"),
    ]
    assert cases[0].find("failure") is None and cases[0].get("time") == "0.012"
    assert "GET http://h/x" in cases[0].findtext("system-out") and "status: 200" in cases[0].findtext("system-out")
    failure = cases[1].find("failure")
    assert failure.get("type") == "check" and failure.get("message") == "2 checks failed: status, schema (inline)"
    assert "status: expected 200, got 500" in failure.text and "at / (required)" in failure.text
    assert "attempt 1: status 503" in failure.text and '"echo": "****"' in failure.text and "response body:" in failure.text
    error = cases[2].find("error")
    assert error.get("type") == "connect" and error.get("message") == "cannot connect: connection refused" and cases[2].find("failure") is None
    assert cases[3].find("skipped").get("message") == "skip condition is true"


def test_junit_iterations_name_suites_and_cases() -> None:
    root = _junit(sample_run(iteration=3, interrupted=True))
    suite = root.find("testsuite")
    assert suite.get("name") == "chat [3]" and suite.find("testcase").get("name") == "list <models> & co [3]"
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert properties["iteration"] == "3" and properties["interrupted"] == "true"


# -- JSON, HTML ---------------------------------------------------------------------------------


def test_json_round_trips(document: dict[str, Any]) -> None:
    assert json.loads(format_json(document)) == document


@pytest.mark.parametrize(
    ("text", "content_type", "expected"),
    [
        ('{"a":[1,2]}', "", ('{\n  "a": [\n    1,\n    2\n  ]\n}', "json")),
        ("[1]", "text/plain", ("[\n  1\n]", "json")),
        ('{"a": 1... (20 more characters)', "application/json", ('{"a": 1... (20 more characters)', "")),
        ("plain <b>", "text/html", ("plain <b>", "")),
    ],
    ids=["object", "array-any-type", "truncated-json", "not-json"],
)
def test_pretty_body(text: str, content_type: str, expected: tuple[str, str]) -> None:
    assert pretty_body(text, content_type) == expected


@pytest.mark.parametrize(
    ("iso", "shown"),
    [("2026-05-04T10:20:30+00:00", "2026-05-04 10:20:30 UTC"), ("2026-05-04T10:20:30+02:00", "2026-05-04 10:20:30+02:00"), ("later", "later")],
    ids=["utc", "offset", "not-a-date"],
)
def test_format_when(iso: str, shown: str) -> None:
    assert format_when(iso) == shown


class PageParser(HTMLParser):
    """Collects what the tests look at: counts, request blocks (outcome, open), scripts, external references."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        self.external: list[str] = []
        self._count: str | None = None
        self._name = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "data-count" in attributes:
            self._count = attributes["data-count"]
        if tag == "details" and "request" in (attributes.get("class") or ""):
            self.requests.append({"outcome": attributes["data-outcome"], "open": "open" in attributes, "name": ""})
        if tag == "span" and attributes.get("class") == "name":
            self._name = True
        for key in ("src", "href"):
            if attributes.get(key):
                self.external.append(attributes[key] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._name = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._count is not None:
            self.counts[self._count] = data.strip()
            self._count = None
        if self._name and self.requests and not self.requests[-1]["name"]:
            self.requests[-1]["name"] = data


def parse_page(text: str) -> PageParser:
    """Parse a report page."""
    parser = PageParser()
    parser.feed(text)
    parser.close()
    return parser


def test_html_counts_expanded_failures_and_no_network() -> None:
    text = format_html(build_document(sample_run(), redactor()), redactor().mask)
    page = parse_page(text)
    assert page.counts == {"total": "5", PASSED: "2", FAILED: "1", ERROR: "1", SKIPPED: "1"}
    assert [(r["outcome"], r["open"]) for r in page.requests] == [(PASSED, False), (FAILED, True), (ERROR, True), (SKIPPED, False), (PASSED, False)]
    assert page.requests[0]["name"] == "list <models> & co"  # escaped in the page, the text reads back
    assert "<models>" not in text and "&lt;models&gt; &amp; co" in text
    assert page.external == []  # self-contained: no stylesheet, script or image to fetch
    assert "No request ran." in "".join(page.text)


def test_html_masks_secrets_that_pretty_printing_decodes() -> None:
    run = sample_run()
    run.collections[0].requests[1].body_excerpt = '{"escaped": "\\u0074ok-unit-5f0c2a9e"}'  # reports show failed requests' bodies
    text = format_html(build_document(run, redactor()), redactor().mask)
    assert SECRET not in text
    shown = "".join(parse_page(text).text)
    # the excerpt is masked before it is decoded: "ok-unit-5f0c2a9e", 16 characters of the secret, already is
    assert '"escaped": "****"' in shown or '"escaped": "t****"' in shown
    assert "ok-unit" not in shown


# -- Markdown, GitHub ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [("a|b", "a\\|b"), ("*x*", "\\*x\\*"), ("<img>", "\\<img\\>"), ("two\nlines", "two lines"), ("plain text", "plain text")],
    ids=["pipe", "emphasis", "html", "newline", "plain"],
)
def test_markdown_escape(text: str, escaped: str) -> None:
    assert escape(text) == escaped


@pytest.mark.parametrize(
    ("text", "span"),
    [("GET /x", "`GET /x`"), ("a `b` c", "``a `b` c``"), ("`x", "`` `x ``")],
    ids=["plain", "backticks-inside", "backtick-at-edge"],
)
def test_markdown_code_span(text: str, span: str) -> None:
    assert code(text) == span


def test_markdown_code_block_outlasts_fences_inside() -> None:
    assert code_block("```\nx\n```") == "````\n```\nx\n```\n````"


def test_markdown_summary(document: dict[str, Any]) -> None:
    text = format_markdown(document)
    assert text.startswith("### ❌ runner: 2 passed, 1 failed, 1 error, 1 skipped in 1.61 s")
    assert "| ❌ | chat | `c/chat.yaml` | 2 | 1 | 1 | 1 | 1.60 s |" in text
    assert "| ✅ | empty | `c/empty.yaml` | 0 | 0 | 0 | 0 | 0.00 s |" in text
    assert "**❌ chat › list \\<models\\> & co**" not in text  # passed requests are not listed
    assert "- `status: expected 200, got 500`" in text and "`c/chat.yaml:11`" in text
    assert "<details><summary>Response body</summary>" in text and SECRET not in text


@pytest.mark.parametrize(
    ("function", "text", "escaped"),
    [
        (escape_data, "100% done\r\nnext", "100%25 done%0D%0Anext"),
        (escape_data, "a: b, c", "a: b, c"),
        (escape_property, "chat > a: b, c", "chat > a%3A b%2C c"),
        (escape_property, "50%\n", "50%25%0A"),
    ],
    ids=["data-percent-newlines", "data-keeps-colon-comma", "property-colon-comma", "property-percent-newline"],
)
def test_github_escaping(function: Any, text: str, escaped: str) -> None:
    assert function(text) == escaped


@pytest.mark.parametrize(
    ("file", "workspace", "shown"),
    [("c/chat.yaml", None, "c/chat.yaml"), ("/ws/repo/c/chat.yaml", "/ws/repo", "c/chat.yaml"), ("/elsewhere/c.yaml", "/ws/repo", "/elsewhere/c.yaml")],
    ids=["relative", "inside-workspace", "outside-workspace"],
)
def test_github_workspace_path(file: str, workspace: str | None, shown: str) -> None:
    assert workspace_path(file, workspace) == shown


def test_github_annotations(document: dict[str, Any]) -> None:
    lines = format_annotations(document).splitlines()
    assert lines[0].startswith("::error file=c/chat.yaml,line=11,col=5,title=chat > chat\\x01completion::attempt 1: status 503%0Astatus: expected 200, got 500%0A")  # a control character made visible
    assert lines[1] == "::error file=c/chat.yaml,line=20,col=5,title=chat > refused::connect error: cannot connect: connection refused%0AGET http://h/x"
    assert lines[2] == "::notice title=runner::2 passed, 1 failed, 1 error, 1 skipped in 1.61 s"
    assert len(lines) == 3


# -- reports written as the run goes --------------------------------------------------------------


def stream(reporter: Any, run: RunResult, cut: Any = None) -> None:
    """Feed ``run`` to ``reporter`` as the engine does, event by event; ``cut(reporter)`` runs after the first request."""
    fanout = Reporters([reporter])
    fanout.run_started([], run.started_at)
    for collection in run.collections:
        fanout.collection_started(CollectionSpec(collection.name, collection.path, "", ()), collection.iteration)
        for number, request in enumerate(collection.requests):
            fanout.request_finished(request)
            if cut is not None and number == 0:
                cut(reporter)
                return fanout.run_finished(run)
        fanout.collection_finished(collection)
    fanout.run_finished(run)


STREAMED = {"json": (JsonReporter, format_json), "junit": (JunitReporter, format_junit)}


@pytest.mark.parametrize("fmt", STREAMED)
@pytest.mark.parametrize(("iteration", "interrupted"), [(None, False), (2, True)], ids=["plain", "iteration-interrupted"])
def test_streamed_report_is_the_document_formatted(tmp_path: Path, fmt: str, iteration: int | None, interrupted: bool) -> None:
    reporter_class, format_document = STREAMED[fmt]
    run = sample_run(iteration, interrupted)
    target = tmp_path / f"r.{fmt}"
    stream(reporter_class(str(target), redactor()), run)
    assert target.read_text(encoding="utf-8") == format_document(build_document(run, redactor()))
    assert SECRET not in target.read_text(encoding="utf-8") and _leftovers(tmp_path) == []


def _cut_json(reporter: Any) -> None:
    reporter.file.write(b',\n        {"name": "half')  # what Ctrl-C in the middle of a write leaves


def _cut_junit(reporter: Any) -> None:
    reporter.cases.write(b'\n    <testcase name="half')


@pytest.mark.parametrize(("fmt", "cut"), [("json", _cut_json), ("junit", _cut_junit)], ids=["json", "junit"])
def test_a_write_cut_short_is_dropped_and_the_collection_closed(tmp_path: Path, fmt: str, cut: Any) -> None:
    """Ctrl-C mid-write, before the collection is closed: the report ends with the requests completely written."""
    reporter_class, format_document = STREAMED[fmt]
    run = sample_run(interrupted=True)
    target = tmp_path / f"r.{fmt}"
    stream(reporter_class(str(target), redactor()), run, cut)
    first = RunResult([CollectionResult("chat", "c/chat.yaml", run.collections[0].requests[:1], 0.0)], run.started_at, run.elapsed_ms, True)
    expected = format_document(build_document(first, redactor()))
    text = target.read_text(encoding="utf-8")
    if fmt == "json":
        data = json.loads(text)
        jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(data)
        data["collections"][0]["elapsed_ms"] = 0.0  # measured by the reporter when it had to close the collection
        assert data == json.loads(expected)
    else:
        XSD.assertValid(etree.fromstring(text.encode("utf-8")))
        assert [case.get("name") for case in etree.fromstring(text.encode("utf-8")).iter("testcase")] == ["list <models> & co"]
        assert "half" not in text
    assert _leftovers(tmp_path) == []


# -- atomic files -------------------------------------------------------------------------------


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".tmp"))


def test_report_file_replaces_the_target_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "report.xml"
    target.write_text("old")
    output = ReportFile(str(target), "junit")
    assert target.read_text() == "old" and len(_leftovers(tmp_path)) == 1  # the temp file is claimed up front
    output.commit("new")
    assert target.read_text() == "new" and _leftovers(tmp_path) == []
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


def test_report_file_discard_keeps_the_old_report(tmp_path: Path) -> None:
    target = tmp_path / "report.xml"
    target.write_text("old")
    output = ReportFile(str(target), "junit")
    output.discard()
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


def test_report_file_creates_missing_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report.json"
    ReportFile(str(target), "json").commit("{}")
    assert target.read_text() == "{}"


@pytest.mark.parametrize(
    ("make_path", "reason"),
    [
        (lambda root: root / "somefile.txt" / "report.xml", "somefile.txt is a file, not a folder"),
        (lambda root: root / "somefile.txt" / "deeper" / "report.xml", "somefile.txt is a file, not a folder"),
        (lambda root: root, "it is a folder"),
    ],
    ids=["under-a-file", "folders-under-a-file", "a-folder"],
)
def test_report_file_unwritable_path_is_a_report_error(tmp_path: Path, make_path: Any, reason: str) -> None:
    (tmp_path / "somefile.txt").write_text("x")
    path = make_path(tmp_path)
    with pytest.raises(ReportError) as caught:
        ReportFile(str(path), "junit")
    assert caught.value.exit_code == 2
    assert f"cannot write the junit report to {path}" in str(caught.value) and reason in str(caught.value)


def test_interrupted_run_is_written(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    JsonReporter(str(target), redactor()).run_finished(sample_run(interrupted=True))
    data = json.loads(target.read_text())
    assert data["interrupted"] is True and data["exit_status"] == 130


def test_make_reporters_claims_files_and_cleans_up_on_failure(tmp_path: Path) -> None:
    (tmp_path / "somefile.txt").write_text("x")
    good = tmp_path / "ok" / "r.json"
    with pytest.raises(ReportError):
        make_reporters([f"json:{good}", f"junit:{tmp_path / 'somefile.txt' / 'r.xml'}"], Redactor())
    assert _leftovers(good.parent) == [] and not good.exists()


def test_make_reporters_one_stdout_report_only() -> None:
    from runner.errors import UsageError

    with pytest.raises(UsageError, match="only one report can go to stdout"):
        make_reporters(["json:-", "github:-"], Redactor())


def test_stdout_report_moves_the_console_to_stderr(tmp_path: Path) -> None:
    import io
    import sys

    out = io.StringIO()
    reporters, console = make_reporters(["json:-"], Redactor(), out)
    assert console is sys.stderr
    reporters[0].run_finished(sample_run())
    assert json.loads(out.getvalue())["counts"]["total"] == 5
    _, console = make_reporters([f"json:{tmp_path / 'r.json'}"], Redactor(), out)
    assert console is out


def test_file_mode_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        target = tmp_path / "r.md"
        ReportFile(str(target), "markdown").commit("x")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o640


def test_a_report_failing_at_the_end_does_not_cost_the_others(tmp_path: Path) -> None:
    import shutil

    from runner.reports.base import Reporters

    doomed = JsonReporter(str(tmp_path / "gone" / "r.json"), redactor())
    kept = JsonReporter(str(tmp_path / "kept.json"), redactor())
    shutil.rmtree(tmp_path / "gone")
    (tmp_path / "gone").write_text("now a file")  # the claimed folder disappeared during the run
    with pytest.raises(ReportError, match="cannot write the json report to .*gone/r.json"):
        Reporters([doomed, kept]).run_finished(sample_run())
    assert json.loads((tmp_path / "kept.json").read_text())["counts"]["total"] == 5
    assert _leftovers(tmp_path) == []
