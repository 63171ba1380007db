"""The format schema's errors as the house's problems: what is wrong, where, and a hint ("did you mean ...?").

``loader`` validates a collection (and an environment file's settings) against the
published format schema and hands every jsonschema error here.  jsonschema's own
text never reaches users: each kind of error gets a sentence, the value is
quoted short, and a hint comes from the schema itself (the keys and words it
accepts, its descriptions, its ``$comment`` notes) or from YAML's pitfalls.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from .errors import Problem
from .source import SourceDoc, escape_pointer, scalar_pitfall

BODY_KEYS = ("json", "form", "multipart", "body")


def format_problems(doc: SourceDoc, validator: Any) -> list[Problem]:
    """Validate ``doc.data`` against the format schema and explain each error."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        for problem in _explain(doc, error, validator.schema):
            key = (problem.message, str(problem.location))
            if key not in seen:
                seen.add(key)
                problems.append(problem)
    return problems


def _pointer(path: Any) -> str:
    return "".join(f"/{escape_pointer(part)}" for part in path)


def _deepest(error: Any) -> Any:
    """For anyOf/oneOf errors, the sub-error that went furthest into the instance."""
    from jsonschema.exceptions import best_match, relevance

    if not error.context:
        return error
    candidates = [e for e in error.context if e.validator not in ("type", "const", "enum", "not")] or error.context
    deepest = max(candidates, key=lambda e: (len(e.absolute_path), -relevance(e)[0] if callable(relevance) else 0))
    if len(deepest.absolute_path) > len(error.absolute_path):
        return _deepest(deepest)
    return best_match([error]) if error.validator not in ("anyOf", "oneOf") else error


