"""A Markdown summary for any CI: a table per collection, then each failure with its causes.

GitHub shows it as the job summary (``github`` appends it to
``$GITHUB_STEP_SUMMARY``); GitLab, Gitea and others render it as a file, a
merge-request note or a wiki page.
"""

from __future__ import annotations

import re
from typing import Any

from ..results import ERROR, FAILED, PASSED, SKIPPED
from .document import Document, failure_lines, requests_of, stream_text, summary_text, where
from .files import FileReporter

MAX_FAILURES = 50  # GitHub caps a step summary at 1 MiB; a long list helps nobody
MARKS = {PASSED: "✅", FAILED: "❌", ERROR: "❌", SKIPPED: "⏭️"}
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def escape(text: Any) -> str:
    """Text that Markdown shows literally (also inside a table cell)."""
    return _SPECIAL.sub(r"\\\1", str(text)).replace("\r", " ").replace("\n", " ")


def code(text: Any) -> str:
    """An inline code span that holds any text, backticks included."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str, language: str = "") -> str:
    """A fenced block that holds any text, backtick fences included."""
    fence = "`" * max(3, max((len(run) for run in re.findall("`{3,}", text)), default=0) + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def format_markdown(document: Document, title: str = "runner") -> str:
    """The summary table and the failures of a report document."""
    ok = document["exit_status"] == 0
    lines = [f"### {'✅' if ok else '❌'} {escape(title)}: {escape(summary_text(document))}", ""]
    lines += ["| | Collection | File | Passed | Failed | Errors | Skipped | Time |", "|---|---|---|--:|--:|--:|--:|--:|"]
    for collection in document["collections"]:
        counts = collection["counts"]
        mark = "❌" if counts[FAILED] or counts[ERROR] else "✅"
        name = collection["name"] if collection["iteration"] is None else f"{collection['name']} [{collection['iteration']}]"
        cells = [mark, escape(name), code(collection["path"]).replace("|", "\\|"), counts[PASSED], counts[FAILED], counts[ERROR], counts[SKIPPED], f"{collection['elapsed_ms'] / 1000:.2f} s"]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    failures = [(c, r) for c, r in requests_of(document) if r["outcome"] in (FAILED, ERROR)]
    if failures:
        lines += ["", "#### Failures", ""]
        for collection, request in failures[:MAX_FAILURES]:
            lines += _failure(collection, request)
        if len(failures) > MAX_FAILURES:
            lines += [f"… and {len(failures) - MAX_FAILURES} more (see the JUnit, JSON or HTML report)", ""]
    return "\n".join(lines).rstrip() + "\n"


def _failure(collection: dict[str, Any], request: dict[str, Any]) -> list[str]:
    sent = f"{request['method']} {request['url']}"
    head = f"**{MARKS[request['outcome']]} {escape(collection['name'])} › {escape(request['display_name'])}** · {code(sent)}"
    if request["response"] is not None:
        head += f" → {request['response']['status']}"
    if request["stream"] is not None:
        head += f" · {escape(stream_text(request))}"
    if request["location"]:
        head += f" · {code(where(request['location']))}"
    lines = [head, ""]
    lines += [f"- {code(line)}" for line in failure_lines(request)]
    body = request["response"]["body_excerpt"] if request["response"] else ""
    if body:
        language = "json" if "json" in request["response"]["content_type"] else ""
        lines += ["", "<details><summary>Response body</summary>", "", code_block(body, language), "", "</details>"]
    lines.append("")
    return lines


class MarkdownReporter(FileReporter):
    """``--report markdown:PATH``."""

    label = "markdown"

    def render(self, document: Document) -> str:
        return format_markdown(document)
