"""Pacing per host: a fixed rate (``rate: 5/s``) and the server's own rate-limit headers.

Fixed rate.  Requests to one host (scheme, name and port) are spaced evenly:
each takes the next free slot ``interval`` after the previous one, shared by
every ``--jobs`` worker (one event loop: taking a slot has no ``await`` in it).
This is a token bucket of depth one.  ``aiolimiter`` and ``limits`` were
considered: their buckets let a whole period's worth go at once (``60/m`` sends
60 requests in the first second), which is what trips a server's per-second
limit, and neither takes "not before T" from a response, which the adaptive mode
needs; the spacing below is 20 lines.

Adaptive.  A response that says how many requests (or tokens) remain in its
window, and when the window resets, moves the host's next slot:

* none left: not before the reset;
* a quarter of the limit or less left (5 or less when the limit is not sent):
  the rest spread evenly over the time to the reset;
* fewer tokens left than the next request may use (its input estimate plus its
  ``max_tokens``): not before the tokens' reset.

Headers read: Mistral's ``x-ratelimit-{limit,remaining}-{req,tokens}-minute``
(no reset header: the window's length is the bound), OpenAI's
``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` (reset as ``1m30s``,
``250ms``), the IETF draft's ``RateLimit-Limit/-Remaining/-Reset``, its
``RateLimit: limit=L, remaining=R, reset=T`` and ``RateLimit: "p";r=R;t=T`` with
``RateLimit-Policy: "p";q=L;w=W``, and the common ``X-RateLimit-Remaining`` /
``X-RateLimit-Reset`` (seconds, or a Unix time as GitHub sends it).  A 429 with
``Retry-After`` is handled by the retries, as before.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable

WINDOW_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_OPENAI_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_VENDOR = re.compile(r"^x-ratelimit-(limit|remaining|reset)-(req|requests|tokens)(?:-(second|minute|hour|day))?$")
_PLAIN = re.compile(r"^(?:x-)?ratelimit-(limit|remaining|reset)$")
_PARAM = re.compile(r"(?:^|[;,\s])(limit|remaining|reset|r|t|q|w)\s*=\s*\"?(\d+(?:\.\d+)?)")
UNIX_TIME = 1_000_000_000  # a "reset" this large is a point in time, not a number of seconds
# The longest the headers hold a host back.  A per-minute window fits; a server that says
# "none left for a day" must not hang a CI job for a day: after this the request goes out
# and the server's own answer (429 + Retry-After, the retries) decides.
MAX_HOLD_S = 120.0


@dataclass
class Budget:
    """What a server says is left in one of its windows."""

    kind: str  # "requests" or "tokens"
    remaining: float
    limit: float | None = None
    reset: float | None = None  # seconds from now
    header: str = ""


def _seconds(value: str, now_unix: float) -> float | None:
    """A reset value: seconds, an OpenAI duration (``1m30s``), or a Unix time."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        parts = _OPENAI_DURATION.findall(value)
        if not parts or "".join(a + b for a, b in parts) != value.replace(" ", ""):
            return None
        scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
        return sum(float(amount) * scale[unit] for amount, unit in parts)
    return max(0.0, number - now_unix) if number > UNIX_TIME else max(0.0, number)


def read_limits(headers: Any, now_unix: float | None = None) -> list[Budget]:
    """Every rate-limit window a response's headers describe (requests and tokens)."""
    now_unix = time.time() if now_unix is None else now_unix
    found: dict[str, dict[str, Any]] = {}

    def note(kind: str, field_name: str, value: Any, header: str, window: float | None = None) -> None:
        entry = found.setdefault(kind, {"header": header})
        entry.setdefault(field_name, value)
        if window is not None:
            entry.setdefault("window", window)
        if field_name == "remaining":
            entry["header"] = header

    for name, value in headers.items():
        lower = name.lower()
        vendor = _VENDOR.match(lower)
        plain = _PLAIN.match(lower)
        if vendor:
            kind = "tokens" if vendor.group(2) == "tokens" else "requests"
            window = WINDOW_SECONDS.get(vendor.group(3) or "")
            number = _seconds(value, now_unix) if vendor.group(1) == "reset" else _number(value)
            if number is not None:
                note(kind, vendor.group(1), number, lower, window)
        elif plain:
            number = _seconds(value, now_unix) if plain.group(1) == "reset" else _number(value)
            if number is not None:
                note("requests", plain.group(1), number, lower)
        elif lower in ("ratelimit", "ratelimit-policy"):
            params = {key: float(number) for key, number in _PARAM.findall(value)}
            names = {"limit": "limit", "q": "limit", "remaining": "remaining", "r": "remaining", "reset": "reset", "t": "reset", "w": "window"}
            for key, number in params.items():
                note("requests", names[key], number, lower)
    out = []
    for kind, entry in found.items():
        if "remaining" in entry:
            reset = entry.get("reset", entry.get("window"))
            out.append(Budget(kind, entry["remaining"], entry.get("limit"), reset, entry["header"]))
    return out


