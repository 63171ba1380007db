"""Issue 16 items 6-9: cookie checks and captures, expect.vars, polling until the checks pass, transport options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import trustme
from check_servers import DIGEST_PASSWORD, DIGEST_USER, CheckApp, failure_lines, run_requests, serve_app, serve_h2
from fault_servers import serve


@pytest.fixture
def app() -> CheckApp:
    return CheckApp()


@pytest.fixture
def base(app: CheckApp) -> Iterator[str]:
    with serve_app(app) as url:
        yield url


def test_cookie_values_and_attributes_are_checked_and_captured(run_cli: Any, write: Any, base: str, project: Path) -> None:
    report = project / "r.json"
    requests = """\
  - name: cookie
    url: /cookie
    expect:
      cookies:
        sid: {value: abc123, path: /app, domain: localhost, max_age: {gt: 60}, secure: true, httponly: true, samesite: Lax, expires: {exists: false}}
        plain: "1"
        gone: {exists: false}
    capture:
      sid: {cookie: sid}
      sid_path: {cookie: sid, attribute: path}
      plain_secure: {cookie: plain, attribute: secure}
    expect_more: null
"""
    requests = requests.replace("    expect_more: null\n", "")
    result = run_requests(run_cli, write, base, requests, "--report", f"json:{report}")
    assert result.exit_code == 0, result.output
    captures = json.loads(report.read_text())["collections"][0]["requests"][0]["captures"]
    assert captures["sid_path"] == "/app" and captures["plain_secure"] is False
    assert captures["sid"] != "abc123"  # a cookie value is a credential: masked in reports


def test_a_wrong_cookie_attribute_fails_with_expected_and_actual(run_cli: Any, write: Any, base: str) -> None:
    requests = """\
  - name: cookie
    url: /cookie
    expect:
      cookies:
        sid: {samesite: Strict, secure: true}
        plain: {httponly: true}
        missing: {value: x}
"""
    result = run_requests(run_cli, write, base, requests)
    lines = failure_lines(result)
    assert lines[0].startswith('x cookie sid: expected samesite "Strict", got samesite="Lax"; secure=true') and "c.yaml:8:" in lines[0]
    assert lines[1].startswith("x cookie plain: expected httponly true, got httponly=false")
    assert lines[2].startswith("x cookie missing: expected set by the response, got (not set)")


def test_expect_vars_sees_this_requests_captures(run_cli: Any, write: Any, base: str) -> None:
    requests = """\
  - name: item
    url: /item
    capture:
      count: $.count
      id: $.id
    expect:
      vars: {count: {ge: 3}, id: {isUuid: true}, greeting: hello}
  - name: later
    url: /item
    expect:
      vars: {count: 4, id: {exists: false}, nobody: {exists: true}}
"""
    path = write("c.yaml", f"name: c\nbase_url: {base}\nvars: {{greeting: hello}}\nrequests:\n{requests}")
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    lines = failure_lines(result)
    assert "PASS  GET    item" in result.stdout
    assert lines[0].startswith("x var count: expected 4, got 3") and "c.yaml:15:" in lines[0]
    assert lines[1].startswith('x var id: expected absent, got "550e8400')
    assert lines[2].startswith("x var nobody: expected present, got (nothing)")


def test_polling_until_the_checks_pass_records_every_attempt(run_cli: Any, write: Any, base: str, app: CheckApp, project: Path) -> None:
    report = project / "r.json"
    requests = """\
  - name: job
    method: POST
    url: /job
    retries: {until: checks, count: 5, interval: 0}
    expect:
      json: {$.status: SUCCESS}
"""
    result = run_requests(run_cli, write, base, requests, "--report", f"json:{report}")
    assert result.exit_code == 0, result.output
    assert app.polls == 3
    attempts = json.loads(report.read_text())["collections"][0]["requests"][0]["attempts"]
    assert [attempt["status"] for attempt in attempts] == [200, 200, 200]


def test_polling_gives_up_after_count_and_reports_the_last_answer(run_cli: Any, write: Any, base: str, app: CheckApp) -> None:
    requests = """\
  - name: job
    url: /job
    retries: {until: [$.status], count: 1, interval: 0}
    expect:
      json: {$.status: SUCCESS}
"""
    result = run_requests(run_cli, write, base, requests)
    assert result.exit_code == 1 and app.polls == 2
    assert "(2 attempts)" in result.stdout
    assert 'x json $.status: expected "SUCCESS", got "RUNNING"' in result.stdout


def test_polling_only_on_the_named_checks(run_cli: Any, write: Any, base: str, app: CheckApp) -> None:
    requests = """\
  - name: job
    url: /job
    retries: {until: [status], count: 4, interval: 0}
    expect:
      status: 200
      json: {$.status: SUCCESS}
