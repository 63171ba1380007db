"""Tests for the Mistral API response schemas in ``schemas/mistral/``.

The schemas have no ``$id`` and refer to each other with relative ``$ref``s
(``"usage.json"``, ``"chat-completion.json#/$defs/FunctionCall"``).  They are
resolved here the way a loader that knows each file's ``file://`` URI would:
a ``referencing.Registry`` whose retrieve function loads files from
``schemas/mistral/``, and a validator for ``{"$ref": <file URI>}`` so that every
relative reference is resolved against the URI of the file that contains it.

The sample payloads in ``tests/data/mistral/`` are copies of Mistral's own
examples (see ``tests/data/mistral/README.md``).
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = (ROOT / "schemas" / "mistral").resolve()
DATA_DIR = ROOT / "tests" / "data" / "mistral"

SCHEMA_FILES = sorted(p.name for p in SCHEMA_DIR.glob("*.json"))


# --------------------------------------------------------------------------
# Schema loading
# --------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _retrieve(uri: str) -> Resource:
    """Load a schema file from schemas/mistral/ given its file:// URI."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise NoSuchResource(ref=uri)
    path = Path(url2pathname(parts.path)).resolve()
    if path.parent != SCHEMA_DIR or not path.is_file():
        raise NoSuchResource(ref=uri)
    contents = json.loads(path.read_text(encoding="utf-8"))
    return Resource.from_contents(contents, default_specification=DRAFT202012)


REGISTRY: Registry = Registry(retrieve=_retrieve)


def schema_uri(name: str) -> str:
    return (SCHEMA_DIR / name).as_uri()


def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def validator(name: str) -> Draft202012Validator:
    """A validator for schemas/mistral/<name>, with relative refs resolved."""
    return Draft202012Validator({"$ref": schema_uri(name)}, registry=REGISTRY)


def errors(name: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator(name).iter_errors(instance)
    ]


def assert_valid(name: str, instance: Any) -> None:
    err = best_match(validator(name).iter_errors(instance))
    assert err is None, (
        f"{name} rejected the instance at "
        f"/{'/'.join(map(str, err.absolute_path))}: {err.message}"
    )


def assert_invalid(name: str, instance: Any) -> None:
    assert not validator(name).is_valid(instance), f"{name} accepted {instance!r}"


# --------------------------------------------------------------------------
# Sample loading
# --------------------------------------------------------------------------


def load_sample(name: str) -> Any:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def sse_data_lines(name: str) -> list[str]:
    """The payload of every ``data:`` line of an SSE file, in order."""
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return [
        line[len("data:"):].strip()
        for line in text.splitlines()
        if line.startswith("data:")
    ]


def sse_chunks(name: str) -> list[Any]:
    """The JSON chunks of an SSE file (the final ``[DONE]`` is not JSON)."""
    payloads = sse_data_lines(name)
    assert payloads[-1] == "[DONE]", f"{name} does not end with data: [DONE]"
    return [json.loads(p) for p in payloads[:-1]]


def concatenated_json(name: str) -> list[Any]:
    """Split a file of JSON objects printed one after another."""
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    objects, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return objects
        obj, pos = decoder.raw_decode(text, pos)
        objects.append(obj)


# Each complete-JSON sample and the schema it must satisfy.
SAMPLE_SCHEMAS: list[tuple[str, str]] = [
    ("chat-completion.basic.json", "chat-completion.json"),
    ("chat-completion.guardrails.json", "chat-completion.json"),
    ("chat-completion.json-mode.json", "chat-completion.json"),
    ("chat-completion.multi-turn.json", "chat-completion.json"),
    ("chat-completion.prefix.json", "chat-completion.json"),
    ("chat-completion.safe-prompt.json", "chat-completion.json"),
    ("chat-completion.stop.json", "chat-completion.json"),
    ("chat-completion.tool-calls.json", "chat-completion.json"),
    ("embeddings.docs-output.ellipsis-removed.json", "embeddings.json"),
    ("embeddings.spec-example.json", "embeddings.json"),
    ("models-list.legacy-sdk-fixture.json", "model-list.json"),
    ("model-retrieve.spec-example.json", "model.json"),
    ("error.docs-format.json", "error-401.json"),
    ("error.docs-format.json", "error-429.json"),
    ("error.docs-format.json", "error.json"),
    ("error.guardrail-block-on-error.json", "error.json"),
    ("error-403.guardrail-blocked.json", "error-403.json"),
    ("error.docs-format.json", "error-403.json"),
]

