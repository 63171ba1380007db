"""The operators added to the first set (``assertions.py`` has eq, ne, gt ... in): their names and meaning.

``startswith``/``endswith``, ``not`` (any predicate, negated), ``isEmpty``,
``isIsoDate``, ``isUuid``, ``isInteger``/``isFloat``, ``sha256``/``md5`` (of the
value's bytes), and ``filters`` (steps applied before the mapping's other
operators). A list of operator mappings on one target: all must hold.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import date, datetime
from typing import Any, Callable

EXTRA_OPERATORS = frozenset(
    {"startswith", "endswith", "not", "isEmpty", "isIsoDate", "isUuid", "isInteger", "isFloat", "sha256", "md5", "filters"}
)

_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def bytes_literal(value: Any) -> Any:
    """``{hex: ...}`` / ``{base64: ...}`` / text as bytes; other values as they are."""
    if isinstance(value, dict) and len(value) == 1:
        ((kind, text),) = value.items()
        try:
            if kind == "hex":
                return bytes.fromhex(re.sub(r"[\s:]", "", str(text)))
            if kind == "base64":
                return base64.b64decode(str(text), validate=True)
        except (ValueError, binascii.Error):
            return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


def is_iso_date(value: Any) -> bool:
    """An ISO 8601 / RFC 3339 date or date-time that names a real day and time."""
    if isinstance(value, (date, datetime)):
        return True
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return False
    text = re.sub(r"[Zz]$", "+00:00", value).replace(",", ".")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    text = re.sub(r"([+-]\d{2})$", r"\1:00", text) if "T" in text.upper() or " " in text else text
    text = re.sub(r"\.(\d{6})\d+", r".\1", text)  # Python reads at most microseconds
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _starts(actual: Any, expected: Any, at_end: bool) -> bool | None:
    if isinstance(actual, (bytes, bytearray)):
        wanted = bytes_literal(expected)
        if not isinstance(wanted, bytes):
            return None
    elif isinstance(actual, str):
        wanted = expected if isinstance(expected, str) else str(expected)
    else:
        return None
    return actual.endswith(wanted) if at_end else actual.startswith(wanted)


def _hash_of(actual: Any, algorithm: str) -> str | None:
    if isinstance(actual, (bytes, bytearray)):
        return hashlib.new(algorithm, bytes(actual)).hexdigest()
    if isinstance(actual, str):
        return hashlib.new(algorithm, actual.encode("utf-8")).hexdigest()
    return None


def evaluate_extra(op: str, expected: Any, actual: Any, text_actual: bool, evaluate: Callable[..., tuple[bool, str]]) -> tuple[bool, str]:
    """One of ``EXTRA_OPERATORS`` (but ``filters``): whether it holds, and what was expected as text."""
    from .assertions import show

    if op == "not":
        ok, text = evaluate(expected, actual, text_actual)
        return not ok, f"not ({text})"
    if op in ("startswith", "endswith"):
        ok = _starts(actual, expected, op == "endswith")
        verb = "starts with" if op == "startswith" else "ends with"
        return bool(ok), f"{verb} {show(expected)}" + (" (a string or bytes)" if ok is None else "")
    want = bool(expected)
    label = {True: "", False: "not "}[want]
    if op == "isEmpty":
        empty = isinstance(actual, (str, bytes, list, tuple, dict)) and len(actual) == 0
        return empty == want, f"{label}empty"
    if op == "isIsoDate":
        return is_iso_date(actual) == want, f"{label}an ISO 8601 date"
    if op == "isUuid":
        return (isinstance(actual, str) and _UUID.fullmatch(actual) is not None) == want, f"{label}a UUID"
    if op == "isInteger":
        integer = isinstance(actual, int) and not isinstance(actual, bool)
        return integer == want, f"{label}an integer"
    if op == "isFloat":
        return isinstance(actual, float) == want, f"{label}a float"
    if op in ("sha256", "md5"):
        digest = _hash_of(actual, op)
        wanted = str(expected).strip().lower()
        if digest is None:
            return False, f"{op} {wanted} (of text or bytes)"
        return digest == wanted, f"{op} {wanted}" + ("" if digest == wanted else f" (got {digest})")
    raise ValueError(f"unknown operator {op!r}")  # the loader rejects these first


def status_holds(predicate: dict[str, Any], status: int, evaluate: Callable[..., tuple[bool, str]], matches: Callable[[Any, int], bool]) -> bool:
    """A status operator mapping: ``{ne: 200}``, ``{ge: 500}``, ``{in: [200, 2xx]}``, ``{not: 4xx}``."""
    for op, expected in predicate.items():
        if op in ("eq", "in"):
            ok = matches(expected, status)
        elif op in ("ne", "not"):
            ok = not (matches(expected, status) if not isinstance(expected, dict) else status_holds(expected, status, evaluate, matches))
        else:
            ok = evaluate({op: expected}, status)[0]
        if not ok:
            return False
    return True


_SYMBOLS = {"eq": "==", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<=", "in": "one of", "not": "not"}


def status_text(predicate: dict[str, Any]) -> str:
    """A status operator mapping as people write it: ``>= 500``, ``!= 200``."""
    return ", ".join(f"{_SYMBOLS.get(op, op)} {value}" for op, value in predicate.items())
