"""Token usage from a response: the ``usage`` object of a JSON body, or of the last streamed chunks that carry it.

Where the numbers are is a collection's ``usage`` setting (``settings.UsageSpec``):
JSONPaths tried in order, defaulting to what OpenAI-compatible APIs send
(``$.usage.prompt_tokens`` / ``$.usage.completion_tokens``, ``$.model``), and
the shapes of OpenAI's Responses API, Anthropic and Gemini.  A stream sends
``"usage": null`` on every chunk but the last (Mistral, OpenAI with
``stream_options.include_usage``), and Anthropic counts input and output in
different events, so each count is taken from the last event that has it.
"""

from __future__ import annotations

import json
from typing import Any

from ..query import MISSING, json_value
from ..results import Usage
from .settings import UsageSpec


class Answers(dict):  # type: ignore[type-arg]
    """What each usage JSONPath selects in a body too large to parse (``jsonstream``): stands in for the document."""


def _first(paths: tuple[str, ...], document: Any) -> Any:
    for path in paths:
        value = document.get(path, MISSING) if isinstance(document, Answers) else json_value(path, document)
        if value is not MISSING and value is not None:
            return value
    return MISSING


def _tokens(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def usage_of(document: Any, spec: UsageSpec) -> tuple[int, int] | None:
    """``(input, output)`` tokens a JSON document reports, or None when it reports neither."""
    if not isinstance(document, (dict, list)):
        return None
    found_in, found_out = _tokens(_first(spec.input, document)), _tokens(_first(spec.output, document))
    if found_in is None and found_out is None:
        return None
    return found_in or 0, found_out or 0


def model_of(document: Any, spec: UsageSpec) -> str:
    """The model a JSON document names ('' when none)."""
    if not isinstance(document, (dict, list)):
        return ""
    value = _first(spec.model, document)
    return value if isinstance(value, str) else ""


def response_usage(spec: UsageSpec, body: Any, events: list[Any] | None) -> tuple[str, int, int] | None:
    """``(model, input, output)`` from a parsed JSON body or from a stream's events (the last chunk with usage)."""
    if events is not None:
        # from the end: the last event that counts input, and the last that counts output (the same one for
        # OpenAI and Mistral; Anthropic counts input in message_start and output in the last message_delta)
        documents = [document for document in (event.json for event in reversed(events)) if isinstance(document, (dict, list))]
        tokens_in = next((value for value in (_tokens(_first(spec.input, document)) for document in documents) if value is not None), None)
        tokens_out = next((value for value in (_tokens(_first(spec.output, document)) for document in documents) if value is not None), None)
        if tokens_in is None and tokens_out is None:
            return None
        model = next((name for name in (model_of(document, spec) for document in documents) if name), "")
        return model, tokens_in or 0, tokens_out or 0
    found = usage_of(body, spec)
    return None if found is None else (model_of(body, spec), found[0], found[1])


def request_body(content: bytes | None, content_type: str | None) -> Any:
    """The JSON body of a request as data (None when it has none or it is not JSON)."""
    if not content or (content_type and "json" not in content_type.lower()):
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


def requested_model(body: Any) -> str:
    """The ``model`` a request's JSON body asks for ('' when none)."""
    model = body.get("model") if isinstance(body, dict) else None
    return model if isinstance(model, str) else ""


def max_output_tokens(body: Any) -> int | None:
    """The output cap a request sets (``max_tokens``, ``max_completion_tokens`` or ``max_output_tokens``) times its ``n`` choices."""
    if not isinstance(body, dict):
        return None
    cap = next((_tokens(body[key]) for key in ("max_tokens", "max_completion_tokens", "max_output_tokens") if body.get(key) is not None), None)
    choices = _tokens(body.get("n")) or 1
    return None if cap is None else cap * max(choices, 1)


def estimate_input_tokens(content: bytes | None) -> int:
    """An upper estimate of a request's input tokens: its whole body at 4 bytes a token (keys and punctuation included)."""
    return -(-len(content or b"") // 4)


def make_usage(model: str, input_tokens: int, output_tokens: int, cost: float | None, currency: str) -> Usage:
    """A ``Usage`` record for a report."""
    return Usage(model or "(unknown model)", input_tokens, output_tokens, cost, currency)
