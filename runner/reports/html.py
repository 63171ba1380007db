"""A self-contained HTML report: one file, CSS and a little JS inline, nothing fetched.

Rendered from the report document with Jinja2 (autoescape on) and
``templates/report.html.j2``: a summary with a pass/fail bar, then every
collection and request; failed requests are expanded and show what was sent and
what came back (JSON pretty-printed, secrets masked); buttons filter by outcome.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from ..assertions import parse_json
from ..results import ERROR, FAILED, PASSED, SKIPPED, RunResult
from .console import format_size
from .document import Document, describe_check, lazy_document, summary_text, usage_lines, usage_text, where
from .files import FileReporter

LABELS = {PASSED: "PASS", FAILED: "FAIL", ERROR: "ERROR", SKIPPED: "SKIP"}
CHUNK = 512  # rendered pieces per write


def pretty_body(text: str, content_type: str = "") -> tuple[str, str]:
    """``(text, language)``: JSON indented when the text parses as JSON, else as it is."""
    stripped = text.strip()
    if stripped[:1] in ("{", "[") or "json" in content_type:
        try:
            return json.dumps(parse_json(stripped), indent=2, ensure_ascii=False), "json"
        except ValueError:  # not JSON, or nested deeper than is safe to walk
            pass
    return text, ""


def format_ms(ms: float | None) -> str:
    """``12 ms`` or ``1.23 s``."""
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def format_when(iso: str) -> str:
    """``2026-05-04T10:20:30+00:00`` as ``2026-05-04 10:20:30 UTC`` (other offsets kept)."""
    from datetime import datetime, timedelta

    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.utcoffset() == timedelta(0):
        return when.strftime("%Y-%m-%d %H:%M:%S UTC")
    return when.isoformat(sep=" ")


def format_html(document: Document, mask: Any = None) -> str:
    """The HTML page for a report document; ``mask`` re-masks text that pretty-printing decoded."""
    return "".join(render_html(document, mask))


def render_html(document: Document, mask: Any = None) -> Iterator[str]:
    """The HTML page for a report document, piece by piece (the requests may come from an iterator)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("runner.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # reports end on a newline
    )
    remask = mask or (lambda text: text)

    def body(text: str, content_type: str = "") -> str:
        # json.loads undoes \u escapes, which could spell a secret the raw text hid: mask again
        return str(remask(pretty_body(text, content_type)[0]))

    environment.filters.update(size=format_size, ms=format_ms, when=format_when, body=body, where=where, describe=describe_check, tokens=_tokens)
    counts = document["counts"]
    total = counts["total"] or 1
    bar = [(outcome, counts[outcome], 100 * counts[outcome] / total) for outcome in (PASSED, FAILED, ERROR, SKIPPED) if counts[outcome]]
    template = environment.get_template("report.html.j2")
    return template.generate(doc=document, summary=summary_text(document), bar=bar, labels=LABELS, usage=usage_lines(document["usage"]))


def _tokens(usage: dict[str, Any]) -> str:
    return usage_text(usage["input_tokens"], usage["output_tokens"], usage["cost"], usage["currency"])


class HtmlReporter(FileReporter):
    """``--report html:PATH``: rendered when the run is done, from every request's result."""

    label = "html"
    wants_details = True
    needs_run_results = True  # the page lists every request: the engine keeps them all

    def run_finished(self, result: RunResult) -> None:
        # each request is built, masked and rendered in turn, and the page written as it is rendered
        pieces = render_html(lazy_document(result, self.redactor), self.redactor.mask)
        try:
            handle = self.output.open()
            chunk: list[str] = []
            for piece in pieces:
                chunk.append(piece)
                if len(chunk) >= CHUNK:
                    handle.write("".join(chunk).encode("utf-8"))
                    chunk.clear()
            handle.write("".join(chunk).encode("utf-8"))
        except OSError as exc:
            self.output.fail(exc)
        self.output.finish()