# Complete-JSON samples that are checked separately or not at all, with why.
OTHER_JSON_SAMPLES = {
    # A bare array, not the ModelList envelope (spec defect 5): see
    # test_models_list_spec_example_items_are_model_cards.
    "models-list.spec-example.json",
}

SSE_FILES = {
    # file name -> number of JSON chunks before data: [DONE]
    "chat-completion-stream.sse.txt": 3,
    "chat-completion-stream.tool-calls.sse.txt": 6,
}
DOCS_CHUNKS_FILE = "chat-completion-stream.docs-chunks.txt"


# --------------------------------------------------------------------------
# The schema files themselves
# --------------------------------------------------------------------------


def test_expected_schema_files_exist() -> None:
    expected = {
        "chat-completion.json",
        "chat-completion-chunk.json",
        "embeddings.json",
        "error.json",
        "error-401.json",
        "error-403.json",
        "error-422.json",
        "error-429.json",
        "model.json",
        "model-list.json",
        "usage.json",
    }
    assert expected <= set(SCHEMA_FILES)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("title") and schema.get("description")
    assert "$id" not in schema, "schemas are resolved relative to their file URI"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_ref_is_relative_and_resolves(name: str) -> None:
    resolver = REGISTRY.resolver(base_uri=schema_uri(name))
    for ref in _refs(load_schema(name)):
        assert not urlsplit(ref).scheme, f"{ref!r} should be a relative reference"
        resolver.lookup(ref)  # raises if it does not resolve


def test_error_403_rejects_a_broken_guardrail_body() -> None:
    blocked = load_sample("error-403.guardrail-blocked.json")
    assert_invalid("error-403.json", {**blocked, "error": {"status": 403}})  # no message
    assert_invalid("error-403.json", {**blocked, "error": {"message": "blocked", "status": "403"}})  # status is a number
    decisions = blocked["guardrails"]["results"]["moderation_llm_v2"]["decisions"]
    broken = json.loads(json.dumps(blocked).replace('"violated": true', '"violated": "yes"', 1))
    assert decisions and broken != blocked
    assert_invalid("error-403.json", broken)  # a decision's violated is a boolean


def test_error_401_and_429_require_a_string_message() -> None:
    for name in ("error-401.json", "error-429.json"):
        assert_invalid(name, {"request_id": "abc"})
        assert_invalid(name, {"message": {"detail": []}})


# --------------------------------------------------------------------------
# Samples that must validate
# --------------------------------------------------------------------------


def test_every_json_sample_is_covered() -> None:
    on_disk = {p.name for p in DATA_DIR.glob("*.json")}
    covered = {sample for sample, _ in SAMPLE_SCHEMAS} | OTHER_JSON_SAMPLES
    assert on_disk == covered


@pytest.mark.parametrize(
    ("sample", "schema"),
    SAMPLE_SCHEMAS,
    ids=[f"{sample}->{schema}" for sample, schema in SAMPLE_SCHEMAS],
)
def test_sample_validates(sample: str, schema: str) -> None:
    assert_valid(schema, load_sample(sample))


def test_models_list_spec_example_items_are_model_cards() -> None:
    # The spec's GET /v1/models example is a bare array of cards, not the
    # {object: "list", data: [...]} envelope of ModelList (spec defect 5), so
    # the envelope schema rejects it and only its items are checked, one by
    # one, against model.json.  Its cards use "TYPE" instead of "type".
    example = load_sample("models-list.spec-example.json")
    assert isinstance(example, list) and example
    assert_invalid("model-list.json", example)
    for card in example:
        assert "TYPE" in card and "type" not in card
        assert_valid("model.json", card)


SSE_CASES = [
    (name, index) for name, count in SSE_FILES.items() for index in range(count)
]


@pytest.mark.parametrize("name", sorted(SSE_FILES))
def test_sse_file_shape(name: str) -> None:
    assert len(sse_chunks(name)) == SSE_FILES[name]


@pytest.mark.parametrize(
    ("name", "index"),
    SSE_CASES,
    ids=[f"{name}#{index}" for name, index in SSE_CASES],
)
def test_sse_chunk_validates(name: str, index: int) -> None:
    assert_valid("chat-completion-chunk.json", sse_chunks(name)[index])


