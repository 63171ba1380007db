"""Network faults for real: loopback servers that refuse, stall, reset, lie.  The run goes on.

Every fault becomes a failed request (outcome ``error``, or ``failed`` for a
response that arrived but is wrong) with a one-line cause; the requests after it
still run; the exit code is 1.  The last test runs all of them in one go and
checks that nothing (thread, socket, temp file) is left behind.
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from fault_servers import (
    FaultServer,
    close_silently,
    closed_port,
    content_length_lie,
    endless_body,
    garbage,
    half_body,
    redirect_loop,
    reset_mid_body,
    respond,
    serve,
    stall,
    unanswered_port,
)

from runner.reports import FORMATS


@dataclass(frozen=True)
class Fault:
    """A misbehaving endpoint, how to reach it, and what the run must say about it."""

    name: str
    start: Callable[[ExitStack], str]  # starts what is needed, returns the request URL
    cause: str  # the one-line cause, or the failed check's message
    extra: str = ""  # more request keys (YAML, indented for a request)
    outcome: str = "error"


def _server(handler: Callable[..., None]) -> Callable[[ExitStack], str]:
    return lambda stack: stack.enter_context(serve(handler)).url + "/x"


FAULTS = [
    Fault("refused", lambda stack: f"http://127.0.0.1:{closed_port()}/", "connection refused"),
    Fault("dns failure", lambda stack: "http://no-such-host.invalid/", "DNS lookup failed"),
    Fault("connect timeout", lambda stack: f"http://127.0.0.1:{stack.enter_context(unanswered_port())}/", "connect timeout after 0.3 s", "    timeout: 0.3\n"),
    Fault("read timeout", _server(stall), "read timeout after 0.3 s: the server sent nothing more", "    timeout: 0.3\n"),
    Fault("no answer", _server(close_silently), "server closed the connection without a response"),
    Fault("reset mid-body", _server(reset_mid_body), "connection reset by peer"),
    Fault("garbage", _server(garbage), "not a valid HTTP response (illegal status line: '\\x00\\x01 this is not HTTP at all \\xff')"),
    Fault("half a body", _server(half_body), "connection closed before the whole body arrived (incomplete chunked read)"),
    Fault("lying content-length", _server(content_length_lie), "connection closed before the whole body arrived (received 10 bytes, expected 100)"),
    Fault("bad gzip", _server(respond(body=b"not gzip", headers={"Content-Encoding": "gzip"})), "cannot decode the body as its Content-Encoding says"),
    Fault("huge head", _server(respond(body=b"x", headers={"X-Big": "a" * 200_000})), "the response head (status line and headers) is too large"),
    Fault("redirect loop", _server(redirect_loop), "too many redirects (more than 3)", "    follow_redirects: true\n    max_redirects: 3\n"),
    Fault(
        "endless body",
        _server(endless_body),
        "the response is larger than the limit; the rest was not read",
        "    max_response_bytes: 100000\n",
        "failed",
    ),
    Fault(
        "json nested too deep",
        _server(respond(body=b"[" * 100_000 + b"]" * 100_000, headers={"Content-Type": "application/json"})),
        "the body is not JSON (nested more than 100 levels deep)",
        "    expect:\n      json:\n        $[0]: []\n",
        "failed",
    ),
    Fault(  # short enough to be kept whole as the body excerpt that reports pretty-print
        "json 1000 levels deep",
        _server(respond(status="500 Internal Server Error", body=b"[" * 1000 + b"]" * 1000, headers={"Content-Type": "application/json"})),
        "the body is not JSON (nested more than 100 levels deep)",
        "    expect:\n      status: 500\n      json:\n        $[0]: []\n",
        "failed",
    ),
    Fault(
        "invalid json",
        _server(respond(body=b'{"a": 1,', headers={"Content-Type": "application/json"})),
        "the body is not JSON",
        "    expect:\n      json:\n        $.a: 1\n",
        "failed",
    ),
]


def _collection(faults: list[Fault], urls: list[str], after_url: str) -> str:
    requests = "".join(f"  - name: {fault.name}\n    url: {url}\n{fault.extra}" for fault, url in zip(faults, urls))
    return f"name: faults\nrequests:\n{requests}  - name: after\n    url: {after_url}\n    expect:\n      status: 200\n"


def _requests(report: Path) -> dict[str, dict[str, Any]]:
    document = json.loads(report.read_text(encoding="utf-8"))
    return {request["name"]: request for collection in document["collections"] for request in collection["requests"]}


def _cause(request: dict[str, Any]) -> str:
    if request["outcome"] == "error":
        return str(request["error"]["message"])
    return "; ".join(check["message"] for check in request["checks"] if not check["passed"])


@pytest.fixture
def healthy() -> Any:
    """A server that answers 200, for the request after the fault."""
    with serve(respond(body=b"fine", headers={"Content-Type": "text/plain"})) as server:
        yield server


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_a_fault_fails_its_request_and_the_run_goes_on(fault: Fault, run_cli: Any, write: Any, project: Path, healthy: FaultServer) -> None:
    report = project / "report.json"
    with ExitStack() as stack:
        url = fault.start(stack)
        path = write("faults.yaml", _collection([fault], [url], healthy.url + "/"))
        result = run_cli("run", str(path), "--report", f"json:{report}")
    assert result.exit_code == 1, result.output
    assert result.exception is None
    requests = _requests(report)
    assert requests[fault.name]["outcome"] == fault.outcome
    cause = _cause(requests[fault.name])
    assert fault.cause in cause
    assert "\n" not in cause
    assert requests["after"]["outcome"] == "passed"
    mark = "ERR " if fault.outcome == "error" else "FAIL"
    assert any(line.startswith(mark) and fault.name in line for line in result.stdout.splitlines()), result.stdout
    if fault.outcome == "error":
        assert fault.cause in result.stdout


def test_a_body_that_is_not_utf8_is_read_not_a_crash(run_cli: Any, write: Any) -> None:
    body = b"ok \xff\xfe\xfa end"
    with serve(respond(body=body, headers={"Content-Type": "text/plain; charset=utf-8"})) as server:
        path = write("c.yaml", f"""
