"""``runner import openapi``: the collections validate, and run green against ``runner run --mock``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent.parent / "data" / "interop"
SECRET = "sk-live-0123456789abcdefghijklmnop"


def _env_for(folder: Path) -> dict[str, str]:
    """Every environment variable the written collections read, set to a long dummy value."""
    names = set()
    for path in folder.glob("*.yaml"):
        names |= set(re.findall(r"\{\{ env\.(\w+) \}\}", path.read_text()))
    return {name: f"dummy-{name.lower()}-value" for name in names}


def test_the_mistral_spec_imports_validates_and_passes_against_the_mock(run_cli: Any, project: Path) -> None:
    shutil.copyfile(DATA / "mistral-openapi.yaml", project / "openapi.yaml")
    imported = run_cli("import", "openapi", "openapi.yaml", "-o", "mistral", cwd=project)
    assert imported.exit_code == 0, imported.output
    assert "export MISTRAL_API_KEY=..." in imported.stderr
    out = project / "mistral"
    assert (out / "chat.yaml").exists() and (out / "models.yaml").exists()
    models = (out / "models.yaml").read_text()
    assert "url: /v1/models/{{ model_id }}" in models
    assert "schema: ../openapi.yaml#/paths/~1v1~1models/get/responses/200/content/application~1json/schema" in models
    assert "bearer: '{{ api_key }}'" in models and "api_key: '{{ env.MISTRAL_API_KEY }}'" in models
    env = _env_for(out)
    assert run_cli("validate", "mistral", env=env).exit_code == 0
    ran = run_cli("run", "mistral", "--mock", "-q", env=env)
    assert ran.exit_code == 0, ran.output[-3000:]
    assert re.search(r"\b28\d passed, 0 failed", ran.stdout)


def _spec() -> dict[str, Any]:
    """A small OpenAPI 3.0 document exercising what the importer maps."""
    pet = {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer", "minimum": 1}, "name": {"type": "string"}, "tag": {"type": "string"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1"},
        "servers": [{"url": "https://{region}.pets.example.com/v2", "variables": {"region": {"default": "eu"}}}],
        "security": [{"key": []}],
        "tags": [{"name": "pets", "description": "Everything about pets"}],
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}, "login": {"type": "http", "scheme": "basic"}},
            "schemas": {"Pet": pet, "NewPet": {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"type": "object", "properties": {"secret": {"type": "string"}}}]}},
            "parameters": {"petId": {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer", "example": 7}}},
        },
        "paths": {
            "/pets": {
                "get": {
                    "tags": ["pets"], "summary": "List pets", "operationId": "listPets",
                    "parameters": [{"name": "limit", "in": "query", "required": True, "schema": {"type": "integer", "default": 10}}, {"name": "q", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}, "example": [{"id": 1, "name": "Rex"}]}}}},
                },
                "post": {
                    "tags": ["pets", "write"], "summary": "Create a pet",
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}, "example": {"id": 3, "name": "Tom", "secret": SECRET}}}},
                    "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}, "example": {"id": "not-a-number"}}}}},
                },
            },
            "/pets/{petId}": {
                "parameters": [{"$ref": "#/components/parameters/petId"}],
                "get": {"tags": ["pets"], "summary": "Get a pet", "security": [{"login": []}], "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}, "404": {"description": "no"}}},
                "delete": {"summary": "Delete a pet", "security": [], "responses": {"204": {"description": "gone"}}},
            },
            "/health": {"get": {"tags": ["ops"], "summary": "Health", "responses": {"200": {"description": "ok", "content": {"text/plain": {"example": "ok"}}}}}},
        },
    }


def test_a_small_spec_maps_parameters_bodies_security_and_examples(run_cli: Any, project: Path) -> None:
    (project / "pets.json").write_text(json.dumps(_spec()))
    imported = run_cli("import", "openapi", "pets.json", "-o", "out", cwd=project)
    assert imported.exit_code == 0, imported.output
    pets = (project / "out" / "pets.yaml").read_text()
    assert SECRET not in pets and SECRET not in imported.output
    assert "base_url: https://eu.pets.example.com/v2" in pets
    assert "url: /pets/{{ pet_id }}" in pets and "pet_id: 7" in pets
    assert "limit: 10" in pets and "q:" not in pets  # required query parameters only (and those with examples)
    assert "api_key:\n    header: X-Api-Key\n    value: '{{ key }}'" in pets  # the spec's default security, on the collection
    assert "username: '{{ login_username }}'" in pets  # an operation's own security
    assert "secret: '{{ api_key }}'" in pets  # a token-shaped literal in an example body
    assert "status: 201" in pets and "does not match its schema; a generated minimal one is used" in pets
    assert "tags:\n    - write" in pets
    ops = (project / "out" / "ops.yaml").read_text()
    assert "content-type: text/plain" in ops and "body: ok" in ops
    default = (project / "out" / "default.yaml").read_text()
    assert "status: 204" in default and "auth: none" in default  # security: [] sends nothing
    env = _env_for(project / "out")
    assert run_cli("validate", "out", env=env).exit_code == 0
    ran = run_cli("run", "out", "--mock", env=env)
    assert ran.exit_code == 0, ran.output


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"swagger": "2.0", "paths": {}}', "is a Swagger 2.0 document; runner imports OpenAPI 3.0 and 3.1 only"),
        ('{"openapi": "2.5", "paths": {}}', "is not an OpenAPI 3.0 or 3.1 document ('openapi: 2.5')"),
        ('{"info": {}}', "is not an OpenAPI 3.0 or 3.1 document (no 'openapi' key)"),
        ("[1, 2]", "is not an OpenAPI document"),
        ('{"openapi": "3.1.0", "paths": {"/a": ', "is not valid JSON"),
        ("openapi: 3.1.0\npaths:\n  /a: [\n", "is not valid YAML"),
        ('{"openapi": "3.1.0", "paths": {}}', "has no operations"),
    ],
    ids=["swagger-2", "old-version", "no-openapi-key", "not-a-mapping", "broken-json", "broken-yaml", "no-operations"],
)
def test_a_document_that_is_not_openapi_3_is_refused_with_exit_2(text: str, message: str, run_cli: Any, project: Path) -> None:
    suffix = ".yaml" if "paths:\n" in text else ".json"
    (project / f"spec{suffix}").write_text(text)
    result = run_cli("import", "openapi", f"spec{suffix}", "-o", "out", cwd=project)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert not any((project / "out").glob("*.yaml"))


def test_an_existing_output_folder_is_refused_without_force(run_cli: Any, project: Path) -> None:
    (project / "pets.json").write_text(json.dumps(_spec()))
    (project / "out").mkdir()
    (project / "out" / "mine.yaml").write_text("keep")
    refused = run_cli("import", "openapi", "pets.json", "-o", "out", cwd=project)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert sorted(p.name for p in (project / "out").iterdir()) == ["mine.yaml"]
    assert run_cli("import", "openapi", "pets.json", "-o", "out", "--force").exit_code == 0
    assert (project / "out" / "pets.yaml").exists() and (project / "out" / "mine.yaml").read_text() == "keep"


def test_the_imported_collections_pass_against_runner_mock_of_the_same_spec(run_cli: Any, project: Path) -> None:
    """The mock answers from the spec itself (no examples of ours): the checks the import wrote hold."""
    from runner.mock.serve import MockSettings, load_and_serve
    from runner.mock.server import MockServer

    shutil.copyfile(DATA / "mistral-openapi.yaml", project / "openapi.yaml")
    assert run_cli("import", "openapi", "openapi.yaml", "-o", "mistral", cwd=project).exit_code == 0
    server = MockServer("127.0.0.1", 0)
    url = server.start()
    try:
        load_and_serve(server, MockSettings([str(project / "openapi.yaml")], port=0), url)
        # every operation but POST /v1/audio/speech, which the spec breaks (a dangling $ref: the mock says so at start)
        files = sorted(str(path.relative_to(project)) for path in (project / "mistral").glob("*.yaml") if path.name != "audio.speech.yaml")
        assert len(files) > 40
        ran = run_cli("run", *files, "--var", f"base_url={url}", "-q", env=_env_for(project / "mistral"))
    finally:
        server.stop()
    assert ran.exit_code == 0, ran.output[-3000:]
    passed = re.search(r"\b(\d+) passed, 0 failed", ran.stdout)
    assert passed and int(passed.group(1)) >= 280, ran.stdout[-2000:]


def test_a_request_body_example_that_contradicts_its_schema_is_replaced(run_cli: Any, project: Path) -> None:
    spec = _spec()
    spec["paths"]["/pets"]["post"]["requestBody"]["content"]["application/json"]["example"] = {"id": "seven"}
    (project / "pets.json").write_text(json.dumps(spec))
    assert run_cli("import", "openapi", "pets.json", "-o", "out", cwd=project).exit_code == 0
    pets = (project / "out" / "pets.yaml").read_text()
    assert "the spec's example request body does not match its schema" in pets and "id: seven" not in pets
    assert "json:\n      id: 1\n      name: string" in pets
