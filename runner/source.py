"""YAML text -> plain data, plus a map from JSON pointer to file:line:col.

PyYAML's composer gives nodes with marks; we build the data ourselves from the node
tree so that every value keeps its location, duplicate keys are caught, and the YAML
pitfalls listed in FORMAT.md get an error that names the fix.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Location, Problem

try:  # the C parser is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on the platform's PyYAML build
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n", "true", "false"}


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """PyYAML with YAML 1.2 core-schema resolution of plain scalars.

    PyYAML follows YAML 1.1: ``yes``/``no``/``on``/``off`` are booleans, ``0123`` is octal,
    ``1:30`` is sexagesimal, ``2024-01-01`` a date, ``1_000`` a number.  YAML 1.2 (and what a
    JSON user expects) has only ``true``/``false``, decimal ``0123``, and the rest as text.
    """

    yaml_implicit_resolvers: dict[Any, Any] = {}


_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"), list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])
# text a YAML 1.1 reader (and a human) takes for a number, but YAML 1.2 keeps as text
_NUMBER_LIKE = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?$")


@dataclass
class SourceDoc:
    """A parsed YAML file: its data and where every node of it came from."""

    path: str
    text: str
    data: Any
    locations: dict[str, tuple[int, int]] = field(default_factory=dict)
    raw_scalars: dict[str, str] = field(default_factory=dict)
    key_locations: dict[str, tuple[int, int]] = field(default_factory=dict)
    quote_source: bool = True  # False: problems never show a line of this file (it holds secrets)

    def location(self, pointer: str, key: bool = False) -> Location:
        """The location of the node at ``pointer`` (of its key with ``key``), or of its nearest ancestor."""
        if key and pointer in self.key_locations:
            line, col = self.key_locations[pointer]
            return Location(self.path, line, col, pointer)
        probe = pointer
        while True:
            if probe in self.locations:
                line, col = self.locations[probe]
                return Location(self.path, line, col, pointer)
            if not probe:
                return Location(self.path, 1, 1, pointer)
            probe = probe.rsplit("/", 1)[0]

    def source_line(self, line: int) -> str:
        """The text of a 1-based line of the file."""
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def problem(self, message: str, pointer: str, hint: str = "", key: bool = False) -> Problem:
        """A ``Problem`` located at ``pointer`` (its key with ``key``) with its source line attached."""
        loc = self.location(pointer, key)
        return Problem(message, loc, hint, self.source_line(loc.line) if self.quote_source else "", self.quote_source)


def escape_pointer(key: Any) -> str:
    """Escape one JSON pointer segment."""
    return str(key).replace("~", "~0").replace("/", "~1")


def read_yaml(path: Path | str, label: str | None = None, quote_source: bool = True, what: str = "file") -> SourceDoc:
    """Read and parse a YAML file (``what`` names its role in messages: "environment file"); an unreadable or invalid file raises ``InputError`` (quoting no line without ``quote_source``)."""
    shown = label or str(path)
    return parse_yaml(read_text_file(path, what, shown), shown, quote_source)


def read_text_file(path: Path | str, what: str = "file", shown: str | None = None, encoding: str = "utf-8") -> str:
    """A UTF-8 file's text; a missing, folder, undecodable or unreadable one raises ``InputError`` naming it (as ``shown``) and ``what`` it is."""
    shown = shown or str(path)
    try:
        return Path(path).read_text(encoding=encoding)
    except FileNotFoundError:
        raise InputError(f"{what} not found: {shown}") from None
    except IsADirectoryError:
        raise InputError(f"expected a file, found a folder: {shown} ({what})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{shown} is not UTF-8 text ({exc.reason} at byte {exc.start}): {what}s are read as UTF-8") from None
    except OSError as exc:
        raise InputError(f"cannot read {shown}: {exc.strerror or exc}") from None


def parse_yaml(text: str, path: str, quote_source: bool = True) -> SourceDoc:
    """Parse YAML text into a ``SourceDoc``."""
    doc = SourceDoc(path=path, text=text, data=None, quote_source=quote_source)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _input_error([_syntax_problem(exc, doc)], doc) from None
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        raise InputError(f"{path}: invalid YAML: {exc}") from None
    if node is None:
        doc.data = None
        return doc
    problems = _check_nodes(node, doc)
    if problems:  # building would recurse forever, explode, or meet a tag we do not construct
        raise _input_error(problems, doc)
    doc.data = _build(node, "", doc, problems, yaml.SafeLoader(""))  # a constructor per document: it caches what it builds
    if problems:
        raise _input_error(problems, doc)
    return doc


