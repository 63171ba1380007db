"""A Markdown summary for any CI: a table per collection, then each failure with its causes.

GitHub shows it as the job summary (``github`` appends it to
``$GITHUB_STEP_SUMMARY``); GitLab, Gitea and others render it as a file, a
merge-request note or a wiki page.
"""

from __future__ import annotations

import re
from typing import Any

from ..terminal import printable
from ..results import ERROR, FAILED, PASSED, SKIPPED
from .document import Document, failure_lines, format_money, requests_of, stream_text, summary_text, usage_text, where
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
    lines += _usage(document)
    failures = [(c, r) for c, r in requests_of(document) if r["outcome"] in (FAILED, ERROR)]
    if failures:
        lines += ["", "#### Failures", ""]
        for collection, request in failures[:MAX_FAILURES]:
            lines += _failure(collection, request)
        if len(failures) > MAX_FAILURES:
            lines += [f"… and {len(failures) - MAX_FAILURES} more (see the JUnit, JSON or HTML report)", ""]
    # printed with --report markdown:- (a CI log): no terminal control, no line GitHub would obey
    return printable("\n".join(lines).rstrip()) + "\n"


def _usage(document: Document) -> list[str]:
    """The token usage and cost per model, as a table, and why the run stopped sending early."""
    lines = []
    if document["usage"]:
        lines += ["", "#### Usage", "", "| Model | Requests | Input tokens | Output tokens | Cost |", "|---|--:|--:|--:|--:|"]
        for entry in document["usage"]:
            cost = "no price table" if not entry["currency"] else format_money(entry["cost"], entry["currency"]) if entry["cost"] is not None else "unknown (no price)"
            lines.append(f"| {code(entry['model']).replace('|', chr(92) + '|')} | {entry['requests']} | {entry['input_tokens']} | {entry['output_tokens']} | {escape(cost)} |")
        total = document["cost"]
        if len(document["usage"]) > 1 and total and total["total"] is not None and total["currency"]:
            unpriced = f" (without {', '.join(total['unpriced_models'])}: no price)" if total["unpriced_models"] else ""
            lines.append(f"| **total** | | | | **{escape(format_money(total['total'], total['currency']))}**{escape(unpriced)} |")
    if document["stopped"]:
        lines += ["", f"**Stopped sending:** {escape(document['stopped'])}"]
    return lines


def _failure(collection: dict[str, Any], request: dict[str, Any]) -> list[str]:
    sent = f"{request['method']} {request['url']}"
    head = f"**{MARKS[request['outcome']]} {escape(collection['name'])} › {escape(request['display_name'])}** · {code(sent)}"
    if request["response"] is not None:
        head += f" → {request['response']['status']}"
    if request["stream"] is not None:
        head += f" · {escape(stream_text(request))}"
    if request["usage"] is not None:
        usage = request["usage"]
        head += f" · {escape(usage_text(usage['input_tokens'], usage['output_tokens'], usage['cost'], usage['currency']))}"
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
