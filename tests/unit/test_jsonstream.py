"""The streamed JSONPath (``runner/jsonstream.py``) gives what the tree path gives: same values, same order, same errors.

The tree path is ``query.json_value`` on ``assertions.parse_json`` of the text,
exactly as ``ResponseView.json_at`` runs it on a body under the threshold.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from runner import bodytext, jsonstream
from runner.assertions import _NOT_JSON, ResponseView, check_assertion, parse_json
from runner.jsonstream import BudgetError, Counted, NotJsonError, counts_only, stream_query
from runner.model import Assertion
from runner.query import MISSING, json_value

PATHS = [
    "$", "$.*", "$..*", "$..id", "$[0]", "$[-1]", "$[-2]", "$[1:3]", "$[::-1]", "$[-3:]", "$[:-2]", "$[::2]", "$[5:1:-2]",
    "$[-4:-1]", "$[0].id", "$[*].id", "$[*].sub.deep[1].id", "$[?@.id > 2]", "$[?@.id > 2].name", "$..[?@.id]", "$..[?@.id].id",
    "$[?@.price < 3 && @.id != 1]", "$[?@.name == 'n3' || @.id == 0]", "$[?!@.tags]", "$.a", "$.b.c[2].a", "$..a", "$.b..a",
    "$..c[*]", "$['a','b']", "$['b','a'].*", "$[0,2,0]", "$[0,-1]", "$..[0]", "$..[-1]", "$..*[?@ > 1]", "$[?length(@.tags) == 1].id",
    "$[?count(@.*) > 4]", "$[?match(@.name, 'n[0-3]')].id", "$..x", "$.*.*", "$[*][*]", "$..[1:]", "$..[::-1]", "$.e", "$.f", "$.g",
    "$[2]", "$.nope", "$..nope", "$[10]", "$[-10]", "$['k\ufffd']", "$.k\ufffd", "$..['\U0001f600']",
    "$[0:1]", "$[1][0]", "$[*][0]", "$[0][0][1]", "$[0:2][0:1]", "$[1:2].sub.deep[0]", "$['a.b'].item[1]['']", "$.item[0]", "$['']", "$..['é.ü']",
]

SHAPES: dict[str, bytes] = {
    "array of objects": json.dumps(
        [{"id": i, "name": f"n{i}", "tags": ["a", "b"][: i % 3], "price": i * 1.5, "sub": {"id": -i, "deep": [i, {"id": "x"}]}} for i in range(7)]
    ).encode(),
    "object": json.dumps({"a": 1, "b": {"a": 2, "c": [1, 2, {"a": 3}]}, "c": [], "d": {}, "e": None, "f": True, "g": "s"}).encode(),
    "numbers": b"[0, -0, -0.0, 1.0, 1E2, 1e400, -1e400, 0.1, 1.7976931348623157e308, 12345678901234567890123, 2.50, 3e-5, true, null]",
    "scalar": b" 42 ",
    "string": b'"hello"',
    "nesting": json.dumps([[[1, [2, [3]]]], {"x": [[{"x": 1}]]}]).encode(),
    "duplicate keys": b'{"a": 1, "b": {"x": 1, "id": 3}, "a": {"y": 2, "id": 4}, "c": [1, {"a": 5, "a": 6}], "b": [7]}',
    "surrogates": b'{"k\\ud800": "\\ud800x\\ud83d\\ude00\\udc00\\\\ud800", "b": ["\\uDBFF\\uDFFF", "\\\\\\ud800"], "\\ud83d\\ude00": {"x": 1}}',
    "100 levels": b"[" * 100 + b"1" + b"]" * 100,
    "101 levels": b"[" * 101 + b"1" + b"]" * 101,
    "101 levels, then broken": b"[" * 101 + b"1" + b"]" * 100,
    "empty": b"",
    "white space": b"  \n\t ",
    "cut short": b'[1, {"a": 2',
    "trailing data": b"[1] x",
    "NUL in a string": b'["a\\u0000b", "\\"quoted\\" \\\\ \\/ \\n"]',
    "invalid UTF-8": b'{"a": "x\xff\xfey", "b\xc3": 1}',
    "UTF-8 BOM": b'\xef\xbb\xbf{"a": 1}',
    "odd keys": json.dumps({"a.b": {"item": [1, {"": 2}]}, "item": [[3, [4]], 5], "": {"é.ü": 4, "item.0": 6}}).encode(),
    "arrays in arrays": json.dumps([[[1, 2], [3]], [[4, [5, 6]], 7], [], [[8]]]).encode(),
}


def tree(body: bytes, path: str, headers: Any = None) -> Any:
    """What a body under the threshold gives: ``json_value`` on ``parse_json`` of the decoded text."""
    view = ResponseView(200, headers or {}, None, 0.0, body=body)
    value = view.json_at(path)
    return ("error", view.json_error) if value is MISSING and view.json_error else value


def streamed(body: bytes, path: str, headers: Any = None, count_only: bool = False) -> Any:
    try:
        return stream_query(body, headers or {}, path, count_only)
    except NotJsonError as exc:
        return ("error", str(exc))


def same(left: Any, right: Any) -> bool:
    """Equal as JSON values and as Python types (``1`` is not ``1.0``, ``True`` is not ``1``), in the same order."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[key], right[key]) for key in left)
    if isinstance(left, (list, tuple)):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right))
    if isinstance(left, float) and left != left:
        return right != right
    return bool(left == right) or (left is MISSING and right is MISSING)


