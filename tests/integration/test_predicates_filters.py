"""Issue 16 items 1-2: predicate lists, the new predicates, status operators and filters, over loopback.

Each check runs against ``check_servers.CheckApp``; each new predicate and
filter is shown holding, and failing with expected, actual and file:line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from check_servers import CheckApp, serve_app


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serve_app(CheckApp()) as url:
        yield url


def run_one(run_cli: Any, write: Any, base: str, request: str, *flags: str) -> Any:
    path = write("c.yaml", f"name: c\nbase_url: {base}\nrequests:\n  - name: r\n{request}")
    return run_cli("run", str(path), *flags)


HOLDING = {
    "startswith": '"$.created": {startswith: "2024-"}',
    "endswith": '"$.created": {endswith: Z}',
    "not-contains": '"$.name": {not: {contains: x}}',
    "not-plain-value": '"$.name": {not: Brie}',
    "isEmpty": '"$.empty": {isEmpty: true}',
    "isEmpty-false": '"$.tags": {isEmpty: false}',
    "isIsoDate": '"$.created": {isIsoDate: true}',
    "isUuid": '"$.id": {isUuid: true}',
    "isInteger": '"$.count": {isInteger: true}',
    "isFloat": '"$.price": {isFloat: true}',
    "type-float": '"$.price": {type: float}',
    "text-ordering": '"$.created": {gt: "2024-01-01", lt: "2025"}',
    "list-of-predicates": '"$.created": [{startswith: "2024"}, {matches: "T10"}, {matches: "Z$"}, {isIsoDate: true}]',
    "filter-count": '"$.tags": {filters: [count], eq: 3}',
    "filter-nth": '"$.tags": {filters: [{nth: -1}], eq: c}',
    "filter-first-last": '"$.tags": [{filters: [first], eq: a}, {filters: [last], eq: c}]',
    "filter-regex": '"$.link": {filters: [{regex: "code=(\\\\w+)"}], eq: abc123}',
    "filter-replace": '"$.csv": {filters: [{replace: [",", ";"]}], eq: "a;b;c"}',
    "filter-split": '"$.csv": {filters: [{split: ","}, count], eq: 3}',
    "filter-toInt": '"$.price": {filters: [toInt], isInteger: true, eq: 1}',
    "filter-toFloat": '"$.count": {filters: [toFloat], isFloat: true}',
    "filter-toDate-dateFormat": '"$.when": {filters: [{toDate: "%d/%m/%Y"}, {dateFormat: "%A"}], eq: Tuesday}',
    "filter-iso-toDate": '"$.created": {filters: [toDate, {dateFormat: "%Y"}], eq: "2024"}',
    "filter-base64": '"$.b64": {filters: [base64Decode, utf8Decode], eq: hello}',
    "filter-base64Encode": '"$.name": {filters: [base64Encode], eq: Q29tdMOp}',
    "filter-url": '"$.name": {filters: [urlEncode], eq: Comt%C3%A9}',
    "filter-url-decode": '"$.link": {filters: [urlDecode], startswith: "https://"}',
    "filter-html": '"$.payload": {filters: [htmlEscape], contains: "&quot;inner&quot;"}',
    "filter-jsonpath-on-text": '"$.payload": {filters: [{jsonpath: "$.inner"}], eq: 5}',
    "filter-urlQueryParam": '"$.link": {filters: [{urlQueryParam: state}], eq: s}',
    "filter-sha256": '"$.name": {filters: [sha256], matches: "^[0-9a-f]{64}$"}',
    "sha256-predicate": '"$.b64": {sha256: 5b1a26fc2cebf1ed8a8f52ff1a9f93b0d6c0a1ab78c2c7e0b68b7af4d8ee7d1b, not: {eq: x}}'.replace(
        "5b1a26fc2cebf1ed8a8f52ff1a9f93b0d6c0a1ab78c2c7e0b68b7af4d8ee7d1b", __import__("hashlib").sha256(b"aGVsbG8=").hexdigest()
    ),
}


@pytest.mark.parametrize("check", HOLDING.values(), ids=HOLDING.keys())
def test_a_predicate_or_filter_holds(run_cli: Any, write: Any, base: str, check: str) -> None:
    result = run_one(run_cli, write, base, f"    url: /item\n    expect:\n      json:\n        {check}\n")
    assert result.exit_code == 0, result.output


FAILING = {
    # id: (check, what the failure line says)
    "startswith": ('"$.created": {startswith: "2023"}', 'expected starts with "2023", got "2024-03-05T10:20:30Z"'),
    "endswith": ('"$.name": {endswith: x}', 'expected ends with "x", got "Comté"'),
    "not": ('"$.name": {not: {startswith: Com}}', 'expected not (starts with "Com"), got "Comté"'),
    "isEmpty": ('"$.tags": {isEmpty: true}', 'expected empty, got ["a", "b", "c"]'),
    "isIsoDate": ('"$.name": {isIsoDate: true}', 'expected an ISO 8601 date, got "Comté"'),
    "isUuid": ('"$.name": {isUuid: true}', 'expected a UUID, got "Comté"'),
    "isInteger": ('"$.price": {isInteger: true}', "expected an integer, got 1.0"),
    "isFloat": ('"$.count": {isFloat: true}', "expected a float, got 3"),
    "text-ordering": ('"$.created": {lt: "2000"}', 'expected < "2000", got "2024-03-05T10:20:30Z"'),
    "list-of-predicates": ('"$.created": [{startswith: "2024"}, {endswith: "+02:00"}]', 'expected ends with "+02:00", got'),
    "filter-count": ('"$.tags": {filters: [count], eq: 4}', 'expected count == 4 (the filters gave 3), got ["a", "b", "c"]'),
    "filter-cannot-apply": ('"$.name": {filters: [toInt], gt: 1}', 'expected toInt: "Comté" is not an integer'),
    "filter-regex-no-match": ('"$.link": {filters: [{regex: "zzz=(\\\\d+)"}], eq: "1"}', 'regex "zzz=(\\\\d+)" eq "1" (the filters gave (nothing))'),
    "filter-nth-out-of-range": ('"$.tags": {filters: [{nth: 5}], eq: a}', "nth: index 5 is out of range (the list has 3 items)"),
}


@pytest.mark.parametrize("check, message", FAILING.values(), ids=FAILING.keys())
def test_a_failing_predicate_says_what_was_expected_what_came_and_where(run_cli: Any, write: Any, base: str, check: str, message: str) -> None:
    result = run_one(run_cli, write, base, f"    url: /item\n    expect:\n      json:\n        {check}\n")
    assert result.exit_code == 1, result.output
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith("x json"))
    assert message in line
    assert "c.yaml:8:" in line  # file:line of the check


STATUS = {
    "ne-holds": ("{ne: 500}", True),
    "ne-fails": ("{ne: 200}", False),
    "ge-fails": ("{ge: 500}", False),
    "lt-holds": ("{lt: 300}", True),
    "in-classes": ("{in: [201, 2xx]}", True),
    "not-class-fails": ("{not: 2xx}", False),
    "not-class-holds": ("{not: 4xx}", True),
}


@pytest.mark.parametrize("status, holds", STATUS.values(), ids=STATUS.keys())
def test_status_takes_operators(run_cli: Any, write: Any, base: str, status: str, holds: bool) -> None:
    result = run_one(run_cli, write, base, f"    url: /item\n    expect: {{status: {status}}}\n")
    assert result.exit_code == (0 if holds else 1), result.output
    if not holds:
        line = next(line for line in result.stdout.splitlines() if "x status" in line)
        assert "x status: expected" in line and "got 200  (" in line and "c.yaml:6:" in line


def test_a_status_operator_reads_as_written(run_cli: Any, write: Any, base: str) -> None:
    result = run_one(run_cli, write, base, "    url: /item\n    expect: {status: {ge: 500}}\n")
    assert "x status: expected >= 500, got 200" in result.stdout


def test_filters_work_on_headers_and_in_captures(run_cli: Any, write: Any, base: str, project: Path) -> None:
    report = project / "r.json"
    request = """\
    url: /item
    expect:
      headers: {Content-Length: {filters: [toInt], gt: 100}, Content-Type: {filters: [{split: /}, first], eq: application}}
    capture:
      code: {json: $.link, filters: [{regex: "code=(\\\\w+)"}]}
      tags: {json: $.tags, filters: [count]}
      length: {header: Content-Length, filters: [toInt]}
      whole: {body: true}
  - name: uses
    url: /echo
    headers: {X-Code: "{{ code }}-{{ tags + 1 }}"}
    expect:
      json: {"$.headers[?@[0] == 'X-Code'][1]": [abc123-4]}
      vars: {length: {gt: 100}, whole: {filters: [{jsonpath: "$.count"}], eq: 3}}
