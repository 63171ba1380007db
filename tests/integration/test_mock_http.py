"""The mock as an HTTP server: health, CORS, Prefer, 405, validation, templated and dynamic answers, bad input.

Real requests over loopback to a ``MockServer`` on port 0; raw sockets where a
client library would refuse to send the bad input.
"""

from __future__ import annotations

import io
import json
import os
import resource
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from runner.mock import HEALTH_PATH, MockServer
from runner.plan import PlanInput, build_plan

REPO = Path(__file__).resolve().parents[2]
KEY = {"Authorization": "Bearer any-key-at-all"}
CHAT = {"model": "mistral-large-latest", "messages": [{"role": "user", "content": "Who is the most renowned French painter?"}]}


def serve(paths: list[str], **options: Any) -> MockServer:
    server = MockServer(**options)
    url = server.start()
    plan = build_plan(PlanInput(paths, mock_url=url))
    server.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs}, plan.schemas)
    return server


@pytest.fixture(scope="module")
def log() -> io.StringIO:
    return io.StringIO()


@pytest.fixture(scope="module")
def mock(log: io.StringIO) -> Iterator[MockServer]:
    previous = os.getcwd()
    os.chdir(REPO)
    server = serve(["collections"], verbose=True, log_file=log)
    yield server
    server.stop()
    os.chdir(previous)


