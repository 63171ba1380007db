"""Issue 16 items 3-5: byte bodies and checks, hashes, XPath on XML and HTML, the final URL and redirect hops."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from check_servers import HTML, PNG_HEAD, XML, CheckApp, failure_lines, run_requests, serve_app


@pytest.fixture(scope="module")
def app() -> CheckApp:
    return CheckApp()


@pytest.fixture(scope="module")
def base(app: CheckApp) -> Iterator[str]:
    with serve_app(app) as url:
        yield url


PNG = PNG_HEAD + b"\x00\xff"


def test_request_bodies_as_hex_base64_and_file_bytes(run_cli: Any, write: Any, project: Path, base: str) -> None:
    blob = bytes(range(256))
    (project / "data").mkdir()
    (project / "data" / "blob.bin").write_bytes(blob)
    requests = f"""\
  - name: hex
    method: POST
    url: /echo
    body: {{hex: "de ad be ef 00"}}
    expect: {{json: {{$.sha256: {hashlib.sha256(bytes.fromhex("deadbeef00")).hexdigest()}, $.length: 5}}}}
  - name: base64
    method: POST
    url: /echo
    body: {{base64: {base64.b64encode(blob).decode()}}}
    expect: {{json: {{$.sha256: {hashlib.sha256(blob).hexdigest()}}}}}
  - name: file
    method: PUT
    url: /echo
    headers: {{Content-Type: application/octet-stream}}
    body: {{file: data/blob.bin}}
    expect: {{json: {{$.sha256: {hashlib.sha256(blob).hexdigest()}, $.length: 256}}}}
