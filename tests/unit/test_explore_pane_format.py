"""The pane's pure formatters: body kinds, cuts with counts, masking, control characters."""

from __future__ import annotations

import json

import pytest

from runner.explore.pane import MAX_CHARS, format_body, format_head, is_binary, printable
from runner.redact import Redactor


def _text(lines: list[list[tuple[str, str]]]) -> str:
    return "\n".join("".join(chunk for chunk, _ in line) for line in lines)


@pytest.fixture
def redactor() -> Redactor:
    redactor = Redactor()
    redactor.add("s3cr3t-value")
    return redactor


@pytest.mark.parametrize(
    ("body", "content_type", "binary"),
    [
        (b'{"a": 1}', "application/json", False),
        (b"<p>hi</p>", "text/html; charset=utf-8", False),
        (b"\x89PNG\r\n", "image/png", True),
        (b"plain", "", False),
        (b"\xff\xfe\x00", "", True),
        (b"a,b\n1,2", "text/csv", False),
        (b"x" * 10, "application/octet-stream", True),
        (b"{}", "application/problem+json", False),
    ],
    ids=["json", "html", "png", "untyped-text", "untyped-bytes", "csv", "octet-stream", "problem-json"],
)
def test_is_binary(body: bytes, content_type: str, binary: bool) -> None:
    assert is_binary(body, content_type) is binary


def test_json_is_indented_and_masked(redactor: Redactor) -> None:
    body = json.dumps({"token": "s3cr3t-value", "n": [1, 2]}).encode()
    assert _text(format_body(body, body.decode(), "application/json", redactor)) == '{\n  "token": "****",\n  "n": [\n    1,\n    2\n  ]\n}'


def test_a_long_single_line_is_cut_by_characters_with_a_count(redactor: Redactor) -> None:
    text = json.dumps({"blob": "x" * (MAX_CHARS * 2)})
    shown = _text(format_body(text.encode(), text, "application/json", redactor))
    assert len(shown) < MAX_CHARS + 200
    assert shown.endswith(f"... cut: {len(text) + 4 - MAX_CHARS:,} more characters not shown (body {len(text) / 1000:.1f} kB)")


def test_many_lines_are_cut_with_a_count(redactor: Redactor) -> None:
    text = "\n".join(f"row {n}" for n in range(1000))
    lines = format_body(text.encode(), text, "text/plain", redactor, max_lines=10)
    assert len(lines) == 11 and lines[-1][0][0] == "... cut: 990 more lines not shown (body 7.9 kB)"


def test_empty_and_binary_bodies(redactor: Redactor) -> None:
    assert _text(format_body(b"", "", "text/plain", redactor)) == "(empty body)"
    assert _text(format_body(b"\x00" * 2048, "", "image/webp", redactor)) == "<binary body: 2.0 kB, image/webp>"


def test_head_masks_credentials_and_escapes_controls(redactor: Redactor) -> None:
    lines = format_head(401, "HTTP/1.1", [("www-authenticate", "Bearer"), ("x-note", "a\x1b[2Jb s3cr3t-value"), ("set-cookie", "sid=abcdefgh123; Path=/")], redactor)
    assert _text(lines) == "HTTP/1.1 401 Unauthorized\nwww-authenticate: Bearer\nx-note: a\\x1b[2Jb ****\nset-cookie: sid=****; Path=/"


def test_printable_keeps_text_and_shows_controls() -> None:
    assert printable("tab\tand\nnew line é ✓") == "tab\tand\nnew line é ✓"
    assert printable("bell\x07 csi\x9b rtl\u202e") == "bell\\x07 csi\\x9b rtl\\u202e"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("::error file=x::forged", "\\x3a:error file=x::forged"),
        ("ok\n  ::add-mask::v", "ok\n  \\x3a:add-mask::v"),
        ("##[group]x", "\\x23#[group]x"),
        ("a :: b", "a :: b"),
        ("line\u2028sep", "line\\u2028sep"),
    ],
    ids=["command", "indented-command-on-a-later-line", "group", "mid-line", "line-separator"],
)
def test_printable_defuses_ci_workflow_commands(text: str, shown: str) -> None:
    assert printable(text) == shown