def test_docs_chunks_shape() -> None:
    chunks = concatenated_json(DOCS_CHUNKS_FILE)
    assert len(chunks) == 5
    # Spec defect 3: every chunk but the last has "usage": null.
    assert [c["usage"] is None for c in chunks] == [True] * 4 + [False]


@pytest.mark.parametrize("index", range(5), ids=[f"docs-chunk#{i}" for i in range(5)])
def test_docs_chunk_validates(index: int) -> None:
    assert_valid("chat-completion-chunk.json", concatenated_json(DOCS_CHUNKS_FILE)[index])


# --------------------------------------------------------------------------
# Broken and edge-case variants
# --------------------------------------------------------------------------

DELETE = object()


def variant(base: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of base with the value at path replaced (or deleted)."""
    doc = copy.deepcopy(base)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


CHAT = "chat-completion.basic.json"
CHAT_TOOLS = "chat-completion.tool-calls.json"
EMB = "embeddings.docs-output.ellipsis-removed.json"
MODELS = "models-list.legacy-sdk-fixture.json"
CARD = "model-retrieve.spec-example.json"
TOOL_SSE = "chat-completion-stream.tool-calls.sse.txt"

CURRENT_BASE_CARD = {
    "id": "mistral-small-latest",
    "object": "model",
    "created": 1756746619,
    "owned_by": "mistralai",
    "capabilities": {"completion_chat": True, "function_calling": True},
    "name": "mistral-small-2506",
    "description": None,
    "max_context_length": 131072,
    "aliases": ["mistral-small-2506"],
    "deprecation": None,
    "deprecation_replacement_model": None,
    "default_model_temperature": 0.3,
    "type": "base",
}

VALIDATION_DETAIL = [
    {
        "type": "missing",
        "loc": ["body", "messages", 0, "content"],
        "msg": "Field required",
        "input": {"role": "user"},
        "ctx": {},
    }
]


def _last_docs_chunk() -> Any:
    return concatenated_json(DOCS_CHUNKS_FILE)[-1]


def _tool_chunk() -> Any:
    return sse_chunks(TOOL_SSE)[2]  # delta.tool_calls with id but no type


# (id, schema, base document, path, new value or DELETE)
REJECTED = [
    ("chat-missing-choices", "chat-completion.json", CHAT, ("choices",), DELETE),
    ("chat-missing-id", "chat-completion.json", CHAT, ("id",), DELETE),
    ("chat-missing-usage", "chat-completion.json", CHAT, ("usage",), DELETE),
    ("chat-usage-total-string", "chat-completion.json", CHAT, ("usage", "total_tokens"), "279"),
    ("chat-usage-tokens-float", "chat-completion.json", CHAT, ("usage", "prompt_tokens"), 1.5),
    ("chat-usage-missing-total", "chat-completion.json", CHAT, ("usage", "total_tokens"), DELETE),
    ("chat-finish-reason-banana", "chat-completion.json", CHAT, ("choices", 0, "finish_reason"), "banana"),
    ("chat-finish-reason-null", "chat-completion.json", CHAT, ("choices", 0, "finish_reason"), None),
    ("chat-object-constant", "chat-completion.json", CHAT, ("object",), "chat.completion.chunk"),
    ("chat-created-string", "chat-completion.json", CHAT, ("created",), "1764257531"),
    ("chat-role-user", "chat-completion.json", CHAT, ("choices", 0, "message", "role"), "user"),
    ("chat-missing-message", "chat-completion.json", CHAT, ("choices", 0, "message"), DELETE),
    ("chat-content-number", "chat-completion.json", CHAT, ("choices", 0, "message", "content"), 42),
    ("chat-content-chunk-no-text", "chat-completion.json", CHAT, ("choices", 0, "message", "content"), [{"type": "text"}]),
    ("chat-tool-calls-object", "chat-completion.json", CHAT, ("choices", 0, "message", "tool_calls"), {}),
    ("chat-tool-call-no-function", "chat-completion.json", CHAT_TOOLS, ("choices", 0, "message", "tool_calls", 0, "function"), DELETE),
    ("chat-tool-call-no-id", "chat-completion.json", CHAT_TOOLS, ("choices", 0, "message", "tool_calls", 0, "id"), DELETE),
    ("chat-tool-call-bad-type", "chat-completion.json", CHAT_TOOLS, ("choices", 0, "message", "tool_calls", 0, "type"), "retrieval"),
    ("chunk-finish-reason-banana", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("choices", 0, "finish_reason"), "banana"),
    # model_length is only in the non-streaming enum (spec defect 6).
    ("chunk-finish-reason-model-length", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("choices", 0, "finish_reason"), "model_length"),
    ("chunk-object-constant", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("object",), "chat.completion"),
    ("chunk-missing-choices", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("choices",), DELETE),
    ("chunk-missing-delta", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("choices", 0, "delta"), DELETE),
    ("chunk-missing-finish-reason", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("choices", 0, "finish_reason"), DELETE),
    ("chunk-usage-total-string", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("usage", "total_tokens"), "26"),
    ("chunk-usage-string", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("usage",), "none"),
    ("chunk-content-number", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("choices", 0, "delta", "content"), 7),
    ("chunk-tool-call-arguments-number", "chat-completion-chunk.json", "TOOL_CHUNK", ("choices", 0, "delta", "tool_calls", 0, "function", "arguments"), 7),
    ("chunk-tool-call-no-function", "chat-completion-chunk.json", "TOOL_CHUNK", ("choices", 0, "delta", "tool_calls", 0, "function"), DELETE),
    ("embeddings-object-constant", "embeddings.json", EMB, ("object",), "embedding"),
    ("embeddings-missing-data", "embeddings.json", EMB, ("data",), DELETE),
    ("embeddings-vector-strings", "embeddings.json", EMB, ("data", 0, "embedding"), ["0.1", "0.2"]),
    ("embeddings-item-object-constant", "embeddings.json", EMB, ("data", 0, "object"), "list"),
    ("embeddings-usage-total-string", "embeddings.json", EMB, ("usage", "total_tokens"), "15"),
    ("model-list-object-constant", "model-list.json", MODELS, ("object",), "model"),
    ("model-list-missing-data", "model-list.json", MODELS, ("data",), DELETE),
    ("model-list-card-missing-id", "model-list.json", MODELS, ("data", 0, "id"), DELETE),
    ("model-type-banana", "model.json", CARD, ("type",), "banana"),
    ("model-object-constant", "model.json", CARD, ("object",), "list"),
    ("model-created-string", "model.json", CARD, ("created",), "yesterday"),
    ("model-capability-not-bool", "model.json", CARD, ("capabilities", "vision"), "yes"),
    ("model-no-capabilities-no-permission", "model.json", CARD, ("capabilities",), DELETE),
    # The spec example spells the discriminator "TYPE"; FT_CARD is that card
    # with "type": "fine-tuned", which makes job and a string root required.
    ("model-fine-tuned-without-job", "model.json", "FT_CARD", ("job",), DELETE),
    ("model-fine-tuned-without-root", "model.json", "FT_CARD", ("root",), DELETE),
    ("model-fine-tuned-root-null", "model.json", "FT_CARD", ("root",), None),
    ("error-401-missing-message", "error-401.json", "error.docs-format.json", ("message",), DELETE),
    ("error-429-missing-message", "error-429.json", "error.docs-format.json", ("message",), DELETE),
    ("error-422-detail-item-without-msg", "error-422.json", "SPEC_422", ("detail", 0, "msg"), DELETE),
    ("error-422-detail-item-without-loc", "error-422.json", "SPEC_422", ("detail", 0, "loc"), DELETE),
    ("error-422-detail-item-without-type", "error-422.json", "SPEC_422", ("detail", 0, "type"), DELETE),
    ("error-422-loc-not-array", "error-422.json", "SPEC_422", ("detail", 0, "loc"), "body.messages"),
    ("error-422-loc-item-bool", "error-422.json", "SPEC_422", ("detail", 0, "loc"), ["body", True]),
    ("error-422-missing-detail", "error-422.json", "SPEC_422", ("detail",), DELETE),
    ("error-422-wrapped-detail-item-without-msg", "error-422.json", "WRAPPED_422", ("message", "detail", 0, "msg"), DELETE),
    ("error-422-wrapped-message-string", "error-422.json", "WRAPPED_422", ("message",), "Unprocessable"),
    ("error-422-wrapped-object-constant", "error-422.json", "WRAPPED_422", ("object",), "list"),
]


def base_document(name: str) -> Any:
    if name == "LAST_DOCS_CHUNK":
        return _last_docs_chunk()
    if name == "TOOL_CHUNK":
        return _tool_chunk()
    if name == "SPEC_422":
        return {"detail": copy.deepcopy(VALIDATION_DETAIL)}
    if name == "WRAPPED_422":
        return {
            "object": "error",
            "message": {"detail": copy.deepcopy(VALIDATION_DETAIL)},
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    if name == "FT_CARD":
        return variant(load_sample(CARD), ("type",), "fine-tuned")
    return load_sample(name)


@pytest.mark.parametrize(
    ("schema", "base", "path", "value"),
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_broken_variant_is_rejected(schema: str, base: str, path: tuple, value: Any) -> None:
    document = base_document(base)
    assert_valid(schema, document)  # the unbroken base is accepted ...
    assert_invalid(schema, variant(document, path, value))  # ... the variant is not


# (id, schema, base document, path, new value or DELETE)
ACCEPTED = [
    ("chat-unknown-top-level-key", "chat-completion.json", CHAT, ("x_unknown",), {"a": 1}),
    ("chat-unknown-usage-key", "chat-completion.json", CHAT, ("usage", "x_unknown_tokens"), 3),
    ("chat-unknown-message-key", "chat-completion.json", CHAT, ("choices", 0, "message", "x_unknown"), True),
    ("chat-usage-prompt-audio-seconds-null", "chat-completion.json", CHAT, ("usage", "prompt_audio_seconds"), None),
    ("chat-usage-service-tier", "chat-completion.json", CHAT, ("usage", "service_tier"), "standard"),
    ("chat-with-data-key", "chat-completion.json", CHAT, ("data",), []),
    ("chat-content-null", "chat-completion.json", CHAT, ("choices", 0, "message", "content"), None),
    (
        "chat-content-chunks",
        "chat-completion.json",
        CHAT,
        ("choices", 0, "message", "content"),
        [
            {"type": "thinking", "thinking": [{"type": "text", "text": "Hmm."}]},
            {"type": "text", "text": "Paris."},
            {"type": "some_future_chunk", "payload": 1},
        ],
    ),
    ("chat-finish-reason-model-length", "chat-completion.json", CHAT, ("choices", 0, "finish_reason"), "model_length"),
    ("chunk-unknown-top-level-key", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("x_unknown",), "v"),
    ("chunk-unknown-usage-key", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("usage", "x_unknown_tokens"), 3),
    ("chunk-usage-absent", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("usage",), DELETE),
    ("chunk-usage-null", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("usage",), None),
    ("chunk-finish-reason-null", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("choices", 0, "finish_reason"), None),
    ("chunk-empty-delta", "chat-completion-chunk.json", "LAST_DOCS_CHUNK", ("choices", 0, "delta"), {}),
    ("chunk-tool-call-without-id", "chat-completion-chunk.json", "TOOL_CHUNK", ("choices", 0, "delta", "tool_calls", 0, "id"), DELETE),
    ("embeddings-unknown-top-level-key", "embeddings.json", EMB, ("x_unknown",), 1),
    ("embeddings-unknown-usage-key", "embeddings.json", EMB, ("usage", "x_unknown"), None),
    ("model-list-current-card", "model-list.json", MODELS, ("data", 0), CURRENT_BASE_CARD),
    ("model-unknown-key", "model.json", CARD, ("x_unknown",), 1),
    ("model-fine-tuned-type", "model.json", CARD, ("type",), "fine-tuned"),
    ("model-type-absent-root-null", "model.json", CARD, ("root",), None),
    ("model-base-card", "model.json", CURRENT_BASE_CARD, ("internal",), False),
    ("error-401-gateway-shape", "error-401.json", {"message": "Unauthorized", "request_id": "0123456789abcdef0123456789abcdef"}, ("x_unknown",), 1),
    ("error-429-gateway-shape", "error-429.json", {"message": "Requests rate limit exceeded", "request_id": "0123456789abcdef0123456789abcdef"}, ("x_unknown",), 1),
    ("error-422-spec-shape", "error-422.json", "SPEC_422", ("detail", 0, "url"), "https://errors.pydantic.dev/2.10/v/missing"),
    ("error-422-wrapped-shape", "error-422.json", "WRAPPED_422", ("x_unknown",), 1),
    ("error-422-empty-detail", "error-422.json", "SPEC_422", ("detail",), []),
]


@pytest.mark.parametrize(
    ("schema", "base", "path", "value"),
    [case[1:] for case in ACCEPTED],
    ids=[case[0] for case in ACCEPTED],
)
def test_tolerated_variant_is_accepted(schema: str, base: Any, path: tuple, value: Any) -> None:
    document = copy.deepcopy(base) if isinstance(base, dict) else base_document(base)
    assert_valid(schema, variant(document, path, value))
