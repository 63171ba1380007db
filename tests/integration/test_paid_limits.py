"""Pacing per host, measured by the server: --rate shared by --jobs workers, and slowing down on the server's own rate-limit headers.

Every assertion is about what the server saw (its own clock, on arrival), never
about how long the client took.
"""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


def collection_text(base_url: str, names: list[str], extra: str = "") -> str:
    requests = "".join(f"  - name: {name}\n    url: /ping\n    expect: {{status: 200}}\n" for name in names)
    return f"name: paced\nbase_url: {base_url}\n{extra}requests:\n{requests}"


def recording(arrivals: list[float]) -> Callable[[Request], Response]:
    lock = threading.Lock()

    def respond(request: Request) -> Response:
        with lock:
            arrivals.append(time.monotonic())
        return Response("{}", content_type="application/json")

    return respond


JITTER = 0.1  # how much later than it was sent a request may reach the server (a new connection, a loaded machine)


def gaps(arrivals: list[float]) -> list[float]:
    ordered = sorted(arrivals)
    return [later - earlier for earlier, later in zip(ordered, ordered[1:])]


def assert_paced(arrivals: list[float], interval: float) -> None:
    """Sent ``interval`` apart, the requests arrived at least ``interval - JITTER`` apart, and all of them over the whole span."""
    assert min(gaps(arrivals)) >= interval - JITTER, gaps(arrivals)
    assert max(arrivals) - min(arrivals) >= (len(arrivals) - 1) * interval - JITTER, gaps(arrivals)


def test_rate_spaces_requests_to_a_host_across_jobs_as_the_server_sees_them(run_cli: Any, write: Any, project: Path, threaded_server: HTTPServer) -> None:
    arrivals: list[float] = []
    threaded_server.expect_request("/ping").respond_with_handler(recording(arrivals))
    base = threaded_server.url_for("")
    for number in range(3):  # three collections, three workers, one host: one rate for all of them
        write(f"suite/c{number}.yaml", collection_text(base, [f"c{number} r{index}" for index in range(2)]))
    result = run_cli("run", str(project / "suite"), "--jobs", "3", "--rate", "5/s", "--no-color", cwd=project)
    assert result.exit_code == 0, result.output
    assert len(arrivals) == 6
    assert_paced(arrivals, 0.2)  # 5/s
    assert "waited" in result.stdout and "rate 5/s for http://127.0.0.1:" in result.stdout


def test_the_collection_rate_applies_and_the_command_line_beats_it(run_cli: Any, write: Any, project: Path, threaded_server: HTTPServer) -> None:
    arrivals: list[float] = []
    threaded_server.expect_request("/ping").respond_with_handler(recording(arrivals))
    path = write("paced.yaml", collection_text(threaded_server.url_for(""), ["a", "b", "c"], extra="rate: 1/s\n"))
    result = run_cli("run", str(path), "--rate", "8/s", "--no-color", cwd=project)  # the collection alone would take 2 s
    assert result.exit_code == 0, result.output
    assert_paced(arrivals, 0.125)
    assert "rate 8/s" in result.stdout and "rate 1/s" not in result.stdout
    arrivals.clear()
    env = write("env.yaml", "rate: 4/s\n")
    result = run_cli("run", str(path), "-e", str(env), "--no-color", cwd=project)  # the environment beats the collection
    assert result.exit_code == 0, result.output
    assert_paced(arrivals, 0.25)
    assert "rate 4/s" in result.stdout


class CountingDown:
    """A server that allows ``limit`` requests per ``window`` seconds, says how many remain and when the window resets, and answers 429 past the limit."""

    def __init__(self, limit: int, window: float, style: str):
        self.limit, self.window, self.style = limit, window, style
        self.lock = threading.Lock()
        self.started = 0.0
        self.used = 0
        self.arrivals: list[float] = []
        self.refused = 0

    def __call__(self, request: Request) -> Response:
        with self.lock:
            now = time.monotonic()
            self.arrivals.append(now)
            if now - self.started >= self.window:
                self.started, self.used = now, 0
            if self.used >= self.limit:
                self.refused += 1
                return Response('{"message": "rate limited"}', status=429, content_type="application/json")
            self.used += 1
            remaining = self.limit - self.used
            reset = self.window - (now - self.started)
        if self.style == "openai":
            headers = {"x-ratelimit-limit-requests": str(self.limit), "x-ratelimit-remaining-requests": str(remaining), "x-ratelimit-reset-requests": f"{math.ceil(reset * 1000) + 1}ms"}
        else:  # the IETF draft's structured field: whole seconds
            headers = {"RateLimit-Policy": f'"burst";q={self.limit};w={math.ceil(self.window)}', "RateLimit": f'"burst";r={remaining};t={math.ceil(reset)}'}
        return Response(json.dumps({"remaining": remaining}), content_type="application/json", headers=headers)


@pytest.mark.parametrize(("style", "window"), [("openai", 0.5), ("ietf", 1.0)], ids=["openai-headers", "ietf-ratelimit"])
def test_adaptive_pacing_waits_for_the_window_before_the_server_refuses(run_cli: Any, write: Any, project: Path, threaded_server: HTTPServer, style: str, window: float) -> None:
    counter = CountingDown(limit=2, window=window, style=style)
    threaded_server.expect_request("/ping").respond_with_handler(counter)
    path = write("paced.yaml", collection_text(threaded_server.url_for(""), ["r1", "r2", "r3", "r4", "r5"]))
    result = run_cli("run", str(path), "--no-color", "--report", "json:run.json", cwd=project)
    assert result.exit_code == 0, result.output
    assert counter.refused == 0  # it slowed down before a 429, not after one
    assert len(counter.arrivals) == 5
    # the server saw two requests per window: the third of a pair came after the window's end
    assert counter.arrivals[2] - counter.arrivals[0] >= window and counter.arrivals[4] - counter.arrivals[2] >= window
    assert "no requests left" in result.stdout
    document = json.loads((project / "run.json").read_text())
    reasons = [request["wait_reason"] for request in document["collections"][0]["requests"]]
    assert reasons[0] is None and reasons[2] is not None and "no requests left" in reasons[2]
