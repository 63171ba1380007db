"""``--save-examples`` and ``--diff-examples`` against a real loopback server that echoes the credentials it gets.

The collection is full of comments, odd quoting, anchors, a merge key and a flow
mapping; after saving, a line diff must show changes inside ``example:`` blocks
only, and the token the server echoes back must be nowhere in the file.
"""

from __future__ import annotations

import base64
import difflib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

TOKEN = "sk-canary-7f3a9Qx"

COLLECTION = """\
# The demo API: saved answers live under each request's example.
name: 'save demo'    # single-quoted on purpose
base_url: "{{ base_url }}"
auth: {bearer: "{{ api_key }}"}
secrets: [api_key]
vars:
  base_url: http://127.0.0.1:PORT   # the test's server
  api_key: "{{ env.DEMO_KEY }}"

requests:
  # a block mapping whose headers are anchored
  - name: "echo the token"
    url: /echo
    headers: &common
      Accept: 'application/json'   # odd quoting
      X-Trace: "on"
    expect:
      status: 200
      json: {"$.ok": true}

  - {name: flow request, url: /echo, headers: *common, expect: {status: 200}}   # flow style

  - name: has an old example
    method: GET
    url: /echo
    headers:
      <<: *common
      X-Extra: "1"
    example:   # stale: the server answers 200 now
      status: 201
      json: {old: true}

    # a comment between requests, then a blank line

  - name: plain text
    url: /text
    expect:
      body: {contains: hello}
    capture: {greeting: {regex: "(world)", secret: true}}   # a secret the response itself gives
  - name: failing
    url: /echo
    expect: {status: 418}
  - name: stream
    url: /stream
    expect:
      events: {done: true}
    example:
      events: ["old"]
      event_delay_ms: 5   # the mock's pacing: kept
"""


def _echo(request: Request) -> Response:
    body = {
        "ok": True,
        "id": "req-8f1c",  # a volatile value: kept as it came
        "auth": request.headers.get("Authorization", ""),
        "token": request.headers.get("Authorization", "").removeprefix("Bearer "),
        "nested": {"key_b64": base64.b64encode(TOKEN.encode()).decode(), "count": 3, "tags": ["a", "b"]},
    }
    headers = {"X-Echo-Key": TOKEN, "Set-Cookie": f"session={TOKEN}; Path=/", "X-Request-Id": "r-1", "Location": "/echo/req-8f1c"}
    return Response(json.dumps(body), status=200, headers=headers, content_type="application/json")