def _explain(doc: SourceDoc, error: Any, root: Any = None) -> list[Problem]:
    error = _deepest(error)
    pointer = _pointer(error.absolute_path)
    where = _where(error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        out = []
        for key in error.instance:
            if key in allowed or any(re.search(p, str(key)) for p in patterns):
                continue
            close = _near(str(key), allowed)
            hint = f"did you mean {close!r}?" if close else (f"allowed keys: {', '.join(allowed)}" if allowed else "")
            out.append(doc.problem(f"{where}: unknown key {key!r}", f"{pointer}/{escape_pointer(key)}", hint, key=True))
        return out
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else error.message
        hint = ""
        if name == "requests" and not pointer:  # a YAML file of a run's folder that is not a collection
            hint = "a collection has a 'requests' list; is this an environment file? pass it with -e FILE (a folder run skips the files given to -e and --data)"
            problem = doc.problem(f"{where}: missing required key {name!r}", pointer, hint)
            problem.source_line, problem.quote_source = "", False  # it may be an environment file: quote none of its secrets
            return [problem]
        return [doc.problem(f"{where}: missing required key {name!r}", pointer, hint)]
    if error.validator == "not" and isinstance(error.instance, dict):
        example = bool(error.absolute_path) and error.absolute_path[-1] == "example"
        present = [key for key in BODY_KEYS if key in error.instance]
        if len(present) > 1 and not example:
            return [doc.problem(f"{where}: a request has at most one body, found {', '.join(present)}", pointer, "keep one of json, form, multipart, body")]
        present = [key for key in ("json", "body", "events") if key in error.instance]
        if len(present) > 1:
            return [doc.problem(f"{where}: an example has at most one of json, body, events; found {', '.join(present)}", pointer, "keep one of them")]
    value = error.instance
    message = f"{where}: {_short(error)}"
    hint = scalar_pitfall(doc, pointer, value)
    if not hint and isinstance(value, str) and value.lower() in ("yes", "no", "on", "off", "y", "n") and '"boolean"' in json.dumps(error.schema):
        hint = f"YAML 1.2 has two booleans, true and false: {value} is text; write {'true' if value.lower() in ('yes', 'on', 'y') else 'false'}"
    if not hint and error.validator in ("anyOf", "oneOf"):
        hint = _closest_choice(error.schema, value)
    if not hint and value is None and error.path and isinstance(error.path[-1], str):  # `example:` with nothing after it
        hint = f"'{error.path[-1]}:' has no value (YAML reads nothing as null): give it one, or remove the key"
    if not hint and error.validator == "type" and isinstance(value, str) and "boolean" in error.validator_value:
        close = _near(value, ["true", "false"])  # ture, flase
        hint = f"did you mean {close}?" if close else ""
    if not hint and error.validator == "enum" and isinstance(value, str):
        hint = _enum_hint(root, error, value)
    if not hint and error.validator in ("anyOf", "oneOf", "pattern"):
        hint = error.schema.get("description", "")[:200]
    return [doc.problem(message, pointer, hint)]


# Other tools' spellings of an operator, and what ours is: spelling alone would suggest `gt` for `gte`.
_ALIASES = {"gte": "ge", "lte": "le", "neq": "ne", "equals": "eq", "equal": "eq", "not_equal": "ne", "regex": "matches", "match": "matches", "len": "length"}


def _near(word: str, names: list[str]) -> str:
    """The name among ``names`` that ``word`` most likely meant (an alias, else the closest spelling ignoring case), or ''."""
    if _ALIASES.get(word) in names:
        return _ALIASES[word]
    folded = {name.lower(): name for name in names}
    close = difflib.get_close_matches(word.lower(), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else ""


def _choices(schema: Any, mapping: bool) -> tuple[list[str], bool]:
    """The names an anyOf/oneOf accepts: enum/const strings, or (``mapping``) the keys of its objects; and whether it takes other text too."""
    out: list[str] = []
    free = False
    for sub in (schema.get("anyOf") or schema.get("oneOf") or []) if isinstance(schema, dict) else []:
        if not isinstance(sub, dict):
            continue
        if mapping:
            out += list(sub.get("properties", {})) if sub.get("type") == "object" else []
        elif "enum" in sub or "const" in sub:
            out += [item for item in sub.get("enum", [sub.get("const")]) if isinstance(item, str)]
        elif sub.get("type") == "string" or (isinstance(sub.get("type"), list) and "string" in sub["type"]):
            free = True  # free text (a pattern, a template) is valid too
        if "anyOf" in sub or "oneOf" in sub:
            inner, inner_free = _choices(sub, mapping)
            out += inner
            free = free or inner_free
    return out, free


def _closest_choice(schema: Any, value: Any) -> str:
    """``did you mean 'toInt'?`` for a misspelt name (``toint``, ``cout``, ``{nht: 0}``) among those the schema accepts."""
    mapping = isinstance(value, dict)
    word = value if isinstance(value, str) else (next(iter(value)) if mapping and len(value) == 1 else None)
    if not isinstance(word, str):
        return ""
    choices, free = _choices(schema, mapping)
    if not choices or word in choices:
        return ""
    close = _near(str(word), choices)
    if close:
        return f"did you mean {close!r}?"
    if free:  # a list of names would mislead where other text is valid too: the schema's description says it
        return ""
    return f"one of: {', '.join(dict.fromkeys(choices))}" if len(choices) <= 40 else ""


def _enum_hint(root: Any, error: Any, value: str) -> str:
    """``did you mean 'sse'?`` for a misspelt enum value; where a mapping is the other choice (``auth: bearr``), among its keys."""
    close = _near(value, [item for item in error.validator_value if isinstance(item, str)])
    if close:
        return f"did you mean {close!r}?"
    path = list(error.absolute_schema_path)
    if root is None or path[-2:] != ["else", "enum"]:
        return ""
    node = root
    for step in path[:-2]:  # the schema whose if/then/else this is; jsonschema's path steps over $ref
        while isinstance(node, dict) and "$ref" in node and step not in node:
            node = _resolve(root, node["$ref"])
        node = node[step]
    while isinstance(node, dict) and "$ref" in node:
        node = _resolve(root, node["$ref"])
    keys = list(node.get("then", {}).get("properties", {})) if isinstance(node, dict) else []
    close = _near(value, keys)
    return f"did you mean {{{close}: ...}}?" if close else ""


def _resolve(root: Any, ref: str) -> Any:
    """A local ``#/$defs/name`` reference of the format schema."""
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _short(error: Any) -> str:
    value = json.dumps(error.instance, default=str)
    if len(value) > 60:
        value = value[:57] + "..."
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value)
        return f"expected {expected}, got {value}"
    if error.validator == "enum":
        return f"{value} is not one of {', '.join(item if isinstance(item, str) else json.dumps(item) for item in error.validator_value)}"
    if error.validator in ("anyOf", "oneOf"):
        return f"{value} is not a valid value here"
    if error.validator == "pattern":
        return f"{value} does not have the expected form (a literal name, not a template)" if "{{" in value else f"{value} does not have the expected form"
    if error.validator == "not" and isinstance(error.validator_value, dict) and "$comment" in error.validator_value:
        return str(error.validator_value["$comment"])  # the schema says in words what the "not" rules out
    if error.validator == "not":  # jsonschema's text quotes the whole subschema
        return f"{value} is not allowed here" + (f" ({error.schema['description']})" if isinstance(error.schema, dict) and error.schema.get("description") else "")
    return error.message


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "collection"
