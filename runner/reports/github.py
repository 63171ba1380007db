"""GitHub Actions: an ``::error`` annotation per failed request, and the job summary.

Each failed or broken request becomes a workflow command
``::error file=F,line=L,title=T::MESSAGE`` that GitHub shows on the request's
line in the collection file (in the run and on the pull request's diff).  The
Markdown summary (``markdown.format_markdown``) is appended to the file named by
``$GITHUB_STEP_SUMMARY`` when that is set.  Usually ``--report github:-``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from ..errors import ReportError
from ..redact import Redactor
from ..terminal import escape_control
from ..results import ERROR, FAILED, RunResult
from .document import Document, failure_lines, lazy_document, requests_of, summary_text
from .files import FileReporter
from .markdown import format_markdown


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit does (``%``, CR, LF); other control characters made visible (``\\x1b``)."""
    return escape_control(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    """A workflow command's property value: the message escapes plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workspace_path(file: str, workspace: str | None) -> str:
    """``file`` relative to the checkout (``$GITHUB_WORKSPACE``), as annotations need, with ``/``."""
    path = Path(file)
    if workspace:
        try:
            path = Path(os.path.abspath(path)).relative_to(os.path.abspath(workspace))
        except ValueError:
            pass
    return path.as_posix()


def format_annotations(document: Document, workspace: str | None = None) -> str:
    """One ``::error`` line per failed or broken request, and a ``::notice`` with the totals."""
    lines = []
    for collection, request in requests_of(document):
        if request["outcome"] not in (FAILED, ERROR):
            continue
        properties = {}
        location = request["location"]
        if location:
            properties["file"] = workspace_path(location["file"], workspace)
            if location.get("line"):
                properties["line"] = str(location["line"])
            if location.get("col"):
                properties["col"] = str(location["col"])
        properties["title"] = f"{collection['name']} > {request['display_name']}"
        message = "\n".join([*failure_lines(request), f"{request['method']} {request['url']}"])
        rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
        lines.append(f"::error {rendered}::{escape_data(message)}")
    if document.get("stopped"):  # --budget or --max-requests: the reason the run exits 1
        lines.append(f"::error title=runner stopped::{escape_data(document['stopped'])}")
    lines.append(f"::notice title=runner::{escape_data(summary_text(document))}")
    return "\n".join(lines) + "\n"


class GithubReporter(FileReporter):
    """``--report github:-``: annotations to stdout (or PATH), summary to ``$GITHUB_STEP_SUMMARY``."""

    label = "github"

    def __init__(self, path: str, redactor: Redactor, stdout: TextIO | None = None):
        super().__init__(path, redactor, stdout)
        self.summary = os.environ.get("GITHUB_STEP_SUMMARY") or None
        if self.summary:
            _append(self.summary, "")  # fail now, before anything is sent, if it cannot be written

    def render(self, document: Document) -> str:
        return format_annotations(document, os.environ.get("GITHUB_WORKSPACE"))

    def run_finished(self, result: RunResult) -> None:
        document = lazy_document(result, self.redactor, (FAILED, ERROR))
        self.output.commit(self.render(document))
        if self.summary:
            _append(self.summary, format_markdown(document) + "\n")


def _append(path: str, text: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ReportError(f"cannot write the GitHub job summary to {path} ($GITHUB_STEP_SUMMARY): {exc.strerror or exc}") from None
