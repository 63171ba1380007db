"""Every expect key, captures, exit codes, validate and show — against real loopback servers."""

from __future__ import annotations

import json
import os
import shlex

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

CHAT = {
    "id": "cmpl-1",
    "object": "chat.completion",
    "model": "mistral-small-latest",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Comté"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}


@pytest.fixture
def api(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/chat").respond_with_json(CHAT, headers={"X-Request-Id": "req-42"})
    httpserver.expect_request("/text").respond_with_data("order id=ord-77 created", content_type="text/plain")
    return httpserver


def collection(server: HTTPServer, requests: str, extra: str = "") -> str:
    return f"name: checks\nbase_url: {server.url_for('')}\n{extra}\nrequests:\n{requests}"


PASSING = {
    "status-int": "status: 200",
    "status-list": "status: [200, 201]",
    "status-class": "status: 2xx",
    "status-template": 'status: "{{ expected_status }}"',
    "header-equal": "headers: {X-Request-Id: req-42}",
    "header-case-insensitive": "headers: {x-request-id: {matches: '^req-'}}",
    "header-contains": "headers: {content-type: {contains: application/json}}",
    "header-absent": "headers: {x-nope: {exists: false}}",
    "json-equal": 'json: {"$.choices[0].message.role": assistant}',
    "json-operators": 'json: {"$.usage.total_tokens": {gt: 0, le: 7, type: integer}}',
    "json-template": 'json: {"$.model": "{{ model }}"}',
    "json-wildcard": 'json: {"$.choices[*].index": [0]}',
    "json-filter": 'json: {"$.choices[?@.finish_reason == \'stop\']": {length: 1}}',
    "json-exists-false": 'json: {"$.data": {exists: false}}',
    "body-contains": "body: {contains: cmpl-1}",
    "max-ms": "max_ms: 30000",
    "schema-inline": "schema: {type: object, required: [id, choices]}",
    "schema-file": "schema: schemas/chat.json",
    "schema-yaml-pointer": 'schema: "schemas/openapi.yaml#/components/schemas/Chat"',
    "schema-cross-file-ref": "schema: schemas/with-ref.json",
}


@pytest.fixture
def schema_files(write) -> None:
    write("schemas/chat.json", json.dumps({"type": "object", "required": ["id", "usage"], "properties": {"usage": {"$ref": "usage.json"}}}))
    write("schemas/usage.json", json.dumps({"type": "object", "required": ["total_tokens"], "properties": {"total_tokens": {"type": "integer"}}}))
    write("schemas/with-ref.json", json.dumps({"$ref": "chat.json"}))
    write(
        "schemas/openapi.yaml",
        "openapi: 3.1.0\ncomponents:\n  schemas:\n    Chat:\n      type: object\n      required: [object]\n      properties:\n        object: {const: chat.completion}\n        usage: {$ref: '#/components/schemas/Usage'}\n    Usage:\n      type: object\n      required: [total_tokens]\n",
    )


@pytest.mark.parametrize("expect", PASSING.values(), ids=PASSING.keys())
def test_passing_checks(run_cli, write, api: HTTPServer, schema_files: None, expect: str) -> None:
    path = write("c.yaml", collection(api, f"  - name: chat\n    url: /chat\n    expect:\n      {expect}\n", "vars: {expected_status: 200, model: mistral-small-latest}"))
    result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.stdout


FAILING = {
    "status": ("status: 201", "status: expected 201, got 200"),
    "status-class": ("status: 4xx", 'status: expected "4xx", got 200'),
    "header": ("headers: {X-Request-Id: other}", 'header X-Request-Id: expected "other", got "req-42"'),
    "json": ('json: {"$.choices[0].message.role": user}', 'json $.choices[0].message.role: expected "user", got "assistant"'),
    "json-missing": ('json: {"$.nope": 1}', "json $.nope: expected 1, got (nothing)"),
    "json-operator": ('json: {"$.usage.total_tokens": {gt: 100}}', "json $.usage.total_tokens: expected > 100, got 7"),
    "body": ("body: {matches: '^Brie'}", "body: expected matches /^Brie/"),
    "max-ms": ("max_ms: 0.001", "max_ms: expected <= 0.001 ms"),
    "schema-keyword-and-pointer": ("schema: {properties: {usage: {properties: {total_tokens: {type: string}}}}}", "schema (inline) at /usage/total_tokens (type): 7 is not of type 'string'"),
    "schema-file": ("schema: schemas/chat-strict.json", "schema schemas/chat-strict.json at / (required)"),
}


@pytest.mark.parametrize(("expect", "message"), FAILING.values(), ids=FAILING.keys())
def test_failing_checks_say_expected_and_actual(run_cli, write, api: HTTPServer, expect: str, message: str) -> None:
    write("schemas/chat-strict.json", json.dumps({"required": ["data"]}))
    path = write("c.yaml", collection(api, f"  - name: chat\n    url: /chat\n    expect:\n      {expect}\n"))
    result = run_cli("run", str(path))
    assert result.exit_code == 1, result.output
    assert message in result.stdout
    assert "0 passed, 1 failed" in result.stdout
    assert "response body:" in result.stdout and "cmpl-1" in result.stdout


def test_all_failed_checks_are_reported_not_only_the_first(run_cli, write, api: HTTPServer) -> None:
    path = write("c.yaml", collection(api, """  - name: chat
    url: /chat
    expect:
      status: 200
      headers: {X-Request-Id: nope}
      json: {"$.model": x, "$.usage.total_tokens": {lt: 1}}
      schema: {required: [missing_a, missing_b]}
"""))
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    failures = [line for line in result.stdout.splitlines() if line.startswith("  x ")]
    assert len(failures) == 5, result.stdout  # all but the status, which held (a failed status skips the rest)
    assert "c.yaml:" in result.stdout  # each failed check names file:line


def test_captures_feed_later_requests(run_cli, write, api: HTTPServer) -> None:
    seen: list[Request] = []

    def record(request: Request) -> Response:
        seen.append(request)
        return Response("{}", content_type="application/json")

    api.expect_request("/use").respond_with_handler(record)
    path = write("c.yaml", collection(api, """  - name: chat
    url: /chat
    capture:
      model: "$.model"
      tokens: {json: "$.usage.total_tokens"}
      request_id: {header: x-request-id}
      status_code: {status: true}
  - name: text
    url: /text
    capture:
      order: {regex: "id=(ord-\\\\d+)"}
      whole: {regex: "ord-\\\\d+ \\\\w+"}
  - name: use
    method: POST
    url: "/use?model={{ model }}"
    headers: {X-Order: "{{ order }}", X-Req: "{{ request_id }}", X-Whole: "{{ whole }}"}
    json: {tokens: "{{ tokens }}", status: "{{ status_code }}"}
""", "vars: {model: overridden-by-capture}"))
    result = run_cli("run", str(path), "--var", "model=also-overridden")
    assert result.exit_code == 0, result.output
    request = seen[0]
    assert request.args["model"] == "mistral-small-latest"
    assert request.headers["X-Order"] == "ord-77"
    assert request.headers["X-Req"] == "req-42"
    assert request.headers["X-Whole"] == "ord-77 created"  # a regex without a group captures the whole match
    assert json.loads(request.get_data()) == {"tokens": 7, "status": 200}


def test_a_capture_that_finds_nothing_fails_the_request(run_cli, write, api: HTTPServer) -> None:
    path = write("c.yaml", collection(api, "  - name: chat\n    url: /chat\n    capture:\n      x: $.nope\n"))
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "capture x: expected a value at $.nope, got (nothing)" in result.stdout


def test_json_check_on_a_non_json_body_explains(run_cli, write, api: HTTPServer) -> None:
    path = write("c.yaml", collection(api, '  - name: text\n    url: /text\n    expect:\n      json: {"$.a": 1}\n'))
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "the body is not JSON" in result.stdout


def test_bail_stops_at_the_first_failure(run_cli, write, api: HTTPServer) -> None:
    path = write("c.yaml", collection(api, "  - name: one\n    url: /chat\n    expect: {status: 500}\n  - name: two\n    url: /text\n"))
    result = run_cli("run", str(path), "--bail")
    assert result.exit_code == 1
    assert [entry.path for entry, _ in api.log] == ["/chat"]
    result = run_cli("run", str(path))
    assert len(api.log) == 3


def test_exit_2_means_nothing_was_sent(run_cli, write, api: HTTPServer) -> None:
    path = write("c.yaml", collection(api, "  - name: one\n    url: /chat\n  - name: two\n    url: '/x/{{ undefined_name }}'\n"))
    result = run_cli("run", str(path))
    assert result.exit_code == 2
    assert "undefined variable 'undefined_name'" in result.stderr
    assert len(api.log) == 0


def test_a_bad_file_among_several_stops_everything(run_cli, write, api: HTTPServer) -> None:
    write("suite/a.yaml", collection(api, "  - name: one\n    url: /chat\n"))
    write("suite/b.yaml", "name: broken\nrequests: [{name: x}]\n")
    result = run_cli("run", str(write("suite/a.yaml", collection(api, "  - name: one\n    url: /chat\n")).parent))
    assert result.exit_code == 2
    assert "missing required key 'url'" in result.stderr and "b.yaml" in result.stderr
    assert len(api.log) == 0


def test_usage_errors_exit_2(run_cli, write, api: HTTPServer) -> None:
    path = write("c.yaml", collection(api, "  - name: one\n    url: /chat\n"))
    assert run_cli("run", str(path), "--var", "no-equals").exit_code == 2
    assert run_cli("run", str(path), "-k", "nothing-matches").exit_code == 2
    assert run_cli("run", str(path / "missing.yaml")).exit_code == 2
    assert run_cli("run", "does-not-exist.yaml").exit_code == 2
    assert len(api.log) == 0


def test_validate_sends_nothing(run_cli, write, api: HTTPServer) -> None:
    path = write("c.yaml", collection(api, "  - name: one\n    url: /chat\n    expect: {status: 200}\n"))
    result = run_cli("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "nothing sent" in result.stdout
    assert len(api.log) == 0
    bad = write("bad.yaml", collection(api, "  - name: one\n    url: /chat\n    expect: {stauts: 200}\n"))
    result = run_cli("validate", str(bad))
    assert result.exit_code == 2 and "did you mean 'status'?" in result.stderr


SECRET = "sk-canary-7f3a9d"


@pytest.mark.parametrize("output_format", ["http", "curl"])
def test_show_renders_and_masks_secrets(run_cli, write, api: HTTPServer, output_format: str) -> None:
    path = write("c.yaml", collection(api, """  - name: chat
    method: POST
    url: "/chat?key={{ api_key }}"
    json: {model: "{{ model }}", max_tokens: "{{ n }}"}
""", "vars: {model: m, n: 5}\nauth: {bearer: '{{ api_key }}'}"))
    result = run_cli("show", str(path), "--request", "chat", "--format", output_format, "--var", f"api_key={SECRET}")
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "****" in result.stdout
    assert '"max_tokens": 5' in result.stdout
    if output_format == "curl":
        assert result.stdout.startswith("curl -X POST")
    else:
        assert result.stdout.startswith("POST http")
        assert "Authorization: Bearer ****" in result.stdout


def test_show_unknown_request_lists_names(run_cli, write, api: HTTPServer) -> None:
    path = write("c.yaml", collection(api, "  - name: chat\n    url: /chat\n"))
    result = run_cli("show", str(path), "--request", "nope")
    assert result.exit_code == 2 and "'chat'" in result.stderr


def test_console_has_no_colour_codes_when_not_a_terminal(run_cli, write, api: HTTPServer) -> None:
    path = write("c.yaml", collection(api, "  - name: chat\n    url: /chat\n    expect: {status: 500}\n"))
    result = run_cli("run", str(path))
    assert "\x1b[" not in result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("FAIL  GET"))
    assert "chat" in line and "200" in line and " ms" in line and " B" in line


def test_show_verbose_explains_where_each_variable_comes_from(run_cli, write, api: HTTPServer) -> None:
    env = write("env.yaml", f"token: {SECRET}\nmodel: from-env\nsecrets: [token]\n")
    path = write("c.yaml", collection(api, "  - name: chat\n    url: /chat\n    capture: {later: $.id}\n", "vars: {model: from-vars, n: 1, token: x}"))
    result = run_cli("show", str(path), "-v", "-e", str(env), "--var", "n=2")
    assert result.exit_code == 0, result.output
    assert "#   model = \"from-env\"  (environment file)" in result.stdout
    assert "#   n = 2  (--var)" in result.stdout
    assert "#   token = ****  (environment file)" in result.stdout
    assert "#   later = \"<captured:later>\"  (capture)" in result.stdout
    assert SECRET not in result.output


def test_schema_draft_comes_from_dollar_schema(run_cli, write, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/pair").respond_with_json(["a", 1])
    httpserver.expect_request("/bad-pair").respond_with_json(["a", "b"])
    # draft-07's array form of `items` is positional; under 2020-12 the same schema would be invalid
    write("schemas/pair.json", json.dumps({"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}, {"type": "integer"}]}))
    path = write("c.yaml", collection(httpserver, """  - name: good
    url: /pair
    expect: {schema: schemas/pair.json}
  - name: bad
    url: /bad-pair
    expect: {schema: schemas/pair.json}
"""))
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "PASS  GET    good" in result.stdout
    assert "schema schemas/pair.json at /1 (type): 'b' is not of type 'integer'" in result.stdout


def test_show_curl_keeps_multipart_text_fields(run_cli, write, api: HTTPServer) -> None:
    write("data/up.txt", "x")
    path = write("c.yaml", collection(api, """  - name: upload
    method: POST
    url: /files
    multipart:
      purpose: "{{ api_key }}"
      file: {file: data/up.txt}
      renamed: {file: data/up.txt, filename: "a;b.csv", content_type: text/csv}
""", "secrets: [api_key]"))
    result = run_cli("show", str(path), "--format", "curl", "--var", f"api_key={SECRET}")
    assert result.exit_code == 0, result.output
    assert "--form-string 'purpose=****'" in result.stdout  # -F would read a value starting with @ or < as a file
    upload = os.path.relpath(path.parent / "data" / "up.txt")  # from the working folder, so the command runs as printed
    assert "-F " + shlex.quote(f"file=@{upload};type=text/plain") in result.stdout
    assert "-F " + shlex.quote(f'renamed=@{upload};filename="a;b.csv";type=text/csv') in result.stdout
    assert SECRET not in result.output


@pytest.mark.parametrize(("minimum", "exit_code"), [(1, 0), (10, 1)], ids=["passes", "fails"])
def test_a_ref_under_a_property_named_like_a_keyword_resolves(run_cli, write, httpserver: HTTPServer, minimum: int, exit_code: int) -> None:
    # "default" and "example" are property names here, not the keywords whose values are data
    httpserver.expect_request("/settings").respond_with_json({"default": {"size": 5}, "example": {"size": 5}})
    write("schemas/size.yaml", f"$defs:\n  size: {{type: object, required: [size], properties: {{size: {{type: integer, minimum: {minimum}}}}}}}\n")
    write("schemas/settings.json", json.dumps({"type": "object", "properties": {"default": {"$ref": "size.yaml#/$defs/size"}, "example": {"$ref": "size.yaml#/$defs/size"}}}))
    path = write("c.yaml", collection(httpserver, "  - name: settings\n    url: /settings\n    expect: {schema: schemas/settings.json}\n"))
    result = run_cli("run", str(path))
    assert result.exit_code == exit_code, result.output
    assert "internal error" not in result.output
    if exit_code:
        assert "schema schemas/settings.json at /default/size (minimum)" in result.stdout


def test_a_templated_method_is_rendered_everywhere(run_cli, write, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/items", method="PUT").respond_with_json({"ok": True})
    path = write("c.yaml", collection(httpserver, """  - name: change
    method: "{{ verb }}"
    url: /items
    expect: {status: 200}
    example: {status: 200, json: {ok: true}}
""", "vars: {verb: put}"))
    result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output
    assert "PUT    change" in result.stdout
    assert run_cli("show", str(path)).stdout.startswith("PUT http")
    mocked = run_cli("run", str(path), "--mock")  # the mock serves the example under the rendered method
    assert mocked.exit_code == 0, mocked.output
    refused = run_cli("run", str(path), "--var", "verb=GE T")
    assert refused.exit_code == 2
    assert "method '{{ verb }}' gave 'GE T', which is not an HTTP method" in refused.stderr
    assert len(httpserver.log) == 1  # the first run only: nothing sent with exit 2


def test_a_method_from_a_captured_value_runs_against_the_mock_and_shows_as_captured(run_cli, write) -> None:
    path = write("c.yaml", """name: verbs
base_url: "{{ base_url }}"
requests:
  - name: first
    url: /first
    capture: {verb: "$.verb"}
    example: {status: 200, json: {verb: put}}
  - name: second
    method: "{{ verb }}"
    url: /second
    expect: {status: 200}
    example: {status: 200, json: {ok: true}}
""")
    result = run_cli("run", str(path), "--mock")  # the mock matches that route by path, whatever the method
    assert result.exit_code == 0, result.output
    assert "PUT    second" in result.stdout
    shown = run_cli("show", str(path), "--request", "second", "--var", "base_url=http://127.0.0.1:9")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("<captured:verb> http://127.0.0.1:9/second")


def test_a_lone_surrogate_in_a_json_body_is_a_failed_check_not_a_crash(run_cli, write, httpserver: HTTPServer, tmp_path) -> None:
    httpserver.expect_request("/odd").respond_with_data('{"id": "\\ud800", "emoji": "\\ud83d\\ude00"}', content_type="application/json")
    path = write("c.yaml", collection(httpserver, """  - name: odd
    url: /odd
    expect: {json: {"$.id": x, "$.emoji": "\U0001F600"}}
    capture: {id: "$.id"}
  - name: after
    url: /odd
"""))
    report = tmp_path / "r.json"
    result = run_cli("run", str(path), "--report", f"json:{report}")
    assert result.exit_code == 1, result.output
    assert 'expected "x", got "\ufffd"' in result.stdout  # the lone one replaced; the pair is one character, and matches
    assert "internal error" not in result.output
    requests = json.loads(report.read_text(encoding="utf-8"))["collections"][0]["requests"]
    assert [request["outcome"] for request in requests] == ["failed", "passed"]