def _input_error(problems: list[Problem], doc: SourceDoc) -> InputError:
    """The problems of ``doc`` as one error, their source lines dropped when it must not be quoted."""
    if not doc.quote_source:
        for problem in problems:
            problem.source_line, problem.quote_source = "", False
    return InputError(problems)


_TAG_STR = "tag:yaml.org,2002:str"
_TAG_BOOL = "tag:yaml.org,2002:bool"
_TAG_INT = "tag:yaml.org,2002:int"
_TAG_FLOAT = "tag:yaml.org,2002:float"
# Tags a collection may use: YAML's plain data types. Anything else (``!!python/object``,
# ``!custom``) is an input error: the loader never constructs objects.
_SAFE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary", "set", "merge")
)
MAX_DEPTH = 100
MAX_ALIAS_VALUES = 100_000  # values repeated through aliases; an alias bomb repeats billions


def _tag_name(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


def _check_nodes(root: yaml.Node, doc: SourceDoc) -> list[Problem]:
    """Reject unsafe tags, deep nesting and alias bombs before building, without recursion."""
    problems: list[Problem] = []
    stack = [(root, 1)]
    seen: set[int] = set()
    repeated = 0
    while stack:
        node, depth = stack.pop()
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        where = Location(doc.path, line, col)
        if id(node) in seen:
            repeated += 1
            if repeated > MAX_ALIAS_VALUES:
                problems.append(Problem(f"YAML aliases expand to more than {MAX_ALIAS_VALUES} values", where, "an alias (*name) repeats everything its anchor holds: use fewer of them", doc.source_line(line)))
                break
        seen.add(id(node))
        if depth > MAX_DEPTH:
            problems.append(Problem(f"the document nests more than {MAX_DEPTH} levels deep", where, "nest less deeply; a YAML alias (*name) inside the value it names nests forever", doc.source_line(line)))
            break
        if node.tag not in _SAFE_TAGS:
            hint = "a collection is plain data (strings, numbers, booleans, lists, mappings): remove the tag"
            problems.append(Problem(f"unsupported YAML tag {_tag_name(node.tag)}", where, hint, doc.source_line(line)))
            continue
        if isinstance(node, yaml.MappingNode):
            stack.extend((child, depth + 1) for pair in node.value for child in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
    return problems


def _build(node: yaml.Node, pointer: str, doc: SourceDoc, problems: list[Problem], constructor: Any) -> Any:
    doc.locations[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        try:
            constructor.flatten_mapping(node)  # resolve `<<: *anchor` merge keys
        except yaml.MarkedYAMLError as exc:
            problems.append(doc.problem(f"invalid merge key (<<): {exc.problem}", pointer, "<< takes an alias to a mapping, or a list of them"))
            return {}
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line = doc.source_line(key_node.start_mark.line + 1)
                problems.append(
                    Problem(
                        "a mapping cannot be used as a key",
                        Location(doc.path, key_node.start_mark.line + 1, key_node.start_mark.column + 1, pointer),
                        _template_hint(line) or "quote the key",
                        line,
                    )
                )
                continue
            key = key_node.value  # keys stay as written: `on:` is the text "on", not True
            child = f"{pointer}/{escape_pointer(key)}"
            doc.key_locations.setdefault(child, (key_node.start_mark.line + 1, key_node.start_mark.column + 1))
            if key in result:
                doc.locations[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                problems.append(doc.problem(f"duplicate key {key!r}", child, "each key may appear once in a mapping"))
                continue
            result[key] = _build(value_node, child, doc, problems, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, f"{pointer}/{i}", doc, problems, constructor) for i, item in enumerate(node.value)]
    try:
        value = _scalar(node, constructor)
    except Exception:  # PyYAML's constructors fail in assorted ways (ValueError, IndexError...) on a value unfit for its tag
        shown = repr(node.value) if doc.quote_source else "the value"
        problems.append(doc.problem(f"{shown} is not a valid {_tag_name(node.tag)} value", pointer, "remove the tag, or quote the value to keep it as text"))
        return None
    if not node.style and (node.tag in (_TAG_BOOL, _TAG_FLOAT, _TAG_INT) or (isinstance(value, str) and "_" in value and _NUMBER_LIKE.match(value))):
        doc.raw_scalars[pointer] = node.value  # a plain scalar that may not be what was meant: see scalar_pitfall
    return value


def _scalar(node: yaml.ScalarNode, constructor: Any) -> Any:
    if node.tag == _TAG_STR:
        return node.value
    if node.tag in _CORE:
        return _CORE[node.tag](node.value)
    return constructor.construct_object(node, deep=True)


def _core_bool(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(text)
    return text.lower() == "true"


def _core_int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 16) if text.lower().startswith("0x") else int(text, 10)  # 0123 is 123: YAML 1.2 has no leading-0 octal


def _core_float(text: str) -> float:
    special = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
    return special[text.lower()] if text.lower() in special else float(text)


def _core_null(text: str) -> None:
    if text not in ("", "~", "null", "Null", "NULL"):
        raise ValueError(text)


_CORE = {_TAG_BOOL: _core_bool, _TAG_INT: _core_int, _TAG_FLOAT: _core_float, "tag:yaml.org,2002:null": _core_null}


class _ForeignLoader(_Loader):
    """The same YAML 1.2 scalars, built by PyYAML directly: for large foreign documents (OpenAPI specs)."""


for _tag, _convert in _CORE.items():
    _ForeignLoader.add_constructor(_tag, lambda loader, node, convert=_convert: convert(loader.construct_scalar(node)))


def load_foreign_yaml(stream: Any) -> Any:
    """A YAML document that is not a collection (an OpenAPI spec): fast, without locations, read as collections are.

    YAML 1.2 scalars: ``1e+09`` is a number and ``yes`` is text, as in JSON and in the
    spec's authors' tools; PyYAML's YAML 1.1 default reads them the other way round.
    """
    return yaml.load(stream, Loader=_ForeignLoader)  # noqa: S506 - a safe loader


def _template_hint(line: str) -> str:
    if "{{" in line:
        return 'a value that starts with "{{" must be quoted, e.g. model: "{{ model }}"'
    return ""


def _syntax_problem(exc: yaml.MarkedYAMLError, doc: SourceDoc) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    col = mark.column + 1 if mark else 0
    text = doc.source_line(line)
    reason = exc.problem or exc.context or "invalid YAML"
    hint = ""
    if "\t" in reason or "'\\t'" in reason or (text and "\t" in text[: max(col, 1)]):
        hint = "YAML does not allow tabs for indentation: indent with spaces"
    elif _template_hint(text) or _template_hint(doc.source_line(line - 1)):
        hint = _template_hint(text) or _template_hint(doc.source_line(line - 1))
    elif "{" in text and ("mapping values are not allowed" in reason or "expected ','" in reason or "?" in text):
        hint = "inside {...}, quote a string that holds ': ', ', ' or ' #', or that starts with [, {, *, &, !, %, @ or a quote"
    elif "mapping values are not allowed" in reason:
        hint = "a plain value cannot contain ': ' - quote it"
    return Problem(f"invalid YAML: {reason}", Location(doc.path, line, col), hint, text)


def scalar_pitfall(doc: SourceDoc, pointer: str, value: Any) -> str:
    """A hint when the unquoted text at ``pointer`` does not reach JSON as written (``1.10``, ``0123``, ``1e3``, ``1_000``)."""
    raw = doc.raw_scalars.get(pointer)
    if raw is None:
        return ""
    if isinstance(value, str):  # looked like a number, stays text
        return f"YAML 1.2 keeps {raw} as the text {raw!r} (no digit separators): write {raw.replace('_', '')} for the number, or quote it ('{raw}') for the text"
    if isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)):
        shown = json.dumps(value) if math.isfinite(value) else ""
        if shown == raw:
            return ""
        if not shown:
            return f"YAML reads {raw} as a number JSON cannot hold: quote it ('{raw}')"
        return f"YAML reads {raw} as the number {shown}: quote it ('{raw}') to keep the text as written, or write {shown}"
    return ""


def rewritten_scalars(doc: SourceDoc, pointer_pattern: str) -> list[Problem]:
    """A problem for every unquoted scalar under pointers matching ``pointer_pattern`` whose text YAML changes."""
    pattern = re.compile(pointer_pattern)
    problems = []
    for pointer in sorted(doc.raw_scalars, key=lambda p: doc.locations.get(p, (0, 0))):
        if pattern.match(pointer):
            hint = scalar_pitfall(doc, pointer, _value_at(doc.data, pointer))
            if hint:
                problems.append(doc.problem(f"{describe_pointer(pointer)}: the value is not the text you wrote", pointer, hint))
    return problems


def _value_at(data: Any, pointer: str) -> Any:
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        data = data[int(part)] if isinstance(data, list) else data.get(part) if isinstance(data, dict) else None
    return data


def describe_pointer(pointer: str) -> str:
    """``/requests/0/json/a`` as ``requests[0].json.a``."""
    out = ""
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "collection"
