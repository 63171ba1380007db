"""Every report format, written by real runs against loopback servers, parsed back field by field.

The run has passes, failed checks, a skip, a refused connection (a closed port)
and a template error; a secret canary is sent as a bearer token and echoed back
by the server in a body and a header: it must appear in no report and no stream.
"""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import lxml.html
import pytest
from lxml import etree
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

REPO = Path(__file__).resolve().parents[2]
XSD = etree.XMLSchema(etree.parse(str(REPO / "tests/data/junit/junit-10.xsd")))
REPORT_SCHEMA = json.loads((REPO / "schemas/report.schema.json").read_text())
FORMATS = {"junit": "reports/junit.xml", "json": "reports/run.json", "html": "reports/report.html", "markdown": "reports/summary.md", "github": "reports/annotations.txt"}


def _echo(request: Request) -> Response:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    body = {"object": "list", "data": [{"id": "mistral-small"}], "seen": token, "escaped": "".join(f"\\u{ord(c):04x}" for c in token[:1]) + token[1:]}
    # the escaped form is sent raw (json.dumps would re-escape the backslash): a parser decodes it to the token
    text = json.dumps(body).replace("\\\\u", "\\u")
    return Response(text, status=200, content_type="application/json", headers={"X-Echo": token})


def _chat(request: Request) -> Response:
    return Response(json.dumps({"model": "mistral-small", "echo": request.headers.get("Authorization", "")}), status=500, content_type="application/json")


@pytest.fixture
def canary() -> str:
    return f"canary-{uuid.uuid4().hex}"


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return port  # nothing listens there any more: connecting is refused


@pytest.fixture
def collections(write, httpserver: HTTPServer, canary: str, closed_port: int) -> dict[str, Path]:
    httpserver.expect_request("/v1/models").respond_with_handler(_echo)
    httpserver.expect_request("/v1/chat").respond_with_handler(_chat)
    chat = write(
        "collections/chat.yaml",
        f"""name: Mistral chat
base_url: {httpserver.url_for('')}
auth: {{bearer: "{{{{ api_key }}}}"}}
vars:
  api_key: {canary}
secrets: [api_key]
requests:
  - name: list models
    url: /v1/models
    tags: [smoke]
    expect:
      status: 200
      json:
        "$.object": list
    capture:
      model_id: "$.data[0].id"
      echoed: {{header: X-Echo}}
  - name: chat completion
    method: POST
    url: /v1/chat
    json: {{model: "{{{{ model_id }}}}", user: "{{{{ api_key }}}}"}}
    expect:
      status: 500  # a failed status would skip the other checks
      json:
        "$.model": mistral-large
        "$.echo": {{exists: false}}
  - name: slow one
    url: /v1/slow
    skip: true
  - name: refused
    url: http://127.0.0.1:{closed_port}/v1/models
""",
    )
    broken = write(
        "collections/broken.yaml",
        f"""name: broken
base_url: {httpserver.url_for('')}
requests:
  - name: capture nothing
    url: /v1/models
    capture:
      missing: "$.nope"
  - name: uses the missing capture
    url: "/v1/models/{{{{ missing }}}}"
""",
    )
    return {"chat": chat, "broken": broken}


def _line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


