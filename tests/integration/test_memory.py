"""Peak memory of a real ``runner run`` child process, measured, with a bound: no timing.

The child is started by a small wrapper process whose ``RUSAGE_CHILDREN`` then
holds the runner's peak RSS alone (in this test process it would hold the
largest child any earlier test started).
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from fault_servers import respond, serve

MIB = 1024 * 1024

_MEASURE = textwrap.dedent("""
    import resource, subprocess, sys
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
    sys.stdout.write(done.stdout + "\\n" + done.stderr + f"\\nexit={done.returncode}\\npeak_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n")
""")


def peak_rss(*args: str, cwd: Path) -> tuple[int, str]:
    """Run ``runner ARGS`` in a child; return its peak RSS in bytes and its output."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "runner.cli", *args], capture_output=True, text=True, timeout=180, cwd=cwd)
    output = done.stdout + done.stderr
    return int(output.rsplit("peak_kib=", 1)[1].split()[0]) * 1024, output


@pytest.fixture(scope="module")
def double_gzip_bomb() -> bytes:
    """256 MiB of zeros as ``gzip, gzip``: about 1 KB on the wire."""
    return gzip.compress(gzip.compress(b"\0" * (256 * MIB), 1), 9)


def test_a_double_gzip_bomb_costs_no_more_than_the_cap(project: Path, write: Any, double_gzip_bomb: bytes) -> None:
    with serve(respond(body=double_gzip_bomb, headers={"Content-Type": "application/json", "Content-Encoding": "gzip, gzip"})) as server:
        write("bomb.yaml", f"name: bomb\nrequests:\n  - {{name: get, url: '{server.url}/x', max_response_bytes: 4194304}}\n")
        peak, output = peak_rss("run", "bomb.yaml", cwd=project)
    assert "exit=1" in output and "larger than max_response_bytes (4194304 bytes)" in output, output
    assert peak < 120 * MIB, f"peak RSS {peak / MIB:.0f} MiB for a 4 MiB cap"


def _many_events(count: int) -> Any:
    """A raw-socket handler streaming ``count`` tiny events (the wire holds 9 bytes an event)."""
    from fault_servers import Connection

    def handler(conn: Connection) -> None:
        conn.read_request()
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        block = b"data: x\n\n" * 10_000
        for _ in range(count // 10_000):
            if not conn.send(block):
                return
        conn.sock.close()

    return handler


def test_a_flood_of_small_events_is_capped(project: Path, write: Any) -> None:
    from runner.streaming import MAX_EVENTS

    with serve(_many_events(1_000_000)) as server:
        write("sse.yaml", f"name: sse\nrequests:\n  - {{name: flood, url: '{server.url}/x'}}\n")
        peak, output = peak_rss("run", "sse.yaml", cwd=project)
    assert "exit=1" in output and f"more than {MAX_EVENTS} events" in output, output
    assert peak < 160 * MIB, f"peak RSS {peak / MIB:.0f} MiB for 1,000,000 events"
