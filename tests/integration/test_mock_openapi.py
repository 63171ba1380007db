"""``runner mock openapi.yaml``: Mistral's own spec (tests/data/interop/mistral-openapi.yaml) served, the official SDK parses every answer."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from runner.mock import MockServer
from runner.mock.serve import MockSettings, load_and_serve

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "tests" / "data" / "interop" / "mistral-openapi.yaml"  # shared with the importer tests
PAINTER = [{"role": "user", "content": "Who is the most renowned French painter?"}]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, list[str]]]:
    server = MockServer(log_file=io.StringIO())
    url = server.start()
    try:
        notes = load_and_serve(server, MockSettings([str(SPEC)], seed=3), url)
        yield url, notes
    finally:
        server.stop()


@pytest.fixture
def client(served: tuple[str, list[str]]) -> Any:
    try:
        from mistralai.client import Mistral
    except ImportError:  # mistralai 1.x
        from mistralai import Mistral  # type: ignore[no-redef]
    return Mistral(api_key="sk-anything", server_url=served[0], timeout_ms=10_000)


def test_the_broken_operation_and_the_broken_examples_are_named_once(served: tuple[str, list[str]]) -> None:
    _, notes = served
    assert sum("POST /v1/audio/speech is not served" in note and "#/$defs/" in note for note in notes) == 1
    unfit = [note for note in notes if "does not fit its schema" in note]
    assert len(unfit) == 1 and "GET /v1/models 200" in unfit[0] and "POST /v1/embeddings 200" in unfit[0]


def test_the_sdk_parses_every_answer(client: Any) -> None:
    listed = client.models.list()
    assert listed.data and all(card.type in ("base", "fine-tuned") for card in listed.data)
    assert client.models.retrieve(model_id="mistral-large-latest").id
    completion = client.chat.complete(model="mistral-small-latest", messages=PAINTER)
    assert completion.choices
    events = list(client.chat.stream(model="mistral-small-latest", messages=PAINTER))
    assert events and events[0].data.choices is not None
    embedded = client.embeddings.create(model="mistral-embed", inputs=["a", "b"])
    assert embedded.data and embedded.id


def test_security_and_request_validation_from_the_spec(served: tuple[str, list[str]]) -> None:
    url, _ = served
    assert httpx.get(f"{url}/v1/models").status_code == 401  # the spec's bearer scheme
    invalid = httpx.post(f"{url}/v1/embeddings", json={"model": "mistral-embed"}, headers={"Authorization": "Bearer k"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "input"]
    assert httpx.delete(f"{url}/v1/embeddings", headers={"Authorization": "Bearer k"}).status_code == 405


def test_the_same_seed_gives_the_same_answers(served: tuple[str, list[str]]) -> None:
    url, _ = served
    first = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer k"}, timeout=30).json()
    server = MockServer(log_file=io.StringIO())
    other = server.start()
    try:
        load_and_serve(server, MockSettings([str(SPEC)], seed=3), other)
        assert httpx.get(f"{other}/v1/models", headers={"Authorization": "Bearer k"}, timeout=30).json() == first
    finally:
        server.stop()


def test_the_command_serves_a_spec_and_says_so(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.json"
    spec.write_text('{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/ping": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"example": {"pong": true}}}}}}}}}')
    process = subprocess.Popen([sys.executable, "-m", "runner.cli", "mock", str(spec), "--port", "0"], stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "serving 1 examples" in line, line
        url = line.split(" on ")[1].split()[0]
        assert httpx.get(f"{url}/ping").json() == {"pong": True}
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert process.returncode == 0


SMALL_SPEC = """\
openapi: 3.1.0
info: {title: small, version: "1"}
paths:
  /things/{id}#byId:
    get:
      responses:
        "200":
          description: one thing
          content:
            application/json:
              schema:
                type: object
                required: [id, size]
                properties:
                  id: {type: string}
                  size: {type: integer, minimum: 1, exclusiveMaximum: 1e+09}
    delete:
      responses:
        "204": {description: gone}
"""


def test_a_spec_with_fragments_204s_and_yaml_12_numbers_is_served(tmp_path: Path) -> None:
    """A path's '#fragment' is not part of it; a 2xx with no content is answered empty; 1e+09 is a number."""
    spec = tmp_path / "small.yaml"
    spec.write_text(SMALL_SPEC)
    server = MockServer(log_file=io.StringIO())
    url = server.start()
    try:
        load_and_serve(server, MockSettings([str(spec)]), url)
        with httpx.Client(base_url=url, timeout=10) as http:
            got = http.get("/things/t-1")
            gone = http.delete("/things/t-1")
    finally:
        server.stop()
    assert got.status_code == 200, got.text
    assert 1 <= got.json()["size"] < 1_000_000_000
    assert gone.status_code == 204 and gone.content == b""
