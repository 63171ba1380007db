"""``--shard K/N``: a deterministic, balanced share of the collections for one CI runner.

Every machine that runs the same command over the same files computes the same
partition: it depends only on the collection paths (as given, in ``/`` form) and
their request counts, never on hashing, file times or the Python version.  The
collections are dealt largest first to the shard with the fewest requests so far
(ties: the lower shard number), the classic longest-processing-time rule, which
keeps every shard within one collection of the ideal share.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Sequence, TypeVar

from .errors import UsageError

T = TypeVar("T")

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``1 <= K <= N``; a ``UsageError`` otherwise."""
    match = _SHARD.fullmatch(text)
    if not match:
        raise UsageError(f"--shard {text!r}: expected K/N, for example --shard 2/4 (the second of four shards)")
    index, total = int(match.group(1)), int(match.group(2))
    if total < 1 or not 1 <= index <= total:
        raise UsageError(f"--shard {text!r}: K must be between 1 and N, and N at least 1")
    return index, total


def shard_items(items: Sequence[T], weights: Sequence[int], keys: Sequence[str], index: int, total: int) -> list[T]:
    """The items of shard ``index`` (1-based) of ``total``, in their original order."""
    order = sorted(range(len(items)), key=lambda i: (-weights[i], keys[i]))
    loads = [0] * total
    owner = [0] * len(items)
    for i in order:
        shard = min(range(total), key=lambda s: (loads[s], s))
        owner[i] = shard
        loads[shard] += max(weights[i], 1)  # an empty collection still costs a file
    return [item for i, item in enumerate(items) if owner[i] == index - 1]


def shard_key(path: PurePath | str) -> str:
    """The path as every operating system spells it: ``/`` between parts."""
    return PurePath(path).as_posix()


__all__ = ["parse_shard", "shard_items", "shard_key"]
