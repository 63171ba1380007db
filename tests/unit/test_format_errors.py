"""Every way a key's value can be wrong gives the house message (file, line, key, a hint), never jsonschema's own text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.errors import InputError
from runner.loader import load_collection

SCHEMA = json.loads((Path(__file__).parents[2] / "runner" / "data" / "collection.schema.json").read_text(encoding="utf-8"))
REQUEST_KEYS = sorted(set(SCHEMA["$defs"]["request"]["properties"]) - {"name", "url"})
COLLECTION_KEYS = sorted(set(SCHEMA["properties"]) - {"requests", "name"})
WRONG = {"null": "", "list": "[]", "number": "7", "text": "zz-not-a-word"}


def _messages(tmp_path: Path, text: str) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_collection(str(path))
    except InputError as exc:
        return exc.format()
    return ""


def _assert_house_message(text: str) -> None:
    assert "should not be valid under" not in text and "is not valid under any of the given schemas" not in text, text
    assert "{'" not in text, text  # a Python dict: a schema quoted whole
    for block in text.split("\n\n"):
        assert block.startswith("error: ") and "c.yaml:" in block.splitlines()[1], block


@pytest.mark.parametrize("wrong", WRONG, ids=list(WRONG))
@pytest.mark.parametrize("key", REQUEST_KEYS)
def test_a_wrong_request_value_gets_the_house_message(tmp_path: Path, key: str, wrong: str) -> None:
    text = _messages(tmp_path, f"base_url: http://127.0.0.1:9\nrequests:\n  - name: r\n    url: /x\n    {key}: {WRONG[wrong]}\n")
    _assert_house_message(text) if text else None


@pytest.mark.parametrize("wrong", WRONG, ids=list(WRONG))
@pytest.mark.parametrize("key", COLLECTION_KEYS)
def test_a_wrong_collection_value_gets_the_house_message(tmp_path: Path, key: str, wrong: str) -> None:
    text = _messages(tmp_path, f"{key}: {WRONG[wrong]}\nrequests:\n  - name: r\n    url: http://127.0.0.1:9/x\n")
    _assert_house_message(text) if text else None


@pytest.mark.parametrize("key", ["example", "expect", "capture", "headers", "tags"])
def test_an_empty_value_says_it_is_empty(tmp_path: Path, key: str) -> None:
    text = _messages(tmp_path, f"base_url: http://127.0.0.1:9\nrequests:\n  - name: r\n    url: /x\n    {key}:\n")
    _assert_house_message(text)
    assert f"hint: '{key}:' has no value" in text
