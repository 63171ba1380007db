"""The mock's cache of validation verdicts: bounded, least recently used first out, right under threads."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from runner.mock.validation import VerdictCache, check_request_body
from runner.model import SchemaRef
from runner.schemas import SchemaStore


class CountingStore:
    """A schema store that counts the validations it is asked for (and offers no schema to jsonschema-rs)."""

    def __init__(self) -> None:
        self.calls = 0
        self._validator = Draft202012Validator({"type": "object", "required": ["model"]})

    def standalone(self, ref: Any) -> None:
        return None

    def validator(self, ref: Any) -> Any:
        self.calls += 1
        return self._validator


REF = SchemaRef(None, "", {"type": "object"}, ".")


def test_a_verdict_is_remembered_and_the_least_recently_used_goes_first() -> None:
    store, cache = CountingStore(), VerdictCache(size=2)
    bodies = {name: (f'{{"n": "{name}"}}'.encode(), {"n": name}) for name in "abc"}
    for name in "aba":  # a, b validated; a again from the cache, and now the most recent
        assert cache.check(store, REF, 1, *bodies[name])[0]["type"] == "missing"
    assert store.calls == 2
    cache.check(store, REF, 1, *bodies["c"])  # evicts b, not a
    cache.check(store, REF, 1, *bodies["a"])
    assert store.calls == 3
    cache.check(store, REF, 1, *bodies["b"])
    assert store.calls == 4
    assert cache.check(store, REF, 2, *bodies["a"]) and store.calls == 5  # another route: its own verdict


def test_threads_sharing_the_cache_get_the_right_verdicts() -> None:
    store, cache = CountingStore(), VerdictCache(size=8)
    wrong: list[Any] = []

    def client(index: int) -> None:
        for round_ in range(300):
            n = (index * 7 + round_) % 20
            raw = b'{"model": "m"}' if n % 2 else b'{"n": %d}' % n
            body = {"model": "m"} if n % 2 else {"n": n}
            verdict = cache.check(store, REF, 1, raw, body)
            if bool(verdict) != (n % 2 == 0):
                wrong.append((n, verdict))

    threads = [threading.Thread(target=client, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not wrong
    assert not any(thread.is_alive() for thread in threads)


REPO = Path(__file__).resolve().parents[2]
CHAT = SchemaRef("schemas/mistral/chat-completion-request.json", "", None, str(REPO))
EMBEDDINGS = SchemaRef("schemas/mistral/embeddings-request.json", "", None, str(REPO))
USER = {"role": "user", "content": "hi"}


@pytest.mark.parametrize(
    ("ref", "body"),
    [
        (CHAT, {"model": "m", "messages": [USER]}),
        (CHAT, {"model": "m", "messages": [USER], "stream": False, "temperature": 0.3, "max_tokens": 64, "stream_options": {"x": 1}}),
        (CHAT, {"model": "m", "messages": [{"role": "system", "content": "s"}, USER, {"role": "assistant", "content": "a"}, {"role": "tool", "content": "t", "tool_call_id": "c"}]}),
        (CHAT, {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}),
        (CHAT, {"model": "m", "messages": [USER], "response_format": {"type": "json_object"}, "random_seed": 1.0}),
        (CHAT, {"model": "m", "messages": []}),
        (CHAT, {"messages": [USER]}),
        (CHAT, {"model": 3, "messages": [USER]}),
        (CHAT, {"model": "m", "messages": [{"role": "bogus", "content": "x"}]}),
        (CHAT, {"model": "m", "messages": [{"content": "no role"}]}),
        (CHAT, {"model": "m", "messages": [USER], "temperature": 9}),
        (CHAT, {"model": "m", "messages": [USER], "temperature": float("nan")}),
        (CHAT, {"model": "m", "messages": [USER], "max_tokens": 10**30}),
        (CHAT, {"model": "m", "messages": [USER], "max_tokens": True}),
        (CHAT, {"model": "m", "messages": [USER], "stream": "yes"}),
        (CHAT, ["not", "an", "object"]),
        (EMBEDDINGS, {"model": "mistral-embed", "input": ["a", "b"]}),
        (EMBEDDINGS, {"model": "mistral-embed", "input": "a"}),
        (EMBEDDINGS, {"model": "mistral-embed"}),
        (EMBEDDINGS, {"model": "mistral-embed", "input": [1, 2]}),
    ],
    ids=[
        "chat", "chat-options", "every-role", "content-parts", "seed-as-float", "no-messages", "no-model", "model-not-text", "unknown-role",
        "message-without-role", "temperature-too-high", "temperature-nan", "huge-integer", "bool-is-not-integer", "stream-not-bool", "not-an-object",
        "embeddings", "embeddings-one-text", "embeddings-no-input", "embeddings-numbers",
    ],
)
def test_the_verdict_is_jsonschemas(ref: SchemaRef, body: Any, spec_refs: tuple[SchemaStore, dict[str, SchemaRef]]) -> None:
    """jsonschema-rs answers first where it can; the verdict and the errors are always what jsonschema says.

    Once with the shipped schema file, once with the same operation's schema in Mistral's OpenAPI spec
    (a pointer into a document of a megabyte)."""
    raw = json.dumps(body).encode()
    spec_store, by_path = spec_refs
    for store, schema in ((SchemaStore(), ref), (spec_store, by_path["/v1/chat/completions" if ref is CHAT else "/v1/embeddings"])):
        cache = VerdictCache()
        assert cache.check(store, schema, 1, raw, body) == check_request_body(store, schema, body)
        assert cache._fast[schema.key] is not None  # every $ref points inside its document: the fast path is on


@pytest.fixture(scope="module")
def spec_refs() -> tuple[SchemaStore, dict[str, SchemaRef]]:
    """The request schemas of Mistral's OpenAPI spec for chat and embeddings, as ``runner mock SPEC`` reads them."""
    from runner.mock.openapi import openapi_routes

    store = SchemaStore()
    routes, _ = openapi_routes(str(REPO / "tests/data/interop/mistral-openapi.yaml"), 0, store)
    found = {route.label.split(" ", 1)[1]: route.request_schema for route in routes if route.method == "POST" and route.request_schema is not None}
    return store, {path: found[path] for path in ("/v1/chat/completions", "/v1/embeddings")}


