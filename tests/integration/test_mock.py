"""The built-in mock over real HTTP on loopback: matching, 404s, auth, concurrency, streams, shutdown, logs."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from runner.mock import HANDLER_THREAD_NAME, MockServer
from runner.plan import PlanInput, build_plan

REPO = Path(__file__).resolve().parents[2]
KEY = {"Authorization": "Bearer mock-key"}

SHOP = REPO / "tests" / "data" / "mock" / "shop.yaml"  # shared with tests/unit/test_mock_routes.py


def start_mock(paths: list[str], **kwargs: Any) -> MockServer:
    """A mock serving ``paths`` the way ``runner mock`` does."""
    server = MockServer(**kwargs)
    url = server.start()
    plan = build_plan(PlanInput(paths, mock_url=url))
    server.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs})
    return server


@pytest.fixture
def shipped_mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockServer]:
    """The mock serving every shipped collection."""
    monkeypatch.chdir(REPO)
    server = start_mock(["collections"])
    yield server
    server.stop()


@pytest.fixture
def strict_mock(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockServer]:
    """The shipped collections with --strict-auth: only the collections' own key."""
    monkeypatch.chdir(REPO)
    server = start_mock(["collections"], strict_auth=True)
    yield server
    server.stop()


@pytest.fixture
def shop_mock() -> Iterator[MockServer]:
    """The mock serving the small test collection above."""
    server = start_mock([str(SHOP)])
    yield server
    server.stop()


def mock_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t is not threading.main_thread() and t.name in ("runner-mock", HANDLER_THREAD_NAME)]


def test_serves_an_example_by_method_and_path(shipped_mock: MockServer) -> None:
    response = httpx.get(f"{shipped_mock.url}/v1/models", headers=KEY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"][0]["id"] == "mistral-large-latest"


def test_head_is_answered_by_the_get_route_without_a_body(shipped_mock: MockServer) -> None:
    got = httpx.get(f"{shipped_mock.url}/v1/models", headers=KEY)
    response = httpx.head(f"{shipped_mock.url}/v1/models", headers=KEY)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == got.headers["content-length"]
    assert httpx.head(f"{shipped_mock.url}/v1/models").status_code == 401  # auth as for GET


def test_a_path_parameter_matches_any_segment(shipped_mock: MockServer) -> None:
    response = httpx.get(f"{shipped_mock.url}/v1/models/any-model-id", headers=KEY)
    assert response.status_code == 200
    assert response.json()["object"] == "model"


def test_query_parameters_choose_the_example(shop_mock: MockServer) -> None:
    headers = {"Authorization": "Bearer shop-token"}
    assert httpx.get(f"{shop_mock.url}/search?q=book", headers=headers).json() == {"found": "books"}
    assert httpx.get(f"{shop_mock.url}/search?q=pen", headers=headers).json() == {"found": "pens"}
    assert httpx.get(f"{shop_mock.url}/items/7", headers=headers).json() == {"item": "any"}


def test_a_known_path_with_another_method_is_a_405_with_allow(shipped_mock: MockServer) -> None:
    response = httpx.request("DELETE", f"{shipped_mock.url}/v1/models", headers=KEY)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["allow"] == ["GET", "HEAD"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/v2/nothing"), ("GET", "/v1/models/a/b")], ids=["path", "too-deep"])
def test_an_unmatched_request_gets_a_404_listing_what_is_served(shipped_mock: MockServer, method: str, path: str) -> None:
    response = httpx.request(method, f"{shipped_mock.url}{path}", headers=KEY)
    assert response.status_code == 404
    body = response.json()
    assert f"{method} {path}" in body["error"]
    assert {"GET /v1/models", "GET /v1/models/{…}", "POST /v1/chat/completions", "POST /v1/embeddings"} <= set(body["serves"])


CHAT = {"model": "mistral-large-latest", "messages": [{"role": "user", "content": "What is the capital of France?"}]}


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "no credential"), ({"Authorization": "Bearer wrong-key"}, "wrong credential"), ({"Authorization": "Basic bW9jay1rZXk="}, "wrong scheme")],
    ids=["missing", "wrong", "wrong-scheme"],
)
def test_a_request_without_the_key_gets_a_mistral_shaped_401(strict_mock: MockServer, headers: dict[str, str], message: str) -> None:
    response = httpx.post(f"{strict_mock.url}/v1/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == 401, message
    body = response.json()
    assert body["message"] == "Unauthorized"
    assert len(body["request_id"]) == 32 and int(body["request_id"], 16) >= 0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic bW9jay1rZXk="}], ids=["missing", "wrong-scheme"])
def test_by_default_any_key_works_but_none_is_401(shipped_mock: MockServer, headers: dict[str, str]) -> None:
    answered = httpx.post(f"{shipped_mock.url}/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer sk-my-real-key"})
    assert answered.status_code == 200 and answered.json()["object"] == "chat.completion"
    refused = httpx.post(f"{shipped_mock.url}/v1/chat/completions", json=CHAT, headers=headers)
    assert refused.status_code == 401 and refused.json()["message"] == "Unauthorized"