def _errors_alike(want: Any, got: Any) -> bool:
    """Both say the body is empty, or both say it is not JSON (yajl and ``json`` word the detail differently)."""
    if not (isinstance(want, tuple) and isinstance(got, tuple)):
        return False
    if "nested more than" in want[1]:
        return want[1] == got[1]
    return want[1].split("(")[0] == got[1].split("(")[0]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_path_gives_what_the_tree_gives(shape: str) -> None:
    body = SHAPES[shape]
    for path in PATHS:
        want, got = tree(body, path), streamed(body, path)
        assert same(want, got) or _errors_alike(want, got), f"{shape}: {path}\n tree:     {want!r}\n streamed: {got!r}"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_all_paths_in_one_pass_give_what_the_tree_gives(shape: str) -> None:
    """Queries share one pass: one skipping a subtree (or an array's rest) while another reads it changes nothing."""
    body = SHAPES[shape]
    try:
        outcomes = jsonstream.stream_queries(body, {}, [(path, False) for path in PATHS])
    except NotJsonError:
        assert tree(body, "$")[0] == "error"
        return
    for path, got in zip(PATHS, outcomes):
        want = tree(body, path)
        assert same(want, got) or isinstance(got, BudgetError), f"{shape}: {path}\n tree:     {want!r}\n streamed: {got!r}"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_count_only_query_counts_what_the_tree_selects(shape: str) -> None:
    body = SHAPES[shape]
    for path in PATHS:
        want, got = tree(body, path), streamed(body, path, count_only=True)
        if isinstance(want, tuple) or want is MISSING:
            assert same(want, got) or _errors_alike(want, got), f"{shape}: {path}: {got!r}"
        elif isinstance(want, (list, dict, str)):
            assert type(got) is type(want) or isinstance(got, type(want)), f"{shape}: {path}: {got!r}"
            assert len(got) == len(want), f"{shape}: {path}: {len(got)} != {len(want)}"
        else:
            assert same(want, got), f"{shape}: {path}: {got!r}"


