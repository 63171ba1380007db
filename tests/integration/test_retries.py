"""Retries against real servers: 503 then 200, 429 with Retry-After, a refused port.

Waits are kept tiny (``backoff: 0.01``).  Where the length of a wait is the point
(backoff growth, ``Retry-After``, the cap) the engine runs with an injected
``sleep`` that records what it was asked to wait instead of waiting.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fault_servers import Connection, closed_port, serve

from runner.engine import RunContext, run_plan
from runner.plan import PlanInput, build_plan
from runner.render import RunOptions
from runner.results import RunResult


class Script:
    """A handler answering the n-th request with the n-th response (the last repeats); it records methods."""

    def __init__(self, *responses: tuple[int, dict[str, str]]):
        self.responses = list(responses)
        self.methods: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, conn: Connection) -> None:
        while True:
            head = conn.read_request()
            if not head:
                return
            with self._lock:
                self.methods.append(head.split(b" ", 1)[0].decode())
                status, headers = self.responses[min(len(self.methods), len(self.responses)) - 1]
            body = b'{"ok": true}'
            fields = {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}
            head_out = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
            if not conn.send(head_out.encode() + body):
                return


def collection(url: str, request: str = "", top: str = "") -> str:
    """A one-request collection named ``call`` expecting 200."""
    return f"name: retries\n{top}requests:\n  - name: call\n    url: {url}/\n{request}    expect:\n      status: 200\n"


def report_request(path: Path) -> dict[str, Any]:
    """The only request of a JSON report."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return document["collections"][0]["requests"][0]


def run_engine(path: Path, retries: int | None = None) -> tuple[RunResult, list[float]]:
    """Run a collection through the engine; waits are recorded, not slept."""
    plan = build_plan(PlanInput([str(path)]))
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    context = RunContext(templates=plan.templates, schemas=plan.schemas, options=RunOptions(retries=retries), sleep=record)
    return asyncio.run(run_plan(plan.runs, context, [])), delays


def attempts_of(result: RunResult) -> list[Any]:
    """The attempts of the run's only request."""
    return result.collections[0].requests[0].attempts


def test_503_then_200_passes_and_every_attempt_is_recorded(run_cli: Any, write: Any, project: Path) -> None:
    script = Script((503, {}), (200, {}))
    with serve(script) as server:
        path = write("c.yaml", collection(server.url, top="retries: {count: 2, backoff: 0.01}\n"))
        result = run_cli("run", str(path), "--report", f"json:{project / 'r.json'}")
    assert result.exit_code == 0, result.output
    assert "(2 attempts)" in result.stdout
    request = report_request(project / "r.json")
    assert [attempt["status"] for attempt in request["attempts"]] == [503, 200]
    assert script.methods == ["GET", "GET"]


def test_the_last_attempt_decides_and_earlier_ones_are_listed(run_cli: Any, write: Any) -> None:
    with serve(Script((503, {}))) as server:
        path = write("c.yaml", collection(server.url, top="retries: {count: 2, backoff: 0.01}\n"))
        result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "attempts 1-2: status 503" in result.stdout  # a run of equal outcomes is one line
    assert "status: expected 200, got 503" in result.stdout


@pytest.mark.parametrize("retry_after", ["0", "Thu, 01 Jan 1970 00:00:00 GMT"], ids=["seconds", "http-date-past"])
def test_429_with_retry_after_is_retried(run_cli: Any, write: Any, retry_after: str) -> None:
    script = Script((429, {"Retry-After": retry_after}), (200, {}))
    with serve(script) as server:
        path = write("c.yaml", collection(server.url, top="retries: {count: 1, backoff: 0.01}\n"))
        result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output
    assert len(script.methods) == 2


@pytest.mark.parametrize(
    ("retry_after", "max_delay", "low", "high"),
    [
        pytest.param("7", 30, 7, 7, id="seconds"),
        pytest.param("3600", 2.5, 2.5, 2.5, id="seconds-capped"),
        pytest.param("date+100", 1000, 90, 100, id="http-date"),
        pytest.param("date+600", 20, 20, 20, id="http-date-capped"),
        pytest.param("not a date", 30, 0.005, 0.015, id="unparsable-uses-backoff"),
    ],
)
def test_retry_after_is_honoured_up_to_max_delay(write: Any, retry_after: str, max_delay: float, low: float, high: float) -> None:
    if retry_after.startswith("date+"):
        retry_after = email.utils.formatdate(time.time() + int(retry_after[5:]), usegmt=True)
    with serve(Script((429, {"Retry-After": retry_after}), (200, {}))) as server:
        path = write("c.yaml", collection(server.url, top=f"retries: {{count: 1, backoff: 0.01, max_delay: {max_delay}}}\n"))
        result, delays = run_engine(path)
    assert result.ok
    assert len(delays) == 1
    assert low <= delays[0] <= high