@pytest.fixture
def reported(run_cli, project: Path, collections: dict[str, Path], canary: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """One run writing every format; the summary file GitHub would give is set too."""
    summary = project / "step-summary.md"
    summary.write_text("earlier step\n")
    args = ["run", "collections"]
    for fmt, path in FORMATS.items():
        args += ["--report", f"{fmt}:{path}"]
    result = run_cli(*args, cwd=project, env={"GITHUB_STEP_SUMMARY": str(summary)})
    files = {fmt: (project / path).read_bytes() for fmt, path in FORMATS.items()}
    return {"result": result, "files": files, "summary": summary.read_text(), "project": project}


def test_run_exit_code_and_no_canary_anywhere(reported: dict[str, Any], canary: str) -> None:
    result = reported["result"]
    assert result.exit_code == 1, result.output
    assert "1 passed, 2 failed, 2 errors, 1 skipped" in result.stdout
    for fmt, data in reported["files"].items():
        assert canary.encode() not in data, fmt
    assert canary not in reported["summary"]
    assert canary not in result.stdout and canary not in result.stderr
    assert not list((reported["project"] / "reports").glob("*.tmp")) and not list((reported["project"] / "reports").glob(".*"))


def test_junit_report(reported: dict[str, Any], collections: dict[str, Path]) -> None:
    root = etree.fromstring(reported["files"]["junit"])
    XSD.assertValid(root)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "2")
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["broken", "Mistral chat"]  # files run sorted
    chat = suites["Mistral chat"]
    assert (chat.get("tests"), chat.get("failures"), chat.get("errors"), chat.get("skipped")) == ("4", "1", "1", "1")
    cases = {case.get("name"): case for case in chat.findall("testcase")}
    assert list(cases) == ["list models", "chat completion", "slow one", "refused"]
    assert all(case.get("classname") == "Mistral chat" for case in cases.values())
    assert float(cases["list models"].get("time")) > 0 and len(cases["list models"]) == 1  # system-out only
    failure = cases["chat completion"].find("failure")
    assert failure.get("message") == "2 checks failed: json $.model, json $.echo"
    assert "status: expected" not in failure.text and 'json $.model: expected "mistral-large", got "mistral-small"' in failure.text
    assert 'response body:\n{"model": "mistral-small", "echo": "' in failure.text and "****" in failure.text  # the excerpt, masked
    assert f"at: collections/chat.yaml:{_line_of(collections['chat'], 'name: chat completion')}" in failure.text
    assert cases["slow one"].find("skipped").get("message") == "skip condition is true"
    error = cases["refused"].find("error")
    assert error is not None and cases["refused"].find("failure") is None and "refused" in error.get("message")
    broken = {case.get("name"): case for case in suites["broken"].findall("testcase")}
    assert "capture missing: expected a value at $.nope" in broken["capture nothing"].find("failure").text
    template_error = broken["uses the missing capture"].find("error")
    assert template_error.get("type") == "template" and "missing" in template_error.get("message")


def test_json_report(reported: dict[str, Any], collections: dict[str, Path], httpserver: HTTPServer) -> None:
    data = json.loads(reported["files"]["json"])
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(data)
    assert data["report_version"] == 1 and data["exit_status"] == 1 and data["interrupted"] is False
    assert data["counts"] == {"total": 6, "passed": 1, "failed": 2, "error": 2, "skipped": 1}
    assert [c["name"] for c in data["collections"]] == ["broken", "Mistral chat"]
    chat = {r["name"]: r for r in data["collections"][1]["requests"]}
    models = chat["list models"]
    assert models["outcome"] == "passed" and models["tags"] == ["smoke"]
    assert models["location"] == {"file": "collections/chat.yaml", "line": _line_of(collections["chat"], "name: list models"), "col": 5}
    assert models["request"] == {"method": "GET", "url": httpserver.url_for("/v1/models"), "headers": models["request"]["headers"], "body": ""}
    assert {"name": "Authorization", "value": "Bearer ****"} in models["request"]["headers"]
    assert models["response"]["status"] == 200 and models["response"]["size"] > 0 and models["response"]["content_type"] == "application/json"
    assert {"name": "x-echo", "value": "****"} in models["response"]["headers"]
    assert models["captures"] == {"model_id": "mistral-small", "echoed": "****"}
    assert models["response"]["body_excerpt"] == ""  # reports keep the bodies of failed requests only
    assert [(c["label"], c["passed"]) for c in models["checks"]] == [("status", True), ("json $.object", True)]
    assert models["attempts"][0]["number"] == 1 and models["attempts"][0]["status"] == 200 and models["stream"] is None
    completion = chat["chat completion"]
    assert completion["outcome"] == "failed" and json.loads(completion["request"]["body"]) == {"model": "mistral-small", "user": "****"}
    assert json.loads(completion["response"]["body_excerpt"]) == {"model": "mistral-small", "echo": "****"}  # the echoed header, masked
    assert [(c["label"], c["passed"], c["expected"], c["actual"]) for c in completion["checks"]] == [
        ("status", True, "500", "500"),
        ("json $.model", False, '"mistral-large"', '"mistral-small"'),
        ("json $.echo", False, "absent", '"****"'),
    ]
    assert chat["slow one"]["outcome"] == "skipped" and chat["slow one"]["request"] is None
    refused = chat["refused"]
    assert refused["outcome"] == "error" and refused["response"] is None and "refused" in refused["error"]["message"]