@pytest.mark.parametrize("chunk", [1, 5, 13])
def test_pieces_cut_anywhere_give_the_same_results(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """An escape (``\\ud83d\\ude00``, ``\\\\``) cut between two pieces of the body is read whole."""
    monkeypatch.setattr(bodytext, "CHUNK", chunk)
    for shape in ("surrogates", "NUL in a string", "duplicate keys", "invalid UTF-8", "array of objects"):
        for path in PATHS:
            want, got = tree(SHAPES[shape], path), streamed(SHAPES[shape], path)
            assert same(want, got) or _errors_alike(want, got), f"{shape} in pieces of {chunk}: {path}"


def _random_value(rnd: random.Random, depth: int = 0) -> Any:
    roll = rnd.random()
    if depth > 4 or roll < 0.3:
        return rnd.choice([1, 2.5, "s", None, True, -3, "a", 0, False, 10**20])
    if roll < 0.65:
        return [_random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    return {rnd.choice("abcx"): _random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))}


def _with_duplicates(rnd: random.Random, value: Any) -> str:
    """``value`` as JSON text, some objects given a key twice."""
    if isinstance(value, dict):
        members = [(key, _with_duplicates(rnd, item)) for key, item in value.items()]
        if members and rnd.random() < 0.3:
            members.insert(rnd.randint(0, len(members)), (members[0][0], json.dumps(_random_value(rnd, 3))))
        return "{" + ",".join(f"{json.dumps(key)}:{item}" for key, item in members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_with_duplicates(rnd, item) for item in value) + "]"
    return json.dumps(value)


@pytest.mark.parametrize("seed", range(4))
def test_random_documents_give_the_same_results(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(40):
        body = _with_duplicates(rnd, _random_value(rnd)).encode()
        for path in PATHS:
            want, got = tree(body, path), streamed(body, path)
            assert same(want, got), f"{body!r}: {path}\n tree:     {want!r}\n streamed: {got!r}"


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "cp1252"])
def test_the_body_is_decoded_with_its_charset(charset: str) -> None:
    body = json.dumps({"name": "café €", "items": [{"é": 1}]}, ensure_ascii=False).encode(charset, errors="replace")
    headers = {"content-type": f"application/json; charset={charset}"}
    for path in ("$.name", "$.items[0]", "$..*", "$.items[*]['é']"):
        assert same(tree(body, path, headers), streamed(body, path, headers)), path


def test_a_selection_larger_than_the_budget_is_refused_and_a_count_is_not() -> None:
    body = json.dumps([{"id": i, "name": "x" * 50} for i in range(20_000)]).encode()
    with pytest.raises(BudgetError, match=r"\$\[\*\] needs more than 0 MiB .* narrow the path .* \(exists, length, filters: \[count\]\)"):
        stream_query(body, {}, "$[*]", budget=100_000)
    assert len(stream_query(body, {}, "$[*]", count_only=True, budget=100_000)) == 20_000
    assert len(stream_query(body, {}, "$..*", count_only=True, budget=100_000)) == 60_000
    assert stream_query(body, {}, "$[?@.id == 19999].name", budget=100_000) == ["x" * 50]  # candidates are built one at a time
    assert stream_query(body, {}, "$[-1].id", budget=100_000) == 19_999
    with pytest.raises(BudgetError):
        stream_query(body, {}, "$[::-1]", budget=100_000)  # a negative step keeps every element until the end
    assert stream_query(body, {}, "$[-2:]", budget=100_000) == [{"id": 19_998, "name": "x" * 50}, {"id": 19_999, "name": "x" * 50}]


def test_a_node_built_in_c_that_may_pass_the_budget_is_built_again_event_by_event() -> None:
    """``jsonfast.build`` gives up when a node might pass the budget; the automaton then decides exactly: kept if it fits, refused if not."""
    inner = list(range(70_000))  # more events than one build step: the budget is looked at mid-build
    body = json.dumps([inner, {"a": 1.5, "a": 2.25, "b": [0.1, 12345678901234567890123]}]).encode()
    assert stream_query(body, {}, "$[0]", budget=6 * 1024 * 1024) == inner  # about 3 MB estimated: fits, after the redo
    with pytest.raises(BudgetError):
        stream_query(body, {}, "$[0]", budget=1024 * 1024)
    assert same(stream_query(body, {}, "$[-1]"), json.loads(body)[-1])  # built in C: the last duplicate wins, floats are floats


