"""JSONPath on a large JSON body without its tree: the bytes are streamed, only the selected nodes are built.

A body above ``STREAM_THRESHOLD`` bytes is not parsed into Python objects (they
cost 5 to 20 times the text).  Its bytes are fed, 64 KiB at a time, to ijson's
event parser (its C backend, yajl2_c, when installed), and each query runs as
an automaton over its segments: a node whose path can still match is
followed, any other subtree is skipped.  Only these are built as Python
values: the selected nodes, a filter's candidates (one at a time: built,
tested, kept or dropped), and the elements a negative index or slice may pick
(the last ``k`` of them, or all for a general negative slice).  What is built
counts against a budget (``jsonbudget``): a selection that would pass it
raises ``BudgetError``, so that check fails with a message and the run goes on.

A query whose predicate needs only how many nodes it selects (``exists``,
``length``, ``isEmpty``, ``type``, ``filters: [count]``) is counted while
streaming and builds nothing: ``$..*`` on a 50 MB body costs its bytes.

Results are the tree path's (``query.json_value`` on ``assertions.parse_json``),
value for value and in the same order: duplicate keys (the last value, at the
first one's place), lone surrogates (U+FFFD), numbers (big integers exact,
floats as ``float``), the 100-level depth rule, the body decoded with its
charset.  Tested side by side in ``tests/unit/test_jsonstream.py``.  One
difference: ``NaN`` and ``Infinity``, which Python's ``json`` accepts and
RFC 8259 does not, are "not JSON" here, as is a number whose exponent
``Decimal`` cannot hold (``bodytext.number_problem``).
"""

from __future__ import annotations

import sys
from collections import deque
from typing import Any

from .bodytext import CHUNK, Utf8Reader, body_charset, number_problem
from .jsonbudget import MIB, RANGE_COST, Budget, BudgetError, Counted, CountedObject, budget_for, counts_only, result_size, scalar_size

__all__ = ["BudgetError", "Counted", "CountedObject", "NotJsonError", "budget_for", "counts_only", "stream_queries", "stream_query"]

STREAM_THRESHOLD = 1 * MIB  # a body larger than this is streamed, never parsed into a tree (its tree: up to ~10 MiB)
MAX_DEPTH = 100  # assertions.MAX_JSON_DEPTH


class NotJsonError(ValueError):
    """The body is empty or not JSON; the message is the ``json_error`` the tree path gives."""


# -- the automaton ---------------------------------------------------------------------------------

_IN, _VISIT, _FILTER, _DEFER = 0, 1, 2, 3  # a node is the input of segment i / visited by descendant segment i / a candidate
_NAME, _ANY, _TEST, _INDEX, _RANGE, _LATER, _NONE = range(7)  # how a selector picks a child (``_plan``)


def _plan(j: int, selector: Any) -> tuple[int, int, Any]:
    """``(j, how, argument)``: a selector as the automaton applies it to each child."""
    kind = type(selector).__name__
    if kind == "NameSelector":
        return j, _NAME, selector.name
    if kind == "WildcardSelector":
        return j, _ANY, None
    if kind == "FilterSelector":
        return j, _TEST, selector
    if kind == "IndexSelector":
        return (j, _INDEX, selector.index) if selector.index >= 0 else (j, _LATER, selector)
    start, stop, step = selector.slice.start, selector.slice.stop, selector.slice.step or 1
    if selector.slice.step == 0:
        return j, _NONE, None
    if step > 0 and (start or 0) >= 0 and (stop is None or stop >= 0):
        return j, _RANGE, (start or 0, stop, step)
    return j, _LATER, selector  # a negative bound or step: decided at the array's end, when its length is known