def test_html_report(reported: dict[str, Any]) -> None:
    text = reported["files"]["html"].decode()
    page = lxml.html.fromstring(text)
    assert {node.get("data-count"): node.text_content() for node in page.xpath("//*[@data-count]")} == {
        "total": "6", "passed": "1", "failed": "2", "error": "2", "skipped": "1",
    }
    assert [(node.get("data-outcome"), node.get("open") is not None) for node in page.xpath("//details")] == [
        ("failed", True), ("error", True), ("passed", False), ("failed", True), ("skipped", False), ("error", True),
    ]
    assert page.xpath("//*[@src or @href]") == [] and page.xpath("//style") and page.xpath("//script")
    assert "Bearer ****" in text


def test_markdown_and_github_reports(reported: dict[str, Any], collections: dict[str, Path]) -> None:
    markdown = reported["files"]["markdown"].decode()
    assert "| ❌ | Mistral chat | `collections/chat.yaml` | 1 | 1 | 1 | 1 |" in markdown
    assert "**❌ Mistral chat › chat completion**" in markdown and "- `json $.model: expected \"mistral-large\", got \"mistral-small\"`" in markdown
    assert reported["summary"].startswith("earlier step\n### ❌ runner:")  # appended, not replaced
    assert "**❌ broken › uses the missing capture**" in reported["summary"]
    annotations = reported["files"]["github"].decode().splitlines()
    chat_line = _line_of(collections["chat"], "name: chat completion")
    assert f"::error file=collections/chat.yaml,line={chat_line},col=5,title=Mistral chat > chat completion::json $.model: expected \"mistral-large\", got \"mistral-small\"%0A" in "\n".join(annotations)
    assert sum(line.startswith("::error ") for line in annotations) == 4
    assert annotations[-1].startswith("::notice title=runner::1 passed, 2 failed, 2 errors, 1 skipped")


# -- where reports go, and when they cannot be written -------------------------------------------


def test_unwritable_report_path_exits_2_before_sending(run_cli, project: Path, collections: dict[str, Path], httpserver: HTTPServer) -> None:
    (project / "somefile.txt").write_text("not a folder")
    result = run_cli("run", "collections", "--report", "json:reports/ok.json", "--report", "junit:somefile.txt/report.xml", cwd=project)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == "cannot write the junit report to somefile.txt/report.xml: somefile.txt is a file, not a folder"
    assert httpserver.log == []  # nothing sent
    assert not (project / "reports" / "ok.json").exists() and list((project / "reports").iterdir()) == []  # no partial file


def test_report_to_stdout_moves_the_console_to_stderr(run_cli, project: Path, collections: dict[str, Path], canary: str) -> None:
    result = run_cli("run", "collections/chat.yaml", "--report", "json:-", cwd=project)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["counts"]["total"] == 4
    passed = data["collections"][0]["requests"][0]
    assert passed["outcome"] == "passed" and passed["response"]["body_excerpt"] == "" and passed["response"]["status"] == 200
    failed = data["collections"][0]["requests"][1]
    assert failed["outcome"] == "failed" and '"model": "mistral-small"' in failed["response"]["body_excerpt"]
    assert "FAIL  POST   chat completion" in result.stderr and canary not in result.output


