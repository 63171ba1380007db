"""``--data FILE`` and ``--iterations N``: one collection run per data row (and per iteration), reported apart.

A pytest-httpserver handler records what each run really sent; the assertions
are about those bodies, the console lines and the report, never about time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


@pytest.fixture
def received(httpserver: HTTPServer) -> list[dict[str, Any]]:
    """Every JSON body POSTed to ``/echo``, in order (the server answers ``{"ok": true}``)."""
    bodies: list[dict[str, Any]] = []

    def echo(request: Request) -> Response:
        bodies.append(json.loads(request.get_data(as_text=True)))
        return Response('{"ok": true}', content_type="application/json")

    httpserver.expect_request("/echo", method="POST").respond_with_handler(echo)
    return bodies


def _names(stdout: str, mark: str) -> list[str]:
    """The request names of the console lines marked ``mark`` (``PASS  POST   send row [1]  200 ...``)."""
    return [match.group(1) for match in re.finditer(rf"^{mark}\s+[A-Z]+\s+(.+?)\s{{2,}}", stdout, re.MULTILINE)]


def _collection(write, httpserver: HTTPServer, body: str, extra: str = "") -> Path:
    return write(
        "c.yaml",
        f"""name: data
base_url: {httpserver.url_for('')}
{extra}requests:
  - name: send row
    method: POST
    url: /echo
    json: {body}
    expect: {{status: 200}}
