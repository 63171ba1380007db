"""What ``runner load`` was asked to do, and the parsing of its small value languages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import UsageError
from ..inputs import CollectionInput

_SECONDS = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*")
_UNITS = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass
class LoadSettings(CollectionInput):
    """Everything ``runner load`` was asked to do."""

    users: int = 1
    spawn_rate: float = 1.0
    run_time: str | None = "30s"
    think: str = "0"
    csv: str | None = None
    html: str | None = None
    web: bool = False
    web_port: int = 8089
    master: bool = False
    expect_workers: int = 1
    worker: bool = False
    master_host: str = "127.0.0.1"
    master_port: int = 5557
    master_wait: str = "30s"  # --worker: how long to keep knocking at a master that does not answer
    timeout: float | None = None
    force: bool = False


def parse_seconds(text: str, option: str) -> float:
    """``"30s"``, ``"1.5m"``, ``"500ms"``, ``"2h"`` or a bare number of seconds."""
    match = _SECONDS.fullmatch(text)
    if not match:
        raise UsageError(f"{option} {text!r}: expected a duration such as 30s, 1.5m, 500ms or 2h")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_think(text: str) -> tuple[float, float]:
    """``--think``: ``"0.5-2s"`` (uniform between) or ``"1s"`` (constant) -> (low, high) seconds."""
    low, dash, high = text.partition("-")
    if not dash:
        value = parse_seconds(text, "--think")
        return value, value
    first, second = _SECONDS.fullmatch(low), _SECONDS.fullmatch(high)
    if not first or not second:
        raise UsageError(f"--think {text!r}: expected a duration or a range such as 0.5-2s")
    # "0.5-2s": a unit written once, at the end, applies to both ends
    bounds = (float(first.group(1)) * _UNITS[first.group(2) or second.group(2)], float(second.group(1)) * _UNITS[second.group(2)])
    if bounds[0] > bounds[1]:
        raise UsageError(f"--think {text!r}: the low end is above the high end")
    return bounds
