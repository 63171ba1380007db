"""Every row of docs/format.md's "YAML pitfalls" table, checked against the real loader."""

from __future__ import annotations

from typing import Any

import pytest

from runner.errors import InputError
from runner.source import parse_yaml

SYNTAX_ERRORS = {
    "template-unquoted": "url: {{ base_url }}/v1\n",
    "colon-in-flow": "m: {role: user, content: Note: this}\n",
    "bracket-in-flow": "m: {content: [draft] notes}\n",
    "colon-in-block": "content: note: this\n",
    "tab-indent": "a:\n\tb: 1\n",
    "jsonpath-key-in-flow": "json: {$.a[0]: 1}\n",
}

READS = {
    "question-mark-in-flow": ("m: {role: user, content: What is it?}\n", {"m": {"role": "user", "content": "What is it?"}}),
    "comment": ("content: tea #2\n", {"content": "tea"}),
    "yes-no-on-off": ("a: {X-Flag: on, enabled: yes, country: NO, off: off}\n", {"a": {"X-Flag": "on", "enabled": "yes", "country": "NO", "off": "off"}}),
    "true-false-any-case": ("a: [true, True, TRUE, false, FALSE]\n", {"a": [True, True, True, False, False]}),
    "float-trailing-zero": ("version: 1.10\n", {"version": 1.1}),
    "leading-zero-decimal": ("zip: 01234\n", {"zip": 1234}),
    "exponent-hex": ("a: [1e12, 0x1F, +5]\n", {"a": [1e12, 31, 5]}),
    "digit-separator-text": ("n: 1_000\n", {"n": "1_000"}),
    "date-and-base-60-text": ("a: [2024-01-01, 1:30]\n", {"a": ["2024-01-01", "1:30"]}),
    "null-type": ("s: {type: null}\n", {"s": {"type": None}}),
}


@pytest.mark.parametrize("text", SYNTAX_ERRORS.values(), ids=SYNTAX_ERRORS.keys())
def test_a_syntax_error_row(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_yaml(text, "c.yaml")
    assert "invalid YAML" in str(info.value) and "c.yaml:" in str(info.value)


@pytest.mark.parametrize(("text", "data"), READS.values(), ids=READS.keys())
def test_a_reading_row(text: str, data: Any) -> None:
    assert parse_yaml(text, "c.yaml").data == data
