"""Every filter of runner/filters.py, applying and refusing, and the new predicates of runner/predicates.py."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from runner.assertions import evaluate
from runner.filters import FILTER_NAMES, FilterError, apply_filters, describe
from runner.query import MISSING

APPLY = [
    # (id, filters, value, result)
    ("count-list", ["count"], [1, 2, 3], 3),
    ("count-text", ["count"], "abc", 3),
    ("nth", [{"nth": 1}], ["a", "b"], "b"),
    ("nth-negative", [{"nth": -1}], ["a", "b"], "b"),
    ("first-last", ["first"], ["a", "b"], "a"),
    ("last", ["last"], ["a", "b"], "b"),
    ("regex-group", [{"regex": r"v(\d+)"}], "api v12", "12"),
    ("regex-whole", [{"regex": r"\d+"}], "api v12", "12"),
    ("regex-none", [{"regex": "x(y)"}], "abc", MISSING),
    ("replace", [{"replace": [r"(\w)-", r"\1+"]}], "a-b-c", "a+b+c"),
    ("split", [{"split": ","}], "a,b", ["a", "b"]),
    ("toInt-text", ["toInt"], " 42 ", 42),
    ("toInt-float", ["toInt"], 3.0, 3),
    ("toFloat", ["toFloat"], "2.5", 2.5),
    ("toString-number", ["toString"], 7, "7"),
    ("toString-object", ["toString"], {"a": 1}, '{"a": 1}'),
    ("toDate-iso", ["toDate", {"dateFormat": "%Y-%m-%d %H"}], "2024-03-05T10:20:30Z", "2024-03-05 10"),
    ("toDate-format", [{"toDate": "%d/%m/%Y"}, {"dateFormat": "%A"}], "05/03/2024", "Tuesday"),
    ("dateFormat-iso-text", [{"dateFormat": "%Y"}], "2024-03-05", "2024"),
    ("base64-round-trip", ["base64Encode", "base64Decode", "utf8Decode"], "Comté", "Comté"),
    ("base64-url-safe", ["base64UrlSafeEncode"], b"\xfb\xff", "-_8"),
    ("base64-unpadded", ["base64Decode"], "aGk", b"hi"),
    ("urlEncode", ["urlEncode"], "a b/é", "a%20b%2F%C3%A9"),
    ("urlDecode", ["urlDecode"], "a%20b", "a b"),
    ("htmlEscape", ["htmlEscape"], "<a & b>", "&lt;a &amp; b&gt;"),
    ("htmlUnescape", ["htmlUnescape"], "&lt;&eacute;", "<é"),
    ("utf8Encode", ["utf8Encode"], "é", b"\xc3\xa9"),
    ("decode-latin1", [{"decode": "latin-1"}], b"caf\xe9", "café"),
    ("toHex", ["toHex"], b"\x00\xff", "00ff"),
    ("sha256", ["sha256"], "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("md5", ["md5"], b"", "d41d8cd98f00b204e9800998ecf8427e"),
    ("jsonpath-on-text", [{"jsonpath": "$.a[1]"}], '{"a": [1, 2]}', 2),
    ("jsonpath-on-value", [{"jsonpath": "$.a"}], {"a": 5}, 5),
    ("urlQueryParam", [{"urlQueryParam": "code"}], "https://x/cb?code=abc&s=1", "abc"),
    ("urlQueryParam-absent", [{"urlQueryParam": "nope"}], "https://x/cb?code=abc", MISSING),
    ("missing-stays-missing", ["count", "toInt"], MISSING, MISSING),
]


@pytest.mark.parametrize("filters, value, expected", [case[1:] for case in APPLY], ids=[case[0] for case in APPLY])
def test_a_filter_gives(filters: list[Any], value: Any, expected: Any) -> None:
    assert apply_filters(filters, value) == expected


def test_every_filter_is_tested() -> None:
    used = {name if isinstance(name, str) else next(iter(name)) for case in APPLY for name in case[1]}
    assert FILTER_NAMES - used <= {"daysAfterNow", "daysBeforeNow", "base64UrlSafeDecode"}


def test_days_after_and_before_now() -> None:
    later = datetime(2999, 1, 1, tzinfo=timezone.utc).isoformat()
    assert apply_filters(["daysAfterNow"], later) > 300_000
    assert apply_filters(["daysBeforeNow"], "2000-01-01") > 9_000


REFUSE = [
    ("count-number", ["count"], 5, "count: expected a list, got 5"),
    ("nth-out-of-range", [{"nth": 3}], [1], "nth: index 3 is out of range (the list has 1 item)"),
    ("toInt-text", ["toInt"], "abc", 'toInt: "abc" is not an integer'),
    ("toInt-bool", ["toInt"], True, "toInt: true is not an integer"),
    ("toFloat-text", ["toFloat"], "x", 'toFloat: "x" is not a number'),
    ("toDate", [{"toDate": "%Y"}], "May", 'toDate: "May" does not have the form %Y'),
    ("base64", ["base64Decode"], "!!", 'base64Decode: "!!" is not base64'),
    ("utf8Decode", ["utf8Decode"], b"\xff", "decode: the bytes are not utf-8 (invalid start byte at byte 0)"),
    ("decode-charset", [{"decode": "nope-charset"}], b"x", "decode: unknown charset 'nope-charset'"),
    ("jsonpath-not-json", [{"jsonpath": "$.a"}], "{", "jsonpath: the text is not JSON"),
    ("text-of-a-list", ["urlDecode"], [1], "urlDecode: expected text, got [1]"),
    ("bad-runtime-regex", [{"replace": ["(", "x"]}], "a", "replace: missing ), unterminated subpattern"),
]


@pytest.mark.parametrize("filters, value, message", [case[1:] for case in REFUSE], ids=[case[0] for case in REFUSE])
def test_a_filter_refuses_with_a_message_naming_it(filters: list[Any], value: Any, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        apply_filters(filters, value)
    assert str(caught.value).startswith(message)


def test_describe_reads_like_the_yaml() -> None:
    assert describe(["count", {"nth": 0}, {"regex": "a(b)"}]) == 'count | nth 0 | regex "a(b)"'


PREDICATES = [
    ("startswith-bytes-hex", {"startswith": {"hex": "0001"}}, b"\x00\x01\x02", True),
    ("endswith-bytes-text", {"endswith": "z"}, b"xyz", True),
    ("startswith-number-fails", {"startswith": "1"}, 12, False),
    ("not-not", {"not": {"not": 1}}, 1, True),
    ("isEmpty-missing-fails", {"isEmpty": True}, MISSING, False),
    ("isEmpty-bytes", {"isEmpty": True}, b"", True),
    ("isIsoDate-date-only", {"isIsoDate": True}, "2024-02-29", True),
    ("isIsoDate-no-such-day", {"isIsoDate": True}, "2023-02-29", False),
    ("isIsoDate-offset", {"isIsoDate": True}, "2024-02-01T10:00:00.123456789+0200", True),
    ("isIsoDate-number", {"isIsoDate": True}, 20240101, False),
    ("isUuid-upper", {"isUuid": True}, "550E8400-E29B-41D4-A716-446655440000", True),
    ("isUuid-short", {"isUuid": True}, "550e8400-e29b-41d4", False),
    ("isInteger-bool", {"isInteger": True}, True, False),
    ("isFloat-false", {"isFloat": False}, 1, True),
    ("type-float", {"type": "float"}, 1.0, True),
    ("type-float-int", {"type": "float"}, 1, False),
    ("text-ge", {"ge": "b"}, "b", True),
    ("text-lt-fails", {"lt": "a"}, "b", False),
    ("md5-upper", {"md5": "D41D8CD98F00B204E9800998ECF8427E"}, "", True),
    ("list-all", [{"gt": 1}, {"lt": 5}], 3, True),
    ("list-one-fails", [{"gt": 1}, {"lt": 2}], 3, False),
    ("plain-list-is-a-value", [1, 2], [1, 2], True),
    ("bytes-equal-base64", {"eq": {"base64": "aGk="}}, b"hi", True),
    ("bytes-in", {"in": [{"hex": "00"}, "hi"]}, b"hi", True),
    ("bytes-contains", {"contains": "i"}, b"hi", True),
    ("filters-then-exists", {"filters": [{"regex": "x(y)"}], "exists": False}, "abc", True),
]


@pytest.mark.parametrize("predicate, actual, holds", [case[1:] for case in PREDICATES], ids=[case[0] for case in PREDICATES])
def test_new_predicates(predicate: Any, actual: Any, holds: bool) -> None:
    assert evaluate(predicate, actual)[0] is holds
