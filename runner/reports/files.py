"""Report files written atomically, and the base class of every file report.

A report is first written to a temporary file in the target's folder, then
moved over the target with ``os.replace``: a reader (or a CI step after a killed
run) sees the previous report or the complete new one, never half of one.  The
temporary file is created when the reporter is made, before the run sends
anything, so an unwritable path is an input error (exit 2) rather than a
surprise after the run.
"""

from __future__ import annotations

import codecs
import os
import shutil
import sys
import tempfile
import weakref
from pathlib import Path
from typing import IO, Any, Callable, NoReturn, TextIO

from ..errors import ReportError
from ..redact import Redactor
from ..results import ERROR, FAILED, RunResult
from .base import Reporter
from .document import Document, lazy_document

STDOUT = "-"
COPY_SIZE = 1 << 16


class ReportFile:
    """One report destination: a path written atomically, or stdout for ``-``."""

    def __init__(self, path: str, label: str, stdout: TextIO | None = None):
        self.path = path
        self.label = label
        self.stdout = stdout or sys.stdout
        self._temp: str | None = None
        self._handle: IO[bytes] | None = None
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
            raise ReportError(f"cannot write the {self.label} report to {self.path}: {reason(exc)}") from None
        os.close(fd)
        # removed if the run ends without committing (an unexpected error): no stray temp files
        self._cleanup = weakref.finalize(self, _remove, temp)
        return temp

    def open(self) -> IO[bytes]:
        """The file the report is written to (binary): the temporary file, or for stdout a scratch file copied out at the end."""
        if self._handle is None:
            self._handle = tempfile.TemporaryFile() if self.to_stdout else open(str(self._temp), "w+b")
        return self._handle

    def rewrite(self, transform: Callable[[IO[bytes], IO[bytes]], None]) -> None:
        """Replace what ``open`` gave with ``transform(old, new)``, through a scratch file (memory stays flat)."""
        handle = self.open()
        handle.flush()
        handle.seek(0)
        with self.scratch() as rewritten:
            transform(handle, rewritten)
            rewritten.seek(0)
            handle.seek(0)
            handle.truncate()
            shutil.copyfileobj(rewritten, handle)

    def scratch(self) -> IO[bytes]:
        """An anonymous temporary file next to the report, for parts written before what must precede them."""
        return tempfile.TemporaryFile(dir=None if self.to_stdout else os.path.dirname(os.path.abspath(self.path)))

    def commit(self, text: str) -> None:
        """Write the whole report: to stdout, or to the temp file then over the target."""
        if self.to_stdout:
            self.stdout.write(text if text.endswith("\n") else text + "\n")
            self.stdout.flush()
            return
        try:
            self.open().write(text.encode("utf-8"))
        except OSError as exc:
            self.fail(exc)
        self.finish()

    def finish(self) -> None:
        """What ``open`` gave holds the whole report: move it over the target (or copy it to stdout)."""
        handle = self.open()
        if self.to_stdout:  # a closed stdout (BrokenPipeError) is the caller's to handle, as for any output
            handle.seek(0)
            decoder = codecs.getincrementaldecoder("utf-8")()
            for chunk in iter(lambda: handle.read(COPY_SIZE), b""):
                self.stdout.write(decoder.decode(chunk))
            self.stdout.write(decoder.decode(b"", final=True))
            self.stdout.flush()
            self.discard()
            return
        try:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.chmod(str(self._temp), _file_mode())
            os.replace(str(self._temp), self.path)
        except OSError as exc:
            self.fail(exc)
        if self._cleanup is not None:
            self._cleanup.detach()
        self._temp = None
        self._handle = None

    def fail(self, exc: OSError) -> NoReturn:
        """Give up after a file error: the target stays as it was."""
        self.discard()
        raise ReportError(f"cannot write the {self.label} report to {self.path}: {reason(exc)}") from None

    def discard(self) -> None:
        """Remove the temporary file; the target is left as it was."""
        if self._handle is not None:
            try:
                self._handle.close()
            except OSError:
                pass
            self._handle = None
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


def reason(exc: OSError) -> str:
    """Why a file operation failed, in a few words (with the file when the message lacks it)."""
    reason = exc.strerror or str(exc)
    if exc.filename and str(exc.filename) not in reason:
        reason += f" ({exc.filename})"
    return reason


class FileReporter(Reporter):
    """A report file; by default written once, when the run is done (also after an interrupt or --bail).

    Subclasses set ``label`` and implement ``render``, which gets the run as a
    masked document (``document.lazy_document``) of the failed and broken
    requests: the engine keeps only those unless a reporter says
    ``needs_run_results``.  Reports written as the run goes derive from
    ``streamed.StreamedReporter`` instead.
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
        self.output.commit(self.render(lazy_document(result, self.redactor, (FAILED, ERROR))))

    def discard(self) -> None:
        """Give up: leave no temporary file behind."""
        self.output.discard()