"""
    result = run_one(run_cli, write, base, request, "--report", f"json:{report}")
    assert result.exit_code == 0, result.output
    captured = json.loads(report.read_text())["collections"][0]["requests"][0]["captures"]
    assert captured["code"] == "abc123" and captured["tags"] == 3 and isinstance(captured["length"], int)


def test_a_capture_whose_filter_cannot_apply_fails_with_the_reason(run_cli: Any, write: Any, base: str) -> None:
    result = run_one(run_cli, write, base, "    url: /item\n    capture:\n      n: {json: $.name, filters: [toInt]}\n")
    assert result.exit_code == 1
    assert 'capture n: expected a value at $.name, got (nothing: toInt: "Comté" is not an integer)' in result.stdout


@pytest.mark.parametrize(
    "check, message",
    [
        ('"$.a": {filters: [count, {nth: x}], eq: 1}', "requests[0].expect.json.$.a.filters[1]"),
        ('"$.a": {filters: [cuont], eq: 1}', "requests[0].expect.json.$.a.filters[0]"),
        ('"$.a": {filters: [{regex: "(("}], eq: 1}', "invalid regular expression"),
        ('"$.a": {startswith: a, sha256: nothex}', "requests[0].expect.json.$.a.sha256"),
        ('"$.a": {starts_with: a}', "did you mean 'startswith'?"),
        ('"$.a": [{isEmpty: true}, {isempty: false}]', "did you mean 'isEmpty'?"),
    ],
    ids=["filter-argument-type", "unknown-filter", "bad-regex-in-filter", "bad-hash", "operator-look-alike", "look-alike-in-a-list"],
)
def test_bad_filters_and_predicates_are_input_errors_and_nothing_is_sent(run_cli: Any, write: Any, check: str, message: str) -> None:
    path = write("c.yaml", f"name: c\nrequests:\n  - name: r\n    url: http://127.0.0.1:9/\n    expect:\n      json:\n        {check}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "c.yaml:" in result.stderr
    assert "Traceback" not in result.output
