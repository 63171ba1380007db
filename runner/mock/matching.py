"""How close a request's query and JSON body come to a route's: ``(mismatches, equal values, wildcard matches)``.

Ranking runs this for every candidate route of every request, so a route's value
is compiled once into a matcher (nested closures that know the shape they
expect) instead of being walked with a type test per value and a tuple per
level.  ``compare`` is the plain form of the same count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

Matcher = Callable[[Any, list[int]], None]  # adds to [mismatches, equal values, wildcard matches]
_PLAIN = (str, int, float, type(None))  # compared with ==, inline (a bool is never equal to a number here)


@dataclass(frozen=True)
class Wildcard:
    """A value only the run knows: matches anything, or strings matching ``pattern``."""

    pattern: re.Pattern[str] | None = None

    def matches(self, value: Any) -> bool:
        """Whether ``value`` fits the wildcard."""
        if self.pattern is None:
            return True
        return isinstance(value, str) and self.pattern.fullmatch(value) is not None


def compare(expected: Any, actual: Any) -> tuple[int, int, int]:
    """``(mismatches, equal values, wildcard matches)`` of ``actual`` against a route's value.

    A key missing or extra, a list of another length, a value of another type or
    a different value is one mismatch; ``True`` never equals ``1``.
    """
    totals = [0, 0, 0]
    matcher(expected)(actual, totals)
    return (totals[0], totals[1], totals[2])


def matcher(expected: Any) -> Matcher:
    """``expected`` compiled: a function that adds the counts of ``compare(expected, actual)`` to its totals."""
    if isinstance(expected, dict):
        return _dict_matcher(expected)
    if isinstance(expected, list):
        return _list_matcher(expected)
    if isinstance(expected, Wildcard):
        return lambda actual, totals: _add(totals, 2 if expected.matches(actual) else 0)
    if isinstance(expected, bool):
        return lambda actual, totals: _add(totals, 1 if actual is expected else 0)
    return lambda actual, totals: _add(totals, 1 if not isinstance(actual, bool) and expected == actual else 0)


def _add(totals: list[int], index: int) -> None:
    totals[index] += 1


def _dict_matcher(expected: dict[Any, Any]) -> Matcher:
    plain = tuple((key, value) for key, value in expected.items() if type(value) in _PLAIN)
    nested = tuple((key, matcher(value)) for key, value in expected.items() if type(value) not in _PLAIN)
    size = len(expected)

    def match(actual: Any, totals: list[int]) -> None:
        if not isinstance(actual, dict):
            totals[0] += 1
            return
        common = equal = 0
        for key, value in plain:
            if key in actual:
                common += 1
                found = actual[key]
                if found == value and not isinstance(found, bool):
                    equal += 1
        differ = common - equal
        for key, inner in nested:
            if key in actual:
                common += 1
                inner(actual[key], totals)
        totals[0] += differ + size + len(actual) - 2 * common  # different plain values, keys missing, keys extra
        totals[1] += equal

    return match


def _list_matcher(expected: list[Any]) -> Matcher:
    items = tuple(matcher(value) for value in expected)
    size = len(items)

    def match(actual: Any, totals: list[int]) -> None:
        if not isinstance(actual, list) or len(actual) != size:
            totals[0] += 1
            return
        for inner, item in zip(items, actual):
            inner(item, totals)

    return match
