"""Issue 10 item 5: inputs that crashed the runner are located errors (exit 2, nothing sent) or failed requests.

Static problems are found by the preflight ``validate`` and ``run`` share: exit 2,
the file, line and key, nothing sent.  A value only known at run time makes its
request an error with its cause; the run goes on and reports are written.  The
safety net turns any other exception inside one request into that request's error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

STATIC = {
    "ipv6-bracket": ('url: "http://[::1/x"', "is not a valid URL: Invalid IPv6 URL", "requests[0].url"),
    "port-too-big": ('url: "http://127.0.0.1:99999/x"', "Port out of range", "requests[0].url"),
    "port-not-a-number": ('url: "http://127.0.0.1:http/x"', "is not a valid URL", "requests[0].url"),
    "empty-host-label": ('url: "http://ex..ample/x"', "label empty or too long", "requests[0].url"),
    "host-label-too-long": ('url: "http://' + "a" * 70 + '.com/x"', "label empty or too long", "requests[0].url"),
    "malformed-a-label": ('url: "http://xn--/x"', "invalid international host name", "requests[0].url"),
    "disallowed-idna": ('url: "http://\u2603.net/x"', "invalid international host name", "requests[0].url"),
    "nul-in-url": ('url: "http://127.0.0.1:9/a\\0b"', "holds the control character", "requests[0].url"),
    "nul-in-header": ('url: /x\n    headers: {X-A: "a\\0b"}', "header 'X-A' holds a control character", "requests[0]"),
    "timeout-inf": ('url: /x\n    timeout: .inf', "timeout: inf is not a finite number", "requests[0].timeout"),
    "timeout-nan": ('url: /x\n    timeout: .nan', "timeout: nan is not a finite number", "requests[0].timeout"),
    "timeout-negative-template": ('url: /x\n    timeout: "{{ -1 }}"', "timeout: -1 is out of range", "requests[0].timeout"),
    "timeout-huge-template": ('url: /x\n    timeout: "{{ 1e300 }}"', "timeout: 1e+300 is out of range", "requests[0].timeout"),
    "timeout-text-variable": ('url: /x\n    timeout: "{{ word }}"', "timeout: 'abc' is not a number", "requests[0].timeout"),
    "max-redirects-fraction": ('url: /x\n    max_redirects: "{{ 1.5 }}"', "max_redirects: 1.5 is not a whole number", "requests[0].max_redirects"),
    "max-response-bytes-zero": ('url: /x\n    max_response_bytes: "{{ 0 }}"', "max_response_bytes: 0 is out of range", "requests[0].max_response_bytes"),
    "content-length-short": ('url: /x\n    headers: {Content-Length: "3"}\n    body: hello', "Content-Length says 3 bytes but the body is 5 bytes", "requests[0].headers"),
    "content-length-long": ('url: /x\n    headers: {Content-Length: "50"}\n    body: hello', "Content-Length says 50 bytes but the body is 5 bytes", "requests[0].headers"),
    "content-length-no-body": ('url: /x\n    headers: {Content-Length: "7"}', "Content-Length says 7 bytes but the request has no body", "requests[0].headers"),
}


def _collection(write: Any, base: str, request: str) -> Path:
    return write("c.yaml", f"base_url: {base}\nvars: {{word: abc}}\nrequests:\n  - name: a\n    {request}\n")


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", list(STATIC), ids=list(STATIC))
def test_a_static_problem_is_located_and_nothing_is_sent(run_cli: Any, write: Any, httpserver: HTTPServer, case: str, command: str) -> None:
    request, message, key = STATIC[case]
    path = _collection(write, httpserver.url_for("/"), request)
    result = run_cli(command, str(path))
    assert result.exit_code == 2, result.output
    assert message in result.stderr and f"c.yaml:" in result.stderr and f"({key})" in result.stderr, result.stderr
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert len(httpserver.log) == 0


def test_a_collection_timeout_that_is_not_finite_points_at_the_collection(run_cli: Any, write: Any) -> None:
    path = write("c.yaml", "timeout: .inf\nrequests:\n  - {name: a, url: 'http://127.0.0.1:9/x'}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and "c.yaml:1:10 (timeout)" in result.stderr, result.output


def test_a_captured_value_that_is_no_timeout_fails_its_request_and_the_run_goes_on(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("ok", headers={"X-Method": "GET"})
    path = write("c.yaml", f"""\
base_url: {httpserver.url_for('/')}
requests:
  - {{name: first, url: /x, capture: {{t: {{header: X-Method}}}}}}
  - {{name: second, url: /x, timeout: "{{{{ t }}}}"}}
  - {{name: third, url: /x}}
""")
    report = project / "r.json"
    result = run_cli("run", str(path), "--report", f"json:{report}")
    assert result.exit_code == 1, result.output
    assert "cannot render the request: timeout: 'GET' is not a number" in result.stdout
    outcomes = [r["outcome"] for c in json.loads(report.read_text())["collections"] for r in c["requests"]]
    assert outcomes == ["passed", "error", "passed"]
    assert len(httpserver.log) == 2


def test_the_safety_net_makes_an_unexpected_failure_that_requests_error(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    # a form body with a Content-Length header that disagrees: h11 refuses it while sending (not an httpx error)
    httpserver.expect_request("/x").respond_with_data("ok")
    path = write("c.yaml", f"""\
