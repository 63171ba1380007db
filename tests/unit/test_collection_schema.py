"""The published collection schema: well-formed, accepts every key, rejects the usual mistakes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / name).read_text(encoding="utf-8")))


COLLECTION = _validator("collection.schema.json")
ENVIRONMENT = _validator("environment.schema.json")

# Every key of the format, at least once.
FULL: dict[str, Any] = {
    "name": "Everything",
    "description": "Exercises every key of the format.",
    "vars": {"model": "mistral-small-latest", "max_tokens": 150, "run_slow": False, "ids": [1, 2]},
    "secrets": ["api_key"],
    "base_url": "{{ base_url }}",
    "auth": {"bearer": "{{ api_key }}"},
    "headers": {"Accept": "application/json", "X-Version": 2, "X-Debug": True},
    "params": {"lang": "fr", "tag": ["a", "b"], "page": 1},
    "timeout": 30,
    "follow_redirects": True,
    "max_redirects": 5,
    "verify": "certs/ca.pem",
    "client_cert": {"cert": "certs/client.pem", "key": "certs/client.key"},
    "retries": {
        "count": 3,
        "backoff": 0.5,
        "max_delay": 30,
        "on": [429, "5xx", "transport"],
        "methods": ["GET", "post"],
    },
    "max_response_bytes": 10_000_000,
    "requests": [
        {
            "name": "list models",
            "description": "GET with the collection's defaults.",
            "url": "/v1/models",
            "tags": ["smoke", "models"],
            "expect": {
                "status": 200,
                "schema": "../schemas/mistral/openapi.yaml#/components/schemas/ModelList",
                "json": {
                    "$.object": "list",
                    "$.data": {"type": "array", "length": {"gt": 0}},
                    "$.data[0]": {"eq": {"object": "model"}},
                    "$.owner": {"object": "model"},  # a plain mapping: equality
                    "$.missing": {"exists": False},
                    "$.data[0].id": {"matches": "^[a-z]", "in": ["a", "b"], "ne": None},
                },
                "headers": {"content-type": {"contains": "application/json"}},
            },
            "capture": {
                "first_model": "$.data[0].id",
                "model_json": {"json": "$.data[1].id"},
                "request_id": {"header": "x-request-id", "secret": False},
                "token": {"regex": "token=(\\w+)", "secret": True},
                "code": {"status": True},
            },
        },
        {
            "name": "chat completion",
            "method": "POST",
            "url": "https://api.example.com/v1/chat/completions",
            "params": {"debug": "{{ debug }}"},
            "headers": {"X-Version": "3"},
            "auth": {"basic": {"username": "me", "password": "{{ password }}"}},
            "json": {"model": "{{ model }}", "max_tokens": "{{ max_tokens }}", "messages": []},
            "timeout": "{{ slow_timeout }}",
            "follow_redirects": "{{ follow }}",
            "max_redirects": 0,
            "retries": 2,
            "max_response_bytes": "{{ limit }}",
            "stream": "auto",
            "skip": "{{ not run_slow }}",
            "expect": {
                "status": [200, 201],
                "json": {
                    "$.choices[0].message.role": "assistant",
                    "$.usage.total_tokens": {"gt": 0, "le": "{{ max_tokens * 2 }}"},
                    "$.choices": {"length": 1, "not_contains": None, "ge": 0, "lt": 10},
                },
                "body": {"not_contains": "error"},
                "max_ms": 30000,
            },
            "example": {
                "status": 200,
                "headers": {"content-type": "application/json"},
                "json": {"id": "cmpl-1", "object": "chat.completion", "choices": []},
            },
        },
        {
            "name": "chat stream",
            "method": "post",
            "url": "/v1/chat/completions",
            "auth": {"api_key": {"header": "X-API-Key", "value": "{{ api_key }}"}},
            "json": {"stream": True},
            "stream": "sse",
            "expect": {
                "status": "2xx",
                "events": {
                    "schema": {"type": "object", "required": ["id"]},
                    "done": True,
                    "count": {"ge": 2},
                    "json": {"$.choices[0].finish_reason": "stop"},
                    "text": {"contains": "cheese"},
                    "text_path": "$.choices[0].delta.content",
                    "first_ms": 2000,
                },
            },
            "capture": {
                "answer": {"text": True},
                "finish": {"event": "$.choices[0].finish_reason"},
            },
            "example": {
                "headers": {"content-type": "text/event-stream"},
                "events": [{"id": "1", "choices": []}, "raw text"],
                "done": True,
                "event_delay_ms": 10,
            },
        },
        {
            "name": "upload",
            "method": "PUT",
            "url": "/files",
            "auth": {"api_key": {"query": "key", "value": "{{ api_key }}"}},
            "multipart": {
                "purpose": "fine-tune",
                "size": 3,
                "file": {"file": "data/train.jsonl", "filename": "train.jsonl", "content_type": "application/jsonl"},
            },
            "expect": {"status": "{{ expected_status }}", "schema": "schemas/file.json"},
        },
        {
            "name": "login form",
            "method": "POST",
            "url": "/login",
            "auth": "none",
            "form": {"user": "me", "scope": ["read", "write"], "remember": True},
            "retries": {"count": "{{ n }}"},
            "expect": {"status": 302, "headers": {"Location": {"exists": True}}},
            "example": {"status": 302, "body": ""},
        },
        {
            "name": "raw body",
            "method": "PATCH",
            "url": "/raw",
            "auth": None,
            "headers": {"Content-Type": "text/plain"},
            "body": "hello",
            "skip": True,
            "stream": "none",
            "expect": {"body": "ok", "json": {"$.v": {"type": "null"}}},
        },
    ],
}


def test_schemas_are_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(COLLECTION.schema)
    Draft202012Validator.check_schema(ENVIRONMENT.schema)


def test_full_collection_is_valid() -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in COLLECTION.iter_errors(FULL)]
    assert errors == []


def test_minimal_collection_is_valid() -> None:
    assert COLLECTION.is_valid({"requests": [{"name": "ping", "url": "https://example.com"}]})


DELETE = object()


def _set(*path: str | int, to: Any) -> Callable[[dict[str, Any]], None]:
    """An edit that sets the value at `path` (a key or list index per level); `to=DELETE` removes it."""

    def edit(doc: dict[str, Any]) -> None:
        *parents, last = path
        node: Any = doc
        for key in parents:
            node = node[key]
        if to is DELETE:
            del node[last]
        else:
            node[last] = to

    return edit


INVALID = [
    pytest.param(_set("requestz", to=[]), id="unknown-top-level-key"),
    pytest.param(_set("requests", 0, "expects", to={"status": 200}), id="unknown-request-key"),
    pytest.param(_set("requests", 0, "expect", "stauts", to=200), id="misspelt-expect-key"),
    pytest.param(_set("requests", 1, "form", to={"a": "b"}), id="two-body-keys"),
    pytest.param(_set("requests", 5, "json", to={"a": 1}), id="body-and-json"),
    pytest.param(_set("auth", to={"token": "x"}), id="auth-unknown-scheme"),
    pytest.param(_set("auth", to={"bearer": "x", "basic": {"username": "a", "password": "b"}}), id="auth-two-schemes"),
    pytest.param(_set("auth", to={"none": True}), id="auth-none-as-mapping"),
    pytest.param(_set("auth", to="nothing"), id="auth-unknown-string"),
    pytest.param(_set("auth", to={"basic": {"username": "a"}}), id="auth-basic-no-password"),
    pytest.param(_set("requests", 3, "auth", "api_key", "header", to="X-Key"), id="auth-api-key-header-and-query"),
    pytest.param(_set("requests", 2, "auth", "api_key", to={"value": "v"}), id="auth-api-key-no-location"),
    pytest.param(_set("requests", 0, "expect", "status", to=999), id="status-999"),
    pytest.param(_set("requests", 0, "expect", "status", to="2XX0"), id="status-bad-class"),
    pytest.param(_set("requests", 0, "expect", "status", to=[200, 600]), id="status-list-out-of-range"),
    pytest.param(_set("requests", 0, "expect", "json", "$.object", to={"gte": 1}), id="predicate-unknown-operator-gte"),
    pytest.param(_set("requests", 0, "expect", "json", "$.object", to={"gt": 1, "foo": 2}), id="predicate-mixed-keys"),
    pytest.param(_set("requests", 0, "expect", "json", "$.object", to={"type": "double"}), id="predicate-bad-type-name"),
    pytest.param(_set("requests", 0, "expect", "json", "$.object", to={"length": {"greater": 1}}), id="predicate-length-bad-operator"),
    pytest.param(_set("requests", 0, "expect", "json", to={"data[0]": 1}), id="jsonpath-without-dollar"),
    pytest.param(_set("requests", 0, "capture", "first-model", to="$.a"), id="capture-name-with-dash"),
    pytest.param(_set("requests", 0, "capture", "x", to={"json": "$.a", "header": "b"}), id="capture-two-sources"),
    pytest.param(_set("requests", 0, "capture", "x", to={"secret": True}), id="capture-no-source"),
    pytest.param(_set("requests", 0, "capture", "x", to="data.id"), id="capture-path-without-dollar"),
    pytest.param(_set("requests", 1, "example", "body", to="{}"), id="example-json-and-body"),
    pytest.param(_set("requests", 1, "example", "done", to=False), id="example-done-without-events"),
    pytest.param(_set("requests", 0, "name", to=DELETE), id="missing-request-name"),
    pytest.param(_set("requests", 0, "url", to=DELETE), id="missing-url"),
    pytest.param(_set("requests", to=[]), id="requests-empty"),
    pytest.param(_set("requests", 0, "method", to="GET /"), id="method-not-a-token"),
    pytest.param(_set("timeout", to=0), id="timeout-zero"),
    pytest.param(_set("timeout", to="soon"), id="timeout-not-a-template"),
    pytest.param(_set("follow_redirects", to="yes"), id="bool-as-string"),
    pytest.param(_set("retries", to={"count": 2, "on": ["6xx"]}), id="retries-bad-class"),
    pytest.param(_set("retries", to={"backoff": 1}), id="retries-no-count"),
    pytest.param(_set("retries", to=-1), id="retries-negative"),
    pytest.param(_set("requests", 0, "stream", to="ws"), id="stream-unknown"),
    pytest.param(_set("requests", 2, "expect", "events", "wait_ms", to=1), id="events-unknown-key"),
    pytest.param(_set("vars", to={"api-key": "x"}), id="var-name-with-dash"),
    pytest.param(_set("client_cert", to={"cert": "c.pem"}), id="client-cert-without-key"),
]


@pytest.mark.parametrize("edit", INVALID)
def test_invalid_collection_is_rejected(edit: Callable[[dict[str, Any]], None]) -> None:
    doc = copy.deepcopy(FULL)
    edit(doc)
    assert not COLLECTION.is_valid(doc)


def test_unknown_operator_is_reported_as_an_unexpected_key() -> None:
    # The loader turns additionalProperties errors into "unknown key, did you mean ...".
    doc = copy.deepcopy(FULL)
    doc["requests"][0]["expect"]["json"]["$.object"] = {"gte": 1}
    (error,) = COLLECTION.iter_errors(doc)
    assert error.validator == "additionalProperties"
    assert "'gte'" in error.message


@pytest.mark.parametrize("typo", ["lenght", "exist", "contians", "mathces", "typ", "not_contain"])
def test_a_typical_operator_typo_is_an_unknown_key(typo: str) -> None:
    doc = copy.deepcopy(FULL)
    doc["requests"][0]["expect"]["json"]["$.object"] = {typo: 1}
    (error,) = COLLECTION.iter_errors(doc)
    assert error.validator == "additionalProperties" and repr(typo) in error.message


@pytest.mark.parametrize("expected", [{"age": 30}, {"lat": 1.5}, {"types": ["a"]}, {"new": True}, {"min": 1}, {"matched": True}, {"batches": 3}, {"container": "x"}])
def test_an_object_whose_keys_resemble_operators_is_still_a_value(expected: dict[str, Any]) -> None:
    doc = copy.deepcopy(FULL)
    doc["requests"][0]["expect"]["json"]["$.object"] = expected
    assert COLLECTION.is_valid(doc)


@pytest.mark.parametrize(
    ("env", "valid"),
    [
        pytest.param({"base_url": "https://x", "api_key": "{{ env.KEY }}", "secrets": ["api_key"]}, True, id="valid"),
        pytest.param({"n": 1, "nested": {"a": [1]}}, True, id="any-values"),
        pytest.param({"api-key": "x"}, False, id="name-with-dash"),
        pytest.param({"secrets": "api_key"}, False, id="secrets-not-a-list"),
    ],
)
def test_environment_schema(env: dict[str, Any], valid: bool) -> None:
    assert ENVIRONMENT.is_valid(env) is valid
