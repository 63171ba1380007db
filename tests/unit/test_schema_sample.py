"""Minimal instances of OpenAPI schemas: each generated value validates against its schema."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from runner.interop.sample import sample

COMPONENTS = {
    "Pet": {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer", "minimum": 1}, "name": {"type": "string", "minLength": 3}}},
    "Node": {"type": "object", "required": ["value"], "properties": {"value": {"type": "number", "exclusiveMinimum": 0}, "next": {"$ref": "#/components/schemas/Node"}}},
}


def _resolve(ref: str) -> Any:
    return COMPONENTS[ref.rsplit("/", 1)[-1]]


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/components/schemas/Pet"},
        {"$ref": "#/components/schemas/Node"},
        {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        {"type": "string", "pattern": "^[A-Z]{2}-\\d+$"},
        {"type": "string", "format": "date-time"},
        {"type": "array", "minItems": 2, "items": {"type": "integer", "multipleOf": 5, "minimum": 3}},
        {"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/Pet"}]},
        {"allOf": [{"$ref": "#/components/schemas/Pet"}, {"type": "object", "required": ["tag"], "properties": {"tag": {"enum": ["a", "b"]}}}]},
        {"type": ["string", "null"], "maxLength": 3},
        {"type": "object", "properties": {"kind": {"const": "x"}}, "required": ["kind"]},
    ],
    ids=["ref", "recursive-ref", "hex-pattern", "pattern-with-escape", "date-time", "array-multiple-of", "any-of-null-first", "all-of", "type-list", "const"],
)
def test_the_sample_fits_its_schema(schema: dict[str, Any]) -> None:
    value = sample(schema, _resolve)
    full = {**schema, "components": {"schemas": COMPONENTS}}
    assert Draft202012Validator(full).is_valid(value), value


def test_a_schema_example_can_be_ignored_when_it_contradicts_the_schema() -> None:
    schema = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "examples": ["not a number"]}}}
    assert sample(schema, _resolve) == {"n": "not a number"}
    assert sample(schema, _resolve, examples=False) == {"n": 0}
