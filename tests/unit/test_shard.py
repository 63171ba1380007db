"""--shard K/N: parsing, and a partition that is exact, stable and balanced."""

from __future__ import annotations

import pytest

from runner.errors import UsageError
from runner.shard import parse_shard, shard_items, shard_key


@pytest.mark.parametrize(("text", "expected"), [("1/1", (1, 1)), ("2/4", (2, 4)), (" 3 / 3 ", (3, 3))], ids=["one", "middle", "spaces"])
def test_parse_shard_accepts_k_of_n(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "2", "a/b", "-1/3", "1/3/4", ""], ids=["zero", "past-n", "n-zero", "no-slash", "words", "negative", "three-parts", "empty"])
def test_parse_shard_refuses_anything_else(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        parse_shard(text)


@pytest.mark.parametrize("total", [1, 2, 3, 4, 5, 9])
def test_shards_partition_the_items_exactly_and_keep_their_order(total: int) -> None:
    names = [f"c{i:02d}.yaml" for i in range(9)]
    weights = [5, 1, 1, 8, 2, 2, 3, 0, 13]
    shards = [shard_items(names, weights, names, index, total) for index in range(1, total + 1)]
    assert sorted(name for shard in shards for name in shard) == names
    for shard in shards:
        assert shard == sorted(shard)  # each shard keeps the plan's order


def test_shards_are_balanced_by_request_count() -> None:
    names = [f"c{i}" for i in range(8)]
    weights = [10, 9, 8, 7, 6, 5, 4, 3]
    loads = [sum(weights[names.index(n)] for n in shard_items(names, weights, names, k, 3)) for k in (1, 2, 3)]
    assert max(loads) - min(loads) <= max(weights)
    assert sum(loads) == sum(weights)


def test_the_partition_depends_on_paths_and_counts_not_on_input_spelling() -> None:
    assert shard_key("collections\\chat.yaml".replace("\\", "/")) == shard_key("collections/chat.yaml")
    names = ["b", "a", "c", "d"]
    weights = [2, 2, 2, 2]
    first = [shard_items(names, weights, names, k, 2) for k in (1, 2)]
    again = [shard_items(list(names), list(weights), list(names), k, 2) for k in (1, 2)]
    assert first == again
    assert first[0] and first[1]  # ties are dealt out, not all to shard 1
