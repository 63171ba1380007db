"""What a check or a capture reads from a response beyond JSON and headers: bytes, XPath, cookies, redirects, URL.

Shared by ``expect`` (``assertions.check_assertion``) and ``capture``
(``engine.extract``), so a target reads the same in both.
"""

from __future__ import annotations

import re
from typing import Any

from .query import MISSING


class TargetError(ValueError):
    """The response cannot give this target (not XML, lxml missing...); the check fails with the message."""


def response_cookies(headers: Any) -> dict[str, dict[str, Any]]:
    """The cookies a response sets (``Set-Cookie``), by name: the value and the attributes, as checks see them.

    ``secure``/``httponly`` are true or false; an attribute the cookie does not
    carry is left out (a check sees it as absent); ``max_age`` is a number when it is one.
    """
    cookies: dict[str, dict[str, Any]] = {}
    lines = headers.get_list("set-cookie") if hasattr(headers, "get_list") else [v for k, v in headers.items() if k.lower() == "set-cookie"]
    for line in lines:
        first, *attributes = line.split(";")
        name, equals, value = first.partition("=")
        if not equals:
            continue
        cookie: dict[str, Any] = {"value": value.strip(), "secure": False, "httponly": False}
        for attribute in attributes:
            key, has_value, text = attribute.strip().partition("=")
            key = key.strip().lower().replace("-", "_")
            if key in ("secure", "httponly"):
                cookie[key] = True
            elif key in ("domain", "path", "expires", "samesite") and has_value:
                cookie[key] = text.strip()
            elif key == "max_age" and has_value:
                text = text.strip()
                cookie[key] = int(text) if text.lstrip("-").isdigit() else text
        cookies[name.strip()] = cookie
    return cookies


def cookie_value(headers: Any, name: str, attribute: str = "value") -> Any:
    """One attribute (``value`` by default) of the cookie ``name`` set by the response, or ``MISSING``."""
    cookie = response_cookies(headers).get(name)
    if cookie is None:
        return MISSING
    return cookie.get(attribute or "value", MISSING)


def hop_list(hops: Any) -> list[dict[str, Any]]:
    """The redirect hops as plain mappings ``{status, location, url}``, for checks and messages."""
    return [{"status": hop.status, "location": hop.location, "url": hop.url} for hop in hops or ()]


def _parse_document(body: bytes, content_type: str) -> Any:
    try:
        from lxml import etree, html
    except ImportError:
        raise TargetError("XPath needs lxml: pip install 'runner[xml]'") from None
    if not body.strip():
        raise TargetError("the body is empty")
    if "html" in content_type.lower():
        parser = html.HTMLParser(no_network=True)
        root = html.document_fromstring(body, parser=parser)
        return root
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise TargetError(f"the body is not XML ({exc})") from None
    if root is None:
        raise TargetError("the body is not XML")
    return root


def _namespaces(root: Any) -> dict[str, str]:
    """The prefixes declared in the document (its default namespace as ``_``, as in Hurl)."""
    found: dict[str, str] = {}
    for element in root.iter():
        if not isinstance(getattr(element, "tag", None), str):
            continue
        for prefix, uri in (element.nsmap or {}).items():
            found.setdefault(prefix or "_", uri)
        if len(found) > 50:  # bounded: a hostile document may declare thousands
            break
    return found


def _plain(item: Any) -> Any:
    if isinstance(item, (str, bytes)) or not hasattr(item, "itertext"):
        return str(item)
    return "".join(item.itertext())


def xpath_value(expr: str, body: bytes, content_type: str, cache: dict[str, Any] | None = None) -> Any:
    """An XPath 1.0 result as a check sees it: a number, text, a boolean, or the nodes' text (one, or a list)."""
    from lxml import etree

    cache = cache if cache is not None else {}
    if "root" not in cache:
        cache["root"] = _parse_document(body, content_type)
    root = cache["root"]
    try:
        result = root.xpath(expr, namespaces=_namespaces(root))
    except etree.XPathError as exc:
        raise TargetError(f"cannot evaluate XPath {expr!r}: {exc}") from None
    if isinstance(result, bool):
        return result
    if isinstance(result, float):
        return int(result) if result.is_integer() else result
    if isinstance(result, list):
        values = [_plain(item) for item in result]
        if not values:
            return MISSING
        return values[0] if len(values) == 1 else values
    return str(result)


EXTRA_KINDS = frozenset({"bytes", "url", "http_version", "xpath", "cookie", "redirects"})


def target_actual(kind: str, target: str, response: Any) -> tuple[Any, bool]:
    """The value a check of ``kind`` reads, and whether it is always text; raises ``TargetError``."""
    if kind == "bytes":
        return response.body, False
    if kind == "url":
        return response.url, True
    if kind == "http_version":
        return response.http_version, True
    if kind == "xpath":
        return xpath_value(target, response.body, response.headers.get("content-type", ""), response.cache), False
    if kind == "redirects":
        return hop_list(response.hops), False
    raise ValueError(f"unknown target {kind!r}")


