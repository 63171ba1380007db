"""The reporter interface, a fan-out to several reporters, and in-order delivery for ``--jobs``."""

from __future__ import annotations

from typing import Any

from ..model import CollectionSpec
from ..results import CollectionResult, RequestResult, RunResult


class Reporter:
    """Receives the engine's events; every method is optional.

    Two attributes tell the engine what to keep (``session.py`` reads them):
    ``wants_details``, build every request's sent request, response headers and
    checks, not only failed ones'; ``needs_run_results``, keep every
    ``RequestResult`` in the ``RunResult`` until ``run_finished`` (else only failed
    and broken ones stay, and the others are counted).  Memory grows with the run
    only for a reporter that needs the whole run at the end.
    """

    wants_details = False
    needs_run_results = False
    started_at = ""  # when the run started (ISO 8601, UTC); set before run_started

    def run_started(self, plan: list[Any]) -> None:
        """The run begins; ``plan`` lists the collection runs."""

    def collection_started(self, collection: CollectionSpec, iteration: int | None) -> None:
        """A collection (one iteration of it) begins."""

    def request_finished(self, result: RequestResult) -> None:
        """A request is done: passed, failed, errored or skipped."""

    def collection_finished(self, result: CollectionResult) -> None:
        """A collection is done."""

    def run_finished(self, result: RunResult) -> None:
        """The run is done (also after an interrupt or --bail)."""


class Reporters(Reporter):
    """Sends every event to each reporter in turn."""

    def __init__(self, reporters: list[Reporter]):
        self.reporters = reporters

    def run_started(self, plan: list[Any], started_at: str = "") -> None:
        for reporter in self.reporters:
            reporter.started_at = started_at
            reporter.run_started(plan)

    def collection_started(self, collection: CollectionSpec, iteration: int | None) -> None:
        for reporter in self.reporters:
            reporter.collection_started(collection, iteration)

    def request_finished(self, result: RequestResult) -> None:
        for reporter in self.reporters:
            reporter.request_finished(result)

    def collection_finished(self, result: CollectionResult) -> None:
        for reporter in self.reporters:
            reporter.collection_finished(result)

    def run_finished(self, result: RunResult) -> None:
        # one report that cannot be written must not cost the others theirs: raise the first failure last
        failure: Exception | None = None
        for reporter in self.reporters:
            try:
                reporter.run_finished(result)
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure


class _Channel(Reporter):
    """The events of one collection, held until every earlier collection has been delivered."""

    def __init__(self, owner: "BufferedReporters", position: int):
        self.owner = owner
        self.position = position
        self.events: list[tuple[str, tuple[Any, ...]]] = []

    def _emit(self, name: str, *args: Any) -> None:
        if self.owner.current == self.position:
            getattr(self.owner.target, name)(*args)
        else:
            self.events.append((name, args))

    def collection_started(self, collection: CollectionSpec, iteration: int | None) -> None:
        self._emit("collection_started", collection, iteration)

    def request_finished(self, result: RequestResult) -> None:
        self._emit("request_finished", result)

    def collection_finished(self, result: CollectionResult) -> None:
        self._emit("collection_finished", result)


class BufferedReporters:
    """Delivers per-collection events in plan order, whatever order collections finish in.

    The collection at ``current`` reports live; a later one's events wait in its
    channel until every earlier collection has finished.  Channels exist only for
    collections that have started and not yet been delivered.
    """

    def __init__(self, target: Reporter, count: int):
        self.target = target
        self.current = 0
        self.count = count
        self._channels: dict[int, _Channel] = {}
        self._finished: set[int] = set()

    def channel(self, position: int) -> Reporter:
        """The reporter the engine uses for collection number ``position``."""
        channel = self._channels.get(position)
        if channel is None:
            channel = self._channels[position] = _Channel(self, position)
        return channel

    def finish(self, position: int) -> None:
        """Collection ``position`` is done (or was not run): deliver whatever is now in order."""
        self._finished.add(position)
        while self.current in self._finished:
            self._finished.discard(self.current)
            self._channels.pop(self.current, None)
            self.current += 1
            if self.current in self._channels:
                self._replay(self._channels[self.current])

    def _replay(self, channel: _Channel) -> None:
        events, channel.events = channel.events, []
        for name, args in events:
            getattr(self.target, name)(*args)

    def flush_all(self) -> None:
        """Deliver every buffered event, in plan order (after an interrupt)."""
        for position in sorted(self._channels):
            if position >= self.current:
                self._replay(self._channels[position])
        self._channels.clear()
        self.current = self.count
