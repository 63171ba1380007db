"""JSON Schemas by path, ``#pointer`` or inline; local-only ``$ref`` resolution; a validator cache.

Schemas are resolved through a ``referencing.Registry`` whose retriever reads only
local files inside the project root: nothing is ever fetched over the network.
Compiled validators are cached per schema for the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .errors import InputError, Problem
from .model import SchemaRef
from .redact import shorten

MAX_ERRORS = 10
OUTSIDE_HINT = "keep schemas inside the project (the folder with .git or pyproject.toml), or run with --allow-outside-refs"


@dataclass(frozen=True)
class SchemaViolation:
    """One schema error: where in the instance, which keyword failed, and why."""

    pointer: str
    keyword: str
    message: str


def _read_document(path: Path) -> Any:
    """A JSON or YAML schema file as data; ``ValueError`` when it is neither."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        from .source import parse_yaml

        try:  # the collection's own YAML reader: plain data only, no alias bombs, bounded nesting
            return parse_yaml(text, path.name).data
        except InputError as exc:
            problem = exc.problems[0]
            where = f" at line {problem.location.line}" if problem.location is not None and problem.location.line else ""
            raise ValueError(f"{problem.message}{where}") from None
    from .assertions import parse_json

    return parse_json(text)  # depth-bounded: checking a schema recurses through it


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it is inside it (messages stay short and portable)."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def find_project_root(start: Path) -> Path:
    """The nearest folder above ``start`` holding ``.git`` or ``pyproject.toml``, else ``start``'s parent."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists() or (folder / "pyproject.toml").exists():
            return folder
    return start.parent if start.parent != start else start


def describe_project_root(start: Path) -> str:
    """The project folder of a collection in ``start`` and why it is that one, for ``validate`` and ``-v``."""
    root = find_project_root(start)
    for marker in (".git", "pyproject.toml"):
        if (root / marker).exists():
            return f"{root} (it holds {marker})"
    return f"{root} (no .git or pyproject.toml above the collection: the parent of its folder)"


class SchemaStore:
    """Loads, checks and caches schema validators for one run."""

    def __init__(self, allow_outside_root: bool = False):
        self._validators: dict[str, Any] = {}
        self._documents: dict[Path, Any] = {}
        self._sources: dict[Path, Any] = {}  # path -> SourceDoc (or None): read again, with lines, for a failure
        self._targets: dict[str, tuple[Any, Any]] = {}  # ref key -> (the schema, what the validator applies: it or a $ref to it)
        self._inside: dict[int, bool] = {}  # id(document) -> whether its every $ref points inside it
        self.allow_outside_root = allow_outside_root

    @property
    def paths(self) -> list[Path]:
        """Every schema file read so far (``--watch`` watches them)."""
        return list(self._documents)

    def _document(self, path: Path, root: Path) -> Any:
        path = path.resolve()
        if not self.allow_outside_root and not path.is_relative_to(root):
            raise LookupError(f"{path} is outside the project folder {root}")
        if path not in self._documents:
            self._documents[path] = _read_document(path)
        return self._documents[path]

    def add_document(self, path: Path, data: Any) -> None:
        """Use data already parsed for a schema file (an importer that has just read it)."""
        self._documents[path.resolve()] = data

    def validator(self, ref: SchemaRef) -> Any:
        """The compiled validator for ``ref``; raises ``InputError`` if it cannot be built."""
        validator = self._validators.get(ref.key)
        if validator is None:
            validator = self._build(ref)
            self._validators[ref.key] = validator
        return validator

    def _build(self, ref: SchemaRef) -> Any:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for
        from referencing import Registry, Resource
        from referencing.exceptions import NoSuchResource, Unresolvable
        from referencing.jsonschema import DRAFT202012

        root = find_project_root(Path(ref.base_dir))
        where = ref.location

        def fail(message: str, hint: str = "") -> InputError:
            return InputError(Problem(message, where, hint))

        refused: list[tuple[str, str]] = []  # why the last $ref could not be read, and a hint

        def retrieve(uri: str) -> Resource:
            if not uri.startswith("file://"):
                refused.append((f"{uri} is not a local file", "nothing is fetched over the network: save the schema in the project and $ref the file"))
                raise NoSuchResource(ref=uri)
            from urllib.parse import unquote, urlparse

            path = Path(unquote(urlparse(uri).path))
            try:
                contents = self._document(path, root)
            except LookupError as exc:
                refused.append((str(exc), OUTSIDE_HINT))
                raise NoSuchResource(ref=uri) from exc
            except FileNotFoundError as exc:
                refused.append((f"no such file {path}", "$ref paths are relative to the schema file that holds them"))
                raise NoSuchResource(ref=uri) from exc
            except (OSError, ValueError) as exc:
                refused.append((f"cannot read {path}: {exc}", ""))
                raise NoSuchResource(ref=uri) from exc
            return Resource.from_contents(contents, default_specification=DRAFT202012)

        registry: Any = Registry(retrieve=retrieve)
        if ref.inline is not None:
            schema: Any = ref.inline
            base_uri = Path(ref.base_dir).resolve().as_uri() + "/"
            target = schema
            # its own "#/$defs/..." pointers resolve in itself (the URI the validator gives it below as $id)
            registry = registry.with_resource(base_uri + "__inline__.json", Resource.from_contents(schema, default_specification=DRAFT202012))
        else:
            path = (Path(ref.base_dir) / ref.path).resolve() if ref.path else Path()
            try:
                document = self._document(path, root)
            except FileNotFoundError:
                raise fail(f"schema file not found: {ref.path}", f"paths are relative to the collection file: looked for {_shown(path)}") from None
            except LookupError as exc:
                raise fail(f"schema {ref.path}: {exc}", OUTSIDE_HINT) from None
            except (ValueError, OSError) as exc:
                raise fail(f"schema {ref.path} is not valid JSON or YAML: {exc}") from None
            base_uri = path.as_uri()
            registry = registry.with_resource(base_uri, Resource.from_contents(document, default_specification=DRAFT202012))
            target = document
            if ref.fragment:
                try:
                    target = registry.resolver(base_uri).lookup(f"#{ref.fragment}").contents
                except Unresolvable:
                    raise fail(f"schema {ref.path}: no such JSON Pointer #{ref.fragment}") from None
            # A reference to the registered file keeps relative $refs relative to its own URI.
            schema = {"$ref": f"{base_uri}#{ref.fragment}" if ref.fragment else base_uri}
            if isinstance(document, dict) and "$schema" in document:
                schema["$schema"] = document["$schema"]
        if not isinstance(target, (dict, bool)):
            raise fail(f"schema {ref.path or '(inline)'} is not a JSON Schema object")
        cls = validator_for(schema if isinstance(schema, dict) else {}, default=Draft202012Validator)
        try:
            cls.check_schema(target)
        except SchemaError as exc:
            raise fail(f"invalid schema {ref.path or '(inline)'}: {exc.message} at {'/'.join(map(str, exc.absolute_path)) or 'the root'}") from None
        resolver = registry.resolver(base_uri + "__inline__.json" if ref.inline is not None else base_uri)
        try:
            _check_refs(target, resolver, set())
        except Unresolvable as exc:
            reason, hint = refused[-1] if refused else ("", "only local files inside the project are read; nothing is fetched")
            raise fail(f"schema {ref.path or '(inline)'}: cannot resolve $ref {exc.ref!r}" + (f": {reason}" if reason else ""), hint) from None
        self._targets[ref.key] = (target, schema)
        if not _has_refs(target):  # self-contained: validate against it directly, without a $ref hop per response
            return cls(target)
        if ref.inline is not None and "$id" not in schema:
            schema = {**schema, "$id": base_uri + "__inline__.json"}
        validator = cls(schema, registry=registry)
        for probe in _PROBES:  # a $ref cycle or a $dynamicRef nowhere shows on any instance: find it before sending
            problem = _validation_failure(validator, probe)
            if problem:
                raise fail(f"schema {ref.path or '(inline)'}: {problem}", "a $ref must lead to a schema, not back to itself; only local files inside the project are read")
        return validator

    def standalone(self, ref: SchemaRef) -> tuple[Any, tuple[tuple[str, Any], ...]] | None:
        """The schema of ``ref`` and the one document it points into (``((uri, document),)``, or ``()``) when
        nothing else is needed: every ``$ref`` of that document points inside it. None otherwise."""
        from urllib.parse import unquote, urlparse

        self.validator(ref)
        target, wrapper = self._targets[ref.key]
        if not _has_refs(target):
            if ref.fragment and isinstance(target, dict) and isinstance(wrapper, dict) and "$schema" in wrapper and "$schema" not in target:
                return {**target, "$schema": wrapper["$schema"]}, ()  # a part of a draft-04 document is judged as draft-04
            return target, ()
        if ref.inline is not None:
            return (target, ()) if _refs_inside(target) else None
        ref_uri = wrapper.get("$ref", "") if isinstance(wrapper, dict) else ""
        uri = ref_uri.partition("#")[0]
        document = self._documents.get(Path(unquote(urlparse(uri).path)).resolve()) if uri.startswith("file://") else None
        if document is None:
            return None
        if id(document) not in self._inside:  # an OpenAPI document of a megabyte is walked once, not once per operation
            self._inside[id(document)] = _refs_inside(document)
        if not self._inside[id(document)]:
            return None
        return (target, ()) if not ref.fragment else (wrapper, ((uri, document),))

    def validate(self, ref: SchemaRef, instance: Any) -> list[SchemaViolation]:
        """Every violation of ``ref`` by ``instance`` (at most ``MAX_ERRORS``); a schema that cannot be applied is one violation."""
        validator = self.validator(ref)
        out = []
        try:
            for error in validator.iter_errors(instance):
                out.extend(_violations(error, self.keyword_source))
                if len(out) >= MAX_ERRORS:
                    break
        except Exception as exc:  # noqa: BLE001 - a cycle or an unresolvable reference met under this instance only
            return [SchemaViolation("", "$ref", _reference_problem(exc))]
        return out[:MAX_ERRORS]

    def keyword_source(self, subschema: Any, keyword: str) -> str:
        """``schemas/headers.json:12:7`` for the ``keyword`` of a subschema loaded from a file ("" when inline)."""
        for path, document in self._documents.items():
            pointer = _pointer_of(document, subschema)
            if pointer is None:
                continue
            pointer += "/" + keyword.replace("~", "~0").replace("/", "~1")
            if path not in self._sources:  # lines only on a failure: parsing with locations costs more
                from .source import parse_yaml

                try:
                    self._sources[path] = parse_yaml(path.read_text(encoding="utf-8"), _shown(path))
                except (InputError, OSError, ValueError):
                    self._sources[path] = None
            doc = self._sources[path]
            if doc is None:
                return f"{_shown(path)}#{pointer}"
            location = doc.location(pointer, key=True)
            return f"{_shown(path)}:{location.line}:{location.col} #{pointer}"
        return ""


def _pointer_of(document: Any, target: Any) -> str | None:
    """The JSON pointer of the object ``target`` (by identity) inside ``document``, or None."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        pointer, node = stack.pop()
        if node is target:
            return pointer
        if isinstance(node, dict):
            stack.extend((f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}", value) for key, value in node.items() if isinstance(value, (dict, list)))
        elif isinstance(node, list):
            stack.extend((f"{pointer}/{index}", value) for index, value in enumerate(node) if isinstance(value, (dict, list)))
    return None


_PROBES: tuple[Any, ...] = (None, {}, [], "", 0)


def _validation_failure(validator: Any, instance: Any) -> str:
    """Why ``validator`` cannot be applied to ``instance`` at all, or ``""``."""
    try:
        for _ in validator.iter_errors(instance):
            pass
    except Exception as exc:  # noqa: BLE001 - RecursionError, jsonschema's wrapped referencing errors
        return _reference_problem(exc)
    return ""


def _reference_problem(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "its $refs form a cycle (a schema that refers to itself without describing anything)"
    cause = exc.__cause__ or exc
    text = " ".join(str(cause).split())
    return f"cannot resolve a reference ({shorten(text, 160)})"


def _violations(error: Any, source_of: Any = None) -> list[SchemaViolation]:
    from jsonschema.exceptions import best_match

    if error.validator in ("anyOf", "oneOf") and error.context:
        error = best_match(error.context) if error.validator == "anyOf" else best_match([error])
    pointer = "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path)
    message = error.message
    source = source_of(error.schema, str(error.validator)) if source_of is not None and isinstance(error.schema, dict) else ""
    if source:  # the keyword may live in a $ref'd file: say which, and where
        message += f" ({error.validator} at {source})"
    return [SchemaViolation(pointer or "", str(error.validator), message)]


# keywords whose values are data, not schemas: a "$ref" inside them is not a reference
DATA_KEYWORDS = frozenset(("const", "enum", "examples", "example", "default"))
# keywords whose values map names (which may be any word, "default" too) to schemas
SCHEMA_MAPS = frozenset(("properties", "patternProperties", "$defs", "definitions", "dependentSchemas"))


def _subschemas(node: dict[str, Any]) -> Iterator[tuple[Any, bool]]:
    """The values below a schema to search for references, each with whether it is a name-to-schema map."""
    for key, value in node.items():
        if key not in DATA_KEYWORDS:
            yield value, key in SCHEMA_MAPS


def _iter_refs(node: Any, names: bool = False) -> Iterator[str]:
    if isinstance(node, dict):
        if names:  # {name: schema}: every value is a schema, whatever its name
            for value in node.values():
                yield from _iter_refs(value)
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value, is_map in _subschemas(node):
            yield from _iter_refs(value, is_map)
    elif isinstance(node, list):
        for item in node:
            yield from _iter_refs(item)


def _refs_inside(node: Any, names: bool = False) -> bool:
    """Whether every reference of a schema is a pointer into it (``#/$defs/...``), and no ``$id`` moves its base."""
    if isinstance(node, dict):
        if names:
            return all(_refs_inside(value) for value in node.values())
        if any(key in node for key in ("$id", "$dynamicRef", "$recursiveRef")):
            return False  # rare, and resolved differently by drafts: left to jsonschema
        ref = node.get("$ref")
        if ref is not None and not (isinstance(ref, str) and ref.startswith("#")):
            return False
        return all(_refs_inside(value, is_map) for value, is_map in _subschemas(node))
    if isinstance(node, list):
        return all(_refs_inside(item) for item in node)
    return True


def _has_refs(node: Any, names: bool = False) -> bool:
    """Whether a schema holds any ``$ref``, ``$dynamicRef`` or ``$recursiveRef`` (values under ``const`` etc. aside)."""
    if isinstance(node, dict):
        if names:
            return any(_has_refs(value) for value in node.values())
        if any(key in node for key in ("$ref", "$dynamicRef", "$recursiveRef")):
            return True
        return any(_has_refs(value, is_map) for value, is_map in _subschemas(node))
    if isinstance(node, list):
        return any(_has_refs(item) for item in node)
    return False


def _check_refs(node: Any, resolver: Any, seen: set[str]) -> None:
    """Resolve every ``$ref`` reachable from ``node`` so broken ones fail before any request."""
    for ref in _iter_refs(node):
        resolved = resolver.lookup(ref)
        key = f"{id(resolved.contents)}"
        if key in seen:
            continue
        seen.add(key)
        _check_refs(resolved.contents, resolved.resolver, seen)
