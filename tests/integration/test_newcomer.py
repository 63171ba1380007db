"""What a new user tripped on (issue 11): each test replays one stumble against real loopback servers.

httpbin answers the runs; the project's own mock answers ``--mock`` runs.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from runner.plan import parse_var


def _collection(base: str, requests: str, head: str = "") -> str:
    return f"name: newcomer\nbase_url: {base}\n{head}requests:\n{requests}"


# -- 1. validate and run share one preflight -----------------------------------------------------


def test_validate_rejects_a_relative_url_without_base_url_as_run_does(run_cli: Any, write: Any) -> None:
    path = write("rel.yaml", "name: rel\nrequests:\n  - name: get\n    url: /get\n")
    validated, ran = run_cli("validate", str(path)), run_cli("run", str(path))
    assert validated.exit_code == ran.exit_code == 2
    message = "url '/get' is relative and there is no base_url"
    assert message in validated.stderr and message in ran.stderr
    assert "--mock" in validated.stderr  # the hint names the ways out
    assert run_cli("validate", str(path), "--mock").exit_code == 0  # as `run --mock` would accept it


def test_validate_of_the_shipped_collections_needs_what_run_needs(run_cli: Any) -> None:
    repo = Path(__file__).resolve().parents[2]
    bare = run_cli("validate", "collections/", cwd=repo)
    assert bare.exit_code == 2 and "undefined variable 'base_url'" in bare.stderr
    assert bare.stderr.count("error:") == 5  # one per collection, not one more per request
    assert run_cli("validate", "collections/", "--mock", cwd=repo).exit_code == 0


# -- 3. a mock with nothing to serve ---------------------------------------------------------------


def test_mock_without_examples_exits_2_with_a_hint(run_cli: Any, write: Any) -> None:
    path = write("flow.yaml", "name: flow\nrequests:\n  - name: get\n    url: http://127.0.0.1:9/get\n")
    result = run_cli("mock", str(path), "--port", "0")
    assert result.exit_code == 2
    assert "nothing to serve: no request in" in result.stderr and "has an example" in result.stderr
    assert "hint: give a request a saved response" in result.stderr
    assert "serving" not in result.stderr


# -- 4. a folder run and the files of -e and --data ------------------------------------------------


def test_a_folder_run_skips_the_environment_and_data_files_inside_it(run_cli: Any, write: Any, httpbin_url: str) -> None:
    write("api/get.yaml", _collection("'{{ host }}'", "  - name: get\n    url: /get\n    params: {who: '{{ who }}'}\n    expect: {json: {$.args.who: '{{ who }}'}}\n"))
    env = write("api/env.yaml", f"host: {httpbin_url}\n")
    data = write("api/rows.json", '[{"who": "ada"}]')
    result = run_cli("run", str(env.parent), "-e", str(env), "--data", str(data))
    assert result.exit_code == 0, result.output
    alone = run_cli("run", str(env.parent), "--var", f"host={httpbin_url}", "--var", "who=x")
    assert alone.exit_code == 2
    assert "missing required key 'requests'" in alone.stderr and "is this an environment file?" in alone.stderr
    assert httpbin_url not in alone.stderr.split("hint:")[0].split("-->")[1]  # the env file's lines are not quoted


# -- 5. YAML 1.2 scalars; text that changes on the way to JSON is an input error ----------------------


def test_yaml_words_reach_the_wire_as_written(run_cli: Any, write: Any, httpbin_url: str) -> None:
    body = "{enabled: yes, country: NO, flag: on, ok: TRUE, off: false, day: 2024-01-01, time: 1:30, n: 7, x: 1.5}"
    path = write("c.yaml", _collection(httpbin_url, f"  - name: post\n    method: POST\n    url: /post\n    json: {body}\n    capture: {{sent: $.json}}\n    expect: {{status: 200}}\n"))
    result = run_cli("run", str(path), "--report", "json:-")
    assert result.exit_code == 0, result.output
    sent = json.loads(result.stdout)
    captured = [request for collection in sent["collections"] for request in collection["requests"]][0]["captures"]["sent"]
    assert captured == {"enabled": "yes", "country": "NO", "flag": "on", "ok": True, "off": False, "day": "2024-01-01", "time": "1:30", "n": 7, "x": 1.5}


@pytest.mark.parametrize(
    ("where", "raw", "shown"),
    [
        ("json: {version: %s}", "1.10", "YAML reads 1.10 as the number 1.1"),
        ("json: {zip: %s}", "01234", "YAML reads 01234 as the number 1234"),
        ("json: {items: [{big: %s}]}", "1e12", "YAML reads 1e12 as the number 1000000000000.0"),
        ("form: {n: %s}", "1_000", "YAML 1.2 keeps 1_000 as the text '1_000'"),
        ("params: {v: %s}", "+5", "YAML reads +5 as the number 5"),
        ("headers: {X-V: %s}", "0x1F", "YAML reads 0x1F as the number 31"),
    ],
    ids=["float-trailing-zero", "leading-zero", "exponent", "digit-separator", "plus-sign", "hex"],
)
def test_a_number_whose_text_changes_is_an_input_error(run_cli: Any, write: Any, httpbin_url: str, where: str, raw: str, shown: str) -> None:
    path = write("c.yaml", _collection(httpbin_url, f"  - name: post\n    method: POST\n    url: /post\n    {where % raw}\n"))
    for command in ("validate", "run"):
        result = run_cli(command, str(path))
        assert result.exit_code == 2, result.output
        assert "the value is not the text you wrote" in result.stderr and shown in result.stderr
        assert "c.yaml:7:" in result.stderr and f"quote it ('{raw}')" in result.stderr


def test_vars_and_environment_files_get_the_same_care(run_cli: Any, write: Any, httpbin_url: str) -> None:
    path = write("c.yaml", _collection(httpbin_url, "  - name: get\n    url: /get\n", head="vars: {api_version: 2.10}\n"))
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and "vars.api_version: the value is not the text you wrote" in result.stderr
    ok = write("ok.yaml", _collection(httpbin_url, "  - name: get\n    url: /get\n"))
    env = write("env.yaml", "zip: 01234\nsecret_key: sk-abcdefgh01234\nsecrets: [secret_key]\n")
    result = run_cli("validate", str(ok), "-e", str(env))
    assert result.exit_code == 2 and "env.yaml:1:" in result.stderr and "zip: the value is not the text you wrote" in result.stderr
    assert "sk-abcdefgh" not in result.stderr


def test_yes_where_a_boolean_is_wanted_names_true(run_cli: Any, write: Any, httpbin_url: str) -> None:
    path = write("c.yaml", _collection(httpbin_url, "  - name: get\n    url: /get\n    follow_redirects: yes\n"))
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and "hint: YAML 1.2 has two booleans, true and false: yes is text; write true" in result.stderr


# -- 6. no status expectation: 2xx or 3xx --------------------------------------------------------------


@pytest.mark.parametrize(("url", "expect", "code"), [("/status/500", "", 1), ("/status/404", "\n    expect: {json: {$.a: {exists: false}}}", 1), ("/status/204", "", 0), ("/status/500", "\n    expect: {status: 500}", 0)], ids=["no-expect-500", "no-status-404", "no-expect-204", "explicit-500"])
def test_a_request_without_a_status_expectation_wants_2xx_or_3xx(run_cli: Any, write: Any, httpbin_url: str, url: str, expect: str, code: int) -> None:
    path = write("c.yaml", _collection(httpbin_url, f"  - name: call\n    url: {url}{expect}\n"))
    result = run_cli("run", str(path))
    assert result.exit_code == code, result.output
    if code:
        assert "status: expected 2xx or 3xx (expect has no status), got " in result.stdout


# -- 7. --var keeps the text unless JSON reads it back as typed ------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("12e45", "12e45"), ("007", "007"), ("1.10", "1.10"), ("-0", "-0"), ("NaN", "NaN"), (" 5", " 5"), ("5", 5), ("1.5", 1.5), ("true", True), ("null", None), ("[1,2]", [1, 2]), ('{"a": 1.50}', '{"a": 1.50}'), ('"5"', "5"), ("sk-1", "sk-1")],
    ids=["exponent", "leading-zeros", "trailing-zero", "minus-zero", "nan", "space", "int", "float", "bool", "null", "list", "list-with-changed-number", "json-string", "text"],
)
def test_parse_var(text: str, value: Any) -> None:
    assert parse_var(f"v={text}") == ("v", value)


def test_a_token_that_looks_like_a_number_is_sent_as_typed(run_cli: Any, write: Any, httpbin_url: str) -> None:
    path = write("c.yaml", _collection(httpbin_url, "  - name: headers\n    url: /headers\n    auth: {bearer: '{{ token }}'}\n    expect: {json: {$.headers.Authorization: Bearer 12e45}}\n"))
    result = run_cli("run", str(path), "--var", "token=12e45")
    assert result.exit_code == 0, result.output


# -- 9, 16. failure wording: the length found, the differences, one wording for run and validate -----------


def test_a_failed_length_says_the_length_and_a_failed_document_says_where(run_cli: Any, write: Any, httpbin_url: str) -> None:
    expect = "expect:\n      json:\n        $.json.items: {length: 2}\n        $.json.doc: {a: 1, b: [1, 2], c: {d: x}}\n"
    path = write("c.yaml", _collection(httpbin_url, f"  - name: post\n    method: POST\n    url: /post\n    json: {{items: [1, 2, 3], doc: {{a: 1, b: [1, 3], c: {{d: y}}}}}}\n    {expect}"))
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "json $.json.items: expected length 2, got length 3" in result.stdout
    assert 'expected $.json.doc.b[1] = 2; $.json.doc.c.d = "x", got $.json.doc.b[1] = 3; $.json.doc.c.d = "y"' in result.stdout


def test_run_and_validate_word_a_failed_check_alike(run_cli: Any, write: Any) -> None:
    requests = "  - name: one\n    url: /one\n    expect: {json: {$.a: 2, $.b: 1}}\n    example: {json: {a: 1}}\n"
    path = write("c.yaml", _collection("'{{ base_url }}'", requests))
    validated = run_cli("validate", str(path), "--mock")
    assert validated.exit_code == 2
    assert "fails json $.a: expected 2, got 1" in validated.stderr and "fails json $.b: expected 1, got (nothing)\n" in validated.stderr
    ran = run_cli("run", str(path), "--mock")
    assert ran.exit_code == 1
    assert "json $.a: expected 2, got 1  (" in ran.stdout and "json $.b: expected 1, got (nothing)  (" in ran.stdout
    assert "value mismatch" not in ran.stdout and "nothing matched" not in ran.stdout


# -- 12, 13, 14. messages ---------------------------------------------------------------------------------


def test_a_missing_environment_file_is_named_as_one(run_cli: Any, write: Any, httpbin_url: str) -> None:
    path = write("c.yaml", _collection(httpbin_url, "  - name: get\n    url: /get\n"))
    result = run_cli("run", str(path), "-e", "envs/nope.yaml")
    assert result.exit_code == 2 and "error: environment file (-e) not found: envs/nope.yaml" in result.stderr


def test_the_jsonpath_hyphen_hint_quotes_the_users_own_key(run_cli: Any, write: Any, httpbin_url: str) -> None:
    path = write("c.yaml", _collection(httpbin_url, "  - name: get\n    url: /get\n    expect: {json: {$.headers.X-Request-Id: {exists: true}}}\n"))
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and "hint: a name with '-' needs brackets in RFC 9535: $.headers['X-Request-Id']" in result.stderr


def test_a_cut_body_excerpt_says_how_much_was_cut(run_cli: Any, write: Any, httpbin_url: str) -> None:
    lines = base64.urlsafe_b64encode("".join(f"line {n}\n" for n in range(30)).encode()).decode()
    path = write("c.yaml", _collection(httpbin_url, f"  - name: lines\n    url: /base64/{lines}\n    expect: {{status: 201}}\n"))
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert "    line 19\n    ... (10 more lines, 80 more characters)\n" in result.stdout


# -- 10, 11. a failed status: the rest is skipped and counted; a 401 names the key's variable; a missing capture names its request ----


def test_a_failed_status_shows_itself_the_body_and_how_many_checks_were_skipped(run_cli: Any, write: Any, httpbin_url: str) -> None:
    requests = """  - name: models
    url: /status/401
    expect:
      status: 200
      headers: {content-type: {contains: json}}
      json: {$.data: {length: {ge: 1}}, $.object: list}
      schema: {type: object, required: [data]}
    capture: {model_id: "$.data[0].id"}
  - name: one model
    url: /anything/{{ model_id }}
