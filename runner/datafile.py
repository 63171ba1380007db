"""``--data FILE``: the rows of a CSV or JSON data file, each a mapping of variables for one iteration.

CSV: a header row names the variables; every value is text (as in Postman and
Newman).  JSON: a list of objects; values keep their JSON types, so an integer
stays an integer in a JSON body.  The file type comes from the extension.  Every
problem is an ``InputError`` naming the file and, where there is one, the line;
never quoting the line itself: a data file may hold secrets, none known yet.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .errors import InputError, Location, Problem
from .variables import lone_surrogate

FORMATS_HINT = "--data takes a .csv file (a header row of variable names, then one row per iteration) or a .json file (a list of objects)"
NAME_HINT = "variable names are letters, digits and _, not starting with a digit"


def _problem(message: str, location: Location | None = None, hint: str = "") -> Problem:
    return Problem(message, location, hint, quote_source=False)


def load_data_rows(path: str) -> list[dict[str, Any]]:
    """Every row of the data file at ``path``; raises ``InputError`` when it cannot be used."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InputError(_problem(f"data file {path}: unknown type {suffix or '(no extension)'}", Location(path), FORMATS_HINT))
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a BOM (Excel's CSV export) is not part of the first name
    except OSError as exc:
        raise InputError(_problem(f"cannot read data file {path}: {exc.strerror or exc}", hint=FORMATS_HINT)) from None
    except UnicodeDecodeError as exc:
        raise InputError(_problem(f"data file {path} is not UTF-8 text (byte {exc.start})", Location(path))) from None
    rows = json_rows(path, text) if suffix == ".json" else csv_rows(path, text)
    if not rows:
        raise InputError(_problem(f"data file {path} has no rows", Location(path), "each row is one iteration: add at least one"))
    return rows


def json_rows(path: str, text: str) -> list[dict[str, Any]]:
    """A JSON list of objects whose keys are variable names."""
    try:
        rows = json.loads(text)
    except ValueError as exc:
        line, col = getattr(exc, "lineno", 0), getattr(exc, "colno", 0)
        message = getattr(exc, "msg", str(exc))
        raise InputError(_problem(f"data file {path} is not valid JSON: {message}", Location(path, line, col))) from None
    if not isinstance(rows, list):
        raise InputError(_problem(f"data file {path} must hold a JSON list of objects, not {_json_type(rows)}", Location(path), FORMATS_HINT))
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise InputError(_problem(f"data file {path}: row {number} is {_json_type(row)}, not an object", Location(path), FORMATS_HINT))
        for key in row:
            if not key.isidentifier():
                raise InputError(_problem(f"data file {path}: row {number}: {key!r} is not a valid variable name", Location(path), NAME_HINT))
            if lone_surrogate(row[key]) is not None:  # "\ud800" alone: text no output can encode (the value may be a secret: not shown)
                raise InputError(_problem(f"data file {path}: row {number}: {key!r} holds a lone surrogate escape (such as \\ud800), which is not text", Location(path), "escape a character outside the BMP as a surrogate pair, or write it as it is"))
    return rows


def csv_rows(path: str, text: str) -> list[dict[str, str]]:
    """A header row of variable names, then rows of text values, as many as there are columns."""
    reader = csv.reader(io.StringIO(text, newline=""))  # quoted values may hold newlines
    try:
        header = next(reader, None)
        if header is None or not any(name.strip() for name in header):
            raise InputError(_problem(f"data file {path} has no header row", Location(path, 1), "the first row names the variables, e.g. model,max_tokens"))
        names = [name.strip() for name in header]
        for name in names:
            if not name.isidentifier():
                raise InputError(_problem(f"data file {path}: column {name!r} is not a valid variable name", Location(path, 1), NAME_HINT))
            if names.count(name) > 1:
                raise InputError(_problem(f"data file {path}: column {name!r} appears twice", Location(path, 1)))
        rows = []
        for values in reader:
            if not values:  # a blank line
                continue
            if len(values) != len(names):
                raise InputError(
                    _problem(
                        f"data file {path}: {len(values)} value(s) in a row, the header has {len(names)} column(s)",
                        Location(path, reader.line_num),
                        'quote a value that holds a comma: "a, b"',
                    )
                )
            rows.append(dict(zip(names, values)))
    except csv.Error as exc:
        raise InputError(_problem(f"data file {path} is not valid CSV: {exc}", Location(path, reader.line_num))) from None
    return rows


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
