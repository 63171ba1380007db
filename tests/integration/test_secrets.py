"""Secrets never leave the process unmasked: a canary token, checked in every channel.

The canary is sent for real (the server sees it) and echoed back by the server
in bodies and headers; then it must appear in no console output (plain, ``-v``,
failures), no report of any registered format, no ``show`` output (http, curl,
``-v``), and no error message, whether it stands alone, inside a longer string,
in a URL, JSON-escaped, or in a value captured from a response.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fault_servers import closed_port
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from runner.reports import FORMATS

CANARY = f"CANARY{uuid.uuid4().hex}"
QUOTED = f'say "{uuid.uuid4().hex}" \\ done'  # a secret that JSON must escape
SESSION = f"SESSION{uuid.uuid4().hex}"  # only the server knows it; the collection captures it as secret
LEAKS = [CANARY, QUOTED, json.dumps(QUOTED)[1:-1], QUOTED.split('"')[1], SESSION, base64.b64encode(CANARY.encode()).decode()]


def echo(request: Request) -> Response:
    """Echo what arrived (headers, query, body), hand out the session token, fail with 418."""
    payload = {
        "path": request.full_path,
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "body": request.get_data(as_text=True),
        "session": SESSION,
    }
    response = Response(json.dumps(payload), status=418, content_type="application/json")
    response.headers["X-Echo-Authorization"] = request.headers.get("Authorization", "")
    response.headers["X-Echo-Session"] = SESSION
    return response


@pytest.fixture
def echo_server(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("").respond_with_handler(echo)
    return httpserver


@pytest.fixture
def canary_project(write: Any, echo_server: HTTPServer) -> dict[str, Any]:
    """A collection that uses the canary every way it can, its environment file, and the variables to run it."""
    env_file = write("env.yaml", """
api_key: "{{ env.RUNNER_CANARY }}"
quoted: "{{ env.RUNNER_QUOTED }}"
secrets: [api_key, quoted]
""")
    collection = write("canary.yaml", f"""
name: canary
base_url: {echo_server.url_for('')}
requests:
  - name: bearer
    url: /bearer
    auth: {{bearer: "{{{{ api_key }}}}"}}
    expect: {{status: 418, headers: {{x-echo-authorization: "Token {{{{ api_key }}}}"}}}}
    capture:
      echoed: {{json: "$.headers.authorization"}}
      session: {{json: "$.session", secret: true}}
  - name: query key
    url: "/q?page=1"
    auth: {{api_key: {{query: api_key, value: "{{{{ api_key }}}}"}}}}
    expect: {{status: 418, body: {{contains: "nope-{{{{ api_key }}}}-nope"}}}}
  - name: everywhere
    method: POST
    url: "/users/{{{{ api_key }}}}/x"
    headers: {{X-Trace: "trace-{{{{ api_key }}}}-end", Cookie: "sid={{{{ session }}}}"}}
    json: {{quoted: "{{{{ quoted }}}}", inner: "key={{{{ api_key }}}};", echoed: "{{{{ echoed }}}}", session: "{{{{ session }}}}"}}
    expect: {{status: 418, body: {{contains: never-there}}}}
  - name: basic
    url: /basic
    auth: {{basic: {{username: me, password: "{{{{ api_key }}}}"}}}}
    expect: {{status: 418, body: {{contains: never-there}}}}
  - name: refused
    url: "http://127.0.0.1:{closed_port()}/{{{{ api_key }}}}"
  - name: render error  # uses a capture (even if empty), so only a real run renders it
    url: "/{{{{ random_int(api_key ~ echoed[:0], 2) }}}}"
