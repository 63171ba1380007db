"""Reports written as the run goes: each request is masked and written when it finishes.

Memory stays flat in the number of requests: nothing of a finished request is
kept, only counts.  The text goes to the report's temporary file (or to scratch
files, for parts that must follow a header written later) and the file is moved
over the target when the run is done (``files.ReportFile``).

Ctrl-C can raise ``KeyboardInterrupt`` between any two bytecodes of a sequential
run, also in the middle of a write.  So every write is followed by one
assignment of a new ``Progress`` (offsets and counts together); what lies past
the recorded offsets was cut short and is dropped before anything else is
written, and the report ends with the requests that were completely written.

A value can become a secret after requests that show it were written (a token
captured without ``secret: true``, then used in ``auth``): the file is then masked
once more when the run is done (``remask``): each text value is decoded, masked
and encoded again, so the file stays valid and escaped forms are found.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from time import perf_counter as _clock
from typing import IO, Any, Callable, TextIO

from ..model import CollectionSpec
from ..redact import Redactor
from ..results import CollectionResult, RequestResult, RunResult
from .document import OUTCOMES, UNMASKED_KEYS, collection_head, collection_tail, counts_of, request_entry, run_head, run_tail
from .files import FileReporter

NO_COUNTS = (0,) * len(OUTCOMES)


@dataclass(frozen=True)
class Progress:
    """What is completely written: offsets in the report's files, and the counts of what they hold."""

    offsets: tuple[int, ...] = ()
    collections: int = 0  # collections written or open
    open: bool = False  # a collection is open: its requests are being written
    requests: int = 0  # requests written in the open collection
    run_counts: tuple[int, ...] = NO_COUNTS
    collection_counts: tuple[int, ...] = NO_COUNTS


def added(counts: tuple[int, ...], outcome: str) -> tuple[int, ...]:
    """``counts`` with one more request of ``outcome``."""
    return tuple(number + (name == outcome) for name, number in zip(OUTCOMES, counts))


def restore(handle: IO[bytes], offset: int) -> None:
    """Drop whatever an interrupted write left past ``offset``."""
    if handle.tell() != offset:
        handle.seek(offset)
        handle.truncate()


def copy_part(source: IO[bytes], size: int, target: IO[bytes]) -> None:
    """Append the first ``size`` bytes of ``source`` to ``target``, in chunks."""
    restore(source, size)
    source.seek(0)
    shutil.copyfileobj(source, target)


