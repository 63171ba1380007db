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


def _objects(size: int) -> bytes:
    """About ``size`` bytes of JSON: an array of small objects (the shape whose tree costs the most per byte)."""
    item = b'{"id": "%07d", "n": 12345, "tags": ["a", "b"], "ok": true}'
    count = size // (len(item % 0) + 1)
    return b"[" + b",".join(item % i for i in range(count)) + b"]"


def test_json_checks_on_a_large_body_cost_at_most_three_times_the_body(project: Path, write: Any) -> None:
    """JSONPath checks and captures stream a body above the threshold: the peak stays under 3x the body.

    Before, a 16 MB body cost about 140 MiB for ``$[0].id`` and 400 MiB for
    ``$..*`` (its text, then its tree).  A selection over the budget fails its
    check by name; the run goes on and the report is written.
    """
    body = _objects(32 * MIB)  # twice the budget's 16 MiB floor: at the floor, fixed costs (~10 MiB) would sit on the bound
    count = body.count(b'"id"')
    with serve(respond(body=b"", headers={"Content-Type": "application/json"})) as empty, serve(respond(body=body, headers={"Content-Type": "application/json"})) as server:
        write("base.yaml", f"name: base\nrequests:\n  - {{name: get, url: '{empty.url}/x'}}\n")
        baseline, output = peak_rss("run", "base.yaml", cwd=project)
        assert "exit=0" in output, output
        write(
            "big.yaml",
            f"""name: big
requests:
  - name: narrow
    url: '{server.url}/x'
    expect:
      json:
        '$[0].id': '0000000'
        '$..*': {{length: {{gt: 2000000}}}}
    capture:
      third: {{json: '$[2].id'}}
      count: {{json: '$[*]', filters: [count]}}
  - name: everything
    url: '{server.url}/x'
    expect:
      json:
        '$[*]': {{contains: {{id: nope}}}}
  - name: after
    url: '{empty.url}/x?third={{{{ third }}}}&count={{{{ count }}}}'
""",
        )
        peak, output = peak_rss("run", "big.yaml", "--report", "junit:out.xml", cwd=project)
    assert "exit=1" in output, output
    junit = (project / "out.xml").read_text()
    assert junit.count("<failure") == 1 and "(not evaluated: $[*] needs more than 32 MiB of memory for its selection" in junit, junit[:3000]
    assert "narrow the path" in junit and 'tests="3"' in junit
    assert f"third=0000002&amp;count={count}" in junit, junit[-1500:]  # the captures, from the same streamed pass
    over = peak - baseline
    assert over <= 3 * len(body), f"peak RSS {over / MIB:.0f} MiB over the baseline for a {len(body) / MIB:.0f} MiB body"
