"""The one exception tree of the runner, and where input came from.

::

    RunnerError                 exit 2: anything that stops a run before or outside a request
     +-- InputError             invalid input: YAML, format, template, environment, schema
     +-- UsageError             bad command line (unknown request name, bad --var, ...)
     +-- ReportError            a report could not be written
     +-- SaveError              --save-examples could not write a collection (changed on disk, ...)
     +-- InternalError          a bug: an unexpected exception, its message already masked
    TransportError              a request could not be completed (refused, timeout, TLS, ...);
                                never escapes the engine: it becomes a failed RequestResult
    RunInterrupted              Ctrl-C: reports are written for what finished, exit 130

Failed checks are not exceptions: they are ``CheckResult`` data.  ``cli.py`` is the
only place that turns a ``RunnerError`` into a message and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable


EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130  # FORMAT.md's exit codes


@dataclass(frozen=True)
class Location:
    """Where a value came from: file, 1-based line and column, JSON pointer in the file."""

    file: str
    line: int = 0
    col: int = 0
    pointer: str = ""

    def __str__(self) -> str:
        text = self.file
        if self.line:
            text += f":{self.line}"
            if self.col:
                text += f":{self.col}"
        return text

    def describe(self) -> str:
        """``file:line:col (pointer)`` for messages."""
        where = str(self)
        path = pointer_to_path(self.pointer)
        return f"{where} ({path})" if path else where


def pointer_to_path(pointer: str) -> str:
    """Turn ``/requests/1/expect/status`` into ``requests[1].expect.status``."""
    if not pointer:
        return ""
    out = ""
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if part.isdigit():
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass
class Problem:
    """One thing wrong with the input, with where it is and an optional hint.

    ``quote_source=False``: the location is shown, never the line itself (environment
    and data files hold secrets, and the error comes before any secret is known).
    """

    message: str
    location: Location | None = None
    hint: str = ""
    source_line: str = ""
    quote_source: bool = True
    caret_col: int = 0  # where the caret goes in ``source_line`` when masking moved it (else the location's column)


class RunnerError(Exception):
    """Base of every error the runner reports to the user."""

    exit_code = 2

    def format(self) -> str:
        """The text shown to the user."""
        return str(self)

    def mask(self, mask: Callable[[str], str]) -> RunnerError:
        """This error with its text masked by ``mask`` (the redactor's, once secrets are known); returned for ``raise``."""
        if self.args and isinstance(self.args[0], str):
            self.args = (mask(self.args[0]), *self.args[1:])
        return self


class InputError(RunnerError):
    """The input is invalid; holds every problem found, so they are shown together."""

    def __init__(self, problems: list[Problem] | Problem | str, location: Location | None = None):
        if isinstance(problems, str):
            problems = [Problem(problems, location)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = problems
        super().__init__(self.format())

    def mask(self, mask: Callable[[str], str]) -> InputError:
        """Every problem with its text masked; the caret follows the masked line (a secret before it makes it shorter)."""
        for problem in self.problems:
            problem.message = mask(problem.message)
            problem.hint = mask(problem.hint)
            col = problem.caret_col or (problem.location.col if problem.location is not None else 0)
            if problem.source_line and col:  # masked again (more secrets known): from where the caret is now
                problem.caret_col = len(mask(problem.source_line[: col - 1])) + 1
            problem.source_line = mask(problem.source_line)
            if problem.location is not None:  # a file named on the command line may be named after a secret
                problem.location = replace(problem.location, file=mask(problem.location.file), pointer=mask(problem.location.pointer))
        self.args = (self.format(),)
        return self

    def format(self) -> str:
        """Every problem as a block: message, location arrow, source line with caret, hint."""
        blocks = []
        for problem in self.problems:
            lines = [f"error: {problem.message}"]
            if problem.location is not None:
                lines.append(f"  --> {problem.location.describe()}")
                if problem.quote_source and not problem.source_line:
                    problem.source_line = _read_line(problem.location)
                if problem.quote_source and problem.source_line:
                    number = str(problem.location.line)
                    pad = " " * len(number)
                    lines.append(f"  {pad} |")
                    lines.append(f"  {number} | {problem.source_line}")
                    col = problem.caret_col or problem.location.col
                    if col:
                        lines.append(f"  {pad} | {' ' * (col - 1)}^")
            if problem.hint:
                lines.append(f"  hint: {problem.hint}")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def _read_line(location: Location) -> str:
    """The source line a location points at, read on the error path only."""
    if location.line < 1:
        return ""
    try:
        with open(location.file, encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                if number == location.line:
                    return line.rstrip("\r\n")
    except (OSError, UnicodeDecodeError):
        pass
    return ""


class UsageError(RunnerError):
    """The command line is wrong."""


class ReportError(RunnerError):
    """A report file could not be written."""


class SaveError(RunnerError):
    """``--save-examples`` could not edit a collection file; the file is left as it was."""


class InternalError(RunnerError):
    """An unexpected exception (a bug), with its message masked; exit 1 once requests may have been sent."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code

    def format(self) -> str:
        """The masked message and what to do about it."""
        return f"internal error: {self}\n(run again with --traceback for details; please report this)"


class TransportError(Exception):
    """A request could not be completed; ``cause`` is a one-line reason for reports."""

    def __init__(self, cause: str, kind: str = "transport"):
        super().__init__(cause)
        self.cause = cause
        self.kind = kind


class RunInterrupted(Exception):
    """The user pressed Ctrl-C."""

    exit_code = 130
