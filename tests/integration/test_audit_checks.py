"""Outside audit of issues 16 and 11: failures that say the length found, misspelt filter names, 401 hints."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from check_servers import CheckApp, failure_lines, run_requests, serve_app


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serve_app(CheckApp()) as url:
        yield url


@pytest.mark.parametrize(
    "request_, message",
    [
        ("url: /png\n    expect: {bytes: {length: {gt: 100}}}", "x bytes: expected length > 100, got length 10"),
        ("url: /r1\n    follow_redirects: true\n    expect: {redirects: {length: 1}}", "x redirects: expected length 1, got length 2"),
        ("url: /html\n    expect: {body: {length: 3}}", "x body: expected length 3, got length "),
        ("url: /item\n    expect: {headers: {content-type: {length: 2}}}", "x header content-type: expected length 2, got length 16"),
        ('url: /xml\n    expect: {xpath: {"string(//_:title)": {length: 1}}}', "x xpath string(//_:title): expected length 1, got length "),
        ("url: /session\n    expect: {cookies: {SESSIONID: {length: 32}}}", "x cookie SESSIONID: expected value length 32, got value length 20"),
        ("url: /session\n    expect: {cookies: {SESSIONID: {value: {length: {lt: 10}}, path: /}}}", "x cookie SESSIONID: expected value length < 10, got value length 20; path=\"/\""),
    ],
    ids=["bytes", "redirects", "body", "header", "xpath", "cookie", "cookie-attributes"],
)
def test_a_failed_length_on_any_target_says_the_length_found(run_cli: Any, write: Any, base: str, request_: str, message: str) -> None:
    result = run_requests(run_cli, write, base, f"  - name: r\n    {request_}\n")
    assert result.exit_code == 1, result.output
    (line,) = failure_lines(result)
    assert line.startswith(message), line


@pytest.mark.parametrize(
    "predicate, hint",
    [
        ("{filters: [cout], eq: 3}", "did you mean 'count'?"),
        ("{filters: [toint], gt: 0}", "did you mean 'toInt'?"),
        ("{filters: [{nht: 0}], eq: a}", "did you mean 'nth'?"),
        ("{filters: [{urlqueryparam: code}], exists: true}", "did you mean 'urlQueryParam'?"),
        ("{type: flaot}", "did you mean 'float'?"),
        ("{filters: [zzz], eq: 1}", "one of: count, first, last, toInt"),
        ("{gte: 1}", "did you mean 'ge'?"),
        ("{lte: 1}", "did you mean 'le'?"),
        ("[{eq: 1}, {regex: x}]", "did you mean 'matches'?"),
    ],
)
def test_a_misspelt_filter_or_type_names_the_right_one(run_cli: Any, write: Any, predicate: str, hint: str) -> None:
    path = write("c.yaml", f'name: c\nrequests:\n  - name: r\n    url: http://127.0.0.1:9/\n    expect:\n      json:\n        "$.a": {predicate}\n')
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert "c.yaml:7:" in result.stderr and f"hint: {hint}" in result.stderr, result.stderr


def test_a_misspelt_filter_in_a_capture_and_a_polling_mode_name_the_right_one(run_cli: Any, write: Any) -> None:
    path = write("c.yaml", 'name: c\nrequests:\n  - name: r\n    url: http://127.0.0.1:9/\n    retries: {until: chekcs, count: 2}\n    capture: {a: {json: "$.a", filters: [frist]}}\n')
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert "hint: did you mean 'checks'?" in result.stderr and "hint: did you mean 'first'?" in result.stderr, result.stderr


def test_a_status_text_that_is_not_a_class_keeps_the_status_hint(run_cli: Any, write: Any) -> None:
    path = write("c.yaml", "name: c\nrequests:\n  - name: r\n    url: http://127.0.0.1:9/\n    expect: {status: 2xxx}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert "hint: Expected status: a code" in result.stderr and "one of: eq" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    "auth, sent",
    [
        ("auth: {digest: {username: ana, password: wrong-password}}", "check the digest auth written in the collection"),
        ("auth: {bearer: literal-wrong-token}", "check the bearer auth written in the collection"),
        ("headers: {Authorization: Basic Zm9vOmJhcg==}", "check the Authorization header written in the collection"),
    ],
    ids=["digest", "bearer", "header"],
)
def test_a_401_with_credentials_written_out_does_not_say_none_were_sent(run_cli: Any, write: Any, base: str, auth: str, sent: str) -> None:
    result = run_requests(run_cli, write, base, f"  - name: r\n    url: /digest\n    {auth}\n    expect: {{status: 200}}\n")
    assert result.exit_code == 1, result.output
    assert f"hint: the server rejected the credentials (401): {sent}" in result.stdout, result.stdout
    assert "sends none" not in result.stdout


def test_a_number_yaml_rewrites_in_a_text_expectation_is_an_input_error(run_cli: Any, write: Any) -> None:
    expect = "headers: {X-Version: 1.10, X-Zip: [{ne: 01234}], Content-Length: {gt: 1e2}}\n      cookies: {sid: {value: 1.50}}\n      body: {contains: 2.0}"
    path = write("c.yaml", f"name: c\nrequests:\n  - name: r\n    url: http://127.0.0.1:9/\n    expect:\n      {expect}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert "requests[0].expect.headers.X-Version: the value is not the text you wrote\n  --> " in result.stderr
    assert "hint: YAML reads 1.10 as the number 1.1: quote it ('1.10')" in result.stderr
    assert "requests[0].expect.headers.X-Zip[0].ne: the value is not the text you wrote" in result.stderr
    assert "requests[0].expect.cookies.sid.value: the value is not the text you wrote" in result.stderr
    assert "headers.Content-Length" not in result.stderr and "expect.body" not in result.stderr  # a number compared as a number; 2.0 is written as JSON writes it
    assert result.stderr.count("the value is not the text you wrote") == 3


def test_a_long_poll_lists_its_attempts_in_a_few_lines(run_cli: Any, write: Any, base: str, project: Any) -> None:
    requests = '  - name: never\n    url: /item\n    retries: {until: checks, count: 300, interval: 0}\n    expect: {json: {"$.nope": {exists: true}}}\n'
    result = run_requests(run_cli, write, base, requests, "--report", f"junit:{project / 'j.xml'}")
    assert result.exit_code == 1
    assert "(301 attempts)" in result.stdout and "  attempts 1-300: status 200\n" in result.stdout
    assert "attempt 2:" not in result.stdout and len(result.stdout.splitlines()) < 40
    assert "attempts 1-300: status 200" in (project / "j.xml").read_text()


def test_attempt_lines_group_equal_runs_and_keep_a_bounded_number() -> None:
    from runner.reports.document import attempt_lines

    assert attempt_lines([(1, "status 503"), (2, "status 503"), (3, "connection refused"), (4, "status 503")]) == ["attempts 1-2: status 503", "attempt 3: connection refused", "attempt 4: status 503"]
    lines = attempt_lines([(n, f"status {500 + n % 2}") for n in range(1, 101)])
    assert lines[:3] == ["attempt 1: status 501", "attempt 2: status 500", "attempt 3: status 501"]
    assert lines[3] == "... (94 more attempt lines)" and lines[-1] == "attempt 100: status 500" and len(lines) == 7
