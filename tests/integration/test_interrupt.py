"""Ctrl-C for real: SIGINT (or SIGTERM) to a ``runner`` process mid-run stops it cleanly.

Exit 130, no traceback, the console summary says "interrupted", and the report
files hold the requests that finished before the signal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest
from fault_servers import Connection, FaultServer, serve


@pytest.fixture
def slow_server() -> Iterator[tuple[FaultServer, threading.Event]]:
    """``/fast`` answers at once; ``/slow`` waits until the server stops (``slow_arrived`` is set then)."""
    slow_arrived = threading.Event()

    def handler(conn: Connection) -> None:
        while True:
            head = conn.read_request()
            if not head:
                return
            if b" /slow" in head.split(b"\r\n", 1)[0]:
                slow_arrived.set()
                conn.stall()
                return
            if not conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"):
                return

    with serve(handler) as server:
        yield server, slow_arrived


def runner_command() -> list[str]:
    """The ``runner`` entry point of the interpreter running the tests."""
    return [sys.executable, "-c", "from runner.cli import main; main()"]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_signal_after_the_first_request_exits_130_with_reports(slow_server: tuple[FaultServer, threading.Event], project: Path, jobs: str, stop_signal: signal.Signals) -> None:
    """Ctrl-C, and SIGTERM as CI services, ``timeout`` and ``docker stop`` send it."""
    server, slow_arrived = slow_server
    collection = project / "slow.yaml"
    collection.write_text(
        f"""
name: slow
base_url: {server.url}
requests:
  - name: quick one
    url: /fast
  - name: slow one
    url: /slow
    timeout: 60
  - name: never sent
    url: /fast
""",
        encoding="utf-8",
    )
    json_report, junit_report = project / "report.json", project / "junit.xml"
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}  # see each console line as it is printed
    command = [*runner_command(), "run", str(collection), "--jobs", jobs, "--report", f"json:{json_report}", "--report", f"junit:{junit_report}"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=project, env=env) as process:
        assert process.stdout is not None
        output = ""
        while "quick one" not in output:  # the first request has finished
            line = process.stdout.readline()
            assert line, output
            output += line
        assert slow_arrived.wait(30)  # the slow request is in flight: interrupt it there
        process.send_signal(stop_signal)
        output += process.stdout.read()
        process.wait(timeout=30)

    assert process.returncode == 130, output
    assert "Traceback" not in output
    assert "interrupted" in output
    assert "never sent" not in output
    document = json.loads(json_report.read_text(encoding="utf-8"))
    assert document["interrupted"] is True
    names = [request["name"] for collection in document["collections"] for request in collection["requests"]]
    assert names[0] == "quick one"
    assert "never sent" not in names
    assert "quick one" in junit_report.read_text(encoding="utf-8")



def test_sigint_while_waiting_to_retry_exits_130(project: Path) -> None:
    answered = threading.Event()

    def unavailable(conn: Connection) -> None:
        while conn.read_request():
            if not conn.send(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"):
                return
            answered.set()

    with serve(unavailable) as server:
        collection = project / "retry.yaml"
        collection.write_text(f"name: r\nretries: {{count: 3, backoff: 60}}\nrequests:\n  - name: busy\n    url: {server.url}/\n", encoding="utf-8")
        with subprocess.Popen([*runner_command(), "run", str(collection)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=project) as process:
            assert answered.wait(30)  # the first attempt was answered: the runner now waits a minute before the next
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert "interrupted" in stdout
