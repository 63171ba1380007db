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
        ('"use the uuid" or smoke', "use the uuid", (), True),
        ('"use the uuid" or smoke', "the uuid", ("smoke",), True),
        ('"use the uuid"', "use the id", (), False),
        ("'Use The' and not slow", "use the uuid", (), True),
        ('"and"', "band practice", (), True),
        ('"(x)"', "call (x) twice", (), True),
        ('"smoke test"', "list", ("smoke test",), True),
    ],
    ids=["substring", "case", "no-match", "tag", "and", "and-fails", "or", "not-tag", "not", "parens-fails", "parens",
         "phrase", "phrase-or-tag", "phrase-no-match", "single-quotes", "quoted-keyword", "quoted-parens", "phrase-tag"],
)
def test_matches(expression: str, name: str, tags: tuple[str, ...], selected: bool) -> None:
    assert matches(expression, name, tags) is selected


@pytest.mark.parametrize("expression", ["chat and", "(chat", "chat )", "or chat", '"use the', "chat 'x"], ids=["dangling-and", "open-paren", "close-paren", "leading-or", "open-quote", "open-single-quote"])
def test_bad_expressions_are_usage_errors(expression: str) -> None:
    with pytest.raises(UsageError):
        matches(expression, "chat", ())


@pytest.mark.parametrize("expression", ['"" or x', "''", 'not ""', '" "', "chat and ( '  ' )", "   "], ids=["empty-or", "empty-single", "not-empty", "spaces", "spaces-nested", "blank-expression"])
def test_an_empty_phrase_or_expression_is_a_usage_error(expression: str) -> None:
    """An empty phrase is in every name: it would select everything (or, under not, nothing)."""
    with pytest.raises(UsageError, match="empty"):
        matches(expression, "chat", ())


@pytest.mark.parametrize(
    ("wanted", "hint"),
    [
        (["use the uid"], "did you mean 'use the uuid'?"),
        (["USE THE UUID"], "did you mean 'use the uuid'?"),
        (["zzz"], "(requests: 'list models', 'use the uuid')"),
    ],
    ids=["typo", "case", "nothing-close"],
)
def test_an_unknown_request_name_is_a_usage_error_with_a_hint(wanted: list[str], hint: str) -> None:
    from runner.selection import select_by_names

    with pytest.raises(UsageError) as caught:
        select_by_names(["list models", "use the uuid"], wanted)
    assert str(caught.value) == f"--request {wanted[0]!r} matches no request" + ("; " if hint.startswith("did") else " ") + hint
