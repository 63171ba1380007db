"""``--watch`` in a real subprocess, driven by file edits: bursts, input errors, carried captures, Ctrl-C.

Every wait is for a line of output, bounded by a deadline; nothing is timed.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer

DEADLINE = 20.0  # seconds any one expected line may take on a loaded machine


class Watched:
    """A ``runner run --watch`` process whose output lines are read by a thread."""

    def __init__(self, args: list[str], cwd: Path):
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-c", "from runner.cli import main; main()", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output = ""
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str) -> str:
        """Read lines until one holds ``text``; return what was read (fail at the deadline)."""
        deadline = time.monotonic() + DEADLINE
        seen = ""
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            seen += line
            self.output += line
            if text in line:
                return seen
        raise AssertionError(f"no line with {text!r} in time; output so far:\n{self.output}")

    def stop(self, stop_signal: int = signal.SIGINT) -> int:
        """Ctrl-C (or another signal); the exit code."""
        self.process.send_signal(stop_signal)
        code = self.process.wait(timeout=DEADLINE)
        self.reader.join(timeout=DEADLINE)
        while not self.lines.empty():
            self.output += self.lines.get()
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


def _save_like_an_editor(path: Path, text: str) -> None:
    """A burst of writes, as editors save: a backup copy, the file written twice, a temporary file renamed over it, a chmod."""
    backup = path.with_name(path.name + "~")
    backup.write_text(path.read_text())
    path.write_text(text[: len(text) // 2])
    path.write_text(text)
    temp = path.with_name("." + path.name + ".swp")
    temp.write_text(text)
    os.replace(temp, path)
    os.chmod(path, 0o644)
    backup.unlink()


COLLECTION = """\
name: watched
base_url: "{{{{ base_url }}}}"
requests:
  - name: make a thing
    url: /make
    capture: {{thing: "$.id"}}
  - name: use the thing
    url: "/things/{{{{ thing }}}}"
    expect: {{status: 200}}
# version {version}
"""


def test_watch_reruns_once_per_save_survives_errors_keeps_captures_and_stops_on_ctrl_c(project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/make").respond_with_json({"id": "t-1"})
    httpserver.expect_request("/things/t-1").respond_with_json({"ok": True})
    collection = project / "c.yaml"
    collection.write_text(COLLECTION.format(version=1))
    env = project / "env.yaml"
    env.write_text(f"base_url: {httpserver.url_for('')}\n")
    watched = Watched(["run", "c.yaml", "-e", "env.yaml", "--request", "use the thing", "--watch"], project)
    try:
        first = watched.wait_for("[watch] watching")
        assert "PASS  GET    make a thing" in first  # no value captured yet: its producer is run too
        assert "2 passed" in first
        paths = [request.path for request, _ in httpserver.log]
        assert paths == ["/make", "/things/t-1"]

        _save_like_an_editor(collection, COLLECTION.format(version=2))
        second = watched.wait_for("[watch] watching")
        assert second.count("change seen") == 1
        assert "make a thing" not in second and "1 passed" in second  # the captured value stands in for it
        assert [request.path for request, _ in httpserver.log][2:] == ["/things/t-1"]

        collection.write_text("name: [unclosed\n")
        broken = watched.wait_for("[watch] watching")
        assert "error: invalid YAML" in broken and "Traceback" not in broken

        collection.write_text(COLLECTION.format(version=3))
        fixed = watched.wait_for("[watch] watching")
        assert "1 passed" in fixed

        env.write_text(f"base_url: {httpserver.url_for('')}\n# an environment edit counts too\n")
        again = watched.wait_for("[watch] watching")
        assert "1 passed" in again
    finally:
        code = watched.stop()
    assert code == 130, watched.output
    assert watched.output.count("change seen") == 4  # one per save: the editor's burst made one run
    assert watched.output.rstrip().endswith("interrupted")


def test_sigterm_while_watching_exits_130(project: Path, httpserver: HTTPServer) -> None:
    """``docker stop`` and CI services send SIGTERM: the loop ends as with Ctrl-C."""
    httpserver.expect_request("/ping").respond_with_json({"ok": True})
    (project / "p.yaml").write_text(f"name: p\nbase_url: {httpserver.url_for('')}\nrequests:\n  - name: ping\n    url: /ping\n")
    watched = Watched(["run", "p.yaml", "--watch"], project)
    try:
        watched.wait_for("[watch] watching")
    finally:
        code = watched.stop(signal.SIGTERM)
    assert code == 130, watched.output
    assert "Traceback" not in watched.output and watched.output.rstrip().endswith("interrupted")


def test_on_a_terminal_each_run_starts_on_a_clear_screen(project: Path, httpserver: HTTPServer) -> None:
    """In-process, on a fake terminal: the screen is cleared before a run; a stop event ends the watch."""
    import io

    from runner.explore.watch import CLEAR, watch_session
    from runner.session import RunSettings

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    httpserver.expect_request("/ping").respond_with_json({"ok": True})
    path = project / "p.yaml"
    path.write_text(f"name: p\nbase_url: {httpserver.url_for('')}\nrequests:\n  - name: ping\n    url: /ping\n")
    screen, stop, errors = Terminal(), threading.Event(), []
    settings = RunSettings(paths=[str(path)], stdout=screen, color=False)
    worker = threading.Thread(target=lambda: errors.append(watch_session(settings, errors.append, stop)))
    worker.start()
    deadline = time.monotonic() + DEADLINE
    while "[watch] watching" not in screen.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    path.write_text(path.read_text() + "# saved\n")
    while screen.getvalue().count("[watch] watching") < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    worker.join(DEADLINE)
    assert errors == [130]
    output = screen.getvalue()
    assert output.startswith(CLEAR) and output.count(CLEAR) == 2
    assert output.split(CLEAR)[2].startswith("[watch] change seen: running again")