def test_a_filter_on_the_whole_document_is_refused_by_name() -> None:
    with pytest.raises(BudgetError, match=r"refers to the whole document \(\$\)"):
        stream_query(b'{"a": [1, 2], "b": 2}', {}, "$.a[?@ == $.b]")


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ({"exists": True}, True),
        ({"length": 3}, True),
        ({"length": {"gt": 1}, "type": "array"}, True),
        ({"isEmpty": False}, True),
        ({"filters": ["count"], "eq": 3}, True),
        ({"filters": ["count", "toString"]}, False),
        ({"eq": 3}, False),
        ({"type": {"eq": "array"}}, False),
        ({"not": {"exists": True}}, True),
        ({"not": {"eq": 3}}, False),
        ([{"exists": True}, {"length": {"lt": 9}}], True),
        ([{"exists": True}, {"contains": 3}], False),
        (3, False),
    ],
    ids=repr,
)
def test_which_predicates_only_count(predicate: Any, expected: bool) -> None:
    assert counts_only(predicate) is expected


def _large(monkeypatch: pytest.MonkeyPatch, body: bytes) -> ResponseView:
    monkeypatch.setattr(jsonstream, "STREAM_THRESHOLD", 16)  # the streamed path on a small body
    return ResponseView(200, {"content-type": "application/json"}, None, 0.0, body=body)


def test_a_check_on_a_large_body_reads_the_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    view = _large(monkeypatch, json.dumps({"items": [{"id": 1}, {"id": 2}, {"id": 3}]}).encode())
    passed = check_assertion(Assertion("json", "$.items[*].id", None), {"length": 3}, view)
    assert passed.passed and passed.actual == "(3 items, counted while streaming)"
    failed = check_assertion(Assertion("json", "$.items[*].id", None), {"length": 4}, view)
    assert not failed.passed and failed.actual == "length 3"
    value = check_assertion(Assertion("json", "$.items[-1]", None), {"eq": {"id": 3}}, view)
    assert value.passed and value.actual == '{"id": 3}'
    assert view._json is _NOT_JSON  # no tree was built


def test_a_large_body_that_is_not_json_fails_the_check_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    view = _large(monkeypatch, b'{"items": [1, 2, ')
    result = check_assertion(Assertion("json", "$.items", None), {"exists": True}, view)
    assert not result.passed and result.actual == "(no JSON)" and result.message.startswith("the body is not JSON (parse error")


def test_the_tree_path_is_the_reference() -> None:
    """Sanity of the oracle: ``json_value`` on ``parse_json`` (last duplicate wins, at the first one's place)."""
    assert json_value("$.*", parse_json('{"a": 1, "b": 2, "a": 3}')) == [3, 2]
    assert len(Counted(2)) == 2 and repr(Counted(2)) == "(2 items, counted while streaming)"


LONG_STRINGS = {
    "escapes": b'{"text": "line\\nbreak \\"quoted\\" back\\\\slash \\u00e9 \\ud83d\\ude00 lone \\ud800 end", "n": 1}',
    "long key": b'{"a very long key indeed": {"x": 1}, "k": "a very long value too"}',
    "invalid UTF-8 inside": b'["abc\xff\xfedef", "\xe2\x82", "tail \xe2\x82"]',
    "control character": b'{"a": "long enough\ttab", "b": 1}',
    "escaped quote at a cut": b'["aaaa\\"", "bbbb\\\\", "\\\\\\"cc"]',
    "cut inside": b'{"a": "never closed',
}