"""
    result = run_requests(run_cli, write, base, requests)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "body, message",
    [
        ('{hex: "zz"}', "the body is not valid hex"),
        ("{file: missing.bin}", "body file not found"),
        ("{file: ../../outside.bin}", "body file not found"),
    ],
    ids=["bad-hex", "missing-file", "outside"],
)
def test_a_bad_byte_body_is_an_input_error(run_cli: Any, write: Any, body: str, message: str) -> None:
    path = write("c.yaml", f"name: c\nrequests:\n  - name: r\n    method: POST\n    url: http://127.0.0.1:9/\n    body: {body}\n")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and message in result.stderr and "c.yaml:6:" in result.stderr, result.output


def test_a_body_file_outside_the_project_is_refused(run_cli: Any, write: Any, project: Path, base: str, tmp_path_factory: Any) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.bin"
    outside.write_bytes(b"x")
    result = run_requests(run_cli, write, base, f"  - {{name: r, method: POST, url: /echo, body: {{file: {outside}}}}}\n")
    assert result.exit_code == 2, result.output  # refused before anything is sent, as a multipart upload is
    assert f"request 'r': body file '{outside}' is outside the project folder" in result.stderr
    assert "c.yaml:4:" in result.stderr
    validated = run_cli("validate", str(project / "c.yaml"))  # validate refuses what run refuses
    assert validated.exit_code == 2 and "is outside the project folder" in validated.stderr
    allowed = run_cli("run", str(project / "c.yaml"), "--allow-outside-files")
    assert allowed.exit_code == 0, allowed.output


BYTES_HOLDING = {
    "length": "bytes: {length: 10}",
    "startswith-hex": 'bytes: {startswith: {hex: "89504e47"}}',
    "endswith-hex": 'bytes: {endswith: {hex: "00ff"}}',
    "equal-base64": f"bytes: {{base64: {base64.b64encode(PNG).decode()}}}",
    "equal-hex-operator": f'bytes: {{eq: {{hex: "{PNG.hex()}"}}}}',
    "sha256": f"sha256: {hashlib.sha256(PNG).hexdigest()}",
    "md5": f"md5: {hashlib.md5(PNG).hexdigest().upper()}",
    "list": f'bytes: [{{length: {{gt: 8}}}}, {{sha256: {hashlib.sha256(PNG).hexdigest()}}}, {{not: {{isEmpty: true}}}}]',
    "filters-on-bytes": 'bytes: {filters: [toHex], startswith: "89504e47"}',
}


@pytest.mark.parametrize("check", BYTES_HOLDING.values(), ids=BYTES_HOLDING.keys())
def test_byte_checks_hold(run_cli: Any, write: Any, base: str, check: str) -> None:
    result = run_requests(run_cli, write, base, f"  - name: png\n    url: /png\n    expect:\n      {check}\n")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "check, message",
    [
        ("bytes: {length: 11}", "x bytes: expected length 11, got length 10"),
        ('bytes: {startswith: {hex: "ffd8"}}', 'x bytes: expected starts with {"hex": "ffd8"}'),
        (f"sha256: '{'0' * 64}'", f"x bytes: expected sha256 {'0' * 64} (got {hashlib.sha256(PNG).hexdigest()})"),
        (f"md5: {'a' * 32}", f"x bytes: expected md5 {'a' * 32} (got {hashlib.md5(PNG).hexdigest()})"),
    ],
    ids=["length", "startswith", "sha256", "md5"],
)
def test_byte_checks_fail_with_expected_and_actual(run_cli: Any, write: Any, base: str, check: str, message: str) -> None:
    result = run_requests(run_cli, write, base, f"  - name: png\n    url: /png\n    expect:\n      {check}\n")
    assert result.exit_code == 1
    (line,) = failure_lines(result)
    assert line.startswith(message) and "c.yaml:7:" in line
    assert "(10 bytes, not text) b'\\x89PNG" in result.stdout  # a binary body is shown escaped, not as mojibake


def test_a_latin1_body_is_text_in_its_charset_and_bytes_as_sent(run_cli: Any, write: Any, base: str) -> None:
    check = '{body: café, bytes: [{length: 4}, {eq: {hex: "636166e9"}}], xpath_absent: 1}'.replace(", xpath_absent: 1", "")
    result = run_requests(run_cli, write, base, f"  - name: latin\n    url: /latin\n    expect: {check}\n")
    assert result.exit_code == 0, result.output


def test_byte_length_of_non_ascii_text(run_cli: Any, write: Any, base: str) -> None:
    # "Comté" is 5 characters and 6 UTF-8 bytes: length counts characters, bytes counts bytes
    requests = '  - name: item\n    url: /item\n    expect: {json: {$.name: {length: 5, filters: [utf8Encode]}}, body: {length: {gt: 6}}}\n'
    result = run_requests(run_cli, write, base, requests)
    assert result.exit_code == 1 and "x json $.name: expected utf8Encode length 5 (the filters gave b'Comt\\xc3\\xa9' (6 bytes))" in result.stdout


def test_a_check_failing_on_a_10_mb_body_prints_a_bounded_excerpt(run_cli: Any, write: Any, base: str) -> None:
    result = run_requests(run_cli, write, base, "  - name: big\n    url: /big\n    expect: {body: {contains: needle}, bytes: {startswith: y}, sha256: '" + "0" * 64 + "'}\n")
    assert result.exit_code == 1
    assert len(result.stdout) < 20_000, len(result.stdout)
    assert "more characters" in result.stdout


XPATH_HOLDING = {
    "count": '"count(//_:entry)": 2',
    "string": '"string(/_:feed/_:title)": News',
    "attributes": '"//_:entry/@m:id": ["1", "2"]',
    "one-node-text": '"//_:entry[2]/_:title": B',
    "boolean": '"boolean(//_:entry)": true',
    "absent": '"//_:nothing": {exists: false}',
    "with-filters": '"//_:entry/@m:id": {filters: [count], eq: 2}',
}


@pytest.mark.parametrize("check", XPATH_HOLDING.values(), ids=XPATH_HOLDING.keys())
def test_xpath_on_xml_with_namespaces(run_cli: Any, write: Any, base: str, check: str) -> None:
    result = run_requests(run_cli, write, base, f"  - name: xml\n    url: /xml\n    expect:\n      xpath:\n        {check}\n")
    assert result.exit_code == 0, result.output


def test_xpath_on_html_and_capture(run_cli: Any, write: Any, base: str, project: Path) -> None:
    requests = """\
  - name: html
    url: /html
    expect:
      xpath: {"//title": Home, "count(//li)": 2, "//li[@class='x']": b, "//a/@href": /next}
    capture:
      next: {xpath: "string(//a/@href)"}
      second: {xpath: "//_:entry[2]/@m:id"}
"""
    result = run_requests(run_cli, write, base, requests)
    assert result.exit_code == 1  # the second capture reads an XPath the HTML does not have
    assert "capture second" in result.stdout
    requests = requests.replace('      second: {xpath: "//_:entry[2]/@m:id"}\n', "") + "  - {name: next, url: '{{ next }}', expect: {status: 404}}\n"
    result = run_requests(run_cli, write, base, requests)
    assert result.exit_code == 0, result.output


def test_xpath_failures_say_expected_actual_and_where(run_cli: Any, write: Any, base: str) -> None:
    requests = '  - name: xml\n    url: /xml\n    expect:\n      xpath: {"count(//_:entry)": 3, "string(//_:title)": {startswith: X}}\n'
    result = run_requests(run_cli, write, base, requests)
    lines = failure_lines(result)
    assert lines[0].startswith("x xpath count(//_:entry): expected 3, got 2") and "c.yaml:7:" in lines[0]
    assert lines[1].startswith('x xpath string(//_:title): expected starts with "X", got "News"')
    result = run_requests(run_cli, write, base, '  - name: json\n    url: /item\n    expect: {xpath: {"//a": 1}}\n')
    assert "x xpath //a: expected 1, got (nothing: the body is not XML" in result.stdout


def test_a_bad_xpath_is_an_input_error(run_cli: Any, write: Any) -> None:
    path = write("c.yaml", 'name: c\nrequests:\n  - name: r\n    url: http://127.0.0.1:9/\n    expect: {xpath: {"//a[": 1}}\n')
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and "invalid XPath '//a['" in result.stderr and "c.yaml:5:" in result.stderr


def test_the_final_url_and_each_redirect_hop(run_cli: Any, write: Any, base: str, project: Path) -> None:
    requests = f"""\
  - name: chain
    url: /r1
    follow_redirects: true
    expect:
      status: 200
      url: {base}/item
      redirects: [{{status: 301, location: /r2}}, {{status: 302, location: {{endswith: /item}}, url: {{endswith: /r2}}}}]
    capture:
      final: {{url: true}}
  - name: not followed
    url: /r1
    expect: {{status: 301, redirects: {{length: 0}}, url: {{endswith: /r1}}, headers: {{Location: /r2}}}}
  - name: at most one
    url: /r1
    follow_redirects: true
    max_redirects: 1