""")
    return {"collection": str(collection), "env_file": str(env_file), "env": {"RUNNER_CANARY": CANARY, "RUNNER_QUOTED": QUOTED}}


def assert_no_leak(text: str, channel: str) -> None:
    for secret in LEAKS:
        assert secret not in text, f"a secret leaked into {channel}"


def test_the_canary_was_really_sent(run_cli: Any, canary_project: dict[str, Any], echo_server: HTTPServer) -> None:
    """Without this, the other tests could pass because the secret was never used."""
    result = run_cli("run", canary_project["collection"], "-e", canary_project["env_file"], env=canary_project["env"])
    assert result.exit_code == 1
    sent = "\n".join(f"{entry.full_path} {dict(entry.headers)} {entry.get_data(as_text=True)}" for entry, _ in echo_server.log)
    assert CANARY in sent and SESSION in sent and json.dumps(QUOTED)[1:-1] in sent
    assert f"/q?page=1&api_key={CANARY}" in sent  # the key is added to the URL's own query, as shown (masked)
    assert "/q?page=1&api_key=****" in result.stdout
    assert "****" in result.stdout


@pytest.mark.parametrize("flags", [[], ["-v"], ["-q"], ["--jobs", "2", "-v"]], ids=["console", "verbose", "quiet", "jobs-verbose"])
def test_console_output(run_cli: Any, canary_project: dict[str, Any], flags: list[str]) -> None:
    result = run_cli("run", canary_project["collection"], "-e", canary_project["env_file"], *flags, env=canary_project["env"])
    assert result.exit_code == 1
    assert "render error" in result.stdout  # the failures were printed, with their details
    assert "key=****;" in result.stdout or "-q" in flags
    assert_no_leak(result.output, f"console {flags}")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_report_format(run_cli: Any, canary_project: dict[str, Any], project: Path, fmt: str) -> None:
    report = project / f"report.{fmt}"
    result = run_cli("run", canary_project["collection"], "-e", canary_project["env_file"], "--report", f"{fmt}:{report}", env=canary_project["env"])
    assert result.exit_code == 1
    text = report.read_text(encoding="utf-8")
    assert "render error" in text
    assert_no_leak(text, f"the {fmt} report")


@pytest.mark.parametrize("args", [[], ["--format", "curl"], ["-v"]], ids=["http", "curl", "verbose"])
def test_show(run_cli: Any, canary_project: dict[str, Any], args: list[str]) -> None:
    for name in ("bearer", "query key", "everywhere", "basic", "refused"):
        result = run_cli("show", canary_project["collection"], "-e", canary_project["env_file"], "--request", name, *args, env=canary_project["env"])
        assert result.exit_code == 0, result.output
        assert "****" in result.stdout or "$RUNNER_CANARY" in result.stdout  # a command reads a secret from the environment
        assert_no_leak(result.output, f"show {name} {args}")


def test_show_error_message(run_cli: Any, canary_project: dict[str, Any]) -> None:
    result = run_cli("show", canary_project["collection"], "-e", canary_project["env_file"], "--request", "render error", env=canary_project["env"])
    assert result.exit_code == 2
    assert "random_int(a, b) takes two whole numbers, got str and int" in result.stderr
    assert_no_leak(result.output, "a show error")


def test_a_secret_quoted_in_an_input_error_is_masked(run_cli: Any, write: Any) -> None:
    env_file = str(write("env.yaml", 'api_key: "{{ env.RUNNER_CANARY }}"\nsecrets: [api_key]\n'))
    path = write("c.yaml", 'name: t\nvars:\n  pages: "{{ random_int(api_key, 3) }}"\nrequests:\n  - name: a\n    url: http://127.0.0.1:9/\n')
    for command in ("run", "validate"):
        result = run_cli(command, str(path), "-e", env_file, env={"RUNNER_CANARY": CANARY})
        assert result.exit_code == 2
        assert "random_int(a, b) takes two whole numbers, got str and int" in result.stderr
        assert_no_leak(result.output, f"{command} error")


def test_the_caret_points_at_the_error_in_a_line_a_secret_was_masked_in(run_cli: Any, write: Any) -> None:
    path = write("c.yaml", f'name: t\nvars: {{tok: {CANARY}, bad: "{{{{ x }}"}}\nsecrets: [tok]\nrequests:\n  - name: a\n    url: http://127.0.0.1:9/\n')
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    quoted = next(line for line in lines if "vars: {tok: ****" in line)
    caret = lines[lines.index(quoted) + 1]
    assert caret.index("^") == quoted.index('"{{ x }"')  # under the value, not shifted by the secret's length
    assert_no_leak(result.output, "input error")


def test_a_credential_from_the_command_line_is_a_secret(run_cli: Any, write: Any, echo_server: HTTPServer) -> None:
    path = write("c.yaml", f"""
name: t
base_url: {echo_server.url_for('')}
requests:
  - name: keyed
    url: /k
    headers: {{X-API-Key: "{{{{ key }}}}"}}
    expect: {{status: 200}}
""")
    result = run_cli("run", str(path), "--var", f"key={CANARY}", "-v")
    assert result.exit_code == 1
    assert CANARY not in result.output
    assert any(CANARY in str(dict(entry.headers)) for entry, _ in echo_server.log)


URL_SECRET = f"sk {CANARY}/+=&tok"  # httpx sends it as sk%20CANARY.../+=&tok: neither quote() nor quote_plus()


def echo_raw_uri(request: Request) -> Response:
    """Echo the request target exactly as it arrived, in the body and in a header."""
    raw = request.environ["REQUEST_URI"]
    response = Response(json.dumps({"uri": raw}), status=418, content_type="application/json")
    response.headers["X-Echo-Uri"] = raw
    return response


def test_a_secret_placed_raw_in_a_url_is_masked_when_echoed(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("").respond_with_handler(echo_raw_uri)
    path = write("c.yaml", f"""
