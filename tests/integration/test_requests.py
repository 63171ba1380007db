"""Every request key of FORMAT.md, sent for real to a loopback server the test starts."""

from __future__ import annotations

import base64
import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


def echo(request: Request) -> Response:
    """Answer with what arrived: method, path, query (repeated keys kept), headers, body."""
    payload = {
        "method": request.method,
        "path": request.path,
        "query": [[k, v] for k, v in request.args.items(multi=True)],
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "body": request.get_data(as_text=True),
        "form": {k: request.form.getlist(k) for k in request.form},
        "files": {k: {"filename": f.filename, "content": f.read().decode(), "type": f.content_type} for k, f in request.files.items()},
    }
    return Response(json.dumps(payload), content_type="application/json")


@pytest.fixture
def echo_server(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("").respond_with_handler(echo)
    return httpserver


def run_one(run_cli, write, server: HTTPServer, request_yaml: str, collection_extra: str = "", *args: str) -> dict:
    """Run a one-request collection whose response is the echo; return what the server saw."""
    path = write(
        "c.yaml",
        f"""
name: t
base_url: {server.url_for('')}
{collection_extra}
requests:
{request_yaml}
    capture:
      seen: "$"
  - name: report
    method: POST
    url: /report
    json: "{{{{ seen }}}}"
""",
    )
    result = run_cli("run", str(path), *args)
    assert result.exit_code == 0, result.output
    reported = [entry for entry, _ in server.log if entry.path == "/report"]
    assert reported, result.output
    return json.loads(reported[-1].get_data(as_text=True))


def test_method_url_join_and_repeated_params(run_cli, write, echo_server: HTTPServer) -> None:
    seen = run_one(run_cli, write, echo_server, """
  - name: get
    method: delete
    url: /v1/items
    params: {tag: [a, b], n: 1, on: true}
""")
    assert seen["method"] == "DELETE"
    assert seen["path"] == "/v1/items"
    assert seen["query"] == [["tag", "a"], ["tag", "b"], ["n", "1"], ["on", "true"]]


def test_base_url_path_is_kept(run_cli, write, echo_server: HTTPServer) -> None:
    path = write("c.yaml", f"""
name: t
base_url: {echo_server.url_for('/api/')}
requests:
  - name: get
    url: v1/x
    expect:
      json: {{"$.path": /api/v1/x}}
""")
    result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output


def test_headers_merge_case_insensitively(run_cli, write, echo_server: HTTPServer) -> None:
    seen = run_one(run_cli, write, echo_server, """
  - name: get
    url: /h
    headers: {accept: text/plain, X-Request: r}
""", "headers: {Accept: application/json, X-Collection: c}")
    assert seen["headers"]["accept"] == "text/plain"
    assert seen["headers"]["x-collection"] == "c"
    assert seen["headers"]["x-request"] == "r"


@pytest.mark.parametrize(
    ("auth", "header", "value", "query"),
    [
        ('{bearer: "tok-123"}', "authorization", "Bearer tok-123", []),
        ("{basic: {username: ann, password: pw}}", "authorization", "Basic " + base64.b64encode(b"ann:pw").decode(), []),
        ("{api_key: {header: X-API-Key, value: k-1}}", "x-api-key", "k-1", []),
        ("{api_key: {query: api_key, value: k-2}}", None, None, [["api_key", "k-2"]]),
        ("none", None, None, []),
    ],
    ids=["bearer", "basic", "api-key-header", "api-key-query", "none-overrides-collection"],
)
def test_auth_kinds(run_cli, write, echo_server: HTTPServer, auth: str, header: str | None, value: str | None, query: list) -> None:
    seen = run_one(run_cli, write, echo_server, f"""
  - name: get
    url: /a
    auth: {auth}
""", 'auth: {bearer: "collection-token"}')
    if header:
        assert seen["headers"][header] == value
    else:
        assert "authorization" not in seen["headers"]
    assert seen["query"] == query


def test_collection_auth_applies_when_request_sets_none(run_cli, write, echo_server: HTTPServer) -> None:
    seen = run_one(run_cli, write, echo_server, """
  - name: get
    url: /a
""", 'auth: {bearer: "collection-token"}')
    assert seen["headers"]["authorization"] == "Bearer collection-token"


def test_json_body_keeps_native_types(run_cli, write, echo_server: HTTPServer) -> None:
    seen = run_one(run_cli, write, echo_server, """
  - name: post
    method: POST
    url: /chat
    json:
      model: "{{ model }}"
      max_tokens: "{{ max_tokens }}"
      temperature: "{{ temperature }}"
      stream: false
      note: "n={{ max_tokens }}"
""", "vars: {model: m, max_tokens: 150, temperature: 0.7}")
    body = json.loads(seen["body"])
    assert body == {"model": "m", "max_tokens": 150, "temperature": 0.7, "stream": False, "note": "n=150"}
    assert seen["headers"]["content-type"] == "application/json"


def test_form_body(run_cli, write, echo_server: HTTPServer) -> None:
    seen = run_one(run_cli, write, echo_server, """
  - name: post
    method: POST
    url: /form
    form: {a: "1", b: [x, y]}
""")
    assert seen["form"] == {"a": ["1"], "b": ["x", "y"]}
    assert seen["headers"]["content-type"] == "application/x-www-form-urlencoded"


def test_multipart_with_file(run_cli, write, echo_server: HTTPServer) -> None:
    write("data/upload.txt", "file content")
    seen = run_one(run_cli, write, echo_server, """
  - name: post
    method: POST
    url: /upload
    multipart:
      purpose: fine-tune
      file: {file: data/upload.txt, content_type: text/plain}
""")
    assert seen["form"] == {"purpose": ["fine-tune"]}
    assert seen["files"]["file"] == {"filename": "upload.txt", "content": "file content", "type": "text/plain"}
    assert seen["headers"]["content-type"].startswith("multipart/form-data; boundary=")


def test_multipart_without_file_is_still_multipart(run_cli, write, echo_server: HTTPServer) -> None:
    seen = run_one(run_cli, write, echo_server, """
  - name: post
    method: POST
    url: /upload
    multipart: {a: "1"}
""")
    assert seen["headers"]["content-type"].startswith("multipart/form-data")
    assert seen["form"] == {"a": ["1"]}


def test_raw_body_with_own_content_type(run_cli, write, echo_server: HTTPServer) -> None:
    seen = run_one(run_cli, write, echo_server, """
  - name: post
    method: PUT
    url: /raw
    headers: {Content-Type: text/csv}
    body: "a,b\\n{{ n }},2"
""", "vars: {n: 1}")
    assert seen["body"] == "a,b\n1,2"
    assert seen["headers"]["content-type"] == "text/csv"


def test_skip_and_tags_selection(run_cli, write, echo_server: HTTPServer) -> None:
    path = write("c.yaml", f"""
name: t
base_url: {echo_server.url_for('')}
vars: {{run_slow: false}}
requests:
  - name: fast one
    url: /fast
    tags: [smoke]
  - name: slow one
    url: /slow
    skip: "{{{{ not run_slow }}}}"
  - name: other
    url: /other
""")
    result = run_cli("run", str(path))
    assert result.exit_code == 0
    assert "SKIP  GET    slow one" in result.stdout
    assert "1 skipped" in result.stdout
    assert [e.path for e, _ in echo_server.log] == ["/fast", "/other"]
    echo_server.clear_log()
    result = run_cli("run", str(path), "-k", "smoke or other")
    assert result.exit_code == 0
    assert [e.path for e, _ in echo_server.log] == ["/fast", "/other"]
    assert "slow one" not in result.stdout


def test_follow_redirects(run_cli, write, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_response(Response(status=302, headers={"Location": "/new"}))
    httpserver.expect_request("/new").respond_with_json({"moved": True})
    path = write("c.yaml", f"""
name: t
base_url: {httpserver.url_for('')}
requests:
  - name: not followed
    url: /old
    expect: {{status: 302, headers: {{location: /new}}}}
  - name: followed
    url: /old
    follow_redirects: true
    expect: {{status: 200, json: {{"$.moved": true}}}}
""")
    result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output


def test_timeout_is_a_failed_request_not_a_crash(run_cli, write, httpserver: HTTPServer) -> None:
    import time

    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    httpserver.expect_request("/ok").respond_with_data("ok")
    path = write("c.yaml", f"""
name: t
base_url: {httpserver.url_for('')}
requests:
  - name: slow
    url: /slow
    timeout: 0.2
  - name: after
    url: /ok
    expect: {{status: 200}}
""")
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "ERR   GET    slow" in result.stdout and "read timeout after 0.2 s" in result.stdout
    assert "PASS  GET    after" in result.stdout


def test_folder_runs_every_collection_sorted(run_cli, write, echo_server: HTTPServer) -> None:
    for name in ("b.yaml", "a.yml", "c.yaml"):
        write(f"suite/{name}", f"name: {name}\nbase_url: {echo_server.url_for('')}\nrequests:\n  - name: r\n    url: /{name}\n")
    write("suite/notes.txt", "not a collection")
    result = run_cli("run", str(write("suite/.keep", "").parent))
    assert result.exit_code == 0, result.output
    assert [e.path for e, _ in echo_server.log] == ["/a.yml", "/b.yaml", "/c.yaml"]
