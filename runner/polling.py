"""Waiting on purpose: ``retries: {until: checks}`` polls until the checks pass; ``delay:`` waits before a request."""

from __future__ import annotations

import re
from typing import Any

from .model import RetrySpec
from .templating import TemplateError

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*")


def delay_seconds(value: Any) -> float:
    """``delay:`` as seconds: a number is milliseconds (as in Hurl), text may say ``ms``, ``s`` or ``m``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value) / 1000
    match = _DURATION.fullmatch(str(value)) if isinstance(value, str) else None
    if not match:
        raise TemplateError(f"delay: {value!r} is not a duration (500, 500ms, 2s, 1m)")
    number, unit = float(match.group(1)), match.group(2) or "ms"
    return number * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]


def _named(check: Any, names: tuple[str, ...]) -> bool:
    labels = {check.kind, f"{check.kind}s", check.target, f"{check.kind}.{check.target}", f"{check.kind}s.{check.target}"}
    return any(name in labels for name in names)


def still_waiting(policy: RetrySpec | None, checks: list[Any]) -> bool:
    """Whether a polling policy wants another attempt: a check it watches failed."""
    if policy is None or policy.until is None:
        return False
    failed = [check for check in checks if not check.passed]
    if policy.until == "checks":
        return bool(failed)
    return any(_named(check, tuple(policy.until)) for check in failed)


def poll_delay(policy: RetrySpec, attempt: int) -> float | None:
    """Seconds before the next poll, or None when the attempts are used up."""
    if attempt > policy.count:
        return None
    if policy.interval is not None:
        return float(policy.interval)
    return float(min(policy.max_delay, policy.backoff * (2 ** (attempt - 1))))
