"""Extraction shared by ``expect`` and ``capture``: JSONPath, header, regex, status."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>", "__bool__": lambda self: False})()


@lru_cache(maxsize=1024)
def compile_jsonpath(path: str) -> Any:
    """A compiled RFC 9535 JSONPath query (cached by text)."""
    from jsonpath_rfc9535 import compile as compile_path

    return compile_path(path)


def json_values(path: str, document: Any) -> list[Any]:
    """All values the JSONPath selects in ``document``."""
    return [node.value for node in compile_jsonpath(path).find(document)]


def json_value(path: str, document: Any) -> Any:
    """The value a JSONPath selects: ``MISSING`` for none, the value for one, a list for several."""
    query = compile_jsonpath(path)
    if query.singular_query():
        node = query.find_one(document)
        return MISSING if node is None else node.value
    values = [node.value for node in query.find(document)]
    if not values:
        return MISSING
    return values


def header_value(headers: Any, name: str) -> Any:
    """A response header by case-insensitive name (several values joined with ', ')."""
    values = headers.get_list(name) if hasattr(headers, "get_list") else [v for k, v in headers.items() if k.lower() == name.lower()]
    return ", ".join(values) if values else MISSING


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def regex_value(pattern: str, text: str) -> Any:
    """The first group of the first match of ``pattern`` in ``text``, or ``MISSING``."""
    match = _regex(pattern).search(text)
    if not match:
        return MISSING
    return match.group(1) if match.re.groups else match.group(0)
