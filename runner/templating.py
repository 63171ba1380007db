"""Sandboxed Jinja2 templating: native values, helpers, and the undeclared-name check.

Every string in a collection is a template.  A string that is exactly one
``{{ expression }}`` keeps the native type of its result, so ``"{{ max_tokens }}"``
sends an integer.  Templates are compiled once and cached by their source text.

The commonest template, one variable (``{{ name }}``), is a plain lookup with
Jinja's result and error; jinja2 is imported only for the first other template
(about 15 ms of start-up that many collections never need).
"""

from __future__ import annotations

import base64
import binascii
import json
import keyword
import os
import random
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, Callable

_TEMPLATE_MARKERS = ("{{", "{%", "{#")
_SINGLE_EXPR = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)
# Not plain variables in Jinja: literals, and names with a meaning of their own in a template.
_NOT_VARIABLES = frozenset({"true", "false", "none", "True", "False", "None", "self", "loop", "caller", "varargs", "kwargs", "super"})
HELPER_NAMES = frozenset({"env", "uuid4", "now", "timestamp", "random_int"})
_DICT_ATTRIBUTES = frozenset(dir(dict))
_MISSING = object()


class TemplateError(Exception):
    """A template could not be compiled or rendered; ``name`` is the undefined variable, if any."""

    def __init__(self, message: str, name: str = "", line: int = 0):
        super().__init__(message)
        self.message = message
        self.name = name
        self.line = line