def test_a_schema_that_needs_another_document_is_left_to_jsonschema(tmp_path: Path) -> None:
    (tmp_path / "item.json").write_text('{"type": "object", "required": ["n"]}')
    (tmp_path / "list.json").write_text('{"type": "array", "items": {"$ref": "item.json"}}')
    (tmp_path / ".git").mkdir()
    store, ref, cache = SchemaStore(), SchemaRef("list.json", "", None, str(tmp_path)), VerdictCache()
    assert cache.check(store, ref, 1, b'[{"n": 1}]', [{"n": 1}]) == []
    assert cache.check(store, ref, 1, b"[{}]", [{}])[0]["type"] == "missing"
    assert cache._fast[ref.key] is None


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        ({"properties": {"name": {"type": "string", "pattern": r"^[^,\s]+$"}}}, {"name": "a\x1fb"}),  # \x1f is \s in Python only
        ({"properties": {"name": {"type": "string", "pattern": r"^\S+$"}}}, {"name": "a\x1cb"}),
        ({"properties": {"w": {"type": "string", "pattern": r"^\W+$"}}}, {"w": "é"}),  # \w is ASCII in ECMA-262
        ({"properties": {"d": {"type": "string", "pattern": r"^[^\d]$"}}}, {"d": "١"}),
        ({"propertyNames": {"pattern": r"^\S+$"}}, {"a\x1f": 1}),
        ({"patternProperties": {r"^\S+$": {"type": "integer"}}, "additionalProperties": False}, {"a\x1f": 1}),
        ({"properties": {"t": {"type": "number", "multipleOf": 0.1}}}, {"t": 0.3}),  # float division in jsonschema
        ({"properties": {"t": {"$ref": "#/$defs/t"}}, "$defs": {"t": {"multipleOf": 0.01}}}, {"t": 19.99}),
        ({"properties": {"t": {"$ref": "#/$defs/t"}}, "$defs": {"t": {"pattern": r"^\S+$"}}}, {"t": "a\x1f"}),
    ],
    ids=["negated-s-class", "S", "W", "negated-d-class", "property-names", "pattern-properties", "multiple-of", "multiple-of-behind-ref", "pattern-behind-ref"],
)
def test_jsonschema_rs_never_lets_through_what_jsonschema_refuses(schema: dict[str, Any], body: Any, tmp_path: Path) -> None:
    """Where the two read a schema differently (regex dialects, float multipleOf), the 422 stays jsonschema's."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "request.json").write_text(json.dumps(schema))
    store, ref, cache = SchemaStore(), SchemaRef("request.json", "", None, str(tmp_path)), VerdictCache()
    expected = check_request_body(store, ref, body)
    assert expected  # jsonschema refuses each body
    raw = json.dumps(body).encode()
    assert cache.check(store, ref, 1, raw, body) == expected
    assert cache.check(store, ref, 1, raw, body) == expected  # and so does the remembered verdict
    assert cache._fast[ref.key] is None


def test_a_plain_pattern_keeps_the_fast_path() -> None:
    schema = {"properties": {"id": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"}}}
    store, ref, cache = SchemaStore(), SchemaRef(None, "", schema, "."), VerdictCache()
    assert cache.check(store, ref, 1, b'{"id": "a-b"}', {"id": "a-b"}) == []
    assert cache.check(store, ref, 1, b'{"id": "a b"}', {"id": "a b"})[0]["loc"] == ["body", "id"]
    assert cache._fast[ref.key] is not None


def test_a_part_of_an_older_drafts_document_is_judged_by_that_draft(tmp_path: Path) -> None:
    """``file#/definitions/R`` of a draft-04 document: 1.0 is no integer there (it is in 2020-12)."""
    document = {"$schema": "http://json-schema.org/draft-04/schema#", "definitions": {"R": {"type": "object", "properties": {"n": {"type": "integer"}}}}}
    (tmp_path / ".git").mkdir()
    (tmp_path / "request.json").write_text(json.dumps(document))
    store, ref, cache = SchemaStore(), SchemaRef("request.json", "/definitions/R", None, str(tmp_path)), VerdictCache()
    assert cache.check(store, ref, 1, b'{"n": 1.0}', {"n": 1.0})[0]["type"] == "int_type"
    assert cache.check(store, ref, 1, b'{"n": 1}', {"n": 1}) == []
    assert cache._fast[ref.key] is not None


def test_an_inline_schema_points_into_itself(tmp_path: Path) -> None:
    """``{properties: {n: {$ref: "#/$defs/n"}}, $defs: ...}`` written inline (expect.schema, request_schema) resolves in itself."""
    schema = {"type": "object", "properties": {"n": {"$ref": "#/$defs/n"}}, "$defs": {"n": {"type": "integer"}}}
    (tmp_path / ".git").mkdir()
    store, ref = SchemaStore(), SchemaRef(None, "", schema, str(tmp_path))
    assert check_request_body(store, ref, {"n": 1}) == []
    assert check_request_body(store, ref, {"n": "x"})[0]["type"] == "int_type"
    assert [violation.message for violation in store.validate(ref, {"n": "x"})] == ["'x' is not of type 'integer'"]
