"""``-k EXPR``: select requests by name or tag, with ``and``, ``or``, ``not`` and parentheses.

A bare word matches a request whose name contains it (case-insensitive) or that has
it as a tag, as in pytest's ``-k``.  A quoted phrase (``"use the uuid"`` or
``'use the uuid'``) is one word, spaces and all: ``-k '"use the uuid" or smoke'``.

``--request NAME`` (``select_by_names``) picks requests by their exact name instead.
"""

from __future__ import annotations

import difflib
import re
from typing import Iterable

from .errors import UsageError

# a quoted phrase keeps its quote as the first character, so it is never taken for and/or/not or a parenthesis
_TOKEN = re.compile(r"""\s*("[^"]*"|'[^']*'|\(|\)|[^\s()"']+|["'])""")


def _tokens(expression: str) -> list[str]:
    tokens = [match.group(1) for match in _TOKEN.finditer(expression)]
    for token in tokens:
        if token in ('"', "'"):
            raise UsageError(f"-k {expression!r}: a quote ({token}) is not closed")
        if token[0] in "\"'" and not token[1:-1].strip():  # "" is in every name: it would select everything
            raise UsageError(f"-k {expression!r}: the phrase {token} is empty; put a word between the quotes")
    if expression.strip() == "" and expression:
        raise UsageError(f"-k {expression!r}: the expression is empty")
    return tokens


def select_by_names(names: Iterable[str], wanted: list[str]) -> set[str]:
    """The names of ``wanted`` found among ``names``; raise ``UsageError`` with a did-you-mean for any other."""
    known = list(dict.fromkeys(names))
    missing = [name for name in wanted if name not in known]
    if missing:
        name = missing[0]
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        folded = [item for item in known if item.casefold() == name.casefold() or name.casefold() in item.casefold()]
        hints = list(dict.fromkeys(folded + close))[:3]
        hint = f"; did you mean {' or '.join(repr(item) for item in hints)}?" if hints else f" (requests: {', '.join(repr(item) for item in known[:10])}{', ...' if len(known) > 10 else ''})"
        raise UsageError(f"--request {name!r} matches no request{hint}")
    return set(wanted)


def check_expression(expression: str) -> None:
    """Raise ``UsageError`` when ``expression`` does not parse."""
    matches(expression, "", ())


def matches(expression: str, name: str, tags: tuple[str, ...]) -> bool:
    """Whether a request with ``name`` and ``tags`` is selected by ``expression``."""
    tokens = _tokens(expression)
    position = 0
    lowered_name = name.lower()
    lowered_tags = {tag.lower() for tag in tags}

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise UsageError(f"-k {expression!r}: the expression ends too early")
        position += 1
        return tokens[position - 1]

    def parse_or() -> bool:
        value = parse_and()
        while peek() == "or":
            take()
            value = parse_and() or value
        return value

    def parse_and() -> bool:
        value = parse_not()
        while peek() == "and":
            take()
            value = parse_not() and value
        return value

    def parse_not() -> bool:
        if peek() == "not":
            take()
            return not parse_not()
        return parse_atom()

    def parse_atom() -> bool:
        token = take()
        if token == "(":
            value = parse_or()
            if take() != ")":
                raise UsageError(f"-k {expression!r}: missing ')'")
            return value
        if token in (")", "and", "or"):
            raise UsageError(f"-k {expression!r}: unexpected {token!r}")
        word = token[1:-1].lower() if token[0] in "\"'" else token.lower()
        return word in lowered_name or word in lowered_tags

    if not tokens:
        return True
    result = parse_or()
    if position != len(tokens):
        raise UsageError(f"-k {expression!r}: unexpected {tokens[position]!r}")
    return result