def _number(value: str) -> float | None:
    try:
        number = float(value.split(",")[0].strip())
    except ValueError:
        return None
    return number if number >= 0 else None


class HostPacer:
    """When each host may next be sent a request: the fixed rate's slots and the servers' own limits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._next: dict[str, float] = {}  # host -> the next free slot of its fixed rate
        self._hold: dict[str, tuple[float, float, str]] = {}  # host -> not before this time, the gap after it, and why (adaptive)
        self._tokens: dict[str, tuple[Budget, float]] = {}  # host -> tokens left, and when that was said
        self._sent: dict[str, float] = {}  # host -> when the last request was sent

    def slot(self, host: str, interval: float | None, rate_text: str = "", tokens_needed: int = 0) -> tuple[float, str]:
        """Take the host's next slot: seconds to wait from now, and why (``""``: no wait)."""
        now = self.clock()
        at, reason = now, ""
        if interval:
            at = max(now, self._next.get(host, now))
            self._next[host] = at + interval
            if at > now:
                reason = f"rate {rate_text} for {host}"
        held, gap, why = self._hold.get(host, (0.0, 0.0, ""))
        if held > at:
            at, reason = held, why
            self._hold[host] = (at + gap, gap, why)  # several workers waiting: one slot each, not all at once
        tokens = self._tokens.get(host)
        if tokens is not None and tokens_needed:
            budget, said_at = tokens
            reset_at = said_at + min(budget.reset or 0.0, MAX_HOLD_S)
            if budget.remaining < tokens_needed and reset_at > at:
                at, reason = reset_at, f"{host} has {budget.remaining:g} tokens left ({budget.header}), this request may use {tokens_needed}"
        if interval and at > self._next[host] - interval:
            self._next[host] = at + interval  # a hold pushes the fixed rate's later slots too
        return max(0.0, at - now), reason

    def confirm(self, host: str, interval: float | None) -> float:
        """Right before sending: 0 (and the send is recorded), or how much longer to wait.

        A worker that woke late from its slot must not make the next one go less
        than ``interval`` after it: the spacing holds between real sends.
        """
        now = self.clock()
        last = self._sent.get(host)
        if interval and last is not None and now < last + interval:
            return last + interval - now
        self._sent[host] = now
        return 0.0

    def observe(self, host: str, headers: Any) -> None:
        """Read a response's rate-limit headers and hold the host back before it runs out."""
        now = self.clock()
        for budget in read_limits(headers):
            if budget.kind == "tokens":
                self._tokens[host] = (budget, now)
                continue
            said = budget.reset if budget.reset is not None else 1.0
            reset = min(said, MAX_HOLD_S)
            reserve = budget.limit / 4 if budget.limit else 5
            if budget.remaining <= 0:
                gap = reset / budget.limit if budget.limit else 0.0
                self._hold_until(host, now + reset, gap, f"{host} has no requests left ({budget.header}), window resets in {said:g} s" + (f", waiting at most {MAX_HOLD_S:g} s" if said > reset else ""))
            elif budget.remaining <= reserve:
                gap = reset / (budget.remaining + 1)
                self._hold_until(host, now + gap, gap, f"{host} has {budget.remaining:g} requests left ({budget.header}) for {said:g} s: spacing them")

    def _hold_until(self, host: str, until: float, gap: float, reason: str) -> None:
        if until > self._hold.get(host, (0.0, 0.0, ""))[0]:
            self._hold[host] = (until, gap, reason)
