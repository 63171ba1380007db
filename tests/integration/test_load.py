"""runner load: Locust users over real loopback HTTP, headless and distributed (every process started and stopped here)."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CANARY = "sk-load-canary-5f3a9e1d7c"

COLLECTION = """\
name: shop
secrets: [key]
vars:
  key: "{{ env.SHOP_KEY }}"
requests:
  - name: list items
    url: /items
    params: {api_key: "{{ key }}"}
    expect: {status: 200, json: {"$.items": {length: 2}}}
    capture: {first: "$.items[0]"}
    example: {status: 200, json: {items: [a, b]}}
  - name: read the first item
    url: "/items/{{ first }}"
    params: {api_key: "{{ key }}"}
    expect: {status: 200}
    example: {status: 200, json: {id: a}}
"""

FAILING = """\
name: broken
requests:
  - name: wrong status
    url: /x
    expect: {status: 201}
    example: {status: 200, json: {ok: true}}
"""


def _runner(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "SHOP_KEY": CANARY}
    return subprocess.Popen([sys.executable, "-m", "runner.cli", *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
        raise AssertionError(f"runner load did not stop in {timeout} s:\n{out[-3000:]}") from None
    return process.returncode, out


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    with path.open(newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text and CANARY[:8] not in text


def test_a_headless_run_sends_checks_and_writes_locust_reports_without_secrets(write: Any, project: Path) -> None:
    write("load/shop.yaml", COLLECTION)
    code, out = _finish(_runner("load", "load", "--mock", "--users", "10", "--spawn-rate", "10", "--run-time", "4s", "--csv", "stats", "--html", "report.html", cwd=project))
    assert code == 0, out[-3000:]
    rows = _rows(project / "stats_stats.csv")
    assert int(rows["shop > list items"]["Request Count"]) > 0
    assert int(rows["shop > read the first item"]["Request Count"]) > 0  # the capture flowed into the second request
    assert int(rows["Aggregated"]["Failure Count"]) == 0
    assert "Response time percentiles" in out and "shop > list items" in out
    _no_canary(out, *(path.read_text() for path in project.glob("stats_*.csv")), (project / "report.html").read_text())


def test_a_failed_check_is_a_locust_failure_with_runners_message_and_exit_1(write: Any, project: Path) -> None:
    write("load/broken.yaml", FAILING)
    code, out = _finish(_runner("load", "load", "--mock", "--users", "2", "--spawn-rate", "2", "--run-time", "2s", "--think", "0.05-0.1s", "--csv", "s", cwd=project))
    assert code == 1, out[-3000:]
    failures = (project / "s_failures.csv").read_text()
    assert "status: expected 201, got 200" in failures
    assert int(_rows(project / "s_stats.csv")["Aggregated"]["Failure Count"]) > 0


def test_a_master_with_two_workers_on_loopback(write: Any, project: Path) -> None:
    write("load/shop.yaml", COLLECTION)
    port = str(_free_port())
    master = _runner("load", "load", "--mock", "--master", "--expect-workers", "2", "--master-port", port, "--users", "4", "--spawn-rate", "4", "--run-time", "3s", "--csv", "dist", cwd=project)
    workers = [_runner("load", "load", "--worker", "--master-host", "127.0.0.1", "--master-port", port, "--mock", cwd=project) for _ in range(2)]
    try:
        code, out = _finish(master)
        assert code == 0, out[-3000:]
        assert int(_rows(project / "dist_stats.csv")["Aggregated"]["Request Count"]) > 0
        for worker in workers:
            worker_code, worker_out = _finish(worker, timeout=30)  # a worker quits when its master does
            assert worker_code == 0, worker_out[-3000:]
            _no_canary(worker_out)
        _no_canary(out, (project / "dist_stats.csv").read_text())
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
                process.communicate()


def test_a_worker_whose_master_never_answers_gives_up_after_master_wait(write: Any, project: Path) -> None:
    from fault_servers import closed_port

    write("load/shop.yaml", COLLECTION)
    port = closed_port()
    code, out = _finish(_runner("load", "load", "--mock", "--worker", "--master-port", str(port), "--master-wait", "1s", cwd=project), timeout=30)
    assert code == 2, out[-3000:]
    assert f"no master answered on 127.0.0.1:{port} within 1s" in out and "--master-wait" in out and "Traceback" not in out


@pytest.mark.parametrize(("host", "message"), [(f"user:{CANARY}@127.0.0.1", "cannot connect to --master-host 'user:****@127.0.0.1'"), (CANARY, "no master answered on ****:")], ids=["zmq-refuses-the-address", "no-master"])
def test_a_worker_error_masks_a_secret_typed_as_the_master_host(host: str, message: str, write: Any, project: Path) -> None:
    write("load/shop.yaml", COLLECTION)
    code, out = _finish(_runner("load", "load", "--mock", "--worker", "--master-host", host, "--master-wait", "1s", cwd=project), timeout=30)
    assert code == 2, out[-3000:]
    assert message in out and "Traceback" not in out and "internal error" not in out, out[-3000:]
    _no_canary(out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--master", "--worker"], "--master and --worker cannot be used together"),
        (["--worker", "--master-wait", "soon"], "--master-wait 'soon': expected a duration"),
        (["--think", "2-1s"], "the low end is above the high end"),
        (["--run-time", "soon"], "expected a duration"),
        (["--html", "exists.html"], "exists.html exists; pass --force"),
    ],
    ids=["master-and-worker", "master-wait-words", "think-backwards", "run-time-words", "no-overwrite"],
)
def test_bad_load_options_are_usage_errors(args: list[str], message: str, write: Any, project: Path) -> None:
    write("load/shop.yaml", COLLECTION)
    write("exists.html", "keep")
    code, out = _finish(_runner("load", "load", "--mock", *args, cwd=project))
    assert code == 2, out
    assert message in out and "Traceback" not in out
    assert (project / "exists.html").read_text() == "keep"


def test_without_locust_the_error_says_which_extra_to_install(write: Any, project: Path) -> None:
    write("load/shop.yaml", COLLECTION)
    blocked = "import sys; sys.modules['locust'] = None; from runner.cli import main; main()"
    result = subprocess.run([sys.executable, "-c", blocked, "load", "load"], cwd=project, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "pip install 'runner[load]'" in result.stderr


def test_report_paths_are_checked_before_the_load_and_their_folders_made(write: Any, project: Path) -> None:
    write("load/shop.yaml", COLLECTION)
    (project / "a-folder").mkdir()
    code, out = _finish(_runner("load", "load", "--mock", "--html", "a-folder", cwd=project))
    assert code == 2 and "a-folder is a folder" in out and "Traceback" not in out
    assert "Aggregated" not in out  # refused before any load ran
    code, out = _finish(_runner("load", "load", "--mock", "--run-time", "1s", "--html", "new/sub/report.html", "--csv", "more/s", cwd=project))
    assert code == 0, out[-3000:]
    assert (project / "new/sub/report.html").is_file() and (project / "more/s_stats.csv").is_file()


def test_the_web_ui_serves_and_starts_the_load(write: Any, project: Path) -> None:
    import selectors
    import signal
    import time

    import httpx

    write("load/shop.yaml", COLLECTION)
    process = _runner("load", "load", "--mock", "--web", "--web-port", "0", cwd=project)
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        url, seen, deadline = "", "", time.monotonic() + 30
        while not url and time.monotonic() < deadline and selector.select(timeout=deadline - time.monotonic()):  # start-up may take seconds on a busy machine
            line = process.stdout.readline()
            if not line:
                break
            seen += line
            if "web UI on " in line:
                url = line.split("web UI on ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:"), seen[-3000:]
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.get("/").status_code == 200
            assert client.post("/swarm", data={"user_count": "2", "spawn_rate": "2"}).json()["success"] is True
            for _ in range(50):  # the users start in the background: at most 5 s
                stats = client.get("/stats/requests").json()
                if any(row["num_requests"] for row in stats["stats"]):
                    break
                time.sleep(0.1)
        names = {row["name"] for row in stats["stats"]}
        assert "shop > list items" in names
        process.send_signal(signal.SIGINT)
        code, out = _finish(process, timeout=30)
        assert code == 130, out[-3000:]
        _no_canary(seen, out, str(stats))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
