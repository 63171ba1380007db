"""The shipped Mistral collections and environments: they run offline with --mock, validate,
keep Mistral's examples verbatim, and reach the real API only with a key."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer

from runner.loader import load_collection
from runner.mock import MockServer
from runner.plan import PlanInput, build_plan

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = sorted(path.name for path in (REPO / "collections").glob("*.yaml"))
MINE = ["chat.yaml", "embeddings.yaml", "errors.yaml", "models.yaml"]
SAMPLES = REPO / "tests" / "data" / "mistral"
CANARY = "canary-key-5d41402abc4b2a76"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def example_of(file: str, request: str) -> Any:
    spec = next(spec for spec in load_collection(REPO / "collections" / file).requests if spec.name == request)
    assert spec.example is not None
    return spec.example.json


@pytest.mark.parametrize("name", COLLECTIONS)
def test_each_collection_passes_against_the_mock(run_cli: Any, name: str) -> None:
    result = run_cli("run", f"collections/{name}", "--mock", "--no-color", cwd=REPO)
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.stdout


def test_all_collections_pass_against_the_mock_together(run_cli: Any) -> None:
    result = run_cli("run", "collections/", "--mock", "--no-color", "-v", cwd=REPO)
    assert result.exit_code == 0, result.output
    total = sum(len(load_collection(REPO / "collections" / name).requests) for name in COLLECTIONS)
    assert f"{total} passed, 0 failed" in result.stdout
    assert "mock: GET /v1/models -> 401 (Mistral errors: no API key is 401)" in result.stderr
    assert "mock: POST /v1/chat/completions -> 200 (Mistral chat: multi-turn: answer fed back)" in result.stderr
    assert "mock-key" not in result.output  # the collections' api_key is a secret


def test_validate_passes(run_cli: Any) -> None:
    result = run_cli("validate", "collections/", "--mock", cwd=REPO)
    assert result.exit_code == 0, result.output
    assert "nothing sent" in result.stdout


def test_without_mock_or_environment_base_url_is_undefined(run_cli: Any) -> None:
    result = run_cli("run", "collections/models.yaml", cwd=REPO)
    assert result.exit_code == 2
    assert "undefined variable 'base_url'" in result.stderr
    assert "--mock" in result.stderr and "-e" in result.stderr


@pytest.mark.parametrize("name", MINE)
def test_collection_conventions(name: str) -> None:
    text = (REPO / "collections" / name).read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schemas/collection.schema.json\n")
    data = yaml.safe_load(text)
    assert data["base_url"] == "{{ base_url }}"
    assert data["auth"] == {"bearer": "{{ api_key }}"}
    assert data["vars"]["api_key"] == "mock-key"
    assert "api_key" in data["secrets"]
    for request in data["requests"]:
        assert "example" in request, request["name"]
        schema = request["expect"]["schema"]
        assert schema.startswith("../schemas/mistral/") and (REPO / "collections" / schema).is_file()


def rendered_example(file: str, request: str, request_view: dict[str, Any]) -> Any:
    """The example as the mock answers ``request_view`` (templated examples rendered)."""
    from runner.examples import example_body, example_scope, render_example
    from runner.templating import Templates

    collection = load_collection(REPO / "collections" / file)
    spec = next(spec for spec in collection.requests if spec.name == request)
    assert spec.example is not None
    example = render_example(spec.example, Templates(environ={}), example_scope(request_view, dict(collection.vars)))
    return json.loads(example_body(example)[0])


@pytest.mark.parametrize(
    ("file", "request_name", "sample_file"),
    [
        ("chat.yaml", "single-turn chat", "chat-completion.basic.json"),
        ("chat.yaml", "multi-turn: first answer", "chat-completion.prefix.json"),
        ("chat.yaml", "multi-turn: answer fed back", "chat-completion.multi-turn.json"),
        ("chat.yaml", "temperature and max_tokens", "chat-completion.stop.json"),
        ("chat.yaml", "JSON mode", "chat-completion.json-mode.json"),
    ],
    ids=["single-turn", "prefix", "multi-turn", "stop", "json-mode"],
)
def test_examples_are_mistrals_samples_verbatim_but_the_echoed_model(file: str, request_name: str, sample_file: str) -> None:
    expected = sample(sample_file)
    assert example_of(file, request_name) == expected | {"model": "{{ request.json.model }}"}
    assert rendered_example(file, request_name, {"json": {"model": expected["model"]}}) == expected


def test_the_model_cards_are_the_current_shape() -> None:
    cards = example_of("models.yaml", "list models")["data"]
    assert {card["type"] for card in cards} == {"base", "fine-tuned"}
    assert all("capabilities" in card and "permission" not in card for card in cards)


@pytest.mark.parametrize("model_id", ["mistral-large-latest", "mistral-embed", "ft:open-mistral-7b:x"])
def test_the_retrieved_model_card_carries_the_asked_id(model_id: str) -> None:
    card = rendered_example("models.yaml", "retrieve the first model", {"path_params": {"first_model": model_id}})
    assert card["id"] == model_id and card["type"] == "base"
    assert card["capabilities"]["completion_chat"] is ("embed" not in model_id)


@pytest.mark.parametrize("texts", [["one"], ["one", "two"], "just a string"], ids=["one", "two", "string"])
def test_the_embeddings_example_has_one_vector_per_input(texts: Any) -> None:
    body = rendered_example("embeddings.yaml", "embed a batch of three texts", {"json": {"model": "mistral-embed", "input": texts}})
    count = 1 if isinstance(texts, str) else len(texts)
    assert [item["index"] for item in body["data"]] == list(range(count))
    assert {len(item["embedding"]) for item in body["data"]} == {1024}
    assert body["model"] == "mistral-embed"


@pytest.mark.parametrize(("env", "message"), [({}, "is not set"), ({"MISTRAL_API_KEY": ""}, "is empty")], ids=["unset", "empty"])
def test_mistral_environment_without_the_key_is_exit_2_and_sends_nothing(run_cli: Any, httpserver: HTTPServer, env: dict[str, str], message: str) -> None:
    httpserver.expect_request("/v1/models").respond_with_json({"object": "list", "data": []})
    result = run_cli("run", "collections/", "-e", "environments/mistral.yaml", "--var", f"base_url={httpserver.url_for('')}", cwd=REPO, env=env)
    assert result.exit_code == 2
    assert f"environment variable MISTRAL_API_KEY {message}" in result.stderr
    assert "export MISTRAL_API_KEY=" in result.stderr
    assert "Traceback" not in result.output
    assert httpserver.log == []


def test_mistral_environment_sends_the_key_as_bearer_and_masks_it(run_cli: Any, httpserver: HTTPServer) -> None:
    listing = example_of("models.yaml", "list models")
    httpserver.expect_request("/v1/models", method="GET", headers={"Authorization": f"Bearer {CANARY}"}).respond_with_json(listing)
    result = run_cli(
        "run", "collections/models.yaml", "-k", "list", "-e", "environments/mistral.yaml", "--var", f"base_url={httpserver.url_for('')}", "-v", "--no-color",
        cwd=REPO, env={"MISTRAL_API_KEY": CANARY},
    )
    assert result.exit_code == 0, result.output
    assert len(httpserver.log) == 1
    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {CANARY}"
    assert "Bearer ****" in result.stdout
    assert CANARY not in result.output


def test_mistral_environment_runs_every_collection_against_the_mock(run_cli: Any) -> None:
    # With -e and --mock the mock demands the key the environment renders to.
    result = run_cli("run", "collections/", "-e", "environments/mistral.yaml", "--mock", "--no-color", cwd=REPO, env={"MISTRAL_API_KEY": CANARY})
    assert result.exit_code == 0, result.output
    assert CANARY not in result.output


def test_an_openai_compatible_server_is_reached_by_environment(run_cli: Any, monkeypatch: pytest.MonkeyPatch, project: Path) -> None:
    # The example environment, with this test's mock as the "server": other model names, another key.
    shutil.copytree(REPO / "schemas", project / "schemas", symlinks=False)
    for name in ("chat.yaml", "embeddings.yaml"):
        (project / "collections").mkdir(exist_ok=True)
        shutil.copy(REPO / "collections" / name, project / "collections" / name)
    environment = yaml.safe_load((REPO / "environments" / "openai-compatible.example.yaml").read_text(encoding="utf-8"))
    assert environment["api_key"] == "{{ env.OPENAI_API_KEY }}" and environment["secrets"] == ["api_key"]
    monkeypatch.setenv("OPENAI_API_KEY", "server-key")
    monkeypatch.chdir(project)
    server = MockServer()
    url = server.start()
    try:
        plan = build_plan(PlanInput(["collections"], cli_vars=["api_key=server-key"], mock_url=url))
        server.serve_collections(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs})
        shutil.copy(REPO / "environments" / "openai-compatible.example.yaml", project / "server.yaml")
        result = run_cli("run", "collections/", "-e", "server.yaml", "--var", f"base_url={url}", "--no-color", "-v")
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    assert '"model": "my-chat-model"' in result.stdout  # the environment's model was sent
    assert "server-key" not in result.output


def test_a_drifted_example_fails_validate_naming_file_and_line(run_cli: Any, project: Path) -> None:
    shutil.copytree(REPO / "schemas", project / "schemas")
    (project / "collections").mkdir()
    original = (REPO / "collections" / "chat.yaml").read_text(encoding="utf-8")
    drifted = original.replace('"finish_reason": "stop"', '"finish_reason": "content_filter"', 1)
    assert drifted != original
    (project / "collections" / "chat.yaml").write_text(drifted, encoding="utf-8")
    predicate_line = next(n for n, line in enumerate(drifted.splitlines(), 1) if '"$.choices[0].finish_reason": {in: [stop, length]}' in line)

    result = run_cli("validate", "collections/", "--mock", cwd=project)

    assert result.exit_code == 2
    assert f"--> collections/chat.yaml:{predicate_line}:" in result.stderr
    assert "request 'single-turn chat': the example fails json $.choices[0].finish_reason" in result.stderr
    assert "the example fails schema ../schemas/mistral/chat-completion.json at /choices/0/finish_reason (enum)" in result.stderr
    assert "Traceback" not in result.output
