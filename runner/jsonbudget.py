"""What the JSONPath queries of a streamed body may build: the budget, the sizes it books, and counts that stand in for selections.

``jsonstream`` builds only what a query selects; each built value is booked
here at an estimate of its Python size, against a budget shared by the checks
and captures of one response (``budget_for``).  A query whose predicate needs
only how many nodes it selects (``counts_only``) builds nothing: its outcome
is a ``Counted`` stand-in with a length and no items.
"""

from __future__ import annotations

import sys
from typing import Any

MIB = 1024 * 1024
BUDGET_FLOOR = 16 * MIB  # what the queries of a body may build, at least: about what the tree of a body at the threshold costs
RANGE_COST = 120  # a member remembered for duplicate keys: its tuple of three ints and its dict slot, beside its key


class BudgetError(ValueError):
    """The selection would build more than the budget allows; the message says how to narrow it."""


def budget_for(size: int) -> int:
    """How many bytes of Python values the queries of a body of ``size`` bytes may build: the body's size, 16 MiB at least."""
    return max(size, BUDGET_FLOOR)


class _Tally:
    """A stand-in for a selection that was counted, not built: it has a length and nothing in it."""

    total = 0

    def __len__(self) -> int:
        return self.total


class Counted(_Tally, list):  # type: ignore[type-arg]
    """What a count-only query selected: an array of ``total`` nodes, counted while streaming, not built."""

    def __init__(self, count: int):
        super().__init__()
        self.total = count

    def __repr__(self) -> str:
        return f"({self.total} items, counted while streaming)"


class CountedObject(_Tally, dict):  # type: ignore[type-arg]
    """An object a count-only singular query selected: its number of members, not its members."""

    def __init__(self, count: int):
        super().__init__()
        self.total = count

    def __repr__(self) -> str:
        return f"(an object of {self.total} members, counted while streaming)"


COUNT_OPERATORS = frozenset({"exists", "length", "isEmpty", "type"})


def counts_only(predicate: Any) -> bool:
    """Whether ``predicate`` reads only how many nodes (or members) a selection has: no node need be built."""
    if isinstance(predicate, list) and predicate and all(isinstance(item, dict) for item in predicate):
        return all(counts_only(item) for item in predicate)  # several operator mappings: all must only count
    if not isinstance(predicate, dict) or not predicate:
        return False
    filters = predicate.get("filters")
    if filters is not None:
        return filters == ["count"]
    if "not" in predicate and not counts_only(predicate["not"]):
        return False
    return all(op in COUNT_OPERATORS or op == "not" for op in predicate) and not isinstance(predicate.get("type"), dict)


class Budget:
    """What the queries of one body may build together (``limit``) and have built (``live``), in estimated bytes."""

    def __init__(self, limit: int):
        self.limit = limit
        self.live = 0


def result_size(result: tuple[Any, Any]) -> int:
    """About how many bytes one kept result costs: its entry, its sort key, its value when not a built container.

    A ``..`` part of a key holds the visited node's path: counted whole for each
    result (siblings share it: an over-estimate, on the safe side).
    """
    key, value = result
    size = 8 + sys.getsizeof(result) + sys.getsizeof(key) + sum(32 if isinstance(part, int) else 96 + sys.getsizeof(part[0]) + 32 * len(part[0]) for part in key)
    return size + (0 if isinstance(value, (dict, list)) else scalar_size(value))


def scalar_size(value: Any) -> int:
    """What holding a scalar costs the budget: its size, but 1 MiB at most.

    The parser has already built the whole string by the time it is seen: keeping
    one giant string adds nothing to the peak; the budget bounds how many values pile up.
    """
    return min(sys.getsizeof(value), MIB)
