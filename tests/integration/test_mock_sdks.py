"""The official clients are the oracle: ``mistralai`` and ``openai`` against the shipped collections served by the mock.

Every test talks to a real ``MockServer`` over loopback (port 0), the way a user's
app talks to ``runner mock collections/``. The start-up race is tested on the
``runner mock`` command itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import httpx
import openai
import pytest

from runner.examples import example_body, example_scope, render_example, sample_request
from runner.mock import MockServer
from runner.plan import PlanInput, build_plan

REPO = Path(__file__).resolve().parents[2]
PAINTER = [{"role": "user", "content": "Who is the most renowned French painter?"}]


def _mistral() -> tuple[Any, Any, Any]:
    """``Mistral``, its models module and its errors module, for the 1.x layout and the newer ``mistralai.client`` one."""
    try:
        from mistralai.client import Mistral, errors, models
    except ImportError:  # mistralai 1.x
        from mistralai import Mistral, models  # type: ignore[no-redef]

        errors = models  # type: ignore[assignment]
    return Mistral, models, errors


Mistral, models, errors = _mistral()


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    """``runner mock collections/`` on a free loopback port."""
    previous = os.getcwd()
    os.chdir(REPO)
    server = MockServer()
    url = server.start()
    try:
        plan = build_plan(PlanInput(["collections"], mock_url=url))
        server.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs}, plan.schemas)
        yield url
    finally:
        server.stop()
        os.chdir(previous)


@pytest.fixture
def client(mock_url: str) -> Any:
    return Mistral(api_key="sk-my-own-real-looking-key", server_url=mock_url, timeout_ms=10_000)


# --- mistralai ---------------------------------------------------------------------------------


def test_models_list_and_retrieve_any_id(client: Any) -> None:
    listed = client.models.list()
    assert [card.id for card in listed.data][:2] == ["mistral-large-latest", "mistral-medium-latest"]
    assert {card.type for card in listed.data} == {"base", "fine-tuned"}
    for model_id in ("mistral-large-latest", "my-own-model-7", "mistral-embed"):
        card = client.models.retrieve(model_id=model_id)
        assert card.id == model_id
        assert card.capabilities.completion_chat is ("embed" not in model_id)


@pytest.mark.parametrize(
    ("messages", "options"),
    [
        (PAINTER, {}),
        ([{"role": "user", "content": "What is the best French cheese?"}], {"temperature": 0.3, "max_tokens": 64}),
        ([*PAINTER, {"role": "assistant", "content": "Claude Monet."}, {"role": "user", "content": "Why?"}], {}),
        ([{"role": "user", "content": "A meal as JSON"}], {"response_format": {"type": "json_object"}}),
    ],
    ids=["arbitrary-prompt", "temperature-max-tokens", "multi-turn", "json-mode"],
)
def test_chat_complete(client: Any, messages: list[dict[str, Any]], options: dict[str, Any]) -> None:
    response = client.chat.complete(model="mistral-small-latest", messages=messages, **options)
    assert response.model == "mistral-small-latest"  # echoed
    assert response.object == "chat.completion"
    assert response.choices[0].message.role == "assistant" and response.choices[0].message.content
    if "response_format" in options:
        assert isinstance(json.loads(response.choices[0].message.content), dict)


def test_chat_stream_parses_every_event(client: Any) -> None:
    events = list(client.chat.stream(model="mistral-large-latest", messages=PAINTER))
    assert len(events) >= 2
    assert all(event.data.model == "mistral-large-latest" for event in events)
    text = "".join(event.data.choices[0].delta.content or "" for event in events)
    assert text == "384400"  # the stream example of chat-stream.yaml, assembled
    assert events[-1].data.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("count", [1, 2, 5])
def test_embeddings_one_vector_per_input(client: Any, count: int) -> None:
    texts = [f"sentence number {index}" for index in range(count)]
    response = client.embeddings.create(model="mistral-embed", inputs=texts)
    assert [item.index for item in response.data] == list(range(count))
    assert {len(item.embedding) for item in response.data} == {1024}
    assert response.model == "mistral-embed"


def test_a_wrong_key_is_the_sdks_401(mock_url: str) -> None:
    with pytest.raises(errors.SDKError) as raised:
        Mistral(api_key="not-a-valid-key", server_url=mock_url).models.list()  # errors.yaml's wrong key
    assert raised.value.status_code == 401


def test_an_empty_message_list_is_an_http_validation_error_with_detail(client: Any) -> None:
    with pytest.raises(errors.HTTPValidationError) as raised:
        client.chat.complete(model="mistral-large-latest", messages=[])
    detail = raised.value.data.detail
    assert detail and list(detail[0].loc) == ["body", "messages"]
    assert raised.value.raw_response.status_code == 422


def test_async_variants(mock_url: str) -> None:
    async def main() -> tuple[Any, str, Any]:
        async with Mistral(api_key="sk-async", server_url=mock_url) as client:
            completed = await client.chat.complete_async(model="open-mistral-nemo", messages=PAINTER)
            stream = await client.chat.stream_async(model="open-mistral-nemo", messages=PAINTER)
            async with stream:
                text = "".join([event.data.choices[0].delta.content or "" async for event in stream])
            embedded = await client.embeddings.create_async(model="mistral-embed", inputs=["a", "b"])
        return completed, text, embedded

    completed, text, embedded = asyncio.run(main())
    assert completed.model == "open-mistral-nemo"
    assert text == "384400"
    assert len(embedded.data) == 2


# --- openai ------------------------------------------------------------------------------------


@pytest.fixture
def openai_client(mock_url: str) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-openai-style", base_url=f"{mock_url}/v1", max_retries=0, timeout=10)


def test_openai_models_chat_embeddings(openai_client: openai.OpenAI) -> None:
    assert [model.id for model in openai_client.models.list()][0] == "mistral-large-latest"
    assert openai_client.models.retrieve("any-model-id").id == "any-model-id"
    completion = openai_client.chat.completions.create(model="gpt-style-name", messages=PAINTER, temperature=0.2, max_tokens=50)  # type: ignore[arg-type]
    assert completion.model == "gpt-style-name" and completion.choices[0].message.content
    embedded = openai_client.embeddings.create(model="mistral-embed", input=["a", "b", "c", "d", "e"])
    assert len(embedded.data) == 5 and len(embedded.data[0].embedding) == 1024


def test_openai_stream_and_errors(openai_client: openai.OpenAI, mock_url: str) -> None:
    chunks = list(openai_client.chat.completions.create(model="m", messages=PAINTER, stream=True))  # type: ignore[arg-type]
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == "384400"
    with pytest.raises(openai.UnprocessableEntityError) as invalid:
        openai_client.chat.completions.create(model="m", messages=[])
    assert invalid.value.status_code == 422
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="not-a-valid-key", base_url=f"{mock_url}/v1", max_retries=0).models.list()


def test_openai_async(mock_url: str) -> None:
    async def main() -> tuple[str, str]:
        client = openai.AsyncOpenAI(api_key="sk-a", base_url=f"{mock_url}/v1", max_retries=0)
        completion = await client.chat.completions.create(model="async-model", messages=PAINTER)  # type: ignore[arg-type]
        stream = await client.chat.completions.create(model="async-model", messages=PAINTER, stream=True)  # type: ignore[arg-type]
        text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
        await client.close()
        return str(completion.model), text

    assert asyncio.run(main()) == ("async-model", "384400")


# --- every shipped example parses into the SDK's own model ------------------------------------


def shipped_examples() -> list[tuple[str, str]]:
    plan = build_plan(PlanInput([str(REPO / "collections")], mock_url="http://127.0.0.1:9"))
    return [(Path(run.collection.path).name, spec.name) for run in plan.runs for spec in run.collection.requests if spec.example is not None]


@pytest.mark.parametrize(("file", "name"), shipped_examples(), ids=[f"{f}:{n}" for f, n in shipped_examples()])
def test_every_shipped_example_parses_into_the_sdk_model(file: str, name: str) -> None:
    plan = build_plan(PlanInput([str(REPO / "collections" / file)], mock_url="http://127.0.0.1:9"))
    (run,) = plan.runs
    spec = next(spec for spec in run.collection.requests if spec.name == name)
    example = spec.example
    assert example is not None
    values = run.scope.values
    example = render_example(example, plan.templates, example_scope(sample_request(spec, values, plan.templates), values))
    url = str(spec.url)
    if example.events is not None:
        chunks = [models.CompletionChunk.model_validate(event if isinstance(event, dict) else json.loads(event)) for event in example.events]
        assert chunks and chunks[-1].choices[0].finish_reason == "stop"
        return
    body = json.loads(example_body(example)[0])
    if example.status == 401:
        assert body["message"] == "Unauthorized"
    elif example.status == 422:
        assert errors.HTTPValidationErrorData.model_validate(body).detail
    elif url.endswith("/chat/completions"):
        assert models.ChatCompletionResponse.model_validate(body).choices
    elif url.endswith("/embeddings"):
        assert models.EmbeddingResponse.model_validate(body).data
    elif url.endswith("/models"):
        assert models.ModelList.model_validate(body).data
    else:
        from pydantic import TypeAdapter

        card = TypeAdapter(models.ResponseRetrieveModelV1ModelsModelIDGet).validate_python(body)
        assert card.id == body["id"]


# --- start-up: nothing answers before every route is ready ------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _first_answer() -> tuple[int, str]:
    """Start ``runner mock``, poll its port every 10 ms, and return the first answer to a chat request.

    The free port is only free when probed: if another process takes it first the
    mock exits (its bind fails), and the start is tried again on a new port.
    """
    for _attempt in range(3):
        port = _free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen([sys.executable, "-m", "runner.cli", "mock", "collections/", "--port", str(port)], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    response = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json={"model": "m", "messages": PAINTER, "stream": False}, headers={"Authorization": "Bearer k"}, timeout=30)
                except httpx.ConnectError:
                    time.sleep(0.01)
                    continue
                return response.status_code, response.headers.get("content-type", "")
            if process.poll() is None:
                raise AssertionError("the mock never accepted a connection")
        finally:
            process.terminate()
            process.wait(timeout=30)
    raise AssertionError("the mock exited three times before accepting a connection")


def test_twenty_restarts_each_first_answer_is_right() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: _first_answer(), range(20)))
    assert answers == [(200, "application/json")] * 20