@pytest.fixture
def echo(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/echo").respond_with_handler(_echo)
    httpserver.expect_request("/text").respond_with_data("hello\nworld", content_type="text/plain; charset=utf-8")
    stream = "".join(f"data: {json.dumps({'choices': [{'delta': {'content': piece}}]})}\n\n" for piece in ("Com", "té", "."))
    httpserver.expect_request("/stream").respond_with_data(stream + "data: [DONE]\n\n", content_type="text/event-stream")
    return httpserver


@pytest.fixture
def collection(write: Any, echo: HTTPServer) -> Path:
    return write("demo.yaml", COLLECTION.replace("PORT", str(echo.port)))


def _example_lines(lines: list[str]) -> set[int]:
    """Indexes of lines inside a block ``example:`` (the key line and every deeper-indented line after it)."""
    inside: set[int] = set()
    indent = None
    for number, line in enumerate(lines):
        stripped = line.lstrip()
        depth = len(line) - len(stripped)
        if indent is not None and (not stripped or depth > indent):
            inside.add(number)
            continue
        indent = None
        if stripped.startswith("example:"):
            indent = depth
            inside.add(number)
    return inside


def _assert_only_examples_changed(before: str, after: str) -> None:
    old, new = before.split("\n"), after.split("\n")
    old_examples, new_examples = _example_lines(old), _example_lines(new)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for i in range(i1, i2):
            assert i in old_examples or old[i].lstrip().startswith("- {"), f"a line outside the examples changed: {old[i]!r}"
        for j in range(j1, j2):
            if new[j].lstrip().startswith("- {"):  # the flow request: the same line with ", example: {...}" before its last brace
                assert "flow request" in new[j]
                head, _, tail = new[j].partition(", example: ")
                old_line = old[i1] if i2 > i1 else ""
                assert old_line.startswith(head) and old_line.endswith("}   # flow style") and tail.endswith("}}   # flow style"), new[j]
                continue
            assert j in new_examples, f"a line outside the examples was added: {new[j]!r}"


def test_saved_examples_change_only_example_blocks_and_hold_no_secret(run_cli: Any, collection: Path, project: Path) -> None:
    before = collection.read_text()
    result = run_cli("run", str(collection), "--save-examples", env={"DEMO_KEY": TOKEN})
    assert result.exit_code == 1, result.output  # 'failing' fails
    after = collection.read_text()
    _assert_only_examples_changed(before, after)
    assert TOKEN not in after and TOKEN[:8] not in after and base64.b64encode(TOKEN.encode()).decode() not in after
    assert TOKEN not in result.output
    assert "example not saved: failing" in result.output and "saved 5 examples in" in result.output
    data = __import__("yaml").safe_load(after)
    by_name = {item["name"]: item for item in data["requests"]}
    echoed = by_name["echo the token"]["example"]
    assert echoed["status"] == 200
    assert echoed["json"]["auth"] == "Bearer {{ api_key }}" and echoed["json"]["token"] == "{{ api_key }}"
    assert echoed["json"]["nested"]["key_b64"] == "****" and echoed["json"]["id"] == "req-8f1c"
    assert list(echoed["headers"].items()) == [("content-type", "application/json"), ("location", "/echo/req-8f1c")]  # no cookie, no echoed key, no date
    assert by_name["has an old example"]["example"]["status"] == 200 and "old" not in by_name["has an old example"]["example"]["json"]
    assert by_name["flow request"]["example"]["json"]["ok"] is True
    assert by_name["plain text"]["example"]["body"] == "hello\n{{ greeting }}"  # a captured secret is templated too
    assert by_name["stream"]["example"]["event_delay_ms"] == 5
    assert by_name["stream"]["example"]["events"] == [{"choices": [{"delta": {"content": piece}}]} for piece in ("Com", "té", ".")]
    assert "example" not in by_name["failing"]
    # the workflow: validate checks the saved examples against expect, the mock serves them
    assert run_cli("validate", str(collection), env={"DEMO_KEY": TOKEN}).exit_code == 0
    mocked = run_cli("run", str(collection), "--mock", "-k", "not failing and not plain", env={"DEMO_KEY": TOKEN})  # plain: its secret capture finds a template
    assert mocked.exit_code == 0, mocked.output
    # saving the same answers again changes nothing
    again = run_cli("run", str(collection), "--save-examples", "-k", "not failing", env={"DEMO_KEY": TOKEN})
    assert "unchanged: 5 examples" in again.output and collection.read_text() == after


def test_save_failed_saves_a_failed_response(run_cli: Any, collection: Path) -> None:
    result = run_cli("run", str(collection), "--save-examples", "--save-failed", "--request", "failing", env={"DEMO_KEY": TOKEN})
    assert result.exit_code == 1
    example = __import__("yaml").safe_load(collection.read_text())["requests"][4]["example"]
    assert example["status"] == 200 and example["json"]["token"] == "{{ api_key }}"


def test_a_file_changed_during_the_run_is_not_overwritten(run_cli: Any, write: Any, httpserver: HTTPServer) -> None:
    """The server edits the collection while answering: the run must not write over that edit."""
    path = write("live.yaml", f"name: live\nbase_url: {httpserver.url_for('')}\nrequests:\n  - name: touch\n    url: /touch\n")
    edited = path.read_text() + "# edited by someone else\n"

    def touch(request: Request) -> Response:
        path.write_text(edited)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/touch").respond_with_handler(touch)
    result = run_cli("run", str(path), "--save-examples")
    assert result.exit_code == 2
    assert "changed on disk during the run" in result.stderr and path.read_text() == edited


def test_diff_examples_lists_shape_changes(run_cli: Any, write: Any, echo: HTTPServer) -> None:
    path = write(
        "drift.yaml",
        f"""name: drift
base_url: {echo.url_for('')}
requests:
  - name: echo
    url: /echo
    example:
      json: {{ok: true, id: "was-a-string", auth: "", gone: 1, nested: {{key_b64: "", count: "3", tags: []}}}}
  - name: same
    url: /text
    example: {{body: "different words, same kind"}}
  - name: never saved
    url: /text
""",
    )
    result = run_cli("run", str(path), "--diff-examples")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "drift > echo" in out
    assert "+ $.token  new field (string)" in out
    assert "- $.gone  field gone" in out
    assert "~ $.nested.count  string -> number" in out
    assert "$.nested.tags" not in out  # an empty array says nothing about its items
    assert "$.id" not in out  # a value changed, not its type: not drift
    assert "drift > never saved  no saved example" in out
    assert "1 drifted, 1 match their example, 1 without an example" in out
    assert run_cli("run", str(path), "--diff-examples", "--fail-on-drift").exit_code == 1
    assert run_cli("run", str(path), "--diff-examples", "--fail-on-drift", "-k", "same").exit_code == 0


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_new_example_lands_under_its_request(newline: str, run_cli: Any, write: Any, echo: HTTPServer) -> None:
    text = f"name: n{newline}base_url: {echo.url_for('')}{newline}requests:{newline}  - name: a{newline}    url: /text{newline}  # trailing comment{newline}"
    path = write("n.yaml", "")
    path.write_bytes(text.encode())
    assert run_cli("run", str(path), "--save-examples").exit_code == 0
    new = path.read_bytes().decode()
    assert new == text.replace(f"url: /text{newline}", f"url: /text{newline}    example:{newline}      status: 200{newline}      headers:{newline}        content-type: text/plain; charset=utf-8{newline}      body: |-{newline}        hello{newline}        world{newline}")
    assert re.search(r"(?<!\r)\n", new) is None if newline == "\r\n" else "\r" not in new


def test_fail_on_drift_alone_implies_the_diff(run_cli: Any, write: Any, echo: HTTPServer) -> None:
    path = write("d.yaml", f"name: d\nbase_url: {echo.url_for('')}\nrequests:\n  - name: t\n    url: /text\n    example: {{json: {{a: 1}}}}\n")
    result = run_cli("run", str(path), "--fail-on-drift")
    assert result.exit_code == 1 and "~ body  json -> text" in result.stdout


def _split_stream(request: Request) -> Response:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    pieces = ["key: ", token[:3], token[3:9], token[9:], " done"]
    chunks = [f"data: {json.dumps({'choices': [{'delta': {'content': piece}}]})}\n\n" for piece in pieces]
    chunks += [f"data: {token[:5]}\n\n", f"data: {token[5:]}\n\n", "data: [DONE]\n\n"]
    return Response("".join(chunks), content_type="text/event-stream")


def test_a_secret_streamed_across_events_is_masked_in_the_saved_example(run_cli: Any, write: Any, httpserver: HTTPServer) -> None:
    """A server streams the token back in pieces (tokens, then plain-text events): joined, the saved events must not spell it."""

    httpserver.expect_request("/stream").respond_with_handler(_split_stream)
    path = write("s.yaml", f"name: s\nsecrets: [api_key]\nvars: {{api_key: \"{{{{ env.DEMO_KEY }}}}\"}}\nauth: {{bearer: \"{{{{ api_key }}}}\"}}\nbase_url: {httpserver.url_for('')}\nrequests:\n  - name: stream\n    url: /stream\n")
    result = run_cli("run", str(path), "--save-examples", env={"DEMO_KEY": TOKEN})
    assert result.exit_code == 0, result.output
    events = __import__("yaml").safe_load(path.read_text())["requests"][0]["example"]["events"]
    contents = [event["choices"][0]["delta"]["content"] for event in events[:5]]
    assert contents == ["key: ", "****", "****", "****", " done"]  # the pieces around it stay
    assert events[5:] == ["****", "****"]
    joined = "".join(contents) + "".join(events[5:])
    for size in range(4, len(TOKEN) + 1):
        assert not any(TOKEN[start : start + size] in joined for start in range(len(TOKEN) - size + 1)), size


def test_a_secret_streamed_across_events_is_masked_in_verbose_output_and_reports(run_cli: Any, write: Any, httpserver: HTTPServer, project: Path) -> None:
    """The raw stream that -v prints and a failed request's body excerpt (console and reports) hold no piece of the token."""
    httpserver.expect_request("/stream").respond_with_handler(_split_stream)
    path = write("v.yaml", f"name: v\nsecrets: [api_key]\nvars: {{api_key: \"{{{{ env.DEMO_KEY }}}}\"}}\nauth: {{bearer: \"{{{{ api_key }}}}\"}}\nbase_url: {httpserver.url_for('')}\nrequests:\n  - name: stream\n    url: /stream\n    expect: {{events: {{count: 99}}}}\n")
    report = project / "r.json"
    result = run_cli("run", str(path), "-v", "--report", f"json:{report}", env={"DEMO_KEY": TOKEN})
    assert result.exit_code == 1, result.output
    assert '< data: {"choices": [{"delta": {"content": "****"}}]}' in result.stdout and "< data: ****" in result.stdout
    for text in (result.output, report.read_text()):
        for start in range(len(TOKEN) - 3):
            assert TOKEN[start : start + 4] not in text, TOKEN[start : start + 4]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_request_ending_in_a_keep_block_scalar_gets_its_example_before_it(newline: str, run_cli: Any, write: Any, echo: HTTPServer) -> None:
    """``|+`` keeps its trailing blank lines: an example after them would cut them off, so it goes before that last key."""
    text = newline.join(["name: n", f"base_url: {echo.url_for('')}", "requests:", "  - name: a", "    url: /text", "    description: |+  # kept", "      two blank lines follow", "", "", "  - name: b", "    url: /text", ""])
    path = write("k.yaml", "")
    path.write_bytes(text.encode())
    result = run_cli("run", str(path), "--save-examples")
    assert result.exit_code == 0, result.output
    example = newline.join(["    example:", "      status: 200", "      headers:", "        content-type: text/plain; charset=utf-8", "      body: |-", "        hello", "        world", ""])
    expected = text.replace(f"    description: |+", f"{example}    description: |+").replace(f"  - name: b{newline}    url: /text{newline}", f"  - name: b{newline}    url: /text{newline}{example}")
    assert path.read_bytes().decode() == expected


def test_a_comment_on_the_example_key_line_is_kept(run_cli: Any, write: Any, echo: HTTPServer) -> None:
    text = f"name: n\nbase_url: {echo.url_for('')}\nrequests:\n  - name: a\n    url: /text\n    example: {{}}  # was empty\n  - name: b\n    url: /text\n    example: &ex   # stale\n      status: 500\n"
    path = write("c.yaml", text)
    assert run_cli("run", str(path), "--save-examples").exit_code == 0
    lines = path.read_text().split("\n")
    assert "    example:  # was empty" in lines
    assert any(line.startswith("    example: &ex ") and line.endswith("# stale") for line in lines), lines