name: bytes
requests:
  - name: latin
    url: {server.url}/
    expect:
      body: {{contains: "end"}}
      headers: {{content-length: "{len(body)}"}}
""")
        result = run_cli("run", str(path), "-v")
    assert result.exit_code == 0, result.output
    assert "\ufffd" in result.stdout  # shown with replacement characters


def test_an_unusable_ca_bundle_is_an_input_error_and_nothing_is_sent(run_cli: Any, write: Any) -> None:
    with serve(respond(body=b"ok")) as server:
        write("ca.pem", "not a certificate\n")
        path = write("c.yaml", f"name: t\nverify: ca.pem\nrequests:\n  - name: a\n    url: {server.url}/\n")
        result = run_cli("run", str(path))
        missing = write("d.yaml", f"name: t\nclient_cert: nowhere.pem\nrequests:\n  - name: a\n    url: {server.url}/\n")
        result_missing = run_cli("run", str(missing))
        validated = run_cli("validate", str(path))
        assert server.connections == 0
    assert validated.exit_code == 2 and "cannot use the CA bundle" in validated.stderr
    assert result.exit_code == 2
    assert "cannot use the CA bundle" in result.stderr and "not a usable PEM file" in result.stderr
    assert result_missing.exit_code == 2
    assert "cannot use the client certificate" in result_missing.stderr and "No such file" in result_missing.stderr
    assert "Traceback" not in result.output + result_missing.output


def test_a_non_ascii_header_is_sent_as_utf8_bytes(run_cli: Any, write: Any) -> None:
    heads: list[bytes] = []

    def record(conn: Any) -> None:
        head = conn.read_request()
        heads.append(head)
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    with serve(record) as server:
        path = write("c.yaml", f'name: t\nrequests:\n  - name: accent\n    url: {server.url}/\n    headers: {{X-Name: "caf\\u00e9"}}\n')
        result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output
    assert b"\r\nX-Name: caf\xc3\xa9\r\n" in heads[0]  # what curl and Hurl send


def test_a_schema_ref_to_a_url_is_an_input_error_and_nothing_is_fetched(run_cli: Any, write: Any) -> None:
    with serve(respond(body=b'{"type": "object"}', headers={"Content-Type": "application/schema+json"})) as schema_host:
        write("schemas/remote.json", json.dumps({"$ref": f"{schema_host.url}/schema.json"}))
        path = write("c.yaml", f"""
name: t
requests:
  - name: a
    url: {schema_host.url}/
    expect:
      schema: schemas/remote.json
""")
        result = run_cli("validate", str(path))
        result_run = run_cli("run", str(path))
        assert schema_host.connections == 0
    for outcome in (result, result_run):
        assert outcome.exit_code == 2
        assert f"cannot resolve $ref '{schema_host.url}/schema.json'" in outcome.stderr
        assert "nothing is fetched over the network" in outcome.stderr


def _open_fds() -> set[str]:
    return {name for name in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{name}")}


def test_one_run_over_every_fault_reports_each_and_leaves_nothing_behind(run_cli: Any, write: Any, project: Path, healthy: FaultServer, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    report = project / "report.json"
    path = project / "faults.yaml"
    temp = tmp_path_factory.mktemp("temp")  # the run's own temp folder: other processes' files in /tmp do not count
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    project_before = set(os.listdir(project))
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    for jobs in ("1", "2"):  # the sequential transport and the concurrent one
        other_reports = [project / f"report.{fmt}" for fmt in sorted(FORMATS) if fmt != "json"]
        with ExitStack() as stack:
            urls = [fault.start(stack) for fault in FAULTS]
            path.write_text(_collection(FAULTS, urls, healthy.url + "/"), encoding="utf-8")
            options = [f"--report={report.suffix[1:]}:{report}" for report in other_reports]
            result = run_cli("run", str(path), "--jobs", jobs, "--report", f"json:{report}", *options)
        assert result.exit_code == 1, result.output
        assert result.exception is None
        for other in other_reports:  # every writer copes with every fault
            assert "lying content-length" in other.read_text(encoding="utf-8")
            other.unlink()
        requests = _requests(report)
        assert [name for name in requests] == [fault.name for fault in FAULTS] + ["after"]
        for fault in FAULTS:
            assert requests[fault.name]["outcome"] == fault.outcome, fault.name
            assert fault.cause in _cause(requests[fault.name]), fault.name
        assert requests["after"]["outcome"] == "passed"
        report.unlink()
    # a socket or thread of another test's server may still be closing: wait for it, bounded
    deadline = time.monotonic() + 10
    while (set(threading.enumerate()) != threads_before or _open_fds() != fds_before) and time.monotonic() < deadline:
        gc.collect()  # a socket only garbage holds is closed by collection, not leaked; one still referenced stays open
        time.sleep(0.05)
    assert set(threading.enumerate()) == threads_before
    assert _open_fds() == fds_before
    assert os.listdir(temp) == []
    assert set(os.listdir(project)) == project_before | {"faults.yaml"}  # no report's temporary file either
