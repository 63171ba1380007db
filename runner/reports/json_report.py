"""The JSON report: the report document (see ``document.py``) as is.

Its shape is versioned (``report_version``), described by
``schemas/report.schema.json`` and documented in ``docs/reports.md``.
"""

from __future__ import annotations

import json

from .document import Document
from .files import FileReporter


def format_json(document: Document) -> str:
    """The report document as indented JSON (UTF-8, non-ASCII kept readable)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class JsonReporter(FileReporter):
    """``--report json:PATH``."""

    label = "json"
    wants_bodies = True  # scripts read response bodies of passing requests too

    def render(self, document: Document) -> str:
        return format_json(document)