def raw(server: MockServer, data: bytes) -> bytes:
    """Send bytes as they are; return everything the server answers before it closes or goes quiet."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(data)
        chunks = []
        try:
            while chunk := connection.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and b"Content-Length: " in chunks[0]:
                    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
                    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                    if len(body) >= length:
                        break
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


# --- protocol-aware matching, auth ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "streamed"),
    [
        (CHAT | {"stream": False}, {}, False),
        (CHAT | {"stream": True}, {}, True),
        (CHAT, {"Accept": "text/event-stream"}, True),
        (CHAT, {"Accept": "application/json"}, False),
        (CHAT | {"stream": False}, {"Accept": "text/event-stream"}, False),
    ],
    ids=["stream-false", "stream-true", "accept-sse", "accept-json", "body-decides"],
)
def test_a_stream_answers_only_a_request_that_asks_for_one(mock: MockServer, body: dict[str, Any], headers: dict[str, str], streamed: bool) -> None:
    response = httpx.post(f"{mock.url}/v1/chat/completions", json=body, headers=KEY | headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream") is streamed


def test_health_says_ready(mock: MockServer) -> None:
    response = httpx.get(f"{mock.url}{HEALTH_PATH}")
    assert response.status_code == 200 and response.json()["status"] == "ready"


def test_the_key_is_masked_in_the_log(mock: MockServer, log: io.StringIO) -> None:
    server = serve([str(REPO / "collections" / "models.yaml")], verbose=True, log_file=log, strict_auth=True)
    try:
        httpx.get(f"{server.url}/v1/models?key=mock-key", headers={"Authorization": "Bearer mock-key"})
    finally:
        server.stop()
    assert "/v1/models?key=**** -> 200" in log.getvalue()
    assert "mock-key" not in log.getvalue()


# --- Prefer, CORS, 405 ---------------------------------------------------------------------------


def test_prefer_code_and_example_choose_among_the_saved_answers(mock: MockServer) -> None:
    chosen = httpx.post(f"{mock.url}/v1/chat/completions", json=CHAT, headers=KEY | {"Prefer": "code=422"})
    assert chosen.status_code == 422 and chosen.json()["detail"][0]["loc"] == ["body", "messages"]
    named = httpx.post(f"{mock.url}/v1/chat/completions", json=CHAT, headers=KEY | {"Prefer": "example=JSON mode"})
    assert named.json()["id"] == "25e3f46176674414a76a173bb9294529"
    unmet = httpx.get(f"{mock.url}/v1/models", headers=KEY | {"Prefer": "code=418"})
    assert unmet.status_code == 404 and "code=418" in unmet.json()["error"]


def test_prefer_dynamic_generates_from_the_response_schema(mock: MockServer) -> None:
    response = httpx.post(f"{mock.url}/v1/embeddings", json={"model": "e", "input": ["a"]}, headers=KEY | {"Prefer": "dynamic=true"})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list" and isinstance(body["data"], list)
    again = httpx.post(f"{mock.url}/v1/embeddings", json={"model": "e", "input": ["a"]}, headers=KEY | {"Prefer": "dynamic=true"})
    assert again.json() == body  # generated once per route and seed


def test_cors_on_every_answer_and_preflight(mock: MockServer) -> None:
    origin = {"Origin": "http://localhost:3000"}
    answered = httpx.get(f"{mock.url}/v1/models", headers=KEY | origin)
    assert answered.headers["access-control-allow-origin"] == "http://localhost:3000"
    preflight = httpx.options(f"{mock.url}/v1/chat/completions", headers=origin | {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-headers"] == "authorization, content-type"
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_no_cors_sends_no_cors_headers() -> None:
    server = serve([str(REPO / "collections" / "models.yaml")], cors=False)
    try:
        response = httpx.get(f"{server.url}/v1/models", headers=KEY | {"Origin": "http://x"})
        preflight = httpx.options(f"{server.url}/v1/models", headers={"Origin": "http://x", "Access-Control-Request-Method": "GET"})
    finally:
        server.stop()
    assert "access-control-allow-origin" not in response.headers
    assert preflight.status_code == 405 and preflight.headers["allow"] == "GET, HEAD"


# --- request validation: the API's 422 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"model": "m", "messages": []}, ["body", "messages"], "too_short"),
        ({"model": "m", "messages": "hi"}, ["body", "messages"], "list_type"),
        ({"messages": CHAT["messages"]}, ["body", "model"], "missing"),
        (CHAT | {"temperature": "hot"}, ["body", "temperature"], "float_type"),
    ],
    ids=["empty-messages", "messages-not-a-list", "no-model", "temperature-text"],
)
def test_an_invalid_chat_body_gets_the_apis_422(mock: MockServer, body: dict[str, Any], loc: list[Any], kind: str) -> None:
    response = httpx.post(f"{mock.url}/v1/chat/completions", json=body, headers=KEY)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(item["loc"] == loc and item["type"] == kind for item in detail), detail
    assert response.json()["message"]["detail"] == detail  # the wrapped shape too


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{not json", "application/json"), (b"hello", "text/plain"), (b"", "application/json"), (b"[" * 100_000, "application/json"), (b"\xff\xfe", "application/json")],
    ids=["malformed", "text-plain", "empty", "json-bomb", "not-utf8"],
)
def test_a_body_that_is_not_json_where_json_is_expected_is_a_422(mock: MockServer, content: bytes, content_type: str) -> None:
    response = httpx.post(f"{mock.url}/v1/chat/completions", content=content, headers=KEY | {"Content-Type": content_type})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"][0]["loc"][0] == "body"


# --- bad input at the HTTP level -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"BREW /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /%00%ff/../../etc/passwd HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 404),
        (b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Evil: a\x01b\x1b[31m\r\nAuthorization: Bearer k\r\nContent-Length: 0\r\n\r\n", 200),
        (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 70000000\r\n\r\n", 413),
        (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n", 400),
        (b"NOT A REQUEST\r\n\r\n", 400),
    ],
    ids=["unknown-method", "absurd-path", "odd-path", "control-characters", "64-mib", "bad-length", "garbage"],
)
def test_bad_input_gets_a_clear_4xx_with_a_json_body(mock: MockServer, data: bytes, status: int) -> None:
    answer = raw(mock, data)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode(), head
    assert b"content-type: application/json" in head.lower()
    assert isinstance(json.loads(body), dict)


def test_a_thousand_bad_requests_and_resets_leave_it_serving_with_flat_memory(mock: MockServer, log: io.StringIO) -> None:
    bad = [b"{not json", b"[" * 10_000, b"\x00" * 5_000]
    with httpx.Client(headers=KEY) as client:
        for index in range(1000):
            client.post(f"{mock.url}/v1/chat/completions", content=bad[index % 3], headers={"Content-Type": "application/json"})
            if index == 100:
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        host, port = mock.url.removeprefix("http://").rsplit(":", 1)
        for _ in range(20):  # clients that reset their connection mid-request
            connection = socket.create_connection((host, int(port)))
            connection.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            connection.close()
        assert client.post(f"{mock.url}/v1/chat/completions", json=CHAT).status_code == 200
    growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    assert growth_kib < 20_000, growth_kib  # ru_maxrss is in KiB on Linux
    assert "Traceback" not in log.getvalue()


def test_a_reset_is_no_traceback_on_the_command(tmp_path: Path) -> None:
    """``runner mock``: a client resetting its connection prints nothing without -v, never a traceback."""
    process = subprocess.Popen([sys.executable, "-m", "runner.cli", "mock", "collections/models.yaml", "--port", "0"], cwd=REPO, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        while "serving" not in line:
            line = process.stderr.readline()
            assert line
        port = int(line.split(":")[-1].split()[0])
        for _ in range(10):
            connection = socket.create_connection(("127.0.0.1", port))
            connection.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            connection.close()
        assert httpx.get(f"http://127.0.0.1:{port}/v1/models", headers=KEY).status_code == 200
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert "Traceback" not in err


# --- templated examples: an error is an input error at load --------------------------------------


def test_a_template_error_in_an_example_is_exit_2_with_file_and_line(tmp_path: Path, run_cli: Any) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "name: broken\nbase_url: '{{ base_url }}'\nrequests:\n  - name: echo\n    method: POST\n    url: /echo\n    json: {a: 1}\n"
        "    example:\n      template: true\n      json: {a: '{{ request.json.nope.deeper }}'}\n",
        encoding="utf-8",
    )
    process = subprocess.run([sys.executable, "-m", "runner.cli", "mock", str(path), "--port", "0"], capture_output=True, text=True, timeout=60)
    assert process.returncode == 2
    assert f"{path}:9" in process.stderr and "does not render" in process.stderr
    assert "Traceback" not in process.stderr
    validated = run_cli("validate", str(path), "--var", "base_url=http://127.0.0.1:9")  # the same problem, in validate's words
    assert validated.exit_code == 2
    assert "the example does not render (it is a template)" in validated.output and "the example the" not in validated.output


def test_a_template_that_renders_what_json_cannot_hold_is_exit_2_at_load_and_a_400_at_serve_time(tmp_path: Path) -> None:
    """``{{ request.json.keys }}`` is a method, not a value: an input error at load, never an internal error."""
    at_load = tmp_path / "method.yaml"
    at_load.write_text(
        "name: m\nbase_url: '{{ base_url }}'\nrequests:\n  - name: echo\n    method: POST\n    url: /echo\n    json: {a: 1}\n"
        "    example:\n      template: true\n      json: {k: '{{ request.json.keys }}'}\n",
        encoding="utf-8",
    )
    process = subprocess.run([sys.executable, "-m", "runner.cli", "mock", str(at_load), "--port", "0"], capture_output=True, text=True, timeout=60)
    assert process.returncode == 2, process.stderr
    assert f"{at_load}:9" in process.stderr and "renders a value that is not JSON" in process.stderr
    assert "internal error" not in process.stderr and "Traceback" not in process.stderr
    at_serve = tmp_path / "index.yaml"  # a value for the collection's own body ({index: 1}), a list's method for [1]
    at_serve.write_text(
        "name: m\nbase_url: '{{ base_url }}'\nrequests:\n  - name: echo\n    method: POST\n    url: /echo\n    json: {a: {index: 1}}\n"
        "    example:\n      template: true\n      json: {k: '{{ request.json.a.index }}'}\n",
        encoding="utf-8",
    )
    server = serve([str(at_serve)])
    try:
        assert httpx.post(f"{server.url}/echo", json={"a": {"index": 2}}).json() == {"k": 2}
        refused = httpx.post(f"{server.url}/echo", json={"a": [1]})
    finally:
        server.stop()
    assert refused.status_code == 400
    assert "renders a value that is not JSON" in refused.json()["error"]


def test_a_template_error_that_quotes_a_secret_is_masked_at_load_and_at_serve_time(tmp_path: Path) -> None:
    """Jinja's message names the missing key, here the secret's value: never shown, on stderr or to a client."""
    secret = "s3cr3t-value-xyz"
    text = (
        f"name: s\nvars: {{api_key: {secret}}}\nsecrets: [api_key]\nbase_url: '{{{{ base_url }}}}'\nrequests:\n  - name: echo\n    method: POST\n"
        f"    url: /echo\n    json: {{BODY}}\n    example:\n      template: true\n      json: {{v: '{{{{ request.json[api_key] }}}}'}}\n"
    )
    at_load = tmp_path / "load.yaml"
    at_load.write_text(text.replace("BODY", "a: 1"), encoding="utf-8")
    process = subprocess.run([sys.executable, "-m", "runner.cli", "mock", str(at_load), "--port", "0"], capture_output=True, text=True, timeout=60)
    assert process.returncode == 2 and "does not render" in process.stderr
    assert secret not in process.stderr and "****" in process.stderr
    at_serve = tmp_path / "serve.yaml"
    at_serve.write_text(text.replace("BODY", f"{secret}: 1"), encoding="utf-8")
    server = serve([str(at_serve)])
    try:
        assert httpx.post(f"{server.url}/echo", json={secret: 7}).json() == {"v": 7}
        refused = httpx.post(f"{server.url}/echo", json={"other": 1})
    finally:
        server.stop()
    assert refused.status_code == 400 and "cannot answer this request" in refused.text
    assert secret not in refused.text and "****" in refused.text


def test_dynamic_answers_are_valid_and_the_same_for_a_seed(tmp_path: Path) -> None:
    path = tmp_path / "dyn.yaml"
    path.write_text(
        f"name: dyn\nbase_url: '{{{{ base_url }}}}'\nrequests:\n  - name: card\n    url: /v1/models/x\n"
        f"    expect: {{schema: {REPO}/schemas/mistral/model.json}}\n    example: {{dynamic: true}}\n",
        encoding="utf-8",
    )
    bodies = []
    for seed in (1, 1, 2):
        server = MockServer(seed=seed)
        url = server.start()
        plan = build_plan(PlanInput([str(path)], mock_url=url, allow_outside_refs=True))
        server.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs}, plan.schemas)
        try:
            bodies.append(httpx.get(f"{url}/v1/models/x").json())
        finally:
            server.stop()
    from jsonschema import Draft202012Validator

    assert Draft202012Validator(json.loads((REPO / "schemas/mistral/model.json").read_text())).is_valid(bodies[0])
    assert bodies[0] == bodies[1] != bodies[2]
