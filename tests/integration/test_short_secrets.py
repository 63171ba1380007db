"""A short secret (``e``, ``a``, ``url``, ``pass``, ``ed``, ``200``) never breaks a report nor changes the exit code.

Masking applies to values from users and servers, never to keys, enum values,
times or file paths; a secret shorter than ``MIN_SECRET_LENGTH`` is masked only
where it stands alone, with a warning.  Every report format is validated after
the run: the JSON report against its schema, JUnit against the XSD, the HTML
page parsed, the GitHub annotations line by line.  A secret captured late
(``secret: true``) makes the streamed reports be masked again at the end: that
pass is checked too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree, html
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from runner.redact import MIN_SECRET_LENGTH
from runner.reports import FORMATS

REPO = Path(__file__).resolve().parents[2]
XSD = etree.XMLSchema(etree.parse(str(REPO / "tests/data/junit/junit-10.xsd")))
REPORT_SCHEMA = json.loads((REPO / "schemas/report.schema.json").read_text())
SHORT = ["e", "a", "url", "pass", "ed", "200", "passed", "error"]


def echo(request: Request) -> Response:
    return Response(json.dumps({"key": request.headers.get("X-Key"), "late": "ok", "status": "passed"}), status=200, content_type="application/json")


@pytest.fixture
def short_run(write: Any, project: Path, httpserver: HTTPServer) -> Any:
    httpserver.expect_request("").respond_with_handler(echo)

    def run(run_cli: Any, secret: str, failing: bool) -> tuple[Any, dict[str, str]]:
        expect = "{status: 201}" if failing else "{status: 200, json: {$.key: {exists: true}}}"
        path = write("c.yaml", f"""
name: reader bypassed urls 2000 errors needed
base_url: {httpserver.url_for('')}
vars: {{tok: {json.dumps(secret)}}}
secrets: [tok]
requests:
  - name: first bypassed
    url: /first/{{{{ tok }}}}
    headers: {{X-Key: "{{{{ tok }}}}"}}
    capture: {{late: {{json: $.late, secret: true}}}}
    expect: {{status: 200}}
  - name: urls iteration
    url: /second
    headers: {{X-Key: "{{{{ tok }}}}"}}
    expect: {expect}
""")
        reports = {fmt: project / f"report.{fmt}" for fmt in FORMATS}
        args = [arg for fmt, target in reports.items() for arg in ("--report", f"{fmt}:{target}")]
        result = run_cli("run", str(path), *args, cwd=project)
        return result, {fmt: target.read_text(encoding="utf-8") for fmt, target in reports.items()}

    return run


@pytest.mark.parametrize("failing", [False, True], ids=["passing", "failing"])
@pytest.mark.parametrize("secret", SHORT)
def test_a_short_secret_leaves_every_report_valid_and_the_exit_code_alone(run_cli: Any, short_run: Any, secret: str, failing: bool) -> None:
    result, files = short_run(run_cli, secret, failing)
    assert result.exit_code == (1 if failing else 0), result.output
    assert "internal error" not in result.output
    if len(secret) < MIN_SECRET_LENGTH:
        assert f"warning: secret 'tok' is shorter than {MIN_SECRET_LENGTH} characters" in result.stderr

    data = json.loads(files["json"])
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(data)
    assert data["exit_status"] == result.exit_code
    assert data["counts"] == {"total": 2, "passed": 1 + (not failing), "failed": int(failing), "error": 0, "skipped": 0}
    requests = data["collections"][0]["requests"]
    assert [request["outcome"] for request in requests] == ["passed", "failed" if failing else "passed"]
    assert data["collections"][0]["name"] == "reader bypassed urls 2000 errors needed"  # inside words a short secret is left
    first = requests[0]
    assert first["url"].endswith("/first/****") and first["request"]["headers"] == [{"name": "X-Key", "value": "****"}]
    if failing:
        excerpt = requests[1]["response"]["body_excerpt"]
        assert '"key": "****"' in excerpt and '"late": "****"' in excerpt  # standalone values masked, also the late secret

    junit = etree.fromstring(files["junit"].encode("utf-8"))
    XSD.assertValid(junit)
    assert junit.get("tests") == "2" and junit.get("failures") == str(int(failing))
    assert [case.get("name") for case in junit.iter("testcase")] == ["first bypassed", "urls iteration"]

    page = html.fromstring(files["html"])
    assert page.find(".//title") is not None and "first bypassed" in page.text_content() and "urls iteration" in page.text_content()
    assert files["html"].rstrip().endswith("</html>")

    assert ("1 passed, 1 failed" if failing else "2 passed, 0 failed") in files["markdown"]
    lines = files["github"].splitlines()
    assert all(line.startswith(("::error ", "::notice ")) for line in lines)
    assert len(lines) == 1 + failing


def test_a_long_secret_is_masked_inside_words_and_in_other_cases(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    secret = "Sk-MixedCase-0123"
    httpserver.expect_request("").respond_with_handler(lambda request: Response(json.dumps({"echo": request.headers.get("X-Key", "").lower(), "up": request.headers.get("X-Key", "").upper()}), status=500, headers={"x-" + secret.lower(): "1"}, content_type="application/json"))
    path = write("c.yaml", f"""
name: t
base_url: {httpserver.url_for('')}
vars: {{tok: {secret}}}
secrets: [tok]
requests:
  - name: a
    url: /x
    headers: {{X-Key: "pre{{{{ tok }}}}post"}}
    expect: {{status: 200}}
""")
    result = run_cli("run", str(path), "-v", cwd=project)
    assert result.exit_code == 1
    assert "pre****post" in result.stdout
    for form in (secret, secret.lower(), secret.upper()):
        assert form not in result.output
    assert "< x-****: 1" in result.stdout  # a header name echoing the secret