class _Frame:
    __slots__ = ("is_map", "states", "path", "value", "size", "ordinal", "key", "child", "keys", "ranges", "mark", "deferred", "summary", "kept")

    def __init__(self, is_map: bool, states: list[Any], path: tuple[int, ...]):
        self.is_map = is_map
        self.states = states
        self.path = path
        self.value: Any = None  # the container being built, or None
        self.size = 0
        self.ordinal = 0  # the next child's ordinal: an array's index, an object's member number
        self.key: Any = None
        self.child = 0  # the current child's ordinal
        self.keys: dict[str, int] | None = None  # key -> ordinal, where member order (or count) matters
        self.ranges: dict[str, tuple[int, int, int]] | None = None  # key -> the results its value gave, undone by a later duplicate
        self.mark = (0, 0)
        self.deferred: dict[tuple[Any, ...], Any] | None = None
        self.summary = 0  # count-only singular query selects this node: report its member count
        self.kept = False


class _Query:
    """One JSONPath query run over the parse events of one body."""

    def __init__(self, path: str, count_only: bool, budget: Budget):
        from jsonpath_rfc9535.segments import JSONPathRecursiveDescentSegment

        from .query import compile_jsonpath

        self.path = path
        self.compiled = compile_jsonpath(path)
        self.segments = self.compiled.segments
        self.n = len(self.segments)
        self.descendant = [isinstance(segment, JSONPathRecursiveDescentSegment) for segment in self.segments]
        self.singular = self.compiled.singular_query()
        self.count_only = count_only
        self.tally = count_only and not self.singular  # only a number: no order, no values
        self.budget = budget
        self.own = 0  # this query's part of ``budget.live``
        self.results: list[Any] = []  # (sort key, value), or None where a duplicate key undid it
        self.count = 0
        self.kept = False
        self.tails: dict[int, Any] = {}
        self.plan = [[_plan(j, selector) for j, selector in enumerate(segment.selectors)] for segment in self.segments]
        self.stack: list[_Frame] = []
        self.skip = 0  # how many open containers are being skipped (the stream loop may consume them at C speed)
        self.rest = False  # the outermost of them is an array none of whose later elements can be selected: close it at its end
        self.counting: int | None = None  # an array just opened needs only its elements counted: what each adds to ``count``
        self.building = False  # a node just opened is built whole and nothing below it is selected: the stream loop may build it in C
        self.fast = True  # whether ``building`` may be set (no long-string stand-ins in the body)
        self.failure: BudgetError | None = None
        self.resolve: Any = str  # Utf8Reader.resolve: a long string's stand-in -> the string
        if _refers_to_root(self.compiled):
            raise BudgetError(f"a filter of {path} refers to the whole document ($): above {STREAM_THRESHOLD // MIB} MiB the body is streamed and such a filter cannot be evaluated; use @ (the current node) or a narrower path")

    def _shrink(self, size: int) -> None:
        self.own -= size
        self.budget.live -= size

    # -- sizes and the budget

    def _grow(self, size: int) -> None:
        self.own += size
        self.budget.live += size
        if self.budget.live > self.budget.limit:
            what = "its selection" if not self.count_only else "the nodes it must test and the object members it must remember (a later duplicate key undoes them)"
            raise BudgetError(
                f"{self.path} needs more than {self.budget.limit / MIB:.0f} MiB of memory for {what} (the budget of a body of this size, shared by the checks of the response): "
                + ("narrow the path (an index, a name)" if self.count_only else "narrow the path (an index, a name, a filter) or check only how many nodes it selects (exists, length, filters: [count])")
            )

    # -- results

    def _tail(self, i: int) -> Any:
        query = self.tails.get(i)
        if query is None:
            from jsonpath_rfc9535.query import JSONPathQuery

            query = self.tails[i] = JSONPathQuery(env=self.compiled.env, segments=tuple(self.segments[i:]))
        return query

    # -- child selection

    def _select(self, out: list[Any], frame: _Frame, name: Any, index: int, ordinal: int, container: bool) -> None:
        tally = self.tally  # a count needs no sort keys
        for state in frame.states:
            kind, i, key = state[0], state[1], state[2]
            if kind == _IN:
                if i == self.n:
                    continue
                path: Any = None
            elif kind == _VISIT:
                path = frame.path
                if container:
                    out.append(state)
            else:
                continue
            for j, code, arg in self.plan[i]:
                if code == _NAME:
                    if frame.is_map and name == arg:
                        out.append((_IN, i + 1, key if tally else key + _part(path, j, 0)))
                elif code == _ANY:
                    out.append((_IN, i + 1, key if tally else key + _part(path, j, ordinal)))
                elif code == _TEST:
                    out.append((_FILTER, i, key, _part(path, j, ordinal), arg))
                elif frame.is_map:
                    continue
                elif code == _INDEX:
                    if index == arg:
                        out.append((_IN, i + 1, key if tally else key + _part(path, j, 0)))
                elif code == _RANGE:
                    start, stop, step = arg
                    if index >= start and (stop is None or index < stop) and (index - start) % step == 0:
                        out.append((_IN, i + 1, key if tally else key + _part(path, j, index)))
                elif code == _LATER:
                    out.append((_DEFER, i, key, path, j, arg))

    # -- events

    def feed(self, event: str, value: Any) -> None:
        """One parse event (numbers already converted); a ``BudgetError`` is kept in ``failure`` and ends the query."""
        try:
            self._feed(event, value)
        except BudgetError as exc:
            self.fail(exc)

    def _feed(self, event: str, value: Any) -> None:
        stack = self.stack
        if self.skip:
            if event == "start_map" or event == "start_array":
                self.skip += 1
            elif event == "end_map" or event == "end_array":
                self.skip -= 1
                if not self.skip and self.rest:
                    self.unskipped()
            return
        if event == "map_key":
            self._key(stack[-1], value)
            return
        if event == "end_map" or event == "end_array":
            frame = stack.pop()
            self._close(frame, stack[-1] if stack else None)
            return
        container = event == "start_map" or event == "start_array"
        parent = stack[-1] if stack else None
        states: list[Any] = []
        if parent is None:
            states.append((_IN, 0, ()))
        else:
            index = -1
            if not parent.is_map:
                index = parent.child = parent.ordinal
                parent.ordinal += 1
            if parent.states:
                self._select(states, parent, parent.key, index, parent.child, container)
        if self.tally and states and (parent is None or parent.value is None) and all(state[0] == _IN and state[1] == self.n for state in states):
            self.count += len(states)  # counted, and nothing below it can count
            self.skip = int(container)
            if parent is not None and parent.is_map:
                self._member_done(parent)
        elif not container:
            if type(value) is str and (states or (parent is not None and parent.value is not None)):
                value = self.resolve(value)  # a long string's stand-in, read from the body now that it is needed
            self._node_done(value, states, parent, None)
            if not states and parent is not None and parent.value is None and self._exhausted(parent):
                self.skip, self.rest = 1, True
        elif not states and (parent is None or parent.value is None):
            self.skip = 1
            if parent is not None and self._exhausted(parent):
                self.skip, self.rest = 2, True
        else:
            frame = self._open(event == "start_map", states, parent)
            stack.append(frame)
            if not frame.is_map and frame.value is None:
                self.counting = self._per_element(frame)
            elif self.fast and frame.value is not None and (parent is None or parent.value is None):
                self.building = all(state[0] == _FILTER or state[0] == _DEFER or (state[0] == _IN and state[1] == self.n) for state in frame.states)

    def unskipped(self) -> None:
        """The skipped rest of an array has been consumed, its end event too: the array closes."""
        self.rest = False
        frame = self.stack.pop()
        self._close(frame, self.stack[-1] if self.stack else None)

    def _per_element(self, frame: _Frame) -> int | None:
        """What each element of the array ``frame`` adds to the count, when counting is all they need (``None``: they need the automaton).

        A count-only singular query of the array (its length) needs only how many there are;
        ``$[*]``-like tallies count each once per state; nothing below the elements is read.
        """
        if all(state[0] == _IN and state[1] == self.n for state in frame.states):
            return 0 if frame.summary else None
        if self.tally and not frame.summary and all(state[0] == _IN and state[1] == self.n - 1 for state in frame.states):
            selectors = self.plan[self.n - 1]
            if all(code == _ANY for _, code, _ in selectors):
                return len(frame.states) * len(selectors)
        return None

    def built(self, value: Any) -> None:
        """The node opened last was built whole (``jsonfast.build``, its end consumed): it closes as if built event by event."""
        from .jsonfast import settle

        self.building = False
        frame = self.stack[-1]
        frame.size, live = settle(value)
        frame.value = value
        self._grow(live - 64)  # its own 64 were booked when it opened
        self.unskipped()

    def fail(self, exc: BudgetError) -> None:
        """The query's selection passed the budget: what it built is dropped, ``exc`` is its outcome."""
        self.failure = exc
        self.stack.clear()
        self.results.clear()
        self.budget.live -= self.own
        self.own = 0

    def counted(self, elements: int) -> None:
        """The array opened last had ``elements`` elements, counted (and its end consumed) by the stream loop: it closes."""
        frame = self.stack[-1]
        frame.ordinal = elements
        self.count += elements * (self.counting or 0)
        self.counting = None
        self.unskipped()

    def _exhausted(self, frame: _Frame) -> bool:
        """Whether no later element of the array ``frame`` (not being built) can be selected: the rest of it can be skipped whole."""
        if frame.is_map or frame.summary or frame.value is not None:
            return False
        after = frame.ordinal
        for state in frame.states:
            if state[0] != _IN:
                return False
            if state[1] == self.n:
                continue
            for _, code, arg in self.plan[state[1]]:
                if code == _INDEX and arg >= after or code == _RANGE and (arg[1] is None or arg[1] > after) or code in (_ANY, _TEST, _LATER):
                    return False
        return True

    def _key(self, frame: _Frame, key: str) -> None:
        if frame.keys is not None:
            ordinal = frame.keys.get(key)
            if ordinal is None:
                ordinal = frame.keys[key] = frame.ordinal
                frame.ordinal += 1
                self._grow(sys.getsizeof(key) + 40)
        else:
            ordinal = frame.ordinal
            frame.ordinal += 1
        frame.key, frame.child = key, ordinal
        if frame.ranges is not None and key in frame.ranges:  # a duplicate key: the earlier value is gone, with what it gave
            start, end, count = frame.ranges.pop(key)
            self._shrink(sys.getsizeof(key) + RANGE_COST)
            for position in range(start, end):
                self.results[position] = None
            self.count -= count
        frame.mark = (len(self.results), self.count)

    def _open(self, is_map: bool, states: list[Any], parent: _Frame | None) -> _Frame:
        own = []
        build = parent is not None and parent.value is not None
        summary = ordered = False
        for state in states:
            if state[0] == _IN and state[1] < self.n and self.descendant[state[1]]:
                state = (_VISIT, state[1], state[2])
            if state[0] == _IN and state[1] == self.n:
                if self.count_only and self.singular:
                    summary = True
                elif not self.count_only:
                    build = True
            elif state[0] in (_FILTER, _DEFER):
                build = True
            elif self.tally:
                pass  # a count has no order: no member numbers, no paths
            elif state[0] == _VISIT or any(code in (_ANY, _TEST) for _, code, _ in self.plan[state[1]]):
                ordered = True
            own.append(state)
        visited = not self.tally and any(state[0] == _VISIT for state in own)
        frame = _Frame(is_map, own, parent.path + (parent.child,) if visited and parent is not None else ())
        frame.summary = summary
        if is_map and (ordered or summary):
            frame.keys = {}
        if is_map and own:
            frame.ranges = {}
        if build:
            frame.value = {} if is_map else []
            frame.size = 64
            if parent is None or parent.value is None:  # a build of its own: was anything in it kept?
                frame.kept, self.kept = self.kept, False
            self._grow(64)
        return frame

    def _close(self, frame: _Frame, parent: _Frame | None) -> None:
        if frame.summary:
            count = len(frame.keys) if frame.is_map and frame.keys is not None else frame.ordinal
            for state in frame.states:
                if state[0] == _IN and state[1] == self.n:
                    self.count += 1
                    self.results.append((state[2], CountedObject(count) if frame.is_map else Counted(count)))
        if frame.keys is not None:
            self._shrink(sum(sys.getsizeof(key) + 40 for key in frame.keys))
        if frame.ranges:
            self._shrink(sum(sys.getsizeof(key) + RANGE_COST for key in frame.ranges))
        if frame.deferred:
            self._resolve_deferred(frame)
        self._node_done(frame.value, frame.states, parent, frame)

    def _node_done(self, value: Any, states: list[Any], parent: _Frame | None, frame: _Frame | None) -> None:
        """A node is complete (``frame`` is None for a scalar): its results, its filter tests, then into the parent being built."""
        built = frame is None or frame.value is not None
        for state in states:
            kind = state[0]
            if kind == _IN and state[1] == self.n:
                if frame is None or not frame.summary:
                    self._emit(state[2], value, self.n, built)
            elif kind == _FILTER:
                from jsonpath_rfc9535.filter_expressions import FilterContext

                _, i, key, component, selector = state
                if selector.expression.evaluate(FilterContext(env=self.compiled.env, current=value, root=None)):
                    self._emit(key + component, value, i + 1, True)
            elif kind == _DEFER and parent is not None:
                self._defer(parent, state, value, frame)
        if parent is None:
            return
        if parent.value is not None:
            size = frame.size if frame is not None else scalar_size(value) + 8
            if frame is None:
                self._grow(size)
            if parent.is_map:
                parent.value[parent.key] = value
                parent.size += size + 40
            else:
                parent.value.append(value)
                parent.size += size + 8
        elif frame is not None and frame.value is not None:  # a build of its own ends: freed unless something in it is kept
            if not self.kept:
                self._shrink(frame.size)
            self.kept = frame.kept or self.kept
        if parent.is_map:
            self._member_done(parent)

    def _member_done(self, parent: _Frame) -> None:
        """A member's value is complete: what it gave is undone if its key comes again (the last value wins)."""
        if parent.ranges is not None and (len(self.results) > parent.mark[0] or self.count != parent.mark[1]):
            if parent.key not in parent.ranges:  # remembered to the object's end: a wide object's members add up
                self._grow(sys.getsizeof(parent.key) + RANGE_COST)
            parent.ranges[parent.key] = (parent.mark[0], len(self.results), self.count - parent.mark[1])

    def _emit(self, key: tuple[Any, ...], value: Any, i: int, built: bool) -> None:
        """``value`` is the input of segment ``i``: the rest of the query runs on it, in-tree (it is built)."""
        tally = self.tally
        if not built or (tally and i == self.n):  # a count-only result
            self.count += 1
            return
        for position, node in enumerate(self._tail(i).finditer(value)):
            self.count += 1
            if tally:
                continue
            self.results.append((key + (position,), node.value))
            self.kept = True
            self._grow(result_size(self.results[-1]))

    # -- negative indices and slices: decided at the array's end

    def _defer(self, parent: _Frame, state: tuple[Any, ...], value: Any, frame: _Frame | None) -> None:
        if parent.deferred is None:
            parent.deferred = {}
        selector = state[5]
        slot = state[:5]
        store = parent.deferred.get(slot)
        if store is None:
            width = _ring_width(selector)
            store = parent.deferred[slot] = deque(maxlen=width) if width else []
        size = frame.size if frame is not None else scalar_size(value) + 8
        if isinstance(store, deque) and len(store) == store.maxlen:
            self._shrink(store[0][2])
        store.append((parent.child, value, size))
        self.kept = True

    def _resolve_deferred(self, frame: _Frame) -> None:
        length = frame.ordinal
        assert frame.deferred is not None
        for (_, i, key, path, j), store in frame.deferred.items():
            selector = self.segments[i].selectors[j]
            by_index = {index: value for index, value, _ in store}
            if type(selector).__name__ == "IndexSelector":
                index = selector.index + length if selector.index < 0 else selector.index
                picked = [(0, index)] if 0 <= index < length and selector.index >= -length else []
            else:
                picked = [(position, index) for position, index in enumerate(range(*selector.slice.indices(length)))]
            for position, index in picked:
                if index in by_index:
                    component = _part(path, j, position if type(selector).__name__ == "SliceSelector" else 0)
                    self._emit(key + component, by_index[index], i + 1, True)
            chosen = {index for _, index in picked}
            self._shrink(sum(size for index, _, size in store if index not in chosen))  # what was picked stays counted
        frame.deferred = None

    def outcome(self) -> Any:
        """The value ``query.json_value`` gives on the tree (a ``Counted`` stand-in for a count-only query)."""
        if self.tally:
            return Counted(self.count) if self.count else _missing()
        found = [item for item in self.results if item is not None]
        if not found:
            return _missing()
        if self.singular:
            return found[0][1]
        found.sort(key=lambda item: item[0])
        return [value for _, value in found]


