"""The loader's part for the checks beyond status/headers/json/body: bytes, XPath, URL, redirects, cookies, vars, filters.

``loader._Builder`` calls these; they return model objects and record problems
on the builder, like its own methods.
"""

from __future__ import annotations

import re
from typing import Any

from .model import Assertion
from .source import escape_pointer

# expect keys -> the assertion kind they make, in the order they are checked
SIMPLE_TARGETS = (("bytes", "bytes"), ("url", "url"), ("http_version", "http_version"))


def extra_assertions(builder: Any, data: dict[str, Any], pointer: str) -> list[Assertion]:
    """The assertions of the newer ``expect`` keys."""
    out: list[Assertion] = []
    for key, kind in SIMPLE_TARGETS:
        if key in data:
            out.append(Assertion(kind, "", builder.predicate(data[key], f"{pointer}/{key}"), builder.loc(f"{pointer}/{key}")))
    for digest in ("sha256", "md5"):
        if digest in data:
            out.append(Assertion("bytes", "", {digest: data[digest]}, builder.loc(f"{pointer}/{digest}")))
    if "redirects" in data:
        child = f"{pointer}/redirects"
        value = data["redirects"]
        if isinstance(value, list):
            for index, hop in enumerate(value):
                for field, pred in hop.items():
                    builder.predicate(pred, f"{child}/{index}/{field}")
        else:
            builder.predicate(value, child)
        out.append(Assertion("redirects", "", value, builder.loc(child)))
    for expr, pred in (data.get("xpath") or {}).items():
        child = f"{pointer}/xpath/{escape_pointer(expr)}"
        check_xpath(builder, str(expr), child)
        out.append(Assertion("xpath", str(expr), builder.predicate(pred, child), builder.loc(child)))
    for name, pred in (data.get("cookies") or {}).items():
        child = f"{pointer}/cookies/{escape_pointer(name)}"
        if is_attribute_check(pred):
            for attribute, sub in pred.items():
                builder.predicate(sub, f"{child}/{attribute}")
        else:
            builder.predicate(pred, child)
        out.append(Assertion("cookie", str(name), pred, builder.loc(child)))
    return out


def var_assertions(builder: Any, data: dict[str, Any], pointer: str) -> tuple[Assertion, ...]:
    """``expect.vars``: checked after the request's captures."""
    out = []
    for name, pred in (data.get("vars") or {}).items():
        child = f"{pointer}/vars/{escape_pointer(name)}"
        out.append(Assertion("var", str(name), builder.predicate(pred, child), builder.loc(child)))
    return tuple(out)


COOKIE_ATTRIBUTES = ("value", "domain", "path", "expires", "max_age", "secure", "httponly", "samesite")


def is_attribute_check(predicate: Any) -> bool:
    """A cookie check written as attributes (``{value: ..., secure: true}``) rather than a predicate on the value."""
    return isinstance(predicate, dict) and bool(predicate) and all(key in COOKIE_ATTRIBUTES for key in predicate)


def check_xpath(builder: Any, expr: str, pointer: str) -> None:
    """Record a problem when ``expr`` is not XPath 1.0 (only when lxml is installed: else the run says it is missing)."""
    if "{{" in expr or "{%" in expr:
        builder.problem(f"an XPath is not a template: {expr!r}", pointer, "templates work in values; write the expression literally")
        return
    try:
        from lxml import etree
    except ImportError:
        return
    try:
        etree.XPath(expr)
    except etree.XPathSyntaxError as exc:
        builder.problem(f"invalid XPath {expr!r}: {exc}", pointer, "XPath 1.0, e.g. //title, count(//li), string(//a/@href)")
    except etree.XPathError:  # an undefined prefix is known only with the document's namespaces
        pass


def check_filters(builder: Any, filters: Any, pointer: str) -> None:
    """Regexes and JSONPaths in filter arguments are checked at load time, like those of checks."""
    from .filters import filter_step

    for index, item in enumerate(filters or ()):
        name, argument = filter_step(item)
        child = f"{pointer}/{index}/{name}"
        if name == "regex" or (name == "replace" and isinstance(argument, list)):
            pattern = argument if name == "regex" else argument[0]
            try:
                re.compile(str(pattern))
            except re.error as exc:
                builder.problem(f"invalid regular expression: {exc}", child)
        elif name == "jsonpath":
            builder.jsonpath(str(argument), child)


CAPTURE_SOURCES = ("json", "header", "regex", "status", "text", "event", "body", "bytes", "url", "cookie", "xpath")
