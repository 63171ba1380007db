"""``-k`` expressions over request names and tags."""

from __future__ import annotations

import pytest

from runner.errors import UsageError
from runner.selection import matches


@pytest.mark.parametrize(
    ("expression", "name", "tags", "selected"),
    [
        ("chat", "chat completion", (), True),
        ("CHAT", "chat completion", (), True),
        ("embed", "chat completion", (), False),
        ("smoke", "list models", ("smoke",), True),
        ("smoke and chat", "chat completion", ("smoke",), True),
        ("smoke and chat", "list models", ("smoke",), False),
        ("models or chat", "list models", (), True),
        ("not slow", "list models", ("slow",), False),
        ("not slow", "list models", (), True),
        ("(chat or models) and not slow", "chat", ("slow",), False),
        ("(chat or models) and not slow", "models", (), True),
    ],
    ids=["substring", "case", "no-match", "tag", "and", "and-fails", "or", "not-tag", "not", "parens-fails", "parens"],
)
def test_matches(expression: str, name: str, tags: tuple[str, ...], selected: bool) -> None:
    assert matches(expression, name, tags) is selected


@pytest.mark.parametrize("expression", ["chat and", "(chat", "chat )", "or chat"], ids=["dangling-and", "open-paren", "close-paren", "leading-or"])
def test_bad_expressions_are_usage_errors(expression: str) -> None:
    with pytest.raises(UsageError):
        matches(expression, "chat", ())