class StreamedReporter(FileReporter):
    """A file report written request by request (subclasses: JSON, JUnit).

    Subclasses write the pieces: ``begin`` (the run's head), ``open_collection``,
    ``add_request``, ``close_collection`` and ``end``; each returns the new
    offsets.  A reporter given no events (``run_finished`` alone, as the tests and
    library callers do) writes the requests the ``RunResult`` it is given holds.
    """

    def __init__(self, path: str, redactor: Redactor, stdout: TextIO | None = None):
        super().__init__(path, redactor, stdout)
        self.progress = Progress()
        self.started = False
        self.failure: OSError | None = None
        self._collection: dict[str, Any] = {}  # the open collection's head
        self._scratches: list[IO[bytes]] = []
        self._opened_at = 0.0
        self._masked_at: int | None = None  # the redactor's generation when the first request was written

    # -- events ------------------------------------------------------------------------------

    def run_started(self, plan: list[Any]) -> None:
        self.started = True
        head = self.redactor.mask_data(run_head(self.started_at or _now()), UNMASKED_KEYS)
        self._guard(lambda: replace(self.progress, offsets=self.begin(head)))

    def collection_started(self, collection: CollectionSpec, iteration: int | None) -> None:
        self._open(collection.name, collection.path, iteration)

    def request_finished(self, result: RequestResult) -> None:
        progress = self.progress
        if self.failure is not None or not progress.open:
            return
        if self._masked_at is None:
            self._masked_at = self.redactor.generation
        entry = request_entry(result, self.redactor)
        self._guard(
            lambda: replace(
                progress,
                offsets=self.add_request(entry, progress),
                requests=progress.requests + 1,
                run_counts=added(progress.run_counts, result.outcome),
                collection_counts=added(progress.collection_counts, result.outcome),
            ),
        )

    def collection_finished(self, result: CollectionResult) -> None:
        self._close(result.elapsed_ms, result.usage)

    def run_finished(self, result: RunResult) -> None:
        if not self.started:  # no events: write the run as given
            self.started_at = self.started_at or result.started_at
            self.run_started([])
            for collection in result.collections:
                self._open(collection.name, collection.path, collection.iteration)
                for request in collection.requests:
                    self.request_finished(request)
                self._close(collection.elapsed_ms, collection.usage)
        if self.progress.open:  # interrupted before the collection could be closed
            self._close((_clock() - self._opened_at) * 1000)
        tail = run_tail(result, counts_of(self.progress.run_counts))
        self._guard(lambda: replace(self.progress, offsets=self.end(tail, self.progress)))
        self._close_scratches()
        if self.failure is None and self._masked_at is not None and self.redactor.generation > self._masked_at:
            try:  # a value became a secret after requests that show it were written (a captured token used in auth)
                self.output.rewrite(self.remask)
            except OSError as exc:
                self.failure = exc
        if self.failure is not None:
            self.output.fail(self.failure)
        self.output.finish()

    def scratch(self) -> IO[bytes]:
        """A scratch file next to the report, closed (and so removed) when the report is done."""
        handle = self.output.scratch()
        self._scratches.append(handle)
        return handle

    def discard(self) -> None:
        self._close_scratches()
        super().discard()

    def _close_scratches(self) -> None:
        for handle in self._scratches:
            handle.close()
        self._scratches.clear()

    # -- the pieces subclasses write ---------------------------------------------------------------

    def begin(self, head: dict[str, Any]) -> tuple[int, ...]:
        """Write what comes before the collections; the new offsets."""
        raise NotImplementedError

    def open_collection(self, head: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        """Write what comes before a collection's requests (``progress.collections`` were written before it)."""
        raise NotImplementedError

    def add_request(self, entry: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        """Write one request (``progress.requests`` of this collection were written before it)."""
        raise NotImplementedError

    def close_collection(self, head: dict[str, Any], tail: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        """Write what comes after a collection's requests."""
        raise NotImplementedError

    def end(self, tail: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        """Write what comes after the collections; the report is then complete."""
        raise NotImplementedError

    def remask(self, source: IO[bytes], target: IO[bytes]) -> None:
        """Copy the complete report, every text value in it masked with every secret known now."""
        raise NotImplementedError

    # -- plumbing ---------------------------------------------------------------------------------

    def _open(self, name: str, path: str, iteration: int | None) -> None:
        if self.progress.open:  # the previous one was never closed (interrupted): close it first
            self._close((_clock() - self._opened_at) * 1000)
        progress = self.progress
        head = self.redactor.mask_data(collection_head(name, path, iteration), UNMASKED_KEYS)
        self._collection, self._opened_at = head, _clock()
        self._guard(lambda: replace(progress, offsets=self.open_collection(head, progress), collections=progress.collections + 1, open=True, requests=0, collection_counts=NO_COUNTS))

    def _close(self, elapsed_ms: float, usage: dict[str, Any] | None = None) -> None:
        progress = self.progress
        if not progress.open:
            return
        tail = collection_tail(elapsed_ms, counts_of(progress.collection_counts), usage)
        self._guard(lambda: replace(progress, offsets=self.close_collection(self._collection, tail, progress), open=False))

    def _guard(self, write: Callable[[], Progress]) -> None:
        """Run one write; the ``Progress`` it returns becomes the current one.  A file error stops the report, not the run."""
        if self.failure is not None:
            return
        try:
            progress = write()
        except OSError as exc:
            self.failure = exc
            return
        self.progress = progress


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
