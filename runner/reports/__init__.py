"""Reports: each subscribes to the engine's events (see ``base.Reporter``).

``--report FORMAT:PATH`` picks a writer from ``FORMATS``; each is imported only
when asked for.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, TextIO

from ..errors import UsageError
from ..redact import Redactor
from .base import Reporter

FORMATS: dict[str, str] = {}


def parse_report_spec(text: str) -> tuple[str, str]:
    """``FORMAT:PATH`` -> (format, path); raises ``UsageError`` for an unknown format."""
    fmt, sep, path = text.partition(":")
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        known = ", ".join(sorted(FORMATS)) or "none yet"
        raise UsageError(f"--report {text!r}: unknown format {fmt!r} (known: {known})")
    if not sep or not path:
        raise UsageError(f"--report {text!r}: expected FORMAT:PATH, e.g. junit:reports/junit.xml ('-' for stdout)")
    return fmt, path


def make_reporters(specs: list[str], redactor: Redactor, stdout: TextIO | None = None) -> tuple[list[Reporter], TextIO]:
    """The file reporters for ``--report`` options, and where the console report goes.

    When a report is written to stdout the console report moves to stderr.
    """
    stdout = stdout or sys.stdout
    reporters: list[Reporter] = []
    console: TextIO = stdout
    for spec in specs:
        fmt, path = parse_report_spec(spec)
        module_name, _, class_name = FORMATS[fmt].partition(":")
        module = importlib.import_module(module_name, __name__)
        reporter_class: Any = getattr(module, class_name)
        if path == "-":
            console = sys.stderr
        reporters.append(reporter_class(path, redactor, stdout))
    return reporters, console