"""
    path = write("c.yaml", _collection(httpbin_url, requests, head="vars: {api_key: sk-newcomer-0123456789}\nsecrets: [api_key]\nauth: {bearer: '{{ api_key }}'}\n"))
    result = run_cli("run", str(path))
    assert result.exit_code == 1
    assert [line for line in result.stdout.splitlines() if line.startswith("  x ")][0].startswith("  x status: expected 200, got 401")
    assert "  5 more checks skipped: the status was 401\n" in result.stdout
    assert "hint: the server rejected the credentials (401): check the key; it comes from 'api_key' (from collection vars)" in result.stdout
    assert "'model_id' was not captured: request 'models', which captures it, failed or did not run" in result.stdout
    assert f"GET {httpbin_url}/anything/<model_id: not captured>" in result.stdout
    assert "sk-newcomer" not in result.output


# -- 15. a schema keyword in a $ref'd file is named by its own file and line ------------------------------


def test_a_schema_failure_names_the_file_and_line_of_the_keyword(run_cli: Any, write: Any, project: Path, httpbin_url: str) -> None:
    write("schemas/anything.json", '{\n  "type": "object",\n  "properties": {"headers": {"$ref": "headers.json"}}\n}\n')
    write("schemas/headers.json", '{\n  "type": "object",\n  "properties": {\n    "User-Agent": {\n      "type": "string",\n      "pattern": "^curl/"\n    }\n  }\n}\n')
    write("c.yaml", _collection(httpbin_url, "  - name: anything\n    url: /anything\n    expect: {schema: schemas/anything.json}\n"))
    result = run_cli("run", "c.yaml", cwd=project)
    assert result.exit_code == 1
    assert "x schema schemas/anything.json at /headers/User-Agent (pattern): " in result.stdout
    assert "(pattern at schemas/headers.json:6:7 #/properties/User-Agent/pattern)" in result.stdout


# -- 19. --traceback is documented; completion knows report formats and request names ----------------------


def test_help_lists_traceback(run_cli: Any) -> None:
    for command in ("run", "validate", "show", "mock"):
        assert "--traceback" in run_cli(command, "--help").stdout


@pytest.mark.parametrize(
    ("args", "incomplete", "expected"),
    [
        (["run", "collections/", "--report"], "ju", ["junit:"]),
        (["run", "collections/", "--report"], "", ["github:", "html:", "json:", "junit:", "markdown:"]),
        (["show", "collections/models.yaml", "--request"], "", ["list models", "retrieve the first model"]),
        (["run", "collections/chat.yaml", "collections/models.yaml", "-k"], "multi", ["multi-turn: first answer", "multi-turn: answer fed back"]),
        (["run", "does-not-exist/", "-k"], "", []),
    ],
    ids=["report-prefix", "report-all", "show-request", "run-k", "no-such-path"],
)
def test_shell_completion(args: list[str], incomplete: str, expected: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from click.shell_completion import ShellComplete

    from runner.cli import main

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    values = [item.value for item in ShellComplete(main, {}, "runner", "_RUNNER_COMPLETE").get_completions(args, incomplete)]
    assert all(value in values for value in expected) if expected else values == []  # other formats may join the list
    assert all(value.lower().startswith(incomplete) for value in values)


# -- 17. a data-driven run shows its row: the name column, else the first columns, secrets masked ----------


@pytest.mark.parametrize(
    ("rows", "labels"),
    [
        ("name,q\nada,cheese\nbob,wine\n", ["search [1: ada]", "search [2: bob]"]),
        ("token,q,z\nsk-row-secret-000111,cheese,1\n", ["search [token=****, q=cheese]"]),
    ],
    ids=["name-column", "first-columns-masked"],
)
def test_a_data_row_labels_its_requests_everywhere(run_cli: Any, write: Any, project: Path, httpbin_url: str, rows: str, labels: list[str]) -> None:
    data = write("rows.csv", rows)
    path = write("c.yaml", _collection(httpbin_url, "  - name: search\n    url: /get\n    params: {q: '{{ q }}'}\n    expect: {json: {$.args.q: nope}}\n", head="secrets: [token]\nvars: {token: none}\n"))
    report = project / "junit.xml"
    result = run_cli("run", str(path), "--data", str(data), "--report", f"junit:{report}", "--report", "json:-")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert [r["display_name"] for c in document["collections"] for r in c["requests"]] == labels
    assert all(f"FAIL  GET    {label}" in result.stderr for label in labels)  # the console (on stderr when a report takes stdout)
    assert all(f'name="{label}"' in report.read_text() for label in labels)
    assert "sk-row-secret" not in result.output + report.read_text()
