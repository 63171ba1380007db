"""The layered variable scope: vars < environment file < data row < --var < captures.

Each layer is a mapping of raw values (templates allowed); ``build_scope`` renders
them in dependency order against the merged scope, so a collection default may
refer to a variable an environment file sets.  The scope also knows the secret
names and records which layer every value came from (``show -v``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError, Location, Problem
from .redact import Redactor
from .templating import TemplateError, Templates, iter_strings



@dataclass
class Layer:
    """One layer of variables: raw values, where each was written, which are secret."""

    name: str
    values: dict[str, Any]
    locations: dict[str, Location] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()
    quote_source: bool = True  # False: an error about one of these variables never shows its source line


@dataclass
class Scope:
    """The variables of one collection run: rendered values, their origin and the secrets."""

    values: dict[str, Any]
    origins: dict[str, str]
    secret_names: set[str]
    redactor: Redactor

    def capture(self, name: str, value: Any, secret: bool = False) -> None:
        """Set a captured variable (highest precedence)."""
        self.values[name] = value
        self.origins[name] = "capture"
        if secret or name in self.secret_names:
            self.secret_names.add(name)
            self.redactor.add_value(value)

    def child(self) -> "Scope":
        """A copy whose captures do not leak back into this scope."""
        return Scope(dict(self.values), dict(self.origins), set(self.secret_names), self.redactor)


def build_scope(layers: list[Layer], templates: Templates, redactor: Redactor | None = None) -> Scope:
    """Merge the layers (later wins), render templated values, and register secrets."""
    raw: dict[str, Any] = {}
    origins: dict[str, str] = {}
    locations: dict[str, Location | None] = {}
    quoted: dict[str, bool] = {}
    secret_names: set[str] = set()
    for layer in layers:
        for name, value in layer.values.items():
            raw[name] = value
            origins[name] = layer.name
            locations[name] = layer.locations.get(name)
            quoted[name] = layer.quote_source
        secret_names |= layer.secrets
    resolved: dict[str, Any] = {}
    problems: list[Problem] = []

    def resolve(name: str, stack: tuple[str, ...]) -> None:
        if name in resolved:
            return
        if name in stack:
            cycle = " -> ".join(stack[stack.index(name):] + (name,))
            raise TemplateError(f"variables refer to each other in a loop: {cycle}")
        value = raw[name]
        deps = set()
        for text in iter_strings(value):
            deps |= templates.names(text)
        for dep in sorted(deps & raw.keys()):
            resolve(dep, stack + (name,))
        resolved[name] = templates.render(value, resolved)

    for name in raw:
        try:
            resolve(name, ())
        except TemplateError as exc:
            problems.append(Problem(f"variable {name!r} ({origins[name]}): {exc.message}", locations.get(name), _hint(exc), quote_source=quoted[name]))
            resolved.setdefault(name, None)
    for name in sorted(secret_names & raw.keys()):
        empty = _empty_environment_variable(raw[name]) if resolved.get(name) == "" else None
        if empty:  # set but empty (MISTRAL_API_KEY= in a CI config): sending an empty credential helps no one
            problems.append(Problem(f"variable {name!r} ({origins[name]}) is a secret, and environment variable {empty} is empty", locations.get(name), f"export {empty}=... with a value before running", quote_source=quoted[name]))
    redactor = redactor or Redactor()
    for name in secret_names:  # before raising: an error message may quote a secret, and must be masked
        if resolved.get(name) is not None:
            redactor.add_value(resolved[name], name)
    if problems:
        raise InputError(problems)
    return Scope(resolved, origins, secret_names, redactor)


def _empty_environment_variable(value: Any) -> str | None:
    """The environment variable a templated value reads, when the process has it set to ``""``."""
    import os
    import re

    for text in iter_strings(value):
        for match in re.finditer(r"""\benv(?:\.(\w+)|\[\s*["'](\w+)["']\s*\])""", text):
            name = match.group(1) or match.group(2)
            if os.environ.get(name) == "":
                return name
    return None


def _hint(exc: TemplateError) -> str:
    if exc.message.startswith("environment variable"):
        return f"export {exc.name}=... before running, or pass --var to set the variable directly"
    if exc.name:
        return f"define {exc.name!r} in the collection's vars, an environment file (-e) or with --var {exc.name}=..."
    return ""


def lone_surrogate(value: Any) -> str | None:
    """The first string in ``value`` (nested lists and mappings too) holding a lone surrogate, which no output can encode; else None.

    JSON's ``"\\ud800"`` and bytes that are not UTF-8 on a command line (Python reads
    them as surrogates) give such strings.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return item
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")