"""
    result = run_requests(run_cli, write, base, requests)
    assert result.exit_code == 1 and app.polls == 1  # the status held: no poll for the json check


def test_a_delay_waits_before_the_request(run_cli: Any, write: Any, base: str) -> None:
    requests = "  - {name: a, url: /item, delay: 1ms}\n  - {name: b, url: /item, delay: 2}\n  - {name: c, url: /item, delay: '{{ wait }}'}\n"
    path = write("c.yaml", f"name: c\nbase_url: {base}\nvars: {{wait: soon}}\nrequests:\n{requests}")
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "PASS  GET    a" in result.stdout and "PASS  GET    b" in result.stdout
    assert "delay: 'soon' is not a duration (500, 500ms, 2s, 1m)" in result.stdout


def test_digest_auth_answers_the_challenge(run_cli: Any, write: Any, base: str) -> None:
    requests = f"""\
  - name: digest
    url: /digest?x=1
    auth: {{digest: {{username: {DIGEST_USER}, password: {DIGEST_PASSWORD}}}}}
    expect: {{status: 200, json: {{$.user: {DIGEST_USER}}}}}
  - name: wrong
    url: /digest
    auth: {{digest: {{username: {DIGEST_USER}, password: nope}}}}
    expect: {{status: 200}}
"""
    result = run_requests(run_cli, write, base, requests, "-v")
    assert result.exit_code == 1
    assert "PASS  GET    digest" in result.stdout and "x status: expected 200, got 401" in result.stdout
    assert DIGEST_PASSWORD not in result.output


def test_repeated_header_lines_and_utf8_values_reach_the_wire(run_cli: Any, write: Any) -> None:
    heads: list[bytes] = []

    def record(conn: Any) -> None:
        heads.append(conn.read_request())
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    with serve(record) as server:
        path = write("c.yaml", f"name: c\nheaders: {{X-Tag: base}}\nrequests:\n  - name: r\n    url: {server.url}/\n    headers: {{X-Tag: [a, b], X-Name: café, Accept: [text/html, application/json]}}\n")
        result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output
    head = heads[0]
    assert b"\r\nX-Tag: a\r\nX-Tag: b\r\n" in head and b"X-Tag: base" not in head
    assert b"\r\nX-Name: caf\xc3\xa9\r\n" in head
    assert head.count(b"\r\nAccept: ") == 2


def test_http2_is_offered_by_alpn_and_checked(run_cli: Any, write: Any, project: Path) -> None:
    import ssl

    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(project / "ca.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with serve_h2(context) as port:
        path = write("c.yaml", f"""\
name: c
verify: ca.pem
base_url: https://127.0.0.1:{port}
requests:
  - {{name: two, url: /, http2: true, expect: {{http_version: HTTP/2, json: {{$.ok: true}}}}}}
  - {{name: one, url: /, expect: {{http_version: HTTP/1.1}}}}
""")
        result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "expect, message, hint",
    [
        ("{cookies: {sid: {vaule: x}}}", "requests[0].expect.cookies.sid: unknown key 'vaule'", "did you mean 'value'?"),
        ("{xpath: {'//a': {startwith: x}}}", "unknown key 'startwith'", "did you mean 'startswith'?"),
        ("{status: {gte: 500}}", "requests[0].expect.status", "did you mean 'ge'?"),
        ("{redirects: [{statu: 301}]}", "unknown key 'statu'", "did you mean 'status'?"),
    ],
    ids=["cookie-attribute", "predicate-look-alike", "status-operator", "hop-key"],
)
def test_typos_in_the_new_keys_are_named(run_cli: Any, write: Any, expect: str, message: str, hint: str) -> None:
    path = write("c.yaml", f"name: c\nrequests:\n  - name: r\n    url: http://127.0.0.1:9/\n    expect: {expect}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and message in result.stderr and hint in result.stderr, result.stderr


def test_polling_and_delay_typos_are_input_errors(run_cli: Any, write: Any) -> None:
    path = write("c.yaml", "name: c\nrequests:\n  - name: r\n    url: http://127.0.0.1:9/\n    delay: 5 seconds\n    retries: {until: check, count: 2}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert "requests[0].delay" in result.stderr and "requests[0].retries.until" in result.stderr


def test_polling_waits_for_a_capture_too(run_cli: Any, write: Any, base: str, app: CheckApp) -> None:
    requests = """\
  - name: job
    url: /job
    retries: {until: checks, count: 5, interval: 0}
    capture:
      done: {json: $.status, filters: [{regex: "^(SUCCESS)$"}]}
"""
    result = run_requests(run_cli, write, base, requests)
    assert result.exit_code == 0, result.output
    assert app.polls == 3 and "(3 attempts)" in result.stdout