name: t
base_url: {httpserver.url_for('')}
secrets: [tok]
requests:
  - {{name: in path, url: "/p/{{{{ tok }}}}/x", expect: {{status: 200}}}}
  - {{name: in query, url: "/q?k={{{{ tok }}}}", expect: {{status: 200}}}}
""")
    report = project / "report.json"
    result = run_cli("run", str(path), "-v", "--var", f"tok={URL_SECRET}", "--report", f"json:{report}")
    assert result.exit_code == 1
    echoed = [entry.environ["REQUEST_URI"] for entry, _ in httpserver.log]
    assert echoed == [f"/p/sk%20{CANARY}/+=&tok/x", f"/q?k=sk%20{CANARY}/+=&tok"]  # what reached the server
    assert "/p/****/x" in result.stdout and "/q?k=****" in result.stdout
    for channel, text in (("-v output", result.output), ("the json report", report.read_text(encoding="utf-8"))):
        assert CANARY not in text, f"a secret leaked into {channel}"


BROKEN_INPUT = {
    # file name, its text, where the error is: the line is never quoted, even before any secret is known
    "env-yaml-syntax": ("env.yaml", f"api_key: {CANARY}: x\n", "env.yaml:1:"),
    "env-template-error": ("env.yaml", f'api_key: "{CANARY}{{{{ nope }}}}"\nsecrets: [api_key]\n', "env.yaml:1:10 (api_key)"),
    "env-bad-tag": ("env.yaml", f"api_key: !!int {CANARY}\n", "env.yaml:1:10 (api_key)"),
    "env-duplicate-key": ("env.yaml", f"a: 1\na: {CANARY}\n", "env.yaml:2:1 (a)"),
    "env-bad-name": ("env.yaml", f"bad name: {CANARY}\n", "env.yaml:1:1 (bad name)"),
    "csv-extra-column": ("rows.csv", f"x,tok\n1,{CANARY}a\n2,{CANARY}b,extra\n", "rows.csv:3"),
    "json-syntax": ("rows.json", f'[{{"tok": {CANARY}}}]', "rows.json:1:10"),
}


@pytest.mark.parametrize("name, text, where", BROKEN_INPUT.values(), ids=BROKEN_INPUT.keys())
def test_an_error_in_an_environment_or_data_file_does_not_quote_its_line(run_cli: Any, write: Any, name: str, text: str, where: str) -> None:
    path = write(name, text)
    collection = write("c.yaml", "name: t\nrequests:\n  - {name: a, url: 'http://127.0.0.1:9/'}\n")
    commands = ("run", "validate", "show") if name.endswith(".yaml") else ("run",)  # only run takes --data
    for command in commands:
        result = run_cli(command, str(collection), "-e" if name.endswith(".yaml") else "--data", str(path))
        assert result.exit_code == 2, result.output
        assert f"--> {path.parent / where}" in result.stderr or f"--> {where}" in result.stderr  # located all the same
        assert CANARY not in result.output, f"{command}: the line of {name} was quoted"


def test_an_error_in_a_collection_still_quotes_its_line(run_cli: Any, write: Any) -> None:
    collection = write("c.yaml", "name: t\nrequests:\n  - {name: a, url: 'http://127.0.0.1:9/', bogus: 1}\n")
    result = run_cli("run", str(collection))
    assert result.exit_code == 2
    assert "  3 |   - {name: a, url: 'http://127.0.0.1:9/', bogus: 1}" in result.stderr


@pytest.mark.parametrize("offset", [3, 8, len(CANARY) - 1], ids=["cut-after-3", "cut-after-8", "cut-before-last"])
def test_a_secret_cut_by_an_excerpt_is_masked(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer, offset: int) -> None:
    """Excerpts stop at 2048 characters: a secret across that cut must not show its first part (3 characters or more)."""
    # the echoed body is the request body; 2048 - offset characters before the canary put the cut inside it
    httpserver.expect_request("/cut").respond_with_handler(lambda request: Response(request.get_data(), status=500, content_type="text/plain"))
    path = write("cut.yaml", f"""
name: cut
base_url: {httpserver.url_for('')}
secrets: [api_key]
requests:
  - name: cut
    method: POST
    url: /cut
    headers: {{Content-Type: text/plain}}
    body: "{'x' * (2048 - offset)}{{{{ api_key }}}} and more"
    expect: {{status: 200}}
