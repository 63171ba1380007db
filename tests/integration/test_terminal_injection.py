"""Terminal and CI injection (issue 10, item 8): foreign text printed is escaped, and never a workflow command.

A hostile server answers with ESC, BEL, CR, C1, DEL and bidi characters, and
with lines GitHub Actions would obey (``::stop-commands::``, ``::error::``,
``##[error]``, also after spaces: the runner strips them).  Request and
collection names, and a file name, carry the same.  Nothing printed — the
console with and without ``-v``, a report written to stdout, an input error —
may hold one of those characters raw, or a line that starts a workflow command
other than the GitHub reporter's own annotations.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

RAW = "\x1b\x07\r\x9b\x7f\u202e\x00"
PLAIN = "fine\n::stop-commands::tok123\n  ::error::forged\n##[error]legacy\n"  # text: printed line by line
BODY = "ok\x1b[2J\x1b]0;pwned\x07 cr\r over\n::stop-commands::tok123\n  ::error file=x::forged\n##[error]legacy\n\x9b31m c1 \u202e bidi \x7f"


def assert_printable(text: str, where: str, own_annotations: bool = False) -> None:
    for char in RAW:
        assert char not in text, f"{char!r} printed raw in {where}"
    for line in text.splitlines():
        start = line.lstrip(" \t")
        if own_annotations and start.startswith(("::error file=", "::notice title=runner::")):
            continue
        assert not start.startswith(("::", "##[")), f"a workflow command in {where}: {line!r}"


@pytest.fixture
def hostile(write: Any, project: Path, httpserver: HTTPServer) -> Path:
    httpserver.expect_request("/plain").respond_with_data(PLAIN, status=500, content_type="text/plain")
    httpserver.expect_request("").respond_with_data(BODY, status=500, content_type="text/plain")
    name = json.dumps("::error::name \x1b[31mred\x07")
    return write("c\x1b[31m.yaml", f"name: {name}\nrequests:\n  - name: {name}\n    url: {httpserver.url_for('/')}\n    expect: {{status: 500, body: {{contains: \"\\e[0m\"}}}}\n  - name: plain\n    url: {httpserver.url_for('/plain')}\n")


@pytest.mark.parametrize(
    "args",
    [[], ["-v"], ["-q"], ["--report", "markdown:-"], ["--report", "junit:-"], ["--report", "github:-"], ["--report", "json:-"]],
    ids=["console", "verbose", "quiet", "markdown", "junit", "github", "json"],
)
def test_foreign_text_prints_escaped_and_never_as_a_workflow_command(run_cli: Any, hostile: Path, project: Path, args: list[str]) -> None:
    result = run_cli("run", str(hostile), *args, cwd=project)
    assert result.exit_code == 1, result.output
    assert_printable(result.stdout, f"stdout {args}", own_annotations="github:-" in args)
    assert_printable(result.stderr, f"stderr {args}")
    if not args or args == ["-v"]:
        assert "\\x1b[2J" in result.stdout and "\\x3a:stop-commands::tok123" in result.stdout  # shown, made visible


def test_the_github_annotation_escapes_its_message_and_properties(run_cli: Any, hostile: Path, project: Path) -> None:
    result = run_cli("run", str(hostile), "--report", "github:-", cwd=project)
    error = next(line for line in result.stdout.splitlines() if line.startswith("::error "))
    properties, _, message = error[len("::error ") :].partition("::")
    assert "%3A%3Aerror%3A%3Aname" in properties  # ":" and "," of a property, per the workflow-command spec
    assert "%0A" in message and "\\x9b" in message  # lines joined as the spec says, a raw C1 made visible


def test_an_input_error_quoting_a_line_with_control_characters_prints_it_escaped(run_cli: Any, write: Any, project: Path) -> None:
    # YAML refuses a raw ESC, but takes a bidi override (U+202E) that reorders what the reader sees
    path = write("bad.yaml", "name: t\nrequests:\n  - name: a\n    url: http://127.0.0.1:9/\n    urll: \"x\u202e::y\"\n")
    result = run_cli("validate", str(path), cwd=project)
    assert result.exit_code == 2 and "urll" in result.stderr
    assert_printable(result.stderr, "an input error")
    assert "\\u202e" in result.stderr


def test_show_prints_a_hostile_body_escaped(run_cli: Any, write: Any, project: Path) -> None:
    path = write("s.yaml", f"name: t\nrequests:\n  - name: a\n    method: POST\n    url: http://127.0.0.1:9/\n    body: {json.dumps(BODY)}\n  - name: {json.dumps('::warning::x' + chr(27))}\n    url: http://127.0.0.1:9/\n")
    for fmt in ("http", "curl", "httpie", "python"):
        result = run_cli("show", str(path), "--format", fmt, cwd=project)
        assert result.exit_code == 0, result.output
        assert_printable(result.output, f"show --format {fmt}")


def test_a_junit_report_masked_again_keeps_its_character_references(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    """A token captured as secret after requests were written makes the report be masked again: the references survive it."""
    from lxml import etree

    httpserver.expect_request("").respond_with_data("late-secret-123 a\r\n::stop-commands::x", status=500, headers={"X-Token": "late-secret-123"}, content_type="text/plain")
    path = write("c.yaml", f"name: t\nrequests:\n  - name: a\n    url: {httpserver.url_for('/')}\n  - name: b\n    url: {httpserver.url_for('/')}\n    capture: {{token: {{header: X-Token, secret: true}}}}\n")
    report = project / "junit.xml"
    result = run_cli("run", str(path), "--report", f"junit:{report}", cwd=project)
    assert result.exit_code == 1
    text = report.read_text(encoding="utf-8")
    assert "late-secret-123" not in text and "&amp;#" not in text and "&#58;:stop-commands" in text
    failure = etree.fromstring(text.encode()).find(".//failure")
    assert "**** a\r\n::stop-commands::x" in failure.text  # the same text once parsed (a raw CR would have been read as LF)
