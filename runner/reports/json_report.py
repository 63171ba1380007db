"""The JSON report: the report document (see ``document.py``), written as the run goes.

Its shape is versioned (``report_version``), described by
``schemas/report.schema.json`` and documented in ``docs/reports.md``.  Each
request is appended to the file when it finishes; the counts and times that sum
up a collection, or the run, follow its list.  The text is exactly
``format_json`` of the same document.
"""

from __future__ import annotations

import json
import re
from typing import IO, Any

from ..terminal import CONTROL_CHARS
from .document import UNMASKED_KEYS, Document
from .streamed import Progress, StreamedReporter, restore

INDENT = "  "
_RAW_CONTROL = re.compile(f"[{CONTROL_CHARS}]")
_STRING = re.compile(r'("(?:[^"\\]|\\.)*")(\s*:)?')  # a JSON string literal, and the ":" after it when it is a key
_KEY = re.compile(r'\s*("(?:[^"\\]|\\.)*")\s*:')  # the key a line starts with


def format_json(document: Document) -> str:
    """The report document as indented JSON (UTF-8, non-ASCII kept readable)."""
    return printable_json(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def printable_json(text: str) -> str:
    """JSON text with what a terminal would obey (DEL, C1, bidi overrides; json escapes the rest) as ``\\u`` escapes: the same data."""
    return _RAW_CONTROL.sub(lambda match: f"\\u{ord(match.group(0)):04x}", text)


def _value(data: Any, level: int) -> str:
    """``data`` as ``json.dumps(indent=2)`` writes it ``level`` deep in a document."""
    return json.dumps(data, indent=2, ensure_ascii=False).replace("\n", "\n" + INDENT * level)


def _members(data: dict[str, Any], level: int) -> str:
    """The members of an object ``level`` deep, as lines (without the braces)."""
    inner = json.dumps(data, indent=2, ensure_ascii=False)[2:-2]  # without "{\n" and "\n}"
    return INDENT * level + inner.replace("\n", "\n" + INDENT * level)


class JsonReporter(StreamedReporter):
    """``--report json:PATH``."""

    label = "json"
    wants_details = True  # every request's sent request, response headers and checks

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.file: IO[bytes] | None = None

    def _write(self, progress: Progress, text: str) -> tuple[int, ...]:
        if self.file is None:
            self.file = self.output.open()
        offset = progress.offsets[0] if progress.offsets else 0
        restore(self.file, offset)
        data = printable_json(text).encode("utf-8")
        self.file.write(data)
        self.file.flush()  # in the file as each request finishes, not when a buffer fills
        return (offset + len(data),)

    def begin(self, head: dict[str, Any]) -> tuple[int, ...]:
        return self._write(self.progress, "{\n" + _members(head, 0) + ',\n  "collections": [')

    def open_collection(self, head: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        separator = ",\n" if progress.collections else "\n"
        return self._write(progress, separator + INDENT * 2 + "{\n" + _members(head, 2) + ",\n" + INDENT * 3 + '"requests": [')

    def add_request(self, entry: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        separator = ",\n" if progress.requests else "\n"
        return self._write(progress, separator + INDENT * 4 + _value(entry, 4))

    def close_collection(self, head: dict[str, Any], tail: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        end = "\n" + INDENT * 3 + "]" if progress.requests else "]"
        return self._write(progress, end + ",\n" + _members(tail, 2) + "\n" + INDENT * 2 + "}")

    def end(self, tail: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        end = "\n" + INDENT + "]" if progress.collections else "]"
        return self._write(progress, end + ",\n" + _members(tail, 0) + "\n}\n")

    def remask(self, source: IO[bytes], target: IO[bytes]) -> None:
        # every string literal of the indented JSON is on one line; keys, and the values the runner wrote, stay
        def literal(match: re.Match[str]) -> str:
            if match.group(2) is not None:  # a key
                return match.group(0)
            text = json.loads(match.group(1))
            masked = self.redactor.mask(text)
            return match.group(1) if masked == text else json.dumps(masked, ensure_ascii=False)

        for line in source:
            text = line.decode("utf-8")
            key = _KEY.match(text)
            if key is None or json.loads(key.group(1)) not in UNMASKED_KEYS:
                text = _STRING.sub(literal, text)
            target.write(printable_json(text).encode("utf-8"))