""")
    reports = {fmt: project / f"report.{fmt}" for fmt in ("json", "junit", "html", "markdown")}
    options = [f"--report={fmt}:{report}" for fmt, report in reports.items()]
    result = run_cli("run", str(path), "-v", *options, "--var", f"api_key={CANARY}")
    assert result.exit_code == 1, result.output
    assert CANARY in httpserver.log[0][0].get_data(as_text=True)  # sent whole
    assert "x****... (" in result.stdout  # the response excerpt, cut inside the secret
    for channel, text in [("console", result.output), *((fmt, report.read_text(encoding="utf-8")) for fmt, report in reports.items())]:
        assert CANARY[:offset] not in text.replace("x", ""), channel  # not even its first characters


LATE_TOKENS = {
    "plain": CANARY,
    "xml-and-json-special": f'tok&en<{CANARY}>"42\\',  # escaped differently in JSON and in XML
    "short": "200",  # masking must not touch the report's structure (a status, an element name)
}


def _late_secret_project(write: Any, httpserver: HTTPServer, token: str, padding: int = 0) -> Path:
    """A login whose failed response brings a token (no ``secret: true``); a later request uses it in ``auth``."""
    body = json.dumps({"pad": "x" * padding, "token": token}) if padding else json.dumps({"token": token})
    httpserver.expect_request("/login").respond_with_data(body, status=500, content_type="application/json")
    httpserver.expect_request("/me").respond_with_json({"ok": True})
    return write("login.yaml", f"""
name: login
base_url: {httpserver.url_for('')}
requests:
  - name: login
    url: /login
    expect: {{status: 200}}
    capture: {{token: "$.token"}}
  - name: me
    url: /me
    auth: {{bearer: "{{{{ token }}}}"}}
""")


def _parsed(fmt: str, text: str) -> Any:
    """The report parsed back: a masked report stays valid JSON, or JUnit XML the XSD accepts."""
    if fmt == "json":
        return json.loads(text)
    from lxml import etree

    xsd = etree.XMLSchema(etree.parse(str(Path(__file__).resolve().parents[1] / "data/junit/junit-10.xsd")))
    root = etree.fromstring(text.encode("utf-8"))
    xsd.assertValid(root)
    return root


@pytest.mark.parametrize("to_stdout", [False, True], ids=["file", "stdout"])
@pytest.mark.parametrize("token", LATE_TOKENS.values(), ids=LATE_TOKENS.keys())
@pytest.mark.parametrize("fmt", ["json", "junit"])
def test_a_captured_value_used_later_as_a_credential_is_masked_in_reports_written_as_the_run_goes(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer, fmt: str, token: str, to_stdout: bool) -> None:
    """The token is in the first request's body and captures before anyone knows it is a credential."""
    path = _late_secret_project(write, httpserver, token)
    report = project / f"report.{fmt}"
    result = run_cli("run", str(path), "--report", f"{fmt}:{'-' if to_stdout else report}")
    assert result.exit_code == 1, result.output
    assert httpserver.log[1][0].headers["Authorization"] == f"Bearer {token}"  # the token was really used
    text = result.stdout if to_stdout else report.read_text(encoding="utf-8")
    document = _parsed(fmt, text)
    assert "****" in text and "login" in text
    for form in {token, json.dumps(token)[1:-1], token.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}:
        if token != "200":
            assert form not in text, f"{form!r} in the {fmt} report"
    if token == "200":  # a short secret: text values are masked, the structure is not
        assert (document["collections"][0]["requests"][1]["response"]["status"] if fmt == "json" else document.find(".//testcase").get("name")) in (200, "login")
    console = result.stderr if to_stdout else result.stdout
    assert "response body:" in console  # the failure list comes at the end: masked with what is known then
    if token != "200":
        assert token not in console


@pytest.mark.parametrize("fmt", ["json", "junit"])
def test_a_late_secret_cut_by_an_excerpt_is_masked_when_the_report_is_masked_again(run_cli: Any, write: Any, project: Path, httpserver: HTTPServer, fmt: str) -> None:
    # 2048 characters in all: the excerpt ends 8 characters into the token
    path = _late_secret_project(write, httpserver, CANARY, padding=2048 - len('{"pad": "", "token": "') - 8)
    report = project / f"report.{fmt}"
    result = run_cli("run", str(path), "--report", f"{fmt}:{report}")
    assert result.exit_code == 1, result.output
    text = report.read_text(encoding="utf-8")
    _parsed(fmt, text)
    assert "****... (" in text
    assert CANARY[:8] not in text