base_url: {httpserver.url_for('/')}
secrets: [key]
vars: {{key: SECRET-canary-123}}
requests:
  - {{name: broken, method: POST, url: /x, form: {{a: "{{{{ key }}}}"}}, headers: {{Content-Length: "1", X-Key: "{{{{ key }}}}"}}}}
  - {{name: fine, url: /x}}
""")
    report = project / "r.json"
    result = run_cli("run", str(path), "--report", f"json:{report}")
    assert result.exit_code == 1, result.output
    assert "internal error: LocalProtocolError" in result.stdout and "--traceback" in result.stdout
    outcomes = [r["outcome"] for c in json.loads(report.read_text())["collections"] for r in c["requests"]]
    assert outcomes == ["error", "passed"]
    assert "SECRET-canary-123" not in result.output + report.read_text()


def test_with_traceback_the_request_error_prints_its_traceback_masked(run_cli: Any, write: Any, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("ok")
    path = write("c.yaml", f"base_url: {httpserver.url_for('/')}\nrequests:\n  - {{name: broken, method: POST, url: /x, form: {{a: b}}, headers: {{Content-Length: '1'}}}}\n")
    result = run_cli("run", str(path), "--traceback")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr and "LocalProtocolError" in result.stderr


@pytest.mark.parametrize("value", ['"\\ud800"', '["ok", {"k": "\\udfff"}]', "a\udcff"], ids=["json-escape", "nested", "not-utf8-bytes"])
def test_a_lone_surrogate_in_a_var_is_a_usage_error(run_cli: Any, write: Any, httpserver: HTTPServer, value: str) -> None:
    path = write("c.yaml", f"requests:\n  - {{name: a, url: '{httpserver.url_for('/x')}?q={{{{ v }}}}'}}\n")
    result = run_cli("run", str(path), "--var", f"v={value}")
    assert result.exit_code == 2, result.output
    assert "--var v: the value is not text" in result.output
    assert len(httpserver.log) == 0


def test_a_lone_surrogate_in_a_data_file_is_an_input_error(run_cli: Any, write: Any, httpserver: HTTPServer) -> None:
    path = write("c.yaml", f"requests:\n  - {{name: a, url: '{httpserver.url_for('/x')}?q={{{{ v }}}}'}}\n")
    data = write("rows.json", '[{"v": "fine"}, {"v": "\\ud800x"}]')
    result = run_cli("run", str(path), "--data", str(data))
    assert result.exit_code == 2, result.output
    assert "row 2: 'v' holds a lone surrogate escape" in result.stderr
    assert len(httpserver.log) == 0


SCHEMAS = {
    "ref-cycle": ({"a.json": {"$ref": "b.json"}, "b.json": {"$ref": "a.json"}}, "its $refs form a cycle"),
    "defs-cycle": ({"a.json": {"$defs": {"x": {"$ref": "#/$defs/y"}, "y": {"allOf": [{"$ref": "#/$defs/x"}]}}, "$ref": "#/$defs/x"}}, "its $refs form a cycle"),
    "dynamic-ref-to-http": ({"a.json": {"$dynamicRef": "http://127.0.0.1:9/meta#node"}}, "cannot resolve a reference"),
}


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", list(SCHEMAS), ids=list(SCHEMAS))
def test_a_schema_that_cannot_be_applied_is_an_input_error(run_cli: Any, write: Any, httpserver: HTTPServer, case: str, command: str) -> None:
    files, message = SCHEMAS[case]
    for name, schema in files.items():
        write(f"schemas/{name}", json.dumps(schema))
    path = write("c.yaml", f"requests:\n  - name: a\n    url: {httpserver.url_for('/x')}\n    expect: {{schema: schemas/a.json}}\n")
    result = run_cli(command, str(path))
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "c.yaml:4" in result.stderr, result.stderr
    assert len(httpserver.log) == 0


def test_a_cycle_met_only_below_a_property_fails_the_check_not_the_run(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    write("schemas/a.json", json.dumps({"properties": {"deep": {"$ref": "#/$defs/x"}}, "$defs": {"x": {"$ref": "#/$defs/y"}, "y": {"$ref": "#/$defs/x"}}}))
    httpserver.expect_request("/x").respond_with_json({"deep": 1})
    path = write("c.yaml", f"requests:\n  - {{name: a, url: '{httpserver.url_for('/x')}', expect: {{schema: schemas/a.json}}}}\n  - {{name: b, url: '{httpserver.url_for('/x')}'}}\n")
    report = project / "r.json"
    result = run_cli("run", str(path), "--report", f"json:{report}")
    assert result.exit_code == 1, result.output
    assert "its $refs form a cycle" in result.stdout
    outcomes = [r["outcome"] for c in json.loads(report.read_text())["collections"] for r in c["requests"]]
    assert outcomes == ["failed", "passed"]
