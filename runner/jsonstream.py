"""JSONPath on a large JSON body without its tree: the bytes are streamed, only the selected nodes are built.

A body above ``STREAM_THRESHOLD`` bytes is not parsed into Python objects (they
cost 5 to 20 times the text).  Its bytes are fed, 64 KiB at a time, to ijson's
event parser (its C backend, yajl2_c, when installed), and each query runs as
an automaton over its segments: a node whose path can still match is
followed, any other subtree is skipped.  Only these are built as Python
values: the selected nodes, a filter's candidates (one at a time: built,
tested, kept or dropped), and the elements a negative index or slice may pick
(the last ``k`` of them, or all for a general negative slice).  What is built
counts against a budget (``budget_for``): a selection that would pass it
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
RFC 8259 does not, are "not JSON" here.
"""

from __future__ import annotations

import codecs
import re
import sys
from collections import deque
from typing import Any, Iterator

MIB = 1024 * 1024
STREAM_THRESHOLD = 4 * MIB  # a body larger than this is streamed, never parsed into a tree
BUDGET_FLOOR = 64 * MIB  # what a query may build, at least: about what the tree of a body at the threshold costs
MAX_DEPTH = 100  # assertions.MAX_JSON_DEPTH
_CHUNK = 64 * 1024


class BudgetError(ValueError):
    """The selection would build more than the budget allows; the message says how to narrow it."""


class NotJsonError(ValueError):
    """The body is empty or not JSON; the message is the ``json_error`` the tree path gives."""


def budget_for(size: int) -> int:
    """How many bytes of Python values a query of a body of ``size`` bytes may build: the body's size, 64 MiB at least."""
    return max(size, BUDGET_FLOOR)


class Counted(list):  # type: ignore[type-arg]
    """What a count-only query selected: an array of ``count`` nodes, counted while streaming, not built."""

    def __init__(self, count: int):
        super().__init__()
        self.total = count

    def __len__(self) -> int:
        return self.total

    def __repr__(self) -> str:
        return f"({self.total} items, counted while streaming)"


class CountedObject(dict):  # type: ignore[type-arg]
    """An object a count-only singular query selected: its number of members, not its members."""

    def __init__(self, count: int):
        super().__init__()
        self.total = count

    def __len__(self) -> int:
        return self.total

    def __repr__(self) -> str:
        return f"(an object of {self.total} members, counted while streaming)"


COUNT_OPERATORS = frozenset({"exists", "length", "isEmpty", "type"})


def counts_only(predicate: Any) -> bool:
    """Whether ``predicate`` reads only how many nodes (or members) a selection has: no node need be built."""
    if not isinstance(predicate, dict) or not predicate:
        return False
    filters = predicate.get("filters")
    if filters is not None:
        return filters == ["count"]
    return all(op in COUNT_OPERATORS for op in predicate) and not isinstance(predicate.get("type"), dict)


# -- the bytes, as the tree path reads them --------------------------------------------------------

# "\\" pairs are consumed first, so an escape is recognised only where a string has one; a
# surrogate escape cut at the end of a piece waits for the next piece (the first alternative).
_ESCAPES = re.compile(
    r"\\(?:(?P<cut>(?:u(?:[dD](?:[89a-fA-F](?:[0-9a-fA-F](?:[0-9a-fA-F](?:\\(?:u(?:[dD](?:[c-fC-F](?:[0-9a-fA-F](?:[0-9a-fA-F])?)?)?)?)?)?)?)?)?)?)?\Z)"
    r"|\\|(?P<pair>u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?P<lone>u[dD][89a-fA-F][0-9a-fA-F]{2}))"
)