def _part(path: tuple[int, ...] | None, j: int, order: int) -> tuple[Any, ...]:
    """A selection's part of a result's sort key: selector ``j``, then ``order`` within it; after the visited node's ``path`` for ``..``.

    Keys are flat tuples: ``(j, order)`` per child segment; one ``(path, j, order)`` item per
    descendant segment (its visits are in document order: pre-order); the tail's position last.
    """
    return (j, order) if path is None else ((path, j, order),)


def _ring_width(selector: Any) -> int:
    """How many of an array's last elements a negative index or slice can pick (0: it may pick any)."""
    if type(selector).__name__ == "IndexSelector":
        return -selector.index
    start, stop, step = selector.slice.start, selector.slice.stop, selector.slice.step or 1
    if step > 0 and start is not None and start < 0 and (stop is None or stop < 0):
        return -start
    return 0


def _refers_to_root(query: Any) -> bool:
    """Whether a filter anywhere in ``query`` reads ``$`` (it would need the whole document)."""
    from jsonpath_rfc9535.filter_expressions import Expression, RootFilterQuery
    from jsonpath_rfc9535.query import JSONPathQuery

    pending: list[Any] = [query]
    while pending:
        item = pending.pop()
        if isinstance(item, RootFilterQuery):
            return True
        if isinstance(item, JSONPathQuery):
            pending.extend(selector for segment in item.segments for selector in segment.selectors)
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, Expression) or type(item).__name__ == "FilterSelector":
            for cls in type(item).__mro__:
                for name in getattr(cls, "__slots__", ()):
                    if name != "token" and name != "env":
                        pending.append(getattr(item, name, None))
    return False