"""
    result = run_requests(run_cli, write, base, requests)
    assert result.exit_code == 1
    assert "PASS  GET    chain" in result.stdout and "PASS  GET    not followed" in result.stdout
    assert "too many redirects (more than 1)" in result.stdout


def test_a_wrong_redirect_chain_names_the_hop(run_cli: Any, write: Any, base: str) -> None:
    requests = """\
  - name: chain
    url: /r1
    follow_redirects: true
    expect:
      redirects: [{status: 301, location: /r2}, {status: 307}]
      url: {endswith: /r2}
  - name: count
    url: /r1
    follow_redirects: true
    expect: {redirects: [{status: 301}]}
"""
    result = run_requests(run_cli, write, base, requests)
    lines = sorted(failure_lines(result))
    assert lines[1].startswith("x redirects: expected 1 hops: 301, got 2 hops: 301 /r2 -> 302 /item")
    assert lines[0].startswith("x redirects hop 2/2 status: expected 307, got 302")
    assert lines[2].startswith(f'x url: expected ends with "/r2", got "{base}/item"')


def test_http_version_check(run_cli: Any, write: Any, base: str) -> None:
    result = run_requests(run_cli, write, base, "  - {name: v, url: /item, expect: {http_version: HTTP/1.1}}\n  - {name: w, url: /item, expect: {http_version: HTTP/2}}\n")
    assert result.exit_code == 1
    assert 'x http_version: expected "HTTP/2", got "HTTP/1.1"' in result.stdout


def test_the_json_report_keeps_byte_and_date_captures_as_text(run_cli: Any, write: Any, base: str, project: Path) -> None:
    report = project / "r.json"
    requests = "  - name: png\n    url: /png\n    capture:\n      raw: {bytes: true}\n      day: {json: $.x, filters: [toDate]}\n"
    requests = requests.replace("      day: {json: $.x, filters: [toDate]}\n", "")
    requests += "  - name: item\n    url: /item\n    capture:\n      day: {json: $.created, filters: [toDate]}\n      hash: {bytes: true, filters: [sha256]}\n"
    result = run_requests(run_cli, write, base, requests, "--report", f"json:{report}")
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    first, second = (request["captures"] for request in data["collections"][0]["requests"])
    assert first["raw"] == PNG.hex()
    assert second["day"] == "2024-03-05T10:20:30+00:00" and len(second["hash"]) == 64


def test_the_served_documents_are_what_the_checks_read() -> None:
    assert XML.count(b"<entry") == 2 and HTML.count(b"<li") == 2  # the counts the XPath checks above expect


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_brotli_and_zstd_bodies_are_checked_decoded(run_cli: Any, write: Any, base: str, coding: str) -> None:
    from check_servers import ITEM

    digest = hashlib.sha256(json.dumps(ITEM).encode()).hexdigest()
    request = f"  - name: {coding}\n    url: /{coding}\n    expect: {{headers: {{Content-Encoding: {coding}}}, sha256: '{digest}', json: {{$.name: Comté}}}}\n"
    result = run_requests(run_cli, write, base, request)
    assert result.exit_code == 0, result.output


def test_validate_checks_examples_by_bytes_and_xpath_and_leaves_transport_checks_to_runs(run_cli: Any, write: Any) -> None:
    body = "<r><x>1</x></r>"
    digest = hashlib.sha256(body.encode()).hexdigest()
    requests = f"""\
  - name: a
    url: /a
    expect:
      bytes: {{length: {len(body)}}}
      sha256: '{digest}'
      xpath: {{"//x": "1"}}
      url: {{endswith: /a}}
      http_version: HTTP/1.1
      redirects: {{length: 0}}
    example: {{body: "{body}", headers: {{Content-Type: application/xml}}}}
"""
    path = write("c.yaml", f"name: c\nbase_url: https://api.example.com\nrequests:\n{requests}")
    assert run_cli("validate", str(path)).exit_code == 0
    assert run_cli("run", str(path), "--mock").exit_code == 0
    write("c.yaml", path.read_text().replace('"//x": "1"', '"//x": "2"'))
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and "the example fails xpath //x: expected \"2\", got \"1\"" in result.stderr