def test_the_saved_wrong_key_401_still_answers_that_exact_key(shipped_mock: MockServer) -> None:
    response = httpx.get(f"{shipped_mock.url}/v1/models", headers={"Authorization": "Bearer not-a-valid-key"})
    assert response.status_code == 401
    assert response.json()["request_id"] == "8d2e4f6a0b1c4d3e8f9a7b6c5d4e3f21"  # errors.yaml's "wrong API key is 401"


def test_a_refused_request_gets_the_collections_saved_401(strict_mock: MockServer) -> None:
    response = httpx.get(f"{strict_mock.url}/v1/models", headers={"Authorization": "Bearer stolen"})
    assert response.status_code == 401
    assert response.json()["request_id"] in ("3f6c1e0d2b8a4c5e9f7a1b2c3d4e5f60", "8d2e4f6a0b1c4d3e8f9a7b6c5d4e3f21")  # errors.yaml


def test_an_api_key_in_the_query_is_enforced(shop_mock: MockServer) -> None:
    assert httpx.get(f"{shop_mock.url}/tickets?ticket=canary-7f3a9c").json() == {"ticket": "ok"}
    assert httpx.get(f"{shop_mock.url}/tickets?ticket=other").json() == {"ticket": "ok"}  # any key, unless --strict-auth
    assert httpx.get(f"{shop_mock.url}/tickets").status_code == 401


@pytest.mark.parametrize(
    ("body", "answer_id"),
    [
        (CHAT | {"temperature": 0.3, "max_tokens": 64, "stop": ["."]}, "ce42f12c1bbd46299947ce77bc0d892c"),
        ({"model": "mistral-large-latest", "messages": [{"role": "user", "content": "How far is the moon from earth?"}]}, "bed9481e857e40fab7c7eea4232f294a"),
        (CHAT | {"messages": CHAT["messages"] + [{"role": "assistant", "content": "The Capital of France is", "prefix": True}]}, "9783a488b4e844648e9a2bd814a05978"),
        (CHAT | {"messages": CHAT["messages"] + [{"role": "assistant", "content": "Paris."}, {"role": "user", "content": "Translate that to French."}]}, "b43f553c4988428aa0c615be4c8f9381"),
        ({"model": "other-model", "messages": [{"role": "user", "content": "Hi"}], "response_format": {"type": "json_object"}}, "25e3f46176674414a76a173bb9294529"),
    ],
    ids=["sampling", "single-turn", "prefix", "multi-turn", "json-mode-other-model"],
)
def test_requests_on_one_path_get_the_example_that_fits_their_body(shipped_mock: MockServer, body: dict[str, Any], answer_id: str) -> None:
    response = httpx.post(f"{shipped_mock.url}/v1/chat/completions", json=body, headers=KEY)
    assert response.status_code == 200
    assert response.json()["id"] == answer_id


def test_a_body_without_messages_gets_the_422_example(shipped_mock: MockServer) -> None:
    response = httpx.post(f"{shipped_mock.url}/v1/chat/completions", json={"model": "mistral-small-latest"}, headers=KEY)
    assert response.status_code == 422
    assert response.json()["message"]["detail"][0]["loc"] == ["body", "messages"]