def check_target(assertion: Any, predicate: Any, response: Any) -> Any:
    """A check of one of ``EXTRA_KINDS`` -> ``CheckResult``."""
    from .assertions import evaluate, length_mismatch, show
    from .results import CheckResult

    kind, target, loc = assertion.kind, assertion.target, assertion.location
    label = {"bytes": "body bytes", "http_version": "HTTP version"}.get(kind, kind)
    if kind == "cookie":
        return _check_cookie(target, predicate, response, loc)
    if kind == "redirects" and isinstance(predicate, list):
        return _check_hops(predicate, hop_list(response.hops), loc)
    try:
        actual, text_actual = target_actual(kind, target, response)
    except TargetError as exc:
        return CheckResult(kind, target, False, evaluate(predicate, MISSING)[1], f"(nothing: {exc})", str(exc), loc)
    ok, expected = evaluate(predicate, actual, text_actual)
    shown = (not ok and length_mismatch(predicate, actual)) or show(actual)  # "got length 196", not a cut dump
    return CheckResult(kind, target, ok, expected, shown, "" if ok else f"{label} mismatch", loc)


def _check_cookie(name: str, predicate: Any, response: Any, loc: Any) -> Any:
    from .assertions import evaluate, length_mismatch, show
    from .loader_checks import is_attribute_check
    from .results import CheckResult

    cookie = response_cookies(response.headers).get(name)
    checks = predicate if is_attribute_check(predicate) else {"value": predicate}
    if cookie is None:
        wants_absent = checks == {"value": {"exists": False}}
        return CheckResult("cookie", name, wants_absent, "set by the response" if not wants_absent else "not set", "(not set)", "" if wants_absent else "the response sets no such cookie", loc)
    failed, wanted = [], []
    for attribute, sub in checks.items():
        ok, text = evaluate(sub, cookie.get(attribute, MISSING), attribute not in ("secure", "httponly", "max_age"))
        wanted.append(f"{attribute} {text}")
        if not ok:
            failed.append((attribute, text))
    # a failed length says the length found: a server's cookie is a secret, its value shows as ****, its length does not
    actual = "; ".join(f"{key} {length}" if (length := length_mismatch(sub, cookie.get(key, MISSING))) else f"{key}={show(cookie.get(key, MISSING), 60)}" for key, sub in checks.items())
    if failed:
        return CheckResult("cookie", name, False, ", ".join(f"{a} {t}" for a, t in failed), actual, "cookie mismatch", loc)
    return CheckResult("cookie", name, True, ", ".join(wanted), actual, "", loc)


def _check_hops(predicate: list[Any], hops: list[dict[str, Any]], loc: Any) -> Any:
    from .assertions import evaluate, show
    from .results import CheckResult

    actual = " -> ".join(f"{hop['status']} {hop['location']}" for hop in hops) or "(no redirect)"
    expected_text = " -> ".join(" ".join(show(hop.get(key)) for key in ("status", "location") if key in hop) for hop in predicate) or "(no redirect)"
    if len(predicate) != len(hops):
        return CheckResult("redirects", "", False, f"{len(predicate)} hops: {expected_text}", f"{len(hops)} hops: {actual}", "redirect chain mismatch", loc)
    for index, (want, hop) in enumerate(zip(predicate, hops)):
        for field, sub in want.items():
            ok, text = evaluate(sub, hop[field], field != "status")
            if not ok:
                return CheckResult("redirects", f"hop {index + 1}/{len(hops)} {field}", False, text, show(hop[field]), f"hop {index + 1} of {len(hops)}: {field} mismatch", loc)
    return CheckResult("redirects", "", True, expected_text, actual, "", loc)


def capture_target(capture: Any, view: Any) -> Any:
    """A capture from the body, bytes, final URL, a cookie or an XPath."""
    if capture.source == "body":
        return view.text
    if capture.source == "bytes":
        return view.body
    if capture.source == "url":
        return view.url
    if capture.source == "cookie":
        return cookie_value(view.headers, capture.expr, capture.attribute or "value")
    return xpath_value(capture.expr, view.body, view.headers.get("content-type", ""), view.cache)


def is_binary(response: Any) -> bool:
    """A body that is not text: a control byte (NUL, ESC...), or mostly bytes its charset cannot decode.

    Text with a few bad bytes is still shown as text, with replacement characters.
    """
    head = response.body[:4096]
    if _CONTROL.search(head):
        return True
    text = head.decode(_charset(response), errors="replace") if head else ""
    bad = text.count("\ufffd") - head.count(b"\xef\xbf\xbd")  # replacements the server did not send
    return bool(text) and bad * 2 > len(text)


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")


def _charset(response: Any) -> str:
    import codecs

    for part in response.headers.get("content-type", "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            try:
                return codecs.lookup(value.strip('"')).name
            except LookupError:
                break
    return "utf-8"


def binary_excerpt(body: bytes, limit: int = 512) -> str:
    """A bounded view of a body that is not text: its bytes escaped as in Python (ASCII stays readable, so the redactor still finds a secret)."""
    more = f" ... ({len(body) - limit} more bytes)" if len(body) > limit else ""
    return f"({len(body)} bytes, not text) {bytes(body[:limit])!r}{more}"


def plain_value(value: Any) -> Any:
    """A captured value as reports show it: bytes as hex, a date as ISO 8601, JSON values as they are."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