def test_existing_report_is_replaced_whole(run_cli, project: Path, collections: dict[str, Path]) -> None:
    target = project / "reports" / "junit.xml"
    target.parent.mkdir()
    target.write_text("<old/>")
    run_cli("run", "collections", "-k", "smoke", "--report", "junit:reports/junit.xml", cwd=project)
    root = etree.fromstring(target.read_bytes())
    XSD.assertValid(root)
    assert root.get("tests") == "1" and [p.name for p in target.parent.iterdir()] == ["junit.xml"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [("xml:r.xml", "unknown format 'xml'"), ("junit", "expected FORMAT:PATH"), ("junit:", "expected FORMAT:PATH")],
    ids=["unknown-format", "no-path", "empty-path"],
)
def test_bad_report_option_exits_2(run_cli, project: Path, collections: dict[str, Path], httpserver: HTTPServer, spec: str, message: str) -> None:
    result = run_cli("run", "collections", "--report", spec, cwd=project)
    assert result.exit_code == 2 and message in result.stderr and httpserver.log == []


@pytest.mark.parametrize(
    ("options", "message", "kept"),
    [
        (["--report", "json:collections/chat.yaml"], "--report json:collections/chat.yaml would overwrite collections/chat.yaml, an input of this run", "collections/chat.yaml"),
        (["-e", "env.yaml", "--report", "junit:./env.yaml"], "--report junit:./env.yaml would overwrite env.yaml, an input of this run", "env.yaml"),
        (["--report", "json:out.txt", "--report", "junit:out.txt"], "--report junit:out.txt and --report json:out.txt write the same file", None),
    ],
    ids=["a-collection", "the-environment-file", "another-report"],
)
def test_a_report_never_overwrites_an_input_or_another_report(run_cli, project: Path, collections: dict[str, Path], httpserver: HTTPServer, options: list[str], message: str, kept: str | None) -> None:
    (project / "env.yaml").write_text("model: x\n")
    before = (project / kept).read_bytes() if kept else b""
    result = run_cli("run", "collections", *options, cwd=project)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert httpserver.log == []
    assert not kept or (project / kept).read_bytes() == before
    assert not (project / "out.txt").exists()


def test_interrupted_run_still_writes_its_reports(project: Path, write, httpserver: HTTPServer) -> None:
    """Ctrl-C in the middle of a request: exit 130, and the reports hold what had finished."""
    import signal
    import subprocess
    import sys
    import threading

    arrived, release = threading.Event(), threading.Event()

    def stall(request: Request) -> Response:
        arrived.set()
        release.wait(30)
        return Response("late")

    httpserver.expect_request("/ok").respond_with_data("fine")
    httpserver.expect_request("/stall").respond_with_handler(stall)
    write("c.yaml", f"name: c\nbase_url: {httpserver.url_for('')}\nrequests:\n  - {{name: quick, url: /ok}}\n  - {{name: stalls, url: /stall}}\n  - {{name: never, url: /ok}}\n")
    command = [sys.executable, "-m", "runner.cli", "run", "c.yaml", "--report", "json:r/run.json", "--report", "junit:r/junit.xml"]
    process = subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if not arrived.wait(30):
            process.kill()
            pytest.fail("the run never reached the stalling request: " + "".join(process.communicate()))
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stdout + stderr
    data = json.loads((project / "r" / "run.json").read_text())
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(data)
    assert data["interrupted"] is True and data["exit_status"] == 130
    assert [r["name"] for r in data["collections"][0]["requests"]] == ["quick"]
    root = etree.parse(str(project / "r" / "junit.xml")).getroot()
    XSD.assertValid(root)
    assert root.get("tests") == "1" and root.find("testsuite/properties/property[@name='interrupted']").get("value") == "true"
    assert sorted(path.name for path in (project / "r").iterdir()) == ["junit.xml", "run.json"]