""",
    )


def test_csv_rows_run_once_each_as_text(run_cli, write, project: Path, httpserver: HTTPServer, received: list[dict[str, Any]]) -> None:
    _collection(write, httpserver, '{user: "{{ user }}", count: "{{ count }}", note: "{{ note }}"}')
    write("rows.csv", 'user,count,note\nada,1,"plain"\nbob,22,"a comma, and\na newline"\n')

    result = run_cli("run", "c.yaml", "--data", "rows.csv", cwd=project)

    assert result.exit_code == 0, result.output
    assert received == [
        {"user": "ada", "count": "1", "note": "plain"},  # CSV values are text, like Postman's
        {"user": "bob", "count": "22", "note": "a comma, and\na newline"},
    ]
    assert "c.yaml  data  (iteration 1)" in result.stdout and "c.yaml  data  (iteration 2)" in result.stdout
    assert "send row [1: user=ada, count=1]" in result.stdout and "send row [2: user=bob, count=22]" in result.stdout  # the row, by its first columns


def test_json_rows_keep_their_types(run_cli, write, project: Path, httpserver: HTTPServer, received: list[dict[str, Any]]) -> None:
    _collection(write, httpserver, '{max_tokens: "{{ max_tokens }}", stream: "{{ stream }}", stop: "{{ stop }}", meta: "{{ meta }}", label: "n={{ max_tokens }}"}')
    rows = [
        {"max_tokens": 5, "stream": False, "stop": None, "meta": {"tags": ["a", "b"], "ratio": 0.5}},
        {"max_tokens": 150, "stream": True, "stop": ["\n"], "meta": {}},
    ]
    write("rows.json", json.dumps(rows))

    result = run_cli("run", "c.yaml", "--data", "rows.json", cwd=project)

    assert result.exit_code == 0, result.output
    assert received == [{**row, "label": f"n={row['max_tokens']}"} for row in rows]
    assert type(received[0]["max_tokens"]) is int and received[0]["stream"] is False


def test_precedence_vars_env_row_var(run_cli, write, project: Path, httpserver: HTTPServer, received: list[dict[str, Any]]) -> None:
    vars_block = "vars: {a: from-vars, b: from-vars, c: from-vars, d: from-vars}\n"
    _collection(write, httpserver, '{a: "{{ a }}", b: "{{ b }}", c: "{{ c }}", d: "{{ d }}"}', vars_block)
    write("env.yaml", "b: from-env\nc: from-env\nd: from-env\n")
    write("rows.json", json.dumps([{"c": "from-row", "d": "from-row"}]))

    result = run_cli("run", "c.yaml", "-e", "env.yaml", "--data", "rows.json", "--var", "d=from-var", cwd=project)

    assert result.exit_code == 0, result.output
    assert received == [{"a": "from-vars", "b": "from-env", "c": "from-row", "d": "from-var"}]
    assert "[1]" not in result.stdout  # one row, one iteration: no index


def test_a_row_value_may_feed_a_collection_var(run_cli, write, project: Path, httpserver: HTTPServer, received: list[dict[str, Any]]) -> None:
    _collection(write, httpserver, '{greeting: "{{ greeting }}"}', 'vars: {greeting: "hello {{ user }}"}\n')
    write("rows.csv", "user\nada\nbob\n")

    result = run_cli("run", "c.yaml", "--data", "rows.csv", cwd=project)

    assert result.exit_code == 0, result.output
    assert received == [{"greeting": "hello ada"}, {"greeting": "hello bob"}]


def test_iterations_times_rows_in_order_each_reported(run_cli, write, project: Path, httpserver: HTTPServer, received: list[dict[str, Any]]) -> None:
    _collection(write, httpserver, '{user: "{{ user }}", id: "{{ run_id }}"}', 'vars: {run_id: "{{ uuid4() }}"}\n')
    write("rows.csv", "user\nada\nbob\n")

    result = run_cli("run", "c.yaml", "--data", "rows.csv", "--iterations", "2", "--report", "json:report.json", cwd=project)

    assert result.exit_code == 0, result.output
    assert [body["user"] for body in received] == ["ada", "bob", "ada", "bob"]  # every row, then every row again
    assert len({body["id"] for body in received}) == 4  # variables are rendered anew for every iteration
    assert _names(result.stdout, "PASS") == ["send row [1: user=ada]", "send row [2: user=bob]", "send row [3: user=ada]", "send row [4: user=bob]"]
    document = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert [collection["iteration"] for collection in document["collections"]] == [1, 2, 3, 4]
    assert [collection["requests"][0]["iteration"] for collection in document["collections"]] == [1, 2, 3, 4]
    assert document["counts"]["passed"] == 4


def test_iterations_alone(run_cli, write, project: Path, httpserver: HTTPServer, received: list[dict[str, Any]]) -> None:
    _collection(write, httpserver, '{n: 1}')

    result = run_cli("run", "c.yaml", "--iterations", "3", cwd=project)

    assert result.exit_code == 0, result.output
    assert len(received) == 3
    assert [line for line in result.stdout.splitlines() if "(iteration" in line] == [f"c.yaml  data  (iteration {n})" for n in (1, 2, 3)]
    assert "3 passed, 0 failed, 0 skipped" in result.stdout


def test_a_failing_row_names_its_iteration(run_cli, write, project: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/status/200").respond_with_data("ok")
    httpserver.expect_request("/status/404").respond_with_data("missing", status=404)
    write("c.yaml", f'name: data\nbase_url: {httpserver.url_for("")}\nrequests:\n  - {{name: get, url: "/status/{{{{ code }}}}", expect: {{status: 200}}}}\n')
    write("rows.json", json.dumps([{"code": 200}, {"code": 404}, {"code": 200}]))

    result = run_cli("run", "c.yaml", "--data", "rows.json", cwd=project)

    assert result.exit_code == 1
    assert _names(result.stdout, "FAIL") == ["get [2: code=404]"]
    assert _names(result.stdout, "PASS") == ["get [1: code=200]", "get [3: code=200]"]
    assert "data > get [2: code=404]" in result.stdout
    assert "2 passed, 1 failed, 0 skipped" in result.stdout


BAD_DATA = [
    ("missing.csv", None, "cannot read data file missing.csv"),
    ("rows.txt", "a\n1\n", "data file rows.txt: unknown type .txt"),
    ("rows.json", '[{"a": 1},\n {"a": }]', "data file rows.json is not valid JSON"),
    ("rows.json", '{"a": 1}', "must hold a JSON list of objects, not an object"),
    ("rows.json", '[{"a": 1}, 2]', "row 2 is a number, not an object"),
    ("rows.json", '[{"not a name": 1}]', "row 1: 'not a name' is not a valid variable name"),
    ("rows.json", "[]", "data file rows.json has no rows"),
    ("rows.csv", "", "data file rows.csv has no header row"),
    ("rows.csv", "user,2nd\nada,b\n", "column '2nd' is not a valid variable name"),
    ("rows.csv", "user,user\nada,bob\n", "column 'user' appears twice"),
    ("rows.csv", "user,count\nada,1\nbob,2,extra\n", "3 value(s) in a row, the header has 2 column(s)"),
    ("rows.csv", "user\n", "data file rows.csv has no rows"),
    ("rows.csv", b"user\n\xff\xfe\n", "is not UTF-8 text"),
]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    BAD_DATA,
    ids=["missing", "unknown-type", "bad-json", "json-object", "json-scalar-row", "json-bad-key", "json-empty", "csv-empty", "csv-bad-column", "csv-duplicate-column", "csv-ragged-row", "csv-header-only", "not-utf8"],
)
def test_a_bad_data_file_is_exit_2_and_nothing_is_sent(run_cli, write, project: Path, httpserver: HTTPServer, name: str, content: str | bytes | None, message: str) -> None:
    _collection(write, httpserver, "{n: 1}")
    if isinstance(content, bytes):
        (project / name).write_bytes(content)
    elif content is not None:
        write(name, content)

    result = run_cli("run", "c.yaml", "--data", name, cwd=project)

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert httpserver.log == []


def test_a_bad_row_points_at_its_line(run_cli, write, project: Path, httpserver: HTTPServer) -> None:
    _collection(write, httpserver, "{n: 1}")
    write("rows.csv", "user,count\nada,1\nbob,2,extra\n")

    result = run_cli("run", "c.yaml", "--data", "rows.csv", cwd=project)

    assert result.exit_code == 2
    assert "--> rows.csv:3" in result.stderr
    assert "bob" not in result.stderr  # the line is not quoted: a data file may hold secrets


def test_a_row_without_a_variable_the_collection_needs_is_caught_before_sending(run_cli, write, project: Path, httpserver: HTTPServer) -> None:
    _collection(write, httpserver, '{user: "{{ user }}"}')
    write("rows.json", json.dumps([{"user": "ada"}, {"name": "bob"}]))

    result = run_cli("run", "c.yaml", "--data", "rows.json", cwd=project)

    assert result.exit_code == 2
    assert "undefined variable 'user'" in result.stderr
    assert httpserver.log == []


def test_a_capture_does_not_carry_over_to_the_next_iteration(run_cli, write, project: Path, httpserver: HTTPServer) -> None:
    sent: list[tuple[str, str]] = []
    issued = iter(f"token-{n}" for n in range(1, 100))

    def login(request: Request) -> Response:
        sent.append(("login", request.headers["X-Token"]))
        return Response(json.dumps({"token": next(issued)}), content_type="application/json")

    def use(request: Request) -> Response:
        sent.append(("use", request.headers["X-Token"]))
        return Response("ok")

    httpserver.expect_request("/login").respond_with_handler(login)
    httpserver.expect_request("/use").respond_with_handler(use)
    write(
        "c.yaml",
        f"""name: tokens
base_url: {httpserver.url_for('')}
vars: {{token: initial}}
requests:
  - {{name: login, url: /login, headers: {{X-Token: "{{{{ token }}}}"}}, capture: {{token: $.token}}}}
  - {{name: use, url: /use, headers: {{X-Token: "{{{{ token }}}}"}}}}
""",
    )

    result = run_cli("run", "c.yaml", "--iterations", "3", cwd=project)

    assert result.exit_code == 0, result.output
    assert sent == [("login", "initial"), ("use", "token-1"), ("login", "initial"), ("use", "token-2"), ("login", "initial"), ("use", "token-3")]