def test_fifty_concurrent_requests_are_all_answered_correctly(shipped_mock: MockServer) -> None:
    cases = [
        ("GET", "/v1/models", None, lambda r: r.json()["object"] == "list"),
        ("GET", "/v1/models/mistral-tiny", None, lambda r: r.json()["object"] == "model"),
        ("POST", "/v1/embeddings", {"model": "mistral-embed", "input": ["a", "b", "c"]}, lambda r: len(r.json()["data"]) == 3),
        ("POST", "/v1/chat/completions", CHAT | {"response_format": {"type": "json_object"}}, lambda r: r.json()["id"] == "25e3f46176674414a76a173bb9294529"),
        ("POST", "/v1/chat/completions", CHAT | {"stream": True}, lambda r: r.text.rstrip().endswith("data: [DONE]")),
    ]

    async def main() -> list[tuple[int, bool]]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=shipped_mock.url, headers=KEY, limits=limits) as client:
            async def one(index: int) -> tuple[int, bool]:
                method, path, body, check = cases[index % len(cases)]
                response = await client.request(method, path, json=body)
                return response.status_code, check(response)

            return await asyncio.gather(*(one(i) for i in range(50)))

    results = asyncio.run(main())
    assert results == [(200, True)] * 50


def test_a_stream_is_sent_as_server_sent_events(shop_mock: MockServer) -> None:
    response = httpx.post(f"{shop_mock.url}/stream", json={"stream": True, "quick": True}, headers={"Authorization": "Bearer shop-token"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["x-mock"] == "quick"
    assert response.text == 'data: {"n":1}\n\ndata: plain text\n\ndata: [DONE]\n\n'


def test_a_slow_stream_neither_blocks_others_nor_the_shutdown(shop_mock: MockServer) -> None:
    headers = {"Authorization": "Bearer shop-token"}
    with httpx.Client(headers=headers) as slow_client, httpx.Client(headers=headers) as other:
        with slow_client.stream("POST", f"{shop_mock.url}/stream", json={"stream": True}) as slow:
            assert slow.status_code == 200  # headers sent; the first event is a minute away
            assert other.get(f"{shop_mock.url}/search?q=pen").json() == {"found": "pens"}
            shop_mock.stop()  # ends the stream now, instead of after three minutes
            with pytest.raises(httpx.HTTPError):
                slow.read()
    assert mock_threads() == []


def test_stop_leaves_no_thread_and_frees_the_port() -> None:
    server = start_mock([str(SHOP)])
    port = int(server.url.rsplit(":", 1)[1])
    client = httpx.Client(headers={"Authorization": "Bearer shop-token"})  # keeps its connection open
    assert client.get(f"{server.url}/search?q=pen").status_code == 200
    assert any(t.name == HANDLER_THREAD_NAME for t in threading.enumerate())
    server.stop()
    server.stop()  # a second stop is harmless
    assert mock_threads() == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
    client.close()


def test_a_busy_port_is_a_usage_error() -> None:
    from runner.errors import UsageError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(UsageError, match="cannot listen on 127.0.0.1"):
            MockServer(port=taken.getsockname()[1]).start()


def test_verbose_logs_one_line_per_request_with_secrets_masked() -> None:
    log = io.StringIO()
    server = start_mock([str(SHOP)], verbose=True, log_file=log)
    try:
        httpx.get(f"{server.url}/tickets?ticket=canary-7f3a9c")
        httpx.get(f"{server.url}/search?q=book", headers={"Authorization": "Bearer shop-token"})
        httpx.get(f"{server.url}/search?q=book")
        httpx.get(f"{server.url}/nowhere")
    finally:
        server.stop()
    lines = log.getvalue().splitlines()
    assert lines == [
        "mock: GET /tickets?ticket=**** -> 200 (shop: by ticket)",
        "mock: GET /search?q=book -> 200 (shop: search books)",
        "mock: GET /search?q=book -> 401 (shop: search books: missing or wrong credential)",
        "mock: GET /nowhere -> 404 (no example)",
    ]
    assert "canary-7f3a9c" not in log.getvalue()


def test_quiet_without_verbose() -> None:
    log = io.StringIO()
    server = start_mock([str(SHOP)], log_file=log)
    try:
        assert httpx.get(f"{server.url}/search?q=book", headers={"Authorization": "Bearer shop-token"}).status_code == 200
    finally:
        server.stop()
    assert log.getvalue() == ""


def test_a_chunked_request_body_is_read(shipped_mock: MockServer) -> None:
    def body() -> Iterator[bytes]:
        yield json.dumps({"model": "mistral-small-latest"}).encode()

    response = httpx.post(f"{shipped_mock.url}/v1/chat/completions", content=body(), headers=KEY | {"Content-Type": "application/json"})
    assert response.status_code == 422


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_runner_mock_command_serves_until_interrupted(stop_signal: signal.Signals) -> None:
    """``runner mock collections/ --port 0 -v`` in a process of its own, stopped with Ctrl-C or SIGTERM."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "runner.cli", "mock", "collections/", "--port", "0", "-v"],
        cwd=REPO, env=env, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        match = re.fullmatch(r"mock: serving \d+ examples on (http://127\.0\.0\.1:\d+) \(Ctrl-C to stop\)\n", first)
        assert match, first
        url = match.group(1)
        listing = []
        while not listing or not listing[-1].startswith("run against it:"):
            listing.append(process.stderr.readline())
        assert {"  GET /v1/models\n", "  GET /v1/models/{…}\n", "  POST /v1/chat/completions\n", "  POST /v1/embeddings\n"} <= set(listing)
        assert listing[-1] == f"run against it: runner run collections/ --var base_url={url}\n"
        response = httpx.get(f"{url}/v1/models", headers=KEY)
        assert response.status_code == 200
        process.send_signal(stop_signal)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "mock: GET /v1/models -> 200 (Mistral models: list models)" in rest
    assert rest.rstrip().endswith("mock: stopped")


def test_runner_mock_takes_an_environment_file_and_vars() -> None:
    """``runner mock -e environments/mistral.yaml``: the routes demand the key the environment renders to."""
    key = "env-key-0123456789"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MISTRAL_API_KEY": key}
    command = [sys.executable, "-m", "runner.cli", "mock", "collections/models.yaml", "--port", "0", "-e", "environments/mistral.yaml", "--var", "model=x", "--strict-auth"]
    with subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stderr is not None
            lines = [process.stderr.readline()]
            while not lines[0].startswith("mock: serving"):
                lines = [process.stderr.readline()]  # warnings about examples come first
                assert lines[0], lines
            while not lines[-1].startswith("run against it:"):
                lines.append(process.stderr.readline())
                assert lines[-1], lines
            url = re.search(r"http://127\.0\.0\.1:\d+", lines[0]).group(0)  # type: ignore[union-attr]
            assert lines[-1] == f"run against it: runner run collections/models.yaml -e environments/mistral.yaml --var base_url={url}\n"
            assert httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
            assert httpx.get(f"{url}/v1/models", headers=KEY).status_code == 401  # the collection's mock-key no longer opens it
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0


def test_a_deeply_nested_json_body_is_not_a_server_error(tmp_path) -> None:
    import httpx

    from runner.mock import MockServer
    from runner.templating import Templates

    from runner.loader import load_collection

    path = tmp_path / "c.yaml"
    path.write_text("name: t\nrequests:\n  - name: p\n    method: POST\n    url: /p\n    json: {a: 1}\n    example: {status: 200, json: {ok: true}}\n")
    with MockServer() as server:
        server.serve_collections([load_collection(path)], Templates())
        response = httpx.post(f"{server.url}/p", content=b"[" * 5000 + b"]" * 5000, headers={"Content-Type": "application/json"})
    assert response.status_code == 422  # not JSON (too deep) where JSON is expected: the API's validation error
    assert response.json()["detail"][0]["type"] == "json_invalid"
