"""Filters: steps between a target and its predicate (or a capture), shared by ``expect`` and ``capture``.

A filter list is written as ``filters: [count]`` or ``filters: [{nth: 0}, toInt]``:
a bare name, or a one-key mapping ``{name: argument}``.  The names follow Hurl's
(``toInt``, ``base64Decode``, ``urlQueryParam``...), so a Hurl file translates
word for word.  Filters are not templates: their arguments are literal.

A filter that cannot apply (``toInt`` on ``"abc"``) raises ``FilterError``;
the check or capture that used it fails with that message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .query import MISSING


class FilterError(ValueError):
    """A filter met a value it cannot apply to; the message names the filter."""


def _show(value: Any) -> str:
    from .assertions import show

    return show(value, 60)


def _text(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise FilterError(f"{name}: the bytes are not UTF-8 (use {{decode: CHARSET}} first)") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise FilterError(f"{name}: expected text, got {_show(value)}")


def _bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _count(value: Any, _: Any) -> Any:
    if isinstance(value, (list, tuple, dict, str, bytes)):
        return len(value)
    raise FilterError(f"count: expected a list, got {_show(value)}")


def _nth(value: Any, index: Any) -> Any:
    if not isinstance(value, (list, tuple)):
        raise FilterError(f"nth: expected a list, got {_show(value)}")
    try:
        return value[int(index)]
    except IndexError:
        raise FilterError(f"nth: index {index} is out of range (the list has {len(value)} item{'' if len(value) == 1 else 's'})") from None


def _first(value: Any, _: Any) -> Any:
    return _nth(value, 0)


def _last(value: Any, _: Any) -> Any:
    return _nth(value, -1)


def _regex(value: Any, pattern: Any) -> Any:
    match = re.search(str(pattern), _text("regex", value))
    if not match:
        return MISSING
    return match.group(1) if match.re.groups else match.group(0)


def _replace(value: Any, args: Any) -> Any:
    old, new = args
    return re.sub(str(old), str(new), _text("replace", value))


def _split(value: Any, separator: Any) -> Any:
    return _text("split", value).split(str(separator))


def _to_int(value: Any, _: Any) -> Any:
    if isinstance(value, bool):
        raise FilterError(f"toInt: {_show(value)} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(_text("toInt", value).strip())
    except (FilterError, ValueError):
        raise FilterError(f"toInt: {_show(value)} is not an integer") from None


def _to_float(value: Any, _: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(_text("toFloat", value).strip())
    except (FilterError, ValueError):
        raise FilterError(f"toFloat: {_show(value)} is not a number") from None


def _to_string(value: Any, _: Any) -> Any:
    if isinstance(value, (dict, list, bool)) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return _text("toString", value)


def _to_date(value: Any, fmt: Any) -> Any:
    text = _text("toDate", value)
    try:
        parsed = datetime.strptime(text, str(fmt)) if fmt else datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"toDate: {_show(text)} does not have the form {fmt or 'ISO 8601'}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _date_format(value: Any, fmt: Any) -> Any:
    if not isinstance(value, datetime):
        value = _to_date(value, None)
    return value.strftime(str(fmt))


def _days(value: Any, sign: int) -> Any:
    if not isinstance(value, datetime):
        value = _to_date(value, None)
    return (sign * (value - datetime.now(timezone.utc))).days


def _base64_decode(value: Any, _: Any) -> Any:
    text = _text("base64Decode", value).strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None, validate=True)
    except (binascii.Error, ValueError):
        raise FilterError(f"base64Decode: {_show(text)} is not base64") from None


def _utf8_decode(value: Any, _: Any) -> Any:
    return _decode(value, "utf-8")


def _decode(value: Any, charset: Any) -> Any:
    if isinstance(value, str):
        return value
    if not isinstance(value, (bytes, bytearray)):
        raise FilterError(f"decode: expected bytes, got {_show(value)}")
    try:
        return bytes(value).decode(str(charset))
    except LookupError:
        raise FilterError(f"decode: unknown charset {charset!r}") from None
    except UnicodeDecodeError as exc:
        raise FilterError(f"decode: the bytes are not {charset} ({exc.reason} at byte {exc.start})") from None


def _jsonpath(value: Any, path: Any) -> Any:
    from .assertions import parse_json
    from .query import json_value

    if isinstance(value, (str, bytes, bytearray)):
        try:
            value = parse_json(_text("jsonpath", value))
        except ValueError as exc:
            raise FilterError(f"jsonpath: the text is not JSON ({exc})") from None
    return json_value(str(path), value)


def _url_query_param(value: Any, name: Any) -> Any:
    values = parse_qs(urlsplit(_text("urlQueryParam", value)).query, keep_blank_values=True).get(str(name))
    return values[0] if values else MISSING


def _hash(algorithm: str) -> Callable[[Any, Any], Any]:
    return lambda value, _: hashlib.new(algorithm, _bytes(value)).hexdigest()


_FILTERS: dict[str, Callable[[Any, Any], Any]] = {
    "count": _count,
    "nth": _nth,
    "first": _first,
    "last": _last,
    "regex": _regex,
    "replace": _replace,
    "split": _split,
    "toInt": _to_int,
    "toFloat": _to_float,
    "toString": _to_string,
    "toDate": _to_date,
    "dateFormat": _date_format,
    "daysAfterNow": lambda value, _: _days(value, 1),
    "daysBeforeNow": lambda value, _: _days(value, -1),
    "base64Encode": lambda value, _: base64.b64encode(_bytes(value)).decode("ascii"),
    "base64Decode": _base64_decode,
    "base64UrlSafeEncode": lambda value, _: base64.urlsafe_b64encode(_bytes(value)).decode("ascii").rstrip("="),
    "base64UrlSafeDecode": _base64_decode,
    "urlEncode": lambda value, _: quote(_text("urlEncode", value), safe=""),
    "urlDecode": lambda value, _: unquote(_text("urlDecode", value)),
    "htmlEscape": lambda value, _: html.escape(_text("htmlEscape", value)),
    "htmlUnescape": lambda value, _: html.unescape(_text("htmlUnescape", value)),
    "utf8Encode": lambda value, _: _bytes(value),
    "utf8Decode": _utf8_decode,
    "decode": _decode,
    "toHex": lambda value, _: _bytes(value).hex(),
    "jsonpath": _jsonpath,
    "urlQueryParam": _url_query_param,
    "sha256": _hash("sha256"),
    "md5": _hash("md5"),
}

# filters whose argument is required (the others take none)
WITH_ARGUMENT = frozenset({"nth", "regex", "replace", "split", "dateFormat", "decode", "jsonpath", "urlQueryParam"})
FILTER_NAMES = frozenset(_FILTERS)


def filter_step(item: Any) -> tuple[str, Any]:
    """One written filter as ``(name, argument)``: ``count`` or ``{nth: 0}``."""
    if isinstance(item, dict):
        ((name, argument),) = item.items()
        return str(name), argument
    return str(item), None


def apply_filters(filters: Any, value: Any) -> Any:
    """``value`` passed through each filter in turn; ``MISSING`` stays missing; raises ``FilterError``."""
    for item in filters or ():
        if value is MISSING:
            return MISSING
        name, argument = filter_step(item)
        try:
            value = _FILTERS[name](value, argument)
        except FilterError:
            raise
        except (TypeError, ValueError, re.error) as exc:  # a bad argument met at run time
            raise FilterError(f"{name}: {exc}") from None
    return value


def describe(filters: Any) -> str:
    """The filters as one short line, for messages: ``nth 0 | toInt``."""
    parts = []
    for item in filters or ():
        name, argument = filter_step(item)
        parts.append(name if argument is None else f"{name} {json.dumps(argument, ensure_ascii=False)}")
    return " | ".join(parts)
