"""Dynamic answers (runner/mock/dynamic.py) and the API's 422 (runner/mock/validation.py): pure, no sockets."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from runner.mock.dynamic import DynamicAnswers, generate
from runner.mock.validation import _detail, not_json_error, validation_error

SCHEMAS = {
    "object": {"type": "object", "required": ["id", "n"], "properties": {"id": {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "n": {"type": "integer", "minimum": 5, "maximum": 9}}},
    "array-bounds": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number", "exclusiveMinimum": 0}},
    "one-of-discriminated": {"oneOf": [{"type": "object", "required": ["type"], "properties": {"type": {"const": "base"}}}, {"type": "object", "required": ["type", "job"], "properties": {"type": {"const": "ft"}, "job": {"type": "string"}}}]},
    "all-of": {"allOf": [{"type": "object", "required": ["a"], "properties": {"a": {"type": "boolean"}}}, {"required": ["b"], "properties": {"b": {"enum": ["x", "y"]}}}]},
    "refs": {"$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}, "name": {"type": "string", "minLength": 3}}, "required": ["name"]}}, "$ref": "#/$defs/node"},
    "nullable": {"type": ["null", "string"], "format": "date-time"},
    "if-then": {"type": "object", "properties": {"kind": {"enum": ["a", "b"]}}, "required": ["kind"], "if": {"properties": {"kind": {"const": "b"}}}, "then": {"required": ["extra"]}},
}


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_generated_values_are_valid_and_deterministic(name: str) -> None:
    schema = SCHEMAS[name]
    validator = Draft202012Validator(schema)
    for seed in range(5):
        value, valid = generate(schema, validator, seed)
        assert valid and validator.is_valid(value), value
        assert generate(schema, validator, seed) == (value, True)


def test_answers_are_generated_once_per_key() -> None:
    answers = DynamicAnswers(seed=7)
    schema = SCHEMAS["object"]
    first = answers.body("route", schema, Draft202012Validator(schema))
    assert answers.body("route", {"type": "null"}, Draft202012Validator({"type": "null"})) == first  # cached, not regenerated


@pytest.mark.parametrize(
    ("schema", "body", "expected"),
    [
        ({"type": "object", "required": ["messages"]}, {}, {"type": "missing", "loc": ["body", "messages"], "msg": "Field required"}),
        ({"type": "object", "properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "zz": 2}, {"type": "extra_forbidden", "loc": ["body", "zz"]}),
        ({"properties": {"t": {"type": "number"}}}, {"t": "hot"}, {"type": "float_type", "loc": ["body", "t"]}),
        ({"properties": {"m": {"minItems": 1}}}, {"m": []}, {"type": "too_short", "loc": ["body", "m"]}),
        ({"properties": {"r": {"enum": ["a"]}}}, {"r": "b"}, {"type": "literal_error", "loc": ["body", "r"]}),
    ],
    ids=["missing", "extra", "type", "too-short", "enum"],
)
def test_validation_errors_read_like_pydantic(schema: dict[str, Any], body: Any, expected: dict[str, Any]) -> None:
    (error,) = Draft202012Validator(schema).iter_errors(body)
    detail = _detail(error)
    assert {key: detail[key] for key in expected} == expected


def test_the_422_body_has_both_shapes() -> None:
    body = validation_error([{"type": "missing", "loc": ["body", "x"], "msg": "Field required"}])
    assert body["detail"] == body["message"]["detail"] and body["type"] == "invalid_request_error"
    assert not_json_error("Expecting value", b"{oops")["detail"][0]["type"] == "json_invalid"