def with_dotenv(environ: Mapping[str, str], path: str = ".env") -> dict[str, str]:
    """The process environment over the variables of ``./.env`` (read as python-dotenv reads it); the process wins."""
    if not os.path.isfile(path):
        return dict(environ)
    from dotenv import dotenv_values

    from .errors import InputError

    try:
        values = dotenv_values(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path} (the working folder's environment file): {exc.__class__.__name__}", None) from None
    return {**{name: value for name, value in values.items() if value is not None}, **environ}


class ProcessEnv(Mapping[str, str]):
    """The process environment as a read-only mapping (``env.NAME`` in templates)."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = with_dotenv(os.environ) if environ is None else dict(environ)

    def __getitem__(self, key: str) -> str:
        return self._environ[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)

    def __repr__(self) -> str:  # never print the whole environment
        return "<process environment>"


def _b64encode(value: Any) -> str:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: Any) -> str:
    try:
        return base64.b64decode(str(value), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise TemplateError(f"b64decode: not valid base64 text ({exc})") from None


def _tojson(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=False)


def _random_int(low: int, high: int) -> int:
    try:
        low, high = int(low), int(high)
    except (TypeError, ValueError):
        # the values are not quoted: one may be a secret, in a form the redactor does not know (repr)
        raise TemplateError(f"random_int(a, b) takes two whole numbers, got {type(low).__name__} and {type(high).__name__}") from None
    if low > high:
        raise TemplateError(f"random_int(a, b) needs a <= b, got {low} and {high}")
    return random.randint(low, high)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _timestamp() -> int:
    return int(datetime.now(timezone.utc).timestamp())


def _sandbox(helpers: dict[str, Any]) -> Any:
    """The sandboxed Jinja2 environment: undefined names are errors, helpers and filters installed."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    class StrictUndefined(jinja2.StrictUndefined):
        @property
        def _undefined_message(self) -> str:
            if isinstance(self._undefined_obj, ProcessEnv):
                return f"environment variable {self._undefined_name} is not set"
            return super()._undefined_message

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals.update(helpers)
    env.filters.update(b64encode=_b64encode, b64decode=_b64decode, tojson=_tojson)
    return env


def _variable(source: str) -> str:
    """The variable name when ``source`` is exactly ``{{ name }}``, else ``""``."""
    match = _SINGLE_EXPR.match(source)
    if not match:
        return ""
    name = match.group("expr").strip()
    return name if name.isidentifier() and not keyword.iskeyword(name) and name not in _NOT_VARIABLES else ""


def _dotted(expr: str) -> tuple[str, ...]:
    """The names of ``a.b.c`` (a variable, then keys), else ``()``."""
    parts = tuple(expr.strip().split("."))
    if len(parts) < 2 or not all(part.isidentifier() and not keyword.iskeyword(part) and part not in _NOT_VARIABLES for part in parts):
        return ()
    return parts


def _lookup_path(path: tuple[str, ...], jinja: Callable[[Mapping[str, Any]], Any]) -> Callable[[Mapping[str, Any]], Any]:
    """``{{ a.b.c }}`` through plain dicts without Jinja (a templated example's ``request.json.model``, about
    30 times faster); anything else (a missing key, an object, a name ``dict`` has as an attribute) is Jinja's."""
    first, rest = path[0], path[1:]

    def lookup(scope: Mapping[str, Any]) -> Any:
        value = scope.get(first, _MISSING)
        for name in rest:
            if type(value) is not dict or name in _DICT_ATTRIBUTES:  # Jinja's getattr would find the method
                return jinja(scope)
            value = value.get(name, _MISSING)
        return jinja(scope) if value is _MISSING else value

    return lookup


def is_template(value: Any) -> bool:
    """Whether a value is a string holding template syntax."""
    return isinstance(value, str) and any(marker in value for marker in _TEMPLATE_MARKERS)


class Templates:
    """Compiles and renders templates in one sandboxed environment; one instance per run."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self.process_env = ProcessEnv(environ)
        self.helpers: dict[str, Any] = {
            "env": self.process_env,
            "uuid4": lambda: str(uuid.uuid4()),
            "now": _now,
            "timestamp": _timestamp,
            "random_int": _random_int,
        }
        self._env: Any = None
        self._compiled: dict[str, Callable[[Mapping[str, Any]], Any]] = {}
        self._names: dict[str, frozenset[str]] = {}

    @property
    def env(self) -> Any:
        """The sandboxed Jinja2 environment (created, and jinja2 imported, on first use)."""
        if self._env is None:
            self._env = _sandbox(self.helpers)
        return self._env

    def compile(self, source: str) -> Callable[[Mapping[str, Any]], Any]:
        """Compile ``source`` once; the result renders a scope to a native value or text."""
        compiled = self._compiled.get(source)
        if compiled is None:
            compiled = self._compile(source)
            self._compiled[source] = compiled
        return compiled

    def _compile(self, source: str) -> Callable[[Mapping[str, Any]], Any]:
        name = _variable(source)
        if name:
            return self._lookup(name)
        import jinja2

        try:
            match = _SINGLE_EXPR.match(source)
            if match:
                expr = self.env.compile_expression(match.group("expr"), undefined_to_none=False)

                def render_native(scope: Mapping[str, Any]) -> Any:
                    value = expr(scope)
                    if isinstance(value, jinja2.Undefined):
                        value._fail_with_undefined_error()
                    return value

                path = _dotted(match.group("expr"))
                return _lookup_path(path, render_native) if path else render_native
            template = self.env.from_string(source)
            return lambda scope: template.render(scope)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"template syntax error: {exc.message}", line=exc.lineno or 0) from None

    def _lookup(self, name: str) -> Callable[[Mapping[str, Any]], Any]:
        """``{{ name }}`` as Jinja renders it (the variable, else the helper), without Jinja."""
        helpers = self.helpers

        def lookup(scope: Mapping[str, Any]) -> Any:
            try:
                return scope[name]
            except KeyError:
                if name in helpers:
                    return helpers[name]
                raise TemplateError(f"{name!r} is undefined", name=name) from None

        return lookup

    def names(self, source: str) -> frozenset[str]:
        """The variables a template reads, helpers excluded (raises ``TemplateError`` on bad syntax)."""
        found = self._names.get(source)
        if found is None and (_variable(source) or not is_template(source)):
            found = self._names[source] = frozenset({_variable(source)} - {""}) - HELPER_NAMES
        if found is None:
            import jinja2
            from jinja2 import meta

            try:
                ast = self.env.parse(source)
                found = frozenset(meta.find_undeclared_variables(ast)) - HELPER_NAMES
            except jinja2.TemplateSyntaxError as exc:  # also unknown filters and tests
                raise TemplateError(f"template syntax error: {exc.message}", line=exc.lineno or 0) from None
            self._names[source] = found
        return found

    def env_names(self, source: str) -> frozenset[str]:
        """The process-environment variables a template reads as ``env.NAME`` or ``env['NAME']``."""
        if _variable(source) or not is_template(source):
            return frozenset()
        import jinja2
        from jinja2 import nodes

        try:
            ast = self.env.parse(source)
        except jinja2.TemplateSyntaxError:
            return frozenset()
        found = set()
        for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
            if isinstance(node.node, nodes.Name) and node.node.name == "env":
                if isinstance(node, nodes.Getattr):
                    found.add(node.attr)
                elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                    found.add(node.arg.value)
        return frozenset(found)

    def render(self, value: Any, scope: Mapping[str, Any]) -> Any:
        """Render every template inside ``value`` (strings, lists, mappings) against ``scope``."""
        if isinstance(value, str):
            if "{" not in value or not any(marker in value for marker in _TEMPLATE_MARKERS):
                return value
            try:
                return self.compile(value)(scope)
            except TemplateError:
                raise
            except Exception as exc:  # Jinja's errors, or a helper or filter failing on bad input (int("x"))
                raise _template_error(exc) from None
        if isinstance(value, list):
            return [self.render(item, scope) for item in value]
        if isinstance(value, dict):
            return {key: self.render(item, scope) for key, item in value.items()}
        return value

    def render_text(self, value: Any, scope: Mapping[str, Any]) -> str:
        """Render and convert to a string (for URLs, headers, ...)."""
        rendered = self.render(value, scope)
        if isinstance(rendered, bool):
            return "true" if rendered else "false"
        return "" if rendered is None else str(rendered)


def iter_strings(value: Any) -> Iterator[str]:
    """Every string inside a nested value (to find templates)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from iter_strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_strings(item)


def _template_error(exc: Exception) -> TemplateError:
    import jinja2  # loaded already: only Jinja-compiled templates get here

    if isinstance(exc, jinja2.UndefinedError):
        return TemplateError(str(exc), name=_undefined_name(str(exc)))
    if isinstance(exc, jinja2.TemplateError):
        return TemplateError(f"template error: {exc}")
    return TemplateError(f"template error: {type(exc).__name__}: {exc}")


def _undefined_name(message: str) -> str:
    match = re.match(r"'([^']+)' is undefined", message) or re.match(r"environment variable (\S+)", message)
    return match.group(1) if match else ""
