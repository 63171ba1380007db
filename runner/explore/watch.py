"""``--watch``: run again whenever an input file changes, until Ctrl-C.

The files watched are those the last run read: collections, the environment and
data files, schema files; and any new ``*.yaml`` in a folder given on the command
line.  Their folders are watched (not the files: an editor that saves by writing
a new file and renaming it would end a watch on the old one), one level deep.

An editor's save is often a burst of writes (a backup, the file, a rename, a
chmod): watchfiles groups the changes that come less than ``STEP_MS`` apart into
one, so a burst gives one run.  Input errors are printed and the loop waits for
the next save; captured values of the last run stay for requests not selected
next time (``ExploreState.carried``).  A write by ``--save-examples`` itself is
not a change to run again for.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Any, Callable, Iterator

from ..errors import EXIT_INTERRUPTED, RunnerError, UsageError
from . import ExploreState

STEP_MS = 50  # changes closer together than this are one change
DEBOUNCE_MS = 1600  # the longest a steady stream of changes is grouped before a run starts anyway
CHECK_MS = 300  # with no event this long, compare the files with how they were when the run started
CLEAR = "\x1b[H\x1b[2J\x1b[3J"


def watch_session(settings: Any, report_error: Callable[[RunnerError], None], stop: Any = None) -> int:
    """Run, then run again on every change of an input file; return 130 on Ctrl-C."""
    try:
        import watchfiles  # noqa: F401
    except ImportError as exc:
        raise UsageError("--watch needs the watchfiles package: pip install 'runner[watch]'") from exc
    with _sigterm_as_ctrl_c():  # for the whole loop: a signal between two runs ends it too
        return _loop(settings, report_error, stop)


def _loop(settings: Any, report_error: Callable[[RunnerError], None], stop: Any) -> int:
    from ..session import run_session

    state = ExploreState()
    settings.explore_state = state
    out = settings.stdout or sys.stdout
    tty = bool(getattr(out, "isatty", lambda: False)())
    given = [os.path.abspath(path) for path in settings.paths]
    state.files = {path for path in given if os.path.isfile(path)}
    state.files |= {os.path.abspath(path) for path in (settings.env_file, settings.data_file) if path}
    changed = False
    while True:
        if tty:
            out.write(CLEAR)
        if changed:
            _note(out, "change seen: running again")
        before = _snapshot(state.files)  # a file saved while the run reads it, or before the watch starts, is a change too
        try:
            code = run_session(settings)
        except RunnerError as error:
            out.flush()
            report_error(error)
            code = error.exit_code
        if code == EXIT_INTERRUPTED:
            return code
        folders = _folders(state.files, given)
        _note(out, f"watching {len(state.files)} file(s) in {len(folders)} folder(s) for changes (Ctrl-C to stop)")
        if not _wait_for_change(state, folders, given, stop, before):
            return EXIT_INTERRUPTED
        changed = True


def _note(out: Any, text: str) -> None:
    if text:
        out.write(f"[watch] {text}\n")
        out.flush()


def _folders(files: set[str], given: list[str]) -> list[str]:
    folders = {os.path.dirname(path) for path in files} | {path for path in given if os.path.isdir(path)}
    return sorted(folder for folder in folders if os.path.isdir(folder))


def _snapshot(files: set[str]) -> dict[str, Any]:
    return {path: _stat(path) for path in files}


def _stat(path: str) -> Any:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _wait_for_change(state: ExploreState, folders: list[str], given: list[str], stop: Any, before: dict[str, Any]) -> bool:
    """Block until a file the run depends on changes; False when told to stop."""
    import watchfiles

    given_folders = {path for path in given if os.path.isdir(path)}

    def relevant(change: Any, path: str) -> bool:
        path = os.path.abspath(path)
        if path in state.files:
            return True
        return os.path.dirname(path) in given_folders and path.endswith((".yaml", ".yml"))

    changes_seen = _watch(watchfiles, folders, relevant, stop)
    try:
        return _next_change(state, changes_seen, before)
    finally:
        changes_seen.close()  # the watcher stops now, not when collected


@contextlib.contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (``docker stop``, a CI service) ends the loop as Ctrl-C does: exit 130 (a run installs its own handler meanwhile)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        yield
        return

    def interrupt(number: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _next_change(state: ExploreState, changes_seen: Iterator[set[Any]], before: dict[str, Any]) -> bool:
    for changes in changes_seen:
        if not changes:  # no event yet: was something saved before the watcher started?
            if any(_stat(path) != seen and not _our_own_write(state, path) for path, seen in before.items()):
                return True
            continue
        paths = {os.path.abspath(path) for _, path in changes}
        if all(_our_own_write(state, path) for path in paths):
            continue
        return True
    return False


def _watch(watchfiles: Any, folders: list[str], relevant: Callable[[Any, str], bool], stop: Any) -> Iterator[set[Any]]:
    yield from watchfiles.watch(*folders, watch_filter=relevant, debounce=DEBOUNCE_MS, step=STEP_MS, recursive=False, stop_event=stop, raise_interrupt=True, rust_timeout=CHECK_MS, yield_on_timeout=True)


def _our_own_write(state: ExploreState, path: str) -> bool:
    """Whether ``path`` holds exactly what ``--save-examples`` wrote into it (no one else changed it since)."""
    written = state.written.get(path)
    if written is None:
        return False
    try:
        with open(path, encoding="utf-8", newline="") as file:
            return file.read() == written
    except OSError:
        return False
