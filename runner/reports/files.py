"""Report files written atomically, and the base class of every file report.

A report is first written to a temporary file in the target's folder, then
moved over the target with ``os.replace``: a reader (or a CI step after a killed
run) sees the previous report or the complete new one, never half of one.  The
temporary file is created when the reporter is made, before the run sends
anything, so an unwritable path is an input error (exit 2) rather than a
surprise after the run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import weakref
from pathlib import Path
from typing import Any, TextIO

from ..errors import ReportError
from ..redact import Redactor
from ..results import RunResult
from .base import Reporter
from .document import Document, build_document

STDOUT = "-"


class ReportFile:
    """One report destination: a path written atomically, or stdout for ``-``."""

    def __init__(self, path: str, label: str, stdout: TextIO | None = None):
        self.path = path
        self.label = label
        self.stdout = stdout or sys.stdout
        self._temp: str | None = None
        self._cleanup: weakref.finalize[Any, Any] | None = None
        if path != STDOUT:
            self._temp = self._reserve()

    @property
    def to_stdout(self) -> bool:
        """Whether the report goes to stdout."""
        return self.path == STDOUT

    def _reserve(self) -> str:
        target = Path(self.path)
        try:
            if target.is_dir():
                raise ReportError(f"cannot write the {self.label} report to {self.path}: it is a folder; give a file name")
            blocking = next((folder for folder in target.parents if folder.exists() and not folder.is_dir()), None)
            if blocking is not None:
                raise ReportError(f"cannot write the {self.label} report to {self.path}: {blocking} is a file, not a folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise ReportError(f"cannot write the {self.label} report to {self.path}: {_reason(exc)}") from None
        os.close(fd)
        # removed if the run ends without committing (an unexpected error): no stray temp files
        self._cleanup = weakref.finalize(self, _remove, temp)
        return temp

    def commit(self, text: str) -> None:
        """Write the whole report: to stdout, or to the temp file then over the target."""
        if self._temp is None:
            self.stdout.write(text if text.endswith("\n") else text + "\n")
            self.stdout.flush()
            return
        try:
            with open(self._temp, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(self._temp, _file_mode())
            os.replace(self._temp, self.path)
        except OSError as exc:
            self.discard()
            raise ReportError(f"cannot write the {self.label} report to {self.path}: {_reason(exc)}") from None
        if self._cleanup is not None:
            self._cleanup.detach()
        self._temp = None

    def discard(self) -> None:
        """Remove the temporary file; the target is left as it was."""
        if self._cleanup is not None:
            self._cleanup()
        self._temp = None


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _file_mode() -> int:
    """The mode a plain ``open()`` would give a new file (mkstemp makes them private)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if exc.filename and str(exc.filename) not in reason:
        reason += f" ({exc.filename})"
    return reason


class FileReporter(Reporter):
    """A report written once, when the run is done (also after an interrupt or --bail).

    Subclasses set ``label`` and implement ``render``, which gets the run as a
    masked document (``document.build_document``).
    """

    label = "report"

    def __init__(self, path: str, redactor: Redactor, stdout: TextIO | None = None):
        self.path = path
        self.redactor = redactor
        self.output = ReportFile(path, self.label, stdout)

    def render(self, document: Document) -> str:
        """The report's text."""
        raise NotImplementedError

    def run_finished(self, result: RunResult) -> None:
        self.output.commit(self.render(build_document(result, self.redactor)))

    def discard(self) -> None:
        """Give up: leave no temporary file behind."""
        self.output.discard()
