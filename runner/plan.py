"""From command-line input to a checked plan: load every file, build scopes, run the preflight.

Everything that can be wrong with the input is found here, before any request is
sent; problems of every file are raised together.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from .datafile import load_data_rows
from .engine import CollectionRun, select_requests
from .errors import InputError, InternalError, Problem, RunnerError, UsageError
from .loader import find_collections, load_collection, load_environment
from .model import CollectionSpec, EnvironmentSpec
from .preflight import check_collection, check_examples
from .redact import Redactor
from .schemas import SchemaStore
from .templating import Templates, is_template, iter_strings
from .variables import Layer, Scope, build_scope, lone_surrogate


@dataclass
class PlanInput:
    """What the user asked for on the command line."""

    paths: list[str]
    env_file: str | None = None
    cli_vars: list[str] = field(default_factory=list)
    data_file: str | None = None
    iterations: int = 1
    selection: str | None = None
    mock_url: str | None = None
    allow_outside_refs: bool = False  # --allow-outside-refs: schema files and $refs may leave the project
    allow_outside_files: bool = False  # --allow-outside-files: multipart uploads may leave the project
    shard: tuple[int, int] | str | None = None  # --shard K/N (parsed here, once secrets can mask an error): run only this share
    request_names: list[str] = field(default_factory=list)  # --request NAME: exact names
    carried: dict[str, dict[str, tuple[Any, bool]]] = field(default_factory=dict)  # --watch: path -> name -> (captured value, secret)
    widen: Any = None  # --watch: (collection, selected, scope, templates) -> selected, with the producers of missing captures


@dataclass
class Plan:
    """The checked plan: collection runs in order, and what the run shares."""

    runs: list[CollectionRun]
    collections: list[CollectionSpec]
    templates: Templates
    schemas: SchemaStore
    redactor: Redactor
    environment: EnvironmentSpec | None = None


def parse_var(text: str) -> tuple[str, Any]:
    """``NAME=VALUE``: the value is JSON when it parses and every number in it reads back as typed, else text.

    ``5``, ``true``, ``[1, 2]`` and ``{"a": 1.5}`` are JSON; ``12e45``, ``007``, ``1.10`` and
    ``-0`` stay the text the user typed (a token is not a number that prints differently).
    """
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise UsageError(f"--var {text!r}: expected NAME=VALUE, with NAME made of letters, digits and _")
    parsed: Any = value
    if value == value.strip():  # " 5" is the text typed, spaces included
        try:
            parsed = json.loads(value, parse_int=_exact_int, parse_float=_exact_float, parse_constant=_no_constant)
        except ValueError:
            pass
    if lone_surrogate(parsed) is not None:  # the value itself is not shown: it may be a secret
        raise UsageError(f"--var {name}: the value is not text: it holds bytes that are not UTF-8, or a lone surrogate escape such as \\ud800")
    return name, parsed


def _exact_int(text: str) -> int:
    number = int(text)
    if str(number) != text:  # -0
        raise ValueError(text)
    return number


def _exact_float(text: str) -> float:
    number = float(text)
    if json.dumps(number) != text:  # 1.10, 12e45, 1e3: JSON would send other digits than typed
        raise ValueError(text)
    return number


def _no_constant(text: str) -> Any:
    raise ValueError(text)  # NaN and Infinity are not JSON


def build_plan(request: PlanInput, *, check_saved_examples: bool = False, templates: Templates | None = None) -> Plan:
    """Load, validate and expand the input into collection runs; raise ``InputError`` on any problem."""
    redactor = Redactor()
    templates = templates or Templates()
    loaded = _Loaded()
    try:
        plan = _build_plan(request, redactor, check_saved_examples, templates, loaded)
    except (RunnerError, KeyboardInterrupt) as exc:
        if isinstance(exc, RunnerError):
            # any message may quote what the user typed (--request, -k, --var, a path), and that may be a secret
            _learn_secrets(loaded, request, templates, redactor)
            exc.mask(redactor.mask)
        raise
    except Exception as exc:  # a bug: its message may quote a secret, so it is masked before anyone sees it
        _learn_secrets(loaded, request, templates, redactor)
        raise InternalError(redactor.mask(f"{type(exc).__name__}: {exc}")) from exc
    for warning in redactor.warnings():
        print(warning, file=sys.stderr)
    return plan


@dataclass
class _Loaded:
    """What ``_build_plan`` has read so far: on an error, the secrets it holds mask the message."""

    collections: list[CollectionSpec] = field(default_factory=list)
    environment: EnvironmentSpec | None = None
    rows: list[dict[str, Any] | None] = field(default_factory=lambda: [None])


def _learn_secrets(loaded: _Loaded, request: PlanInput, templates: Templates, redactor: Redactor) -> None:
    """Register every secret the input read so far holds (best effort: on the error path, nothing may be raised here)."""
    cli_values: dict[str, Any] = {}
    for item in request.cli_vars:
        try:
            name, value = parse_var(item)
        except UsageError:
            continue
        cli_values[name] = value
    for collection in loaded.collections:
        try:
            build_scope(_layers(collection, loaded.environment, loaded.rows[0], cli_values), templates, redactor)  # registers secrets before it raises
        except Exception:  # noqa: BLE001 - the error being reported is the one that matters
            pass
        secret_names = collection.secrets | (loaded.environment.secrets if loaded.environment is not None else frozenset())
        for row in loaded.rows[1:]:  # the other rows' secret columns as they are: rendering every row again could take long
            for name in secret_names & (row or {}).keys():
                redactor.add_value(row[name], name)  # type: ignore[index]


def _build_plan(request: PlanInput, redactor: Redactor, check_saved_examples: bool, templates: Templates, loaded: _Loaded) -> Plan:
    schemas = SchemaStore(allow_outside_root=request.allow_outside_refs)
    problems: list[Problem] = []
    collections = loaded.collections
    for path in find_collections(request.paths, exclude=(request.env_file, request.data_file)):
        try:
            collections.append(load_collection(path))
        except InputError as exc:
            problems.extend(exc.problems)
    environment: EnvironmentSpec | None = None
    if request.shard is not None and not problems:
        from .shard import parse_shard, shard_items, shard_key

        shard = parse_shard(request.shard) if isinstance(request.shard, str) else request.shard
        collections[:] = shard_items(collections, [len(c.requests) for c in collections], [shard_key(c.path) for c in collections], *shard)
    if request.env_file:
        try:
            environment = loaded.environment = load_environment(request.env_file)
        except InputError as exc:
            problems.extend(exc.problems)
    cli_values = dict(parse_var(item) for item in request.cli_vars)
    if request.mock_url:
        cli_values["base_url"] = request.mock_url
    rows: list[dict[str, Any] | None] = [None]
    if request.data_file:
        try:
            rows = loaded.rows = list(load_data_rows(request.data_file))
        except InputError as exc:
            problems.extend(exc.problems)
    if request.iterations < 1:
        raise UsageError("--iterations must be at least 1")
    if problems:
        raise InputError(problems)
    if request.selection:
        from .selection import check_expression

        check_expression(request.selection)
    if request.request_names:
        from .selection import select_by_names

        select_by_names((spec.name for collection in collections for spec in collection.requests), request.request_names)

    numbered = request.iterations * len(rows) > 1
    runs: list[CollectionRun] = []
    checked: set[tuple[int, frozenset[str]]] = set()  # the preflight depends only on which names exist
    for collection in collections:
        selected = select_requests(collection, request.selection, request.request_names)
        if not selected:
            continue
        firsts: list[tuple[Scope, list[Layer], str]] = []  # per data row: its checked scope, the layers behind it, its label
        for row in rows:
            layers = _layers(collection, environment, row, cli_values)
            try:
                scope = build_scope(layers, templates, redactor)
                for name, (value, secret) in request.carried.get(collection.path, {}).items():
                    scope.capture(name, value, secret)  # --watch: what the last run captured stands in for requests not selected now
                if request.widen is not None and not firsts:
                    selected = request.widen(collection, selected, scope, templates)
                key = (id(collection), frozenset(scope.values))
                if key not in checked:
                    checked.add(key)
                    check_collection(collection, scope, templates, schemas, selected, allow_outside_files=request.allow_outside_files)
                    if check_saved_examples:
                        check_examples(collection, scope, templates, schemas)
            except InputError as exc:
                problems.extend(exc.problems)
                break
            firsts.append((scope, layers, row_label(row, scope)))
        else:
            # Iteration-major: every row once, then every row again.  Every run starts from a copy of
            # its row's checked scope; a later iteration whose variables hold templates renders them
            # anew instead (fresh values for uuid4() and the like).  Either way the plan stays small.
            number = 0
            for iteration in range(request.iterations):
                for scope, layers, label in firsts:
                    number += 1
                    fresh = layers if iteration and _templated(layers) else None
                    runs.append(CollectionRun(collection, scope, selected, number if numbered else None, fresh, row_label=label))
    if problems:
        raise InputError(_unique(problems))  # masked by build_plan
    if not runs and request.selection:
        named = f" among --request {', '.join(repr(name) for name in request.request_names)}" if request.request_names else ""
        raise UsageError(f"-k {request.selection!r} selects no request{named}")
    return Plan(runs, collections, templates, schemas, redactor, environment)


def row_label(row: dict[str, Any] | None, scope: Scope, width: int = 40) -> str:
    """A data row as people tell rows apart: its ``name`` column, else its first columns; secrets masked."""
    if not row:
        return ""
    shown = lambda key: "****" if key in scope.secret_names else str(row[key])  # noqa: E731
    label = shown("name") if "name" in row else ", ".join(f"{key}={shown(key)}" for key in list(row)[:2])
    label = scope.redactor.mask(label)
    return label if len(label) <= width else label[: width - 3] + "..."


def _layers(collection: CollectionSpec, environment: EnvironmentSpec | None, row: dict[str, Any] | None, cli_values: dict[str, Any]) -> list[Layer]:
    """The variable layers of one collection run, lowest precedence first (captures come on top at run time)."""
    layers = [Layer("collection vars", collection.vars, collection.var_locations, collection.secrets)]
    if environment is not None:
        layers.append(Layer("environment file", environment.vars, environment.var_locations, environment.secrets, quote_source=False))
    if row is not None:
        layers.append(Layer("data row", row))
    layers.append(Layer("--var", cli_values))
    return layers


def _templated(layers: list[Layer]) -> bool:
    """Whether any variable of ``layers`` is a template (rendering it again may give another value)."""
    return any(is_template(text) for layer in layers for value in layer.values.values() for text in iter_strings(value))


def _unique(problems: list[Problem]) -> list[Problem]:
    seen = set()
    out = []
    for problem in problems:
        key = (problem.message, str(problem.location))
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def scope_for_show(plan: Plan, collection: CollectionSpec) -> Scope:
    """The first scope of ``collection``, with later captures standing in as ``<captured:NAME>``."""
    for run in plan.runs:
        if run.collection is collection:
            scope = run.scope.child()
            for spec in collection.requests:
                for capture in spec.captures:
                    if capture.name not in scope.values:
                        scope.values[capture.name] = f"<captured:{capture.name}>"
                        scope.origins[capture.name] = "capture"
            return scope
    raise UsageError(f"{collection.path}: nothing selected")
