"""``-k EXPR``: select requests by name or tag, with ``and``, ``or``, ``not`` and parentheses.

A bare word matches a request whose name contains it (case-insensitive) or that has
it as a tag, as in pytest's ``-k``.
"""

from __future__ import annotations

import re

from .errors import UsageError

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


def _tokens(expression: str) -> list[str]:
    return [match.group(1) for match in _TOKEN.finditer(expression)]


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
        word = token.lower()
        return word in lowered_name or word in lowered_tags

    if not tokens:
        return True
    result = parse_or()
    if position != len(tokens):
        raise UsageError(f"-k {expression!r}: unexpected {tokens[position]!r}")
    return result
