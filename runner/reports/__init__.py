"""Reports: each subscribes to the engine's events (see ``base.Reporter``).

``--report FORMAT:PATH`` picks a writer from ``FORMATS``; each is imported only
when asked for.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, Iterable, TextIO

from ..errors import UsageError
from ..redact import Redactor
from .base import Reporter

FORMATS: dict[str, str] = {
    "junit": ".junit:JunitReporter",
    "json": ".json_report:JsonReporter",
    "html": ".html:HtmlReporter",
    "markdown": ".markdown:MarkdownReporter",
    "github": ".github:GithubReporter",
}


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


def make_reporters(specs: list[str], redactor: Redactor, stdout: TextIO | None = None, inputs: Iterable[str] = (), allow_outside: bool = False) -> tuple[list[Reporter], TextIO]:
    """The file reporters for ``--report`` options, and where the console report goes.

    When a report is written to stdout the console report moves to stderr.  Each
    reporter claims its file now, so an unwritable path stops the run before
    anything is sent.  A report may not overwrite another report or one of the
    run's ``inputs`` (collections, environment and data files).
    """
    stdout = stdout or sys.stdout
    parsed = [parse_report_spec(spec) for spec in specs]
    to_stdout = [f"{fmt}:{path}" for fmt, path in parsed if path == "-"]
    if len(to_stdout) > 1:
        raise UsageError(f"only one report can go to stdout ('-'), got {', '.join(to_stdout)}")
    _check_targets(parsed, inputs)
    if not allow_outside:
        _check_no_symlink_escape(parsed)
    reporters: list[Reporter] = []
    try:
        for fmt, path in parsed:
            module_name, _, class_name = FORMATS[fmt].partition(":")
            module = importlib.import_module(module_name, __name__)
            reporter_class: Any = getattr(module, class_name)
            reporters.append(reporter_class(path, redactor, stdout))
    except BaseException:
        for reporter in reporters:
            getattr(reporter, "discard", lambda: None)()
        raise
    return reporters, (sys.stderr if to_stdout else stdout)


def _check_no_symlink_escape(parsed: list[tuple[str, str]]) -> None:
    """A report path inside the project folder that a symlink (the file, or a folder on the way) leads outside of it is refused.

    A cloned repository may hold ``reports -> ~/.config``: ``--report junit:reports/x.xml``
    would then write there.  A path given outside the project is the user's own choice.
    """
    from pathlib import Path

    from ..schemas import find_project_root

    root = find_project_root(Path.cwd() / "x")
    for fmt, path in parsed:
        if path == "-":
            continue
        given = Path(os.path.abspath(path))
        if given.is_relative_to(root) and not Path(os.path.realpath(path)).is_relative_to(root):
            raise UsageError(f"--report {fmt}:{path} leads outside the project folder {root} through a symbolic link (to {os.path.realpath(path)}); pass --allow-outside-files to write there")


def _check_targets(parsed: list[tuple[str, str]], inputs: Iterable[str]) -> None:
    """Refuse a report path that is another report's, or an input file of the run: nothing a user wrote is overwritten."""
    read = {os.path.realpath(path): path for path in inputs}
    claimed: dict[str, str] = {}
    for fmt, path in parsed:
        if path == "-":
            continue
        target = os.path.realpath(path)
        if target in read:
            raise UsageError(f"--report {fmt}:{path} would overwrite {read[target]}, an input of this run")
        if target in claimed:
            raise UsageError(f"--report {fmt}:{path} and --report {claimed[target]} write the same file")
        claimed[target] = f"{fmt}:{path}"
