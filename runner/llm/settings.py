"""The paid-API settings a collection or environment file holds: ``pricing``, ``usage`` and ``rate``.

The format schemas check their shape; this module turns them into frozen specs
and reports what a schema cannot see (a JSONPath that does not parse, a price
table whose currency differs from another's when ``--budget`` needs one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import Location, Problem

# OpenAI-compatible chat and embeddings; OpenAI's Responses API and Anthropic (input_tokens / output_tokens,
# and Anthropic's message_start event); Gemini's usageMetadata
DEFAULT_INPUT_PATHS = ("$.usage.prompt_tokens", "$.usage.input_tokens", "$.message.usage.input_tokens", "$.usageMetadata.promptTokenCount")
DEFAULT_OUTPUT_PATHS = ("$.usage.completion_tokens", "$.usage.output_tokens", "$.usageMetadata.candidatesTokenCount")
DEFAULT_MODEL_PATHS = ("$.model", "$.message.model", "$.modelVersion")
_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)?\s*(s|sec|second|m|min|minute|h|hour)\s*$")


@dataclass(frozen=True)
class ModelPrice:
    """What one model costs per million tokens; ``max_output_tokens`` bounds a request that sets no ``max_tokens``."""

    input: float
    output: float = 0.0
    max_output_tokens: int | None = None


@dataclass(frozen=True)
class PricingSpec:
    """A price table: model name -> price per million tokens, all in one ``currency``."""

    currency: str
    models: dict[str, ModelPrice] = field(default_factory=dict)
    max_output_tokens: int | None = None
    location: Location | None = None

    def price(self, *names: str | None) -> ModelPrice | None:
        """The price of the first of ``names`` the table lists (the response's model, then the request's)."""
        for name in names:
            if name and name in self.models:
                return self.models[name]
        return None

    def cost(self, price: ModelPrice, input_tokens: int, output_tokens: int) -> float:
        """The cost of a request's tokens at ``price``."""
        return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


@dataclass(frozen=True)
class UsageSpec:
    """Where a response keeps its token counts and model: JSONPaths, the first that matches wins."""

    input: tuple[str, ...] = DEFAULT_INPUT_PATHS
    output: tuple[str, ...] = DEFAULT_OUTPUT_PATHS
    model: tuple[str, ...] = DEFAULT_MODEL_PATHS


@dataclass(frozen=True)
class RateSpec:
    """``5/s``, ``60/m``, ``100/10s``: at most ``count`` requests per ``seconds``, evenly spaced."""

    text: str
    count: float
    seconds: float

    @property
    def interval(self) -> float:
        """Seconds between two requests to the same host."""
        return self.seconds / self.count


def parse_rate(text: str) -> RateSpec | None:
    """A rate such as ``5/s`` or ``60/m``, or None when ``text`` is not one."""
    match = _RATE.match(str(text))
    if match is None or float(match.group(1)) <= 0:
        return None
    per = float(match.group(2) or 1) * _UNITS[match.group(3)]
    return RateSpec(str(text).strip(), float(match.group(1)), per) if per > 0 else None


RATE_HINT = "a rate is COUNT/UNIT: 5/s, 60/m, 1000/h, or 100/10s"


def parse_pricing(data: dict[str, Any], location: Location | None = None) -> PricingSpec:
    """A schema-valid ``pricing`` mapping as a ``PricingSpec``."""
    models = {
        str(name): ModelPrice(float(price["input"]), float(price.get("output", 0.0)), price.get("max_output_tokens"))
        for name, price in (data.get("models") or {}).items()
    }
    return PricingSpec(str(data["currency"]), models, data.get("max_output_tokens"), location)


def parse_usage(data: dict[str, Any] | None) -> UsageSpec:
    """A schema-valid ``usage`` mapping (each path a string or a list of them) as a ``UsageSpec``."""
    if not data:
        return UsageSpec()

    def paths(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return default
        return (value,) if isinstance(value, str) else tuple(value)

    return UsageSpec(paths("input", DEFAULT_INPUT_PATHS), paths("output", DEFAULT_OUTPUT_PATHS), paths("model", DEFAULT_MODEL_PATHS))


def usage_problems(spec: UsageSpec, problem: Any) -> list[Problem]:
    """A problem (via ``problem(message, key)``) for each JSONPath of ``spec`` that does not parse."""
    from jsonpath_rfc9535 import JSONPathError, compile as compile_path

    problems = []
    for key in ("input", "output", "model"):
        for path in getattr(spec, key):
            try:
                compile_path(path)
            except JSONPathError as exc:
                problems.append(problem(f"usage.{key}: invalid JSONPath {path!r}: {exc}", key))
    return problems
