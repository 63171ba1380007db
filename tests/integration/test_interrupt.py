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
import time
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


def _interrupted_run(server: FaultServer, slow_arrived: threading.Event, project: Path, jobs: str, signals: int) -> tuple[int, str, Path, Path]:
    """Run 400 quick requests and a slow one; SIGINT when the slow one is in flight, then again as the reports are written.

    The console prints its summary first, then the file reports are written:
    the summary line on stdout is the moment to send the next signals (what
    ``timeout -s INT`` without ``--foreground``, or a hurried Ctrl-C, delivers).
    """
    quick = "".join(f"  - {{name: quick {n}, url: /fast}}\n" for n in range(400))
    collection = project / "slow.yaml"
    collection.write_text(f"name: slow\nbase_url: {server.url}\nrequests:\n{quick}  - {{name: slow one, url: /slow, timeout: 60}}\n", encoding="utf-8")
    json_report, junit_report = project / "report.json", project / "junit.xml"
    reports = ["--report", f"json:{json_report}", "--report", f"junit:{junit_report}", "--report", f"html:{project / 'r.html'}", "--report", f"markdown:{project / 'r.md'}"]
    command = [*runner_command(), "run", str(collection), "-q", "--jobs", jobs, *reports]
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=project, env=env) as process:
        assert process.stdout is not None
        assert slow_arrived.wait(30)
        process.send_signal(signal.SIGINT)
        output = ""
        while " skipped in " not in output:  # the console's summary: the file reports are being written now
            line = process.stdout.readline()
            if not line:
                break
            output += line
        for _ in range(signals - 1):
            process.send_signal(signal.SIGINT)
            time.sleep(0.002)  # two signals sent at once would arrive as one
        output += process.stdout.read()
        process.wait(timeout=30)
    return process.returncode, output, json_report, junit_report


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_second_sigint_does_not_lose_the_reports(slow_server: tuple[FaultServer, threading.Event], project: Path, jobs: str) -> None:
    code, output, json_report, junit_report = _interrupted_run(*slow_server, project, jobs, signals=2)
    assert code == 130, output
    assert "Traceback" not in output
    document = json.loads(json_report.read_text(encoding="utf-8"))
    assert document["interrupted"] is True
    names = [request["name"] for collection in document["collections"] for request in collection["requests"]]
    assert names[:40] == [f"quick {n}" for n in range(40)]
    assert "quick 39" in junit_report.read_text(encoding="utf-8")


def test_a_third_sigint_exits_leaving_complete_reports_or_none(slow_server: tuple[FaultServer, threading.Event], project: Path) -> None:
    code, output, json_report, junit_report = _interrupted_run(*slow_server, project, "1", signals=3)
    assert code == 130, output
    assert "Traceback" not in output
    if json_report.exists():
        assert json.loads(json_report.read_text(encoding="utf-8"))["interrupted"] is True
    if junit_report.exists():
        assert junit_report.read_text(encoding="utf-8").rstrip().endswith("</testsuites>")
