"""Example bodies made ready when the mock starts, so a request pays only for what differs between requests.

A plain example's body is serialised once.  A templated JSON example is serialised
once too, with a marker where each templated string sits; a request then renders
only those strings (each compiled once) and joins the JSON text of their values
between the fixed pieces: the same bytes as rendering the whole value and
serialising it, without walking or copying the rest.  Event streams, and the rare
example whose text already holds the marker, take the general path
(``render_example``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from ..examples import example_body, json_text
from ..model import ExampleSpec
from ..templating import Templates, is_template

_MARKER = "\x00\x01runner-slot\x01\x00"
_MARKER_JSON = json.dumps(_MARKER)  # how the marker reads once serialised (control characters are always escaped)


@dataclass(frozen=True)
class PreparedBody:
    """An example's body: ``fixed`` bytes, or text ``pieces`` around the templated strings ``slots``."""

    content_type: str
    fixed: bytes | None = None
    pieces: tuple[str, ...] = ()
    slots: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    templated: bool = False

    def render(self, templates: Templates, scope: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The body bytes and headers for one request (raises ``TemplateError``)."""
        headers = {name: templates.render_text(value, scope) for name, value in self.headers}
        if self.fixed is not None:
            return self.fixed, headers
        parts = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:]):
            parts.append(json_text(templates.render(slot, scope)))
            parts.append(piece)
        return "".join(parts).encode("utf-8"), headers


def prepare_body(example: ExampleSpec) -> PreparedBody | None:
    """The ready form of a plain or templated non-streamed example; None when it must be rendered whole."""
    if example.events is not None or example.dynamic:
        return None
    headers = tuple(example.headers.items())
    if not example.template:
        body, content_type = example_body(example)
        return PreparedBody(content_type, body, headers=headers)
    if not example.has_json:
        return None  # a templated text body: rendered whole, it is one template anyway
    slots: list[str] = []
    marked = _mark(example.json, slots)
    text = json.dumps(marked, ensure_ascii=False)
    pieces = tuple(text.split(_MARKER_JSON))
    if len(pieces) != len(slots) + 1:
        return None  # the example's own text holds the marker
    return PreparedBody("application/json", None, pieces, tuple(slots), headers, templated=True)


def _mark(value: Any, slots: list[str]) -> Any:
    """``value`` with each templated string replaced by the marker, in the order ``json.dumps`` writes them."""
    if isinstance(value, dict):
        return {key: _mark(item, slots) for key, item in value.items()}
    if isinstance(value, list):
        return [_mark(item, slots) for item in value]
    if is_template(value):
        slots.append(value)
        return _MARKER
    return value
