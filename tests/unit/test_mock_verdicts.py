"""The mock's cache of validation verdicts: bounded, least recently used first out, right under threads."""

from __future__ import annotations

import threading
from typing import Any

from jsonschema import Draft202012Validator

from runner.mock.validation import VerdictCache


class CountingStore:
    """A schema store that counts the validations it is asked for."""

    def __init__(self) -> None:
        self.calls = 0
        self._validator = Draft202012Validator({"type": "object", "required": ["model"]})

    def validator(self, ref: Any) -> Any:
        self.calls += 1
        return self._validator


def test_a_verdict_is_remembered_and_the_least_recently_used_goes_first() -> None:
    store, cache = CountingStore(), VerdictCache(size=2)
    bodies = {name: (f'{{"n": "{name}"}}'.encode(), {"n": name}) for name in "abc"}
    for name in "aba":  # a, b validated; a again from the cache, and now the most recent
        assert cache.check(store, None, 1, *bodies[name])[0]["type"] == "missing"
    assert store.calls == 2
    cache.check(store, None, 1, *bodies["c"])  # evicts b, not a
    cache.check(store, None, 1, *bodies["a"])
    assert store.calls == 3
    cache.check(store, None, 1, *bodies["b"])
    assert store.calls == 4
    assert cache.check(store, None, 2, *bodies["a"]) and store.calls == 5  # another route: its own verdict


def test_threads_sharing_the_cache_get_the_right_verdicts() -> None:
    store, cache = CountingStore(), VerdictCache(size=8)
    wrong: list[Any] = []

    def client(index: int) -> None:
        for round_ in range(300):
            n = (index * 7 + round_) % 20
            raw = b'{"model": "m"}' if n % 2 else b'{"n": %d}' % n
            body = {"model": "m"} if n % 2 else {"n": n}
            verdict = cache.check(store, None, 1, raw, body)
            if bool(verdict) != (n % 2 == 0):
                wrong.append((n, verdict))

    threads = [threading.Thread(target=client, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not wrong
    assert not any(thread.is_alive() for thread in threads)
