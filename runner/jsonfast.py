"""Parse events consumed at C speed for ``jsonstream``: a subtree skipped, an array's elements counted, a subtree built.

``jsonstream`` runs each JSONPath query as a Python automaton over ijson's
events, about 2 us an event.  Where a stretch of events needs no decision (a
subtree no query can select, an array whose elements need only counting, a
node that is built whole with nothing below it to select) the events are
consumed here by chains of C iterators (``map``, ``accumulate``,
``takewhile``, ``Counter``, ``tee``) and ijson's own C object builder, with
no Python code per event.  Each returns the deepest relative depth it saw, for
the 100-level rule.
"""

from __future__ import annotations

import sys
from collections import Counter
from decimal import Decimal
from functools import partial
from itertools import accumulate, islice, repeat, takewhile, tee
from operator import add, itemgetter, le
from typing import Any, Callable, Iterator

DEPTH_CHANGE = {"start_map": 1, "start_array": 1, "end_map": -1, "end_array": -1, "map_key": 0, "string": 0, "number": 0, "boolean": 0, "null": 0}
_EVENT = itemgetter(0)
_SECOND = itemgetter(1)
_INSIDE = partial(le, 1)  # still inside the containers being consumed: their depth is 1 or more
STEP = 65536  # events built between two looks at the budget


class TooLarge(Exception):
    """A subtree being built may pass the budget before it ends: the pass is redone event by event."""


def _depths(events: Iterator[Any], open_count: int) -> Iterator[int]:
    """The depth after each event, from ``open_count`` open containers, up to and with the event that closes them all."""
    return takewhile(_INSIDE, accumulate(map(DEPTH_CHANGE.__getitem__, map(_EVENT, events)), initial=open_count))


def skip(events: Iterator[Any], open_count: int) -> int:
    """Consume the events up to the end of ``open_count`` open containers; the deepest depth reached (relative)."""
    return max(_depths(events, open_count))


def count_elements(events: Iterator[Any]) -> tuple[int, int]:
    """Consume the rest of an array just opened: ``(its elements, the deepest depth)``; each element ends at depth 1, once."""
    depths = Counter(_depths(events, 1))
    return depths[1] - 1, max(depths)


def build(events: Iterator[Any], start: str, room: Callable[[int], bool]) -> tuple[Any, int]:
    """Consume and build the container whose ``start`` event was just read, in ijson's C builder: ``(value, deepest depth)``.

    ``room(events_so_far)`` is asked every ``STEP`` events; ``False`` raises ``TooLarge``
    (what was built is dropped). Numbers are ``Decimal`` as the parser gives them: ``settle`` them.
    """
    from types import SimpleNamespace

    from ijson.backends import yajl2_c  # its wrapper: the C constructor imports relative to the caller's package

    done: list[Any] = []
    builder = yajl2_c.items_basecoro(SimpleNamespace(send=done.append), "")
    builder.send(("", start, None))
    to_builder, to_depth = tee(events)
    sent = map(builder.send, map(add, repeat(("",)), to_builder))  # ("", event, value): the builder's prefix is that of its root
    depths = accumulate(map(DEPTH_CHANGE.__getitem__, map(_EVENT, to_depth)), initial=1)
    next(depths)
    inside = takewhile(_INSIDE, map(_SECOND, zip(sent, depths)))  # each event is sent to the builder, then its depth read
    deepest, seen = 1, 0
    while not done:
        deepest = max(deepest, max(islice(inside, STEP), default=0))
        seen += STEP
        if not done and not room(seen):
            raise TooLarge
    return done[0], deepest


def settle(value: Any) -> tuple[int, int]:
    """Numbers as ``json.loads`` gives them (``Decimal`` -> ``float``, in place); ``(size, live)``: the automaton's estimates for the tree.

    ``size`` is what ``jsonstream`` books for a built container (64, and per member
    its value's size + 40, per element + 8), ``live`` what it grows the budget by
    (64 a container, each scalar's size + 8).
    """
    members = value.items() if isinstance(value, dict) else enumerate(value)
    size = live = 64
    extra = 40 if isinstance(value, dict) else 8
    for key, item in members:  # a value replaced under its own key: the dict keeps its size and order
        kind = type(item)
        if kind is dict or kind is list:
            inner, inner_live = settle(item)
            size += inner + extra
            live += inner_live
            continue
        if kind is Decimal:
            item = value[key] = float(item)
        scalar = min(sys.getsizeof(item), 1024 * 1024) + 8
        size += scalar + extra
        live += scalar
    return size, live