def test_json_report_is_written_as_the_run_goes(project: Path, write, httpserver: HTTPServer) -> None:
    """While the second request waits on the server, the first one is already in the report's temporary file."""
    import subprocess
    import sys
    import threading

    arrived, release = threading.Event(), threading.Event()

    def held(request: Request) -> Response:
        arrived.set()
        release.wait(30)
        return Response('{"n": 2}', content_type="application/json")

    httpserver.expect_request("/first").respond_with_json({"n": 1})
    httpserver.expect_request("/second").respond_with_handler(held)
    write("c.yaml", f"name: c\nbase_url: {httpserver.url_for('')}\nrequests:\n  - {{name: first, url: /first, expect: {{status: 200}}}}\n  - {{name: second, url: /second}}\n")
    command = [sys.executable, "-m", "runner.cli", "run", "c.yaml", "--report", "json:r/run.json", "--report", "junit:r/junit.xml"]
    process = subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if not arrived.wait(30):
            process.kill()
            pytest.fail("the run never reached the held request: " + "".join(process.communicate()))
        (temp,) = [path for path in (project / "r").iterdir() if path.name.startswith(".run.json.")]
        early = temp.read_text(encoding="utf-8")
        assert not (project / "r" / "run.json").exists()  # the target appears only when the report is complete
    finally:
        release.set()
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stdout + stderr
    assert '"name": "first"' in early and '"passed"' in early and '"name": "second"' not in early
    final = (project / "r" / "run.json").read_text(encoding="utf-8")
    assert final.startswith(early)  # appended to, never rewritten
    data = json.loads(final)
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(data)
    assert [r["name"] for r in data["collections"][0]["requests"]] == ["first", "second"] and data["counts"]["passed"] == 2
    XSD.assertValid(etree.parse(str(project / "r" / "junit.xml")))
    assert sorted(path.name for path in (project / "r").iterdir()) == ["junit.xml", "run.json"]


def test_summary_reports_count_requests_they_do_not_list(run_cli, project: Path, collections: dict[str, Path]) -> None:
    """Without a report that lists every request, passed ones are only counted: the totals must still hold them."""
    result = run_cli("run", "collections", "--report", "markdown:reports/summary.md", "--report", "junit:reports/junit.xml", "--report", "json:reports/run.json", cwd=project)
    assert result.exit_code == 1, result.output
    markdown = (project / "reports" / "summary.md").read_text()
    assert "1 passed, 2 failed, 2 errors, 1 skipped" in markdown
    assert "| ❌ | Mistral chat | `collections/chat.yaml` | 1 | 1 | 1 | 1 |" in markdown
    data = json.loads((project / "reports" / "run.json").read_text())
    models = data["collections"][1]["requests"][0]
    assert models["outcome"] == "passed" and [c["label"] for c in models["checks"]] == ["status", "json $.object"]  # details, without html
    assert {"name": "Authorization", "value": "Bearer ****"} in models["request"]["headers"] and models["response"]["headers"]
    root = etree.fromstring((project / "reports" / "junit.xml").read_bytes())
    XSD.assertValid(root)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "2")


def test_a_captured_number_json_cannot_hold_is_written_as_javascript_prints_it(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    """A body's ``1e400`` is infinity in Python: the JSON report stays strict JSON (no bare ``Infinity``)."""
    httpserver.expect_request("/big").respond_with_data('{"big": 1e400, "many": [1e400, -1e400, 1.5]}', content_type="application/json")
    path = write("big.yaml", f"name: big\nrequests:\n  - name: big\n    url: {httpserver.url_for('/big')}\n    capture:\n      big: {{json: $.big}}\n      many: {{json: $.many}}\n")
    result = run_cli("run", str(path), "--report", "json:out.json", "--report", "junit:out.xml", cwd=project)
    assert result.exit_code == 0, result.output

    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    document = json.loads((project / "out.json").read_text(encoding="utf-8"), parse_constant=refuse)
    captures = document["collections"][0]["requests"][0]["captures"]
    assert captures == {"big": "Infinity", "many": ["Infinity", "-Infinity", 1.5]}