def _repair(text: str, final: bool) -> tuple[str, str]:
    """``text`` with surrogate escapes as ``json.loads`` + ``parse_json`` read them, and what must wait for the next piece."""
    if "\\" not in text:
        return text, ""
    carry = []

    def fix(match: re.Match[str]) -> str:
        if match.group("pair"):
            high, low = int(match.group(0)[2:6], 16), int(match.group(0)[8:12], 16)
            return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        if match.group("lone"):
            return "\ufffd"
        if match.group("cut") is not None and not final:
            carry.append(match.group(0))
            return ""
        return match.group(0)

    return _ESCAPES.sub(fix, text), "".join(carry)


def body_charset(headers: Any) -> str:
    """The body's charset as ``HttpResponse.text`` decodes it: the Content-Type's, UTF-8 if none or unknown."""
    charset = "utf-8"
    for part in (headers.get("content-type", "") if headers is not None else "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        if not codecs.lookup(charset)._is_text_encoding:  # type: ignore[attr-defined]
            return "utf-8"
    except LookupError:
        return "utf-8"
    return charset


def text_length(body: bytes, headers: Any) -> int:
    """How many characters the body's text has, decoded a piece at a time (never whole)."""
    decoder = codecs.getincrementaldecoder(body_charset(headers))(errors="replace")
    view = memoryview(body)
    total = sum(len(decoder.decode(view[start : start + _CHUNK])) for start in range(0, len(body), _CHUNK))
    return total + len(decoder.decode(b"", final=True))


class _Utf8Reader:
    """The body decoded with its charset (bad bytes replaced) and encoded as UTF-8, a piece at a time, for ijson."""

    def __init__(self, body: bytes, charset: str):
        self.body = memoryview(body)
        self.decoder = codecs.getincrementaldecoder(charset)(errors="replace")
        self.offset = 0
        self.carry = ""
        self.blank = True  # only white space so far (str.isspace: as the tree path's test)
        self.done = False

    def read(self, size: int = -1) -> bytes:
        """The next piece (``size`` is a hint); ``b""`` at the end."""
        if size == 0 or self.done:
            return b""
        while True:
            piece = self.body[self.offset : self.offset + _CHUNK]
            self.offset += len(piece)
            final = not piece
            text = self.carry + self.decoder.decode(piece, final=final)
            text, self.carry = _repair(text, final)
            if text and not text.isspace():
                self.blank = False
            if final:
                self.done = True
            if text or final:
                return text.encode("utf-8")


# -- the automaton ---------------------------------------------------------------------------------

_IN, _VISIT, _FILTER, _DEFER = 0, 1, 2, 3  # a node is the input of segment i / visited by descendant segment i / a candidate


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

    def __init__(self, path: str, count_only: bool, budget: int):
        from jsonpath_rfc9535.segments import JSONPathRecursiveDescentSegment

        from .query import compile_jsonpath

        self.path = path
        self.compiled = compile_jsonpath(path)
        self.segments = self.compiled.segments
        self.n = len(self.segments)
        self.descendant = [isinstance(segment, JSONPathRecursiveDescentSegment) for segment in self.segments]
        self.singular = self.compiled.singular_query()
        self.count_only = count_only
        self.budget = budget
        self.live = 0  # estimated bytes of what is built and held
        self.results: list[Any] = []  # (sort key, value), or None where a duplicate key undid it
        self.count = 0
        self.kept = False
        self.tails: dict[int, Any] = {}
        if _refers_to_root(self.compiled):
            raise BudgetError(f"a filter of {path} refers to the whole document ($): above {STREAM_THRESHOLD // MIB} MiB the body is streamed and such a filter cannot be evaluated; use @ (the current node) or a narrower path")

    # -- sizes and the budget

    def _grow(self, size: int) -> None:
        self.live += size
        if self.live > self.budget:
            what = "its selection" if not self.count_only else "the nodes it must test"
            raise BudgetError(
                f"{self.path} needs more than {self.budget // MIB} MiB of memory for {what} (the budget of a body of this size): "
                "narrow the path (an index, a name, a filter) or check only how many nodes it selects (exists, length, filters: [count])"
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
        for state in frame.states:
            kind, i, key = state[0], state[1], state[2]
            if kind == _IN:
                if i == self.n:
                    continue
                prefix: tuple[Any, ...] = ()
            elif kind == _VISIT:
                prefix = (frame.path,)
                if container:
                    out.append(state)
            else:
                continue
            for j, selector in enumerate(self.segments[i].selectors):
                kind_name = type(selector).__name__
                if kind_name == "NameSelector":
                    if frame.is_map and name == selector.name:
                        out.append((_IN, i + 1, key + (prefix + (j, 0),)))
                elif kind_name == "WildcardSelector":
                    out.append((_IN, i + 1, key + (prefix + (j, ordinal),)))
                elif kind_name == "FilterSelector":
                    out.append((_FILTER, i, key, prefix + (j, ordinal), selector))
                elif frame.is_map:
                    continue
                elif kind_name == "IndexSelector":
                    if selector.index >= 0:
                        if index == selector.index:
                            out.append((_IN, i + 1, key + (prefix + (j, 0),)))
                    else:
                        out.append((_DEFER, i, key, prefix, j, selector))
                elif kind_name == "SliceSelector":
                    start, stop, step = selector.slice.start, selector.slice.stop, selector.slice.step or 1
                    if step == 0:
                        continue
                    if step > 0 and (start or 0) >= 0 and (stop is None or stop >= 0):
                        if index >= (start or 0) and (stop is None or index < stop) and (index - (start or 0)) % step == 0:
                            out.append((_IN, i + 1, key + (prefix + (j, index),)))
                    else:
                        out.append((_DEFER, i, key, prefix, j, selector))

    # -- events

    def run(self, events: Iterator[tuple[str, Any]]) -> None:
        """Walk the parse events of the whole body; raises ``NotJsonError`` (too deep) and ``BudgetError``.

        After a failure the rest is still parsed (and nothing kept): a syntax error
        further on makes the body "not JSON", as on the tree path.
        """
        from decimal import Decimal

        stack: list[_Frame] = []
        skip = 0
        failure: ValueError | None = None
        for event, value in events:
            if failure is not None:
                continue
            try:
                if skip:
                    if event == "start_map" or event == "start_array":
                        skip += 1
                        if skip + len(stack) > MAX_DEPTH:
                            raise NotJsonError(f"the body is not JSON (nested more than {MAX_DEPTH} levels deep)")
                    elif event == "end_map" or event == "end_array":
                        skip -= 1
                    continue
                if event == "map_key":
                    self._key(stack[-1], value)
                    continue
                if event == "end_map" or event == "end_array":
                    frame = stack.pop()
                    self._close(frame, stack[-1] if stack else None)
                    continue
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
                if container:
                    if len(stack) + 1 > MAX_DEPTH:
                        raise NotJsonError(f"the body is not JSON (nested more than {MAX_DEPTH} levels deep)")
                    if not states and (parent is None or parent.value is None):
                        skip = 1
                        continue
                    stack.append(self._open(event == "start_map", states, parent))
                else:
                    self._node_done(float(value) if isinstance(value, Decimal) else value, states, parent, None)
            except (NotJsonError, BudgetError) as exc:
                failure = exc
                stack.clear()
                self.results.clear()
        if failure is not None:
            raise failure

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
            elif state[0] == _VISIT or any(type(s).__name__ in ("WildcardSelector", "FilterSelector") for s in self.segments[state[1]].selectors):
                ordered = True
            own.append(state)
        visited = any(state[0] == _VISIT for state in own)
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
            self.live -= sum(sys.getsizeof(key) + 40 for key in frame.keys)
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
                    self._emit(key + (component,), value, i + 1, True)
            elif kind == _DEFER and parent is not None:
                self._defer(parent, state, value, frame)
        if parent is None:
            return
        if parent.value is not None:
            size = frame.size if frame is not None else sys.getsizeof(value) + 8
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
                self.live -= frame.size
            self.kept = frame.kept or self.kept
        if parent.is_map and parent.ranges is not None and (len(self.results) > parent.mark[0] or self.count != parent.mark[1]):
            parent.ranges[parent.key] = (parent.mark[0], len(self.results), self.count - parent.mark[1])

    def _emit(self, key: tuple[Any, ...], value: Any, i: int, built: bool) -> None:
        """``value`` is the input of segment ``i``: the rest of the query runs on it, in-tree (it is built)."""
        tally = self.count_only and not self.singular
        if not built:  # a count-only result
            self.count += 1
            return
        for position, node in enumerate(self._tail(i).finditer(value)):
            self.count += 1
            if tally:
                continue
            self.results.append((key + ((position,),), node.value))
            self.kept = True
            self._grow(_result_size(self.results[-1]))

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
        size = frame.size if frame is not None else sys.getsizeof(value) + 8
        if isinstance(store, deque) and len(store) == store.maxlen:
            self.live -= store[0][2]
        store.append((parent.child, value, size))
        self.kept = True

    def _resolve_deferred(self, frame: _Frame) -> None:
        length = frame.ordinal
        assert frame.deferred is not None
        for (_, i, key, prefix, j), store in frame.deferred.items():
            selector = self.segments[i].selectors[j]
            by_index = {index: value for index, value, _ in store}
            if type(selector).__name__ == "IndexSelector":
                index = selector.index + length if selector.index < 0 else selector.index
                picked = [(0, index)] if 0 <= index < length and selector.index >= -length else []
            else:
                picked = [(position, index) for position, index in enumerate(range(*selector.slice.indices(length)))]
            for position, index in picked:
                if index in by_index:
                    component = prefix + (j, position if type(selector).__name__ == "SliceSelector" else 0)
                    self._emit(key + (component,), by_index[index], i + 1, True)
            self.live -= sum(size for _, _, size in store)
        frame.deferred = None

    def outcome(self) -> Any:
        """The value ``query.json_value`` gives on the tree (a ``Counted`` stand-in for a count-only query)."""
        if self.count_only and not self.singular:
            return Counted(self.count) if self.count else _missing()
        found = [item for item in self.results if item is not None]
        if not found:
            return _missing()
        if self.singular:
            return found[0][1]
        found.sort(key=lambda item: item[0])
        return [value for _, value in found]


def _result_size(result: tuple[Any, Any]) -> int:
    """About how many bytes one kept result costs: its entry, its sort key, its value when not a built container."""
    key, value = result
    size = 8 + sys.getsizeof(result) + sys.getsizeof(key) + sum(sys.getsizeof(part) + 32 * len(part) for part in key)
    return size + (0 if isinstance(value, (dict, list)) else sys.getsizeof(value))


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


def stream_query(body: bytes, headers: Any, path: str, count_only: bool = False, budget: int | None = None) -> Any:
    """What ``path`` selects in the JSON ``body``, as ``query.json_value`` gives it, streamed; raises ``NotJsonError``/``BudgetError``."""
    import ijson

    query = _Query(path, count_only, budget if budget is not None else budget_for(len(body)))
    reader = _Utf8Reader(body, body_charset(headers))
    try:
        query.run(ijson.basic_parse(reader, use_float=False, buf_size=_CHUNK))
    except ijson.JSONError as exc:
        if reader.blank and reader.done:
            raise NotJsonError("the body is empty") from None
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NotJsonError(f"the body is not JSON ({detail})") from None
    except (ValueError, SystemError, UnicodeDecodeError) as exc:  # a number too long for int(), as json.loads refuses it too
        if isinstance(exc, (BudgetError, NotJsonError)):
            raise
        raise NotJsonError(f"the body is not JSON ({' '.join(str(exc).split())[:200]})") from None
    return query.outcome()