@pytest.mark.parametrize("chunk", [1, 7, 65536])
def test_long_strings_read_from_the_body_give_the_same_results(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """Every string over 3 bytes goes through the stand-in (the parser never sees it) and is read back when selected."""
    monkeypatch.setattr(bodytext, "LONG_STRING", 3)
    monkeypatch.setattr(bodytext, "CHUNK", chunk)
    for shape, body in {**SHAPES, **LONG_STRINGS}.items():
        for path in PATHS + ["$.text", "$['a very long key indeed'].x", "$..*", "$[*]"]:
            want, got = tree(body, path), streamed(body, path)
            assert same(want, got) or _errors_alike(want, got), f"{shape} (pieces of {chunk}): {path}\n tree:     {want!r}\n streamed: {got!r}"


def test_a_giant_string_is_not_held_by_the_parser() -> None:
    """A string of many MiB: selected, it is read from the body once; not selected, it is never built."""
    body = b'{"blob": "' + b"x" * (3 * 1024 * 1024) + b'\\n", "n": 1}'
    assert stream_query(body, {}, "$.n") == 1
    assert stream_query(body, {}, "$.blob") == "x" * (3 * 1024 * 1024) + "\n"
    assert len(stream_query(body, {}, "$.blob", count_only=True)) == 3 * 1024 * 1024 + 1


LONG_NUMBERS = {
    "top-level integer": b"1" * 5000,
    "negative, then white space": b"-" + b"1" * 5000 + b"   ",
    "at the end of a cut array": b"[1, " + b"1" * 5000,
    "in an array": b"[" + b"1" * 5000 + b"]",
    "after an escaped backslash": b'["\\\\", ' + b"1" * 5000 + b"]",
    "a long fraction": b"[1." + b"1" * 5000 + b"]",
    "in a string": b'["' + b"1" * 5000 + b'", "e' + b"1" * 30 + b'"]',
}


@pytest.mark.parametrize("shape", list(LONG_NUMBERS))
@pytest.mark.parametrize("charset", ["utf-8", "utf-16"])
def test_a_number_the_parser_cannot_read_is_not_json_as_on_the_tree(shape: str, charset: str) -> None:
    """An integer over Python's digit limit raised inside ijson's C parser and could crash the process (issue 10 audit)."""
    body = LONG_NUMBERS[shape].decode().encode(charset)
    headers = {"content-type": f"application/json; charset={charset}"}
    for path in ["$", "$..*", "$[0]"]:
        want, got = tree(body, path, headers), streamed(body, path, headers)
        assert same(want, got) or want == got, f"{shape}: {path}\n tree:     {want!r}\n streamed: {got!r}"


def test_an_exponent_out_of_decimal_range_is_not_json_not_a_crash() -> None:
    """The tree reads 1e<30 digits> as infinity; the parser's ``Decimal`` cannot: a large body says it is not JSON."""
    body = b"[1, 1e" + b"1" * 30 + b"]"
    assert streamed(body, "$[0]") == ("error", "the body is not JSON (a number's exponent has more than 18 digits)")
    assert streamed(b"[1e-" + b"1" * 18 + b"]", "$[0]") == 0.0


def test_the_members_remembered_for_duplicate_keys_count_against_the_budget() -> None:
    """Counting ``$..*`` over an object of a million members remembered each key unbudgeted: 4.6x the body (issue 10 audit)."""
    body = ("{" + ",".join(f'"k{i}": {i}' for i in range(20000)) + ', "k7": [1, 2]}').encode()
    assert len(stream_query(body, {}, "$..*", count_only=True)) == len(json_value("$..*", parse_json(body.decode()))) == 20002
    with pytest.raises(BudgetError, match=r"\$\.\* needs more than 1 MiB .* members it must remember"):
        stream_query(body, {}, "$.*", count_only=True, budget=1024 * 1024)
    assert len(stream_query(body, {}, "$.k7[*]", count_only=True, budget=1024 * 1024)) == 2  # a name selects: nothing remembered