def test_backoff_grows_exponentially_with_jitter_and_is_capped(write: Any) -> None:
    port = closed_port()
    path = write("c.yaml", collection(f"http://127.0.0.1:{port}", top='retries: {count: 6, backoff: 1, max_delay: 10, "on": [transport]}\n'))
    result, delays = run_engine(path)
    assert not result.ok
    assert len(delays) == 6
    for number, delay in enumerate(delays):
        base = 2**number
        assert min(10, 0.5 * base) <= delay <= min(10, 1.5 * base)
    assert delays[-1] == 10  # 32 s of backoff, 16 s at least with jitter: always capped


def test_a_refused_port_is_retried_as_a_transport_fault(run_cli: Any, write: Any, project: Path) -> None:
    path = write("c.yaml", collection(f"http://127.0.0.1:{closed_port()}", top="retries: {count: 2, backoff: 0.01}\n"))
    result = run_cli("run", str(path), "--report", f"json:{project / 'r.json'}")
    assert result.exit_code == 1
    request = report_request(project / "r.json")
    assert request["outcome"] == "error"
    assert [(a["status"], a["error"]) for a in request["attempts"]] == [(None, "connection refused")] * 3
    assert "attempts 1-2: connection refused" in result.stdout
    assert "connection refused  (3 attempts)" in result.stdout  # on the request's own line too


def test_transport_faults_are_not_retried_unless_listed(write: Any) -> None:
    path = write("c.yaml", collection(f"http://127.0.0.1:{closed_port()}", top='retries: {count: 3, backoff: 0.01, "on": [503]}\n'))
    result, delays = run_engine(path)
    assert len(attempts_of(result)) == 1
    assert delays == []


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_non_idempotent_methods_are_retried_only_when_listed(write: Any, method: str) -> None:
    request = f"    method: {method}\n    json: {{a: 1}}\n"
    default = Script((503, {}), (200, {}))
    with serve(default) as server:
        result, _ = run_engine(write("a.yaml", collection(server.url, request, "retries: {count: 2, backoff: 0.01}\n")))
    assert not result.ok
    assert default.methods == [method]
    listed = Script((503, {}), (200, {}))
    with serve(listed) as server:
        result, _ = run_engine(write("b.yaml", collection(server.url, request, f"retries: {{count: 2, backoff: 0.01, methods: [{method.lower()}]}}\n")))
    assert result.ok
    assert listed.methods == [method, method]


def test_status_classes_and_codes_in_on(write: Any) -> None:
    by_class = Script((500, {}), (200, {}))
    with serve(by_class) as server:
        result, _ = run_engine(write("a.yaml", collection(server.url, top='retries: {count: 1, backoff: 0.01, "on": ["5xx"]}\n')))
    assert result.ok and len(by_class.methods) == 2
    default_on = Script((500, {}), (200, {}))  # 500 is not in the default list
    with serve(default_on) as server:
        result, _ = run_engine(write("b.yaml", collection(server.url, top="retries: {count: 1, backoff: 0.01}\n")))
    assert not result.ok and len(default_on.methods) == 1


def test_the_request_policy_beats_the_collection_policy(write: Any) -> None:
    script = Script((503, {}), (503, {}), (200, {}))
    with serve(script) as server:
        path = write("c.yaml", collection(server.url, "    retries: {count: 2, backoff: 0.01}\n", "retries: {count: 0}\n"))
        result, _ = run_engine(path)
    assert result.ok
    assert len(script.methods) == 3


def test_cli_retries_sets_the_count_and_keeps_the_policy(run_cli: Any, write: Any) -> None:
    script = Script((503, {}), (503, {}), (200, {}))
    with serve(script) as server:
        path = write("c.yaml", collection(server.url, top="retries: {count: 0, backoff: 0.01}\n"))
        without = run_cli("run", str(path))
        script.methods.clear()
        script.responses = [(503, {}), (503, {}), (200, {})]
        with_option = run_cli("run", str(path), "--retries", "2")
    assert without.exit_code == 1
    assert with_option.exit_code == 0, with_option.output
    assert "(3 attempts)" in with_option.stdout


def test_cli_retries_without_a_policy_uses_the_defaults(write: Any) -> None:
    with serve(Script((502, {}), (200, {}))) as server:
        result, delays = run_engine(write("c.yaml", collection(server.url)), retries=1)
    assert result.ok
    assert len(delays) == 1 and 0.25 <= delays[0] <= 0.75  # default backoff 0.5 s, jitter 50-150 %


def test_retry_numbers_may_be_templates(write: Any) -> None:
    script = Script((503, {}), (200, {}))
    with serve(script) as server:
        path = write("c.yaml", collection(server.url, top='vars: {tries: 3, wait: 0.01}\nretries: {count: "{{ tries }}", backoff: "{{ wait }}"}\n'))
        result, delays = run_engine(path)
    assert result.ok
    assert len(delays) == 1 and delays[0] <= 0.015


def test_a_retry_number_that_is_not_a_number_fails_the_request(run_cli: Any, write: Any) -> None:
    path = write("c.yaml", collection("http://127.0.0.1:9", top='vars: {tries: many}\nretries: "{{ tries }}"\n'))
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "retries.count: 'many' is not a number >= 0" in result.stdout