def _missing() -> Any:
    from .query import MISSING

    return MISSING


def stream_queries(body: bytes, headers: Any, queries: list[tuple[str, bool]], budget: int | None = None) -> list[Any]:
    """What each ``(path, count_only)`` selects in the JSON ``body``, as ``query.json_value`` gives it, in one pass.

    Each outcome is a value (``MISSING`` for nothing), or the ``BudgetError`` of
    that query; raises ``NotJsonError`` when the body is empty or not JSON.
    """
    from .jsonfast import TooLarge

    try:
        return _one_pass(body, headers, queries, budget, True)
    except TooLarge:  # a node built in C might pass the budget: event by event, the automaton stops it exactly there
        return _one_pass(body, headers, queries, budget, False)


def _one_pass(body: bytes, headers: Any, queries: list[tuple[str, bool]], budget: int | None, fast: bool) -> list[Any]:
    import ijson
    from decimal import Decimal

    from . import jsonfast

    shared = Budget(budget if budget is not None else budget_for(len(body)))
    runs: list[Any] = []
    for path, count_only in queries:
        try:
            runs.append(_Query(path, count_only, shared))
        except BudgetError as exc:
            runs.append(exc)
    active = [run for run in runs if isinstance(run, _Query)]
    charset = body_charset(headers)
    problem = number_problem(body, charset)
    if problem:  # before ijson reads it: an error raised inside its C parser may crash the process
        raise NotJsonError(f"the body is not JSON ({problem})")
    reader = Utf8Reader(body, charset)
    for run in active:
        run.resolve = reader.resolve
        run.fast = fast and not reader.lex  # a built node would hold the stand-ins of long strings
    depth = 0
    too_deep = False
    events = iter(ijson.basic_parse(reader, use_float=False, buf_size=CHUNK))
    try:
        for event, value in events:
            if event == "start_map" or event == "start_array":
                depth += 1
                too_deep = too_deep or depth > MAX_DEPTH
            elif event == "end_map" or event == "end_array":
                depth -= 1
            if too_deep or not active:
                continue  # still parsed to the end: a syntax error further on makes it "not JSON", as on the tree path
            if type(value) is Decimal:
                value = float(value)
            elif event == "map_key" and value.startswith(reader.prefix):
                value = reader.resolve(value)
            for run in active:
                run.feed(event, value)
                if run.failure is not None:
                    active = [other for other in active if other.failure is None]
                    break
            if active and active[0].counting is not None:
                if len(active) == 1:  # only how many elements the array has: counted at C speed, one per value at its depth
                    elements, deepest = jsonfast.count_elements(events)
                    too_deep = too_deep or depth - 1 + deepest > MAX_DEPTH
                    depth -= 1
                    active[0].counted(elements)
                    continue
                active[0].counting = None
            if active and active[0].building:
                run = active[0]
                run.building = False
                if len(active) == 1:  # a node built whole, nothing below it selected: built by ijson's C builder
                    fed, budget_left = reader.fed, shared.limit - shared.live
                    built, deepest = jsonfast.build(events, event, lambda seen: seen * 120 + 2 * (reader.fed - fed) < budget_left)
                    too_deep = too_deep or depth - 1 + deepest > MAX_DEPTH
                    depth -= 1
                    try:
                        run.built(built)
                    except BudgetError as exc:
                        run.fail(exc)
                        active = []
                    continue
            if active and active[0].skip and all(run.skip for run in active):
                # every query skips this subtree (or the rest of an array): the events go by at C speed, only depth is kept
                skipped = min(run.skip for run in active)
                deepest = jsonfast.skip(events, skipped)
                too_deep = too_deep or depth - skipped + deepest > MAX_DEPTH
                depth -= skipped
                for run in active:
                    run.skip -= skipped
                    if not run.skip and run.rest:
                        run.unskipped()
    except ijson.JSONError as exc:
        if reader.blank and reader.done:
            raise NotJsonError("the body is empty") from None
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NotJsonError(f"the body is not JSON ({detail})") from None
    except (ValueError, SystemError, UnicodeDecodeError) as exc:  # a number too long for int(): json.loads refuses it too
        raise NotJsonError(f"the body is not JSON ({' '.join(str(exc).split())[:200]})") from None
    if reader.invalid:
        raise NotJsonError(f"the body is not JSON ({reader.invalid})")
    if too_deep:
        raise NotJsonError(f"the body is not JSON (nested more than {MAX_DEPTH} levels deep)")
    return [run if isinstance(run, BudgetError) else run.failure or run.outcome() for run in runs]


def stream_query(body: bytes, headers: Any, path: str, count_only: bool = False, budget: int | None = None) -> Any:
    """What ``path`` selects in the JSON ``body`` (``stream_queries`` for one); raises ``NotJsonError``/``BudgetError``."""
    (outcome,) = stream_queries(body, headers, [(path, count_only)], budget)
    if isinstance(outcome, BudgetError):
        raise outcome
    return outcome
