"""Every predicate operator of FORMAT.md, both ways (holds / fails)."""

from __future__ import annotations

import pytest

from runner.assertions import evaluate, json_equal, status_matches
from runner.query import MISSING

CASES = [
    # (id, predicate, actual, holds)
    ("equal-string", "assistant", "assistant", True),
    ("equal-string-differs", "assistant", "user", False),
    ("equal-int", 3, 3, True),
    ("int-equals-float", 3, 3.0, True),
    ("bool-is-not-int", 1, True, False),
    ("equal-null", None, None, True),
    ("equal-object", {"a": 1}, {"a": 1}, True),
    ("equal-object-differs", {"a": 1}, {"a": 2}, False),
    ("equal-list", [1, 2], [1, 2], True),
    ("eq", {"eq": "x"}, "x", True),
    ("eq-fails", {"eq": "x"}, "y", False),
    ("ne", {"ne": "x"}, "y", True),
    ("ne-fails", {"ne": "x"}, "x", False),
    ("gt", {"gt": 0}, 5, True),
    ("gt-fails", {"gt": 5}, 5, False),
    ("ge", {"ge": 5}, 5, True),
    ("lt", {"lt": 1}, 0.5, True),
    ("lt-fails", {"lt": 1}, 2, False),
    ("le", {"le": 2}, 2, True),
    ("gt-on-non-number-fails", {"gt": 0}, "abc", False),
    ("gt-on-a-json-string-holding-a-number-fails", {"gt": 1}, "2", False),
    ("gt-on-a-json-string-holding-a-number-says-so", {"gt": 1, "lt": 9}, "2", False),
    ("contains-substring", {"contains": "json"}, "application/json", True),
    ("contains-substring-fails", {"contains": "xml"}, "application/json", False),
    ("contains-list-item", {"contains": 2}, [1, 2, 3], True),
    ("contains-object-key", {"contains": "a"}, {"a": 1}, True),
    ("contains-object-with-a-list-is-false-not-a-crash", {"contains": ["a"]}, {"a": 1}, False),
    ("contains-object-key", {"contains": "a"}, {"a": 1}, True),
    ("not-contains", {"not_contains": "error"}, "all good", True),
    ("not-contains-fails", {"not_contains": "good"}, "all good", False),
    ("matches", {"matches": "^mistral-"}, "mistral-small", True),
    ("matches-fails", {"matches": "^gpt"}, "mistral-small", False),
    ("type-string", {"type": "string"}, "x", True),
    ("type-integer", {"type": "integer"}, 3, True),
    ("type-number-accepts-integer", {"type": "number"}, 3, True),
    ("type-boolean-not-integer", {"type": "integer"}, True, False),
    ("type-array", {"type": "array"}, [], True),
    ("type-object", {"type": "object"}, {}, True),
    ("type-null", {"type": "null"}, None, True),
    ("type-fails", {"type": "string"}, 1, False),
    ("length-number", {"length": 3}, [1, 2, 3], True),
    ("length-number-fails", {"length": 2}, [1, 2, 3], False),
    ("length-predicate", {"length": {"gt": 0}}, "abc", True),
    ("length-of-object", {"length": 1}, {"a": 1}, True),
    ("length-of-number-fails", {"length": 1}, 5, False),
    ("exists-true", {"exists": True}, 0, True),
    ("exists-true-missing", {"exists": True}, MISSING, False),
    ("exists-false-missing", {"exists": False}, MISSING, True),
    ("exists-false-present", {"exists": False}, None, False),
    ("in", {"in": ["stop", "length"]}, "stop", True),
    ("in-fails", {"in": ["stop", "length"]}, "error", False),
    ("all-operators-must-hold", {"gt": 0, "lt": 10}, 5, True),
    ("all-operators-one-fails", {"gt": 0, "lt": 3}, 5, False),
    ("missing-value-fails-equality", "x", MISSING, False),
    ("missing-value-fails-operator", {"gt": 0}, MISSING, False),
]


@pytest.mark.parametrize(("predicate", "actual", "holds"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_predicate(predicate: object, actual: object, holds: bool) -> None:
    ok, expected = evaluate(predicate, actual)
    assert ok is holds
    assert expected  # always says what was expected


@pytest.mark.parametrize(
    ("predicate", "actual", "holds"),
    [(200, "200", True), (True, "true", True), ("abc", "abc", True), (5, "6", False), ({"gt": 1}, "2", True), ({"le": 10}, "12", False)],
    ids=["int-vs-header-text", "bool-vs-header-text", "text", "int-differs", "gt-on-numeric-header-text", "le-on-numeric-body-text"],
)
def test_text_values_compare_with_the_text_form(predicate: object, actual: str, holds: bool) -> None:
    assert evaluate(predicate, actual, text_actual=True)[0] is holds


@pytest.mark.parametrize(
    ("expected", "status", "holds"),
    [(200, 200, True), (200, 201, False), ([200, 201], 201, True), ("2xx", 204, True), ("2xx", 301, False), ("4XX", 404, True), ("200", 200, True)],
    ids=["int", "int-differs", "list", "class", "class-differs", "class-upper", "text"],
)
def test_status(expected: object, status: int, holds: bool) -> None:
    assert status_matches(expected, status) is holds


def test_failed_operator_is_named_in_expected_text() -> None:
    ok, expected = evaluate({"gt": 0, "lt": 3}, 5)
    assert not ok and expected == "< 3"


def test_json_equal_nested_bool_vs_int() -> None:
    assert not json_equal({"a": [1]}, {"a": [True]})
