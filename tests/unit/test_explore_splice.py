"""Splicing ``example:`` blocks into YAML text: everything else stays byte for byte (anchors, flow, comments, odd layouts)."""

from __future__ import annotations

import pytest
import yaml

from runner.errors import SaveError
from runner.explore.drift import compare, merge, shape
from runner.explore.save import splice_examples

NEW = {"status": 200, "json": {"id": 1, "tags": ["a"]}}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "requests:\n  - name: a\n    url: /a\n",
            "requests:\n  - name: a\n    url: /a\n    example:\n      status: 200\n      json:\n        id: 1\n        tags:\n          - a\n",
        ),
        (
            "requests:\n  - name: a\n    url: /a   # why\n\n# after\n",
            "requests:\n  - name: a\n    url: /a   # why\n    example:\n      status: 200\n      json:\n        id: 1\n        tags:\n          - a\n\n# after\n",
        ),
        (
            "requests:\n  - name: a\n    example: &ex\n      status: 500  # old\n    url: /a\n  - name: b\n    example: *ex\n",
            "requests:\n  - name: a\n    example: &ex\n      status: 200\n      json:\n        id: 1\n        tags:\n          - a\n    url: /a\n  - name: b\n    example: *ex\n",
        ),
        (
            "requests:\n- name: a\n  body: |\n    line one\n    line two\n\n- name: b\n",
            "requests:\n- name: a\n  body: |\n    line one\n    line two\n  example:\n    status: 200\n    json:\n      id: 1\n      tags:\n        - a\n\n- name: b\n",
        ),
        (
            "requests: [{name: a, url: /a}]  # flow\n",
            'requests: [{name: a, url: /a, example: {"status": 200, "json": {"id": 1, "tags": ["a"]}}}]  # flow\n',
        ),
        (
            "base: &base {url: /a}\nrequests:\n  - name: a\n    <<: *base\n",
            "base: &base {url: /a}\nrequests:\n  - name: a\n    <<: *base\n    example:\n      status: 200\n      json:\n        id: 1\n        tags:\n          - a\n",
        ),
    ],
    ids=["append", "trailing-comments", "anchored-example-kept", "block-scalar-last", "flow-request", "merge-key-last"],
)
def test_splice_changes_only_the_example(before: str, after: str) -> None:
    assert splice_examples(before, {0: NEW}) == after
    data = yaml.safe_load(after)
    assert data["requests"][0]["example"] == NEW


def test_an_aliased_request_is_refused() -> None:
    with pytest.raises(SaveError, match="alias"):
        splice_examples("requests:\n  - &a {name: a}\n  - *a\n", {1: NEW})


@pytest.mark.parametrize(
    ("old", "new", "changes"),
    [
        ({"a": 1}, {"a": 2}, []),
        ({"a": 1}, {"a": 1, "b": "x"}, ["+ $.b  new field (string)"]),
        ({"a": 1, "b": 2}, {"a": 1}, ["- $.b  field gone"]),
        ({"a": "1"}, {"a": 1}, ["~ $.a  string -> number"]),
        ({"a": "x"}, {"a": None}, ["~ $.a  string -> null"]),
        ({"l": [{"a": 1}, {"b": 2}]}, {"l": [{"a": 5, "b": 6}] * 30}, []),
        ({"l": []}, {"l": [{"a": 1}]}, []),
        ({"l": [{"a": 1}]}, {"l": [{"a": True}]}, ["~ $.l[*].a  number -> boolean"]),
        ({"odd key": 1}, {}, ['- $["odd key"]  field gone']),
    ],
    ids=["value-only", "added", "removed", "type", "nullable", "array-merge", "empty-array", "item-type", "odd-key"],
)
def test_shape_compare(old: object, new: object, changes: list[str]) -> None:
    assert [str(change) for change in compare(shape(old), shape(new))] == changes


def test_merge_of_nothing_is_nothing() -> None:
    assert merge([]) is None
