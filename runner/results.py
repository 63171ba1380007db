"""Outcomes: plain data the engine produces and every report reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Location

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"


@dataclass
class CheckResult:
    """One check of a response; a failed check is data, not an exception."""

    kind: str  # status | header | json | schema | body | max_ms | events | capture
    target: str
    passed: bool
    expected: str = ""
    actual: str = ""
    message: str = ""
    location: Location | None = None
    pointer: str = ""
    keyword: str = ""

    @property
    def label(self) -> str:
        """A short name for the check, e.g. ``json $.usage.total_tokens``."""
        return f"{self.kind} {self.target}".strip()

    @property
    def detail(self) -> str:
        """``expected X, got Y``: the one wording of a failed check, in ``run`` and ``validate`` alike."""
        text = f"expected {self.expected}, got {self.actual}"
        return text + (f" - {self.message}" if self.actual == "(no JSON)" and self.message else "")


@dataclass
class SentRequest:
    """What was sent (already masked): for reports, ``show`` and ``-v``."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str = ""


@dataclass
class Attempt:
    """One try of a request (retries make several)."""

    number: int
    status: int | None
    elapsed_ms: float
    error: str = ""


@dataclass
class RequestResult:
    """The outcome of one request."""

    collection: str
    name: str
    method: str
    url: str
    location: Location | None
    outcome: str
    iteration: int | None = None
    status: int | None = None
    elapsed_ms: float = 0.0
    size: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    error: str = ""
    error_kind: str = ""
    skip_reason: str = ""
    request: SentRequest | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body_excerpt: str = ""
    content_type: str = ""
    captures: dict[str, Any] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    first_event_ms: float | None = None
    event_count: int | None = None
    tags: tuple[str, ...] = ()
    checks_skipped: int = 0  # checks and captures not evaluated because the status was not the expected one
    hint: str = ""  # why it may have failed, in the user's terms (a 401: which variable holds the key)

    @property
    def failed_checks(self) -> list[CheckResult]:
        """The checks that did not hold."""
        return [check for check in self.checks if not check.passed]

    @property
    def display_name(self) -> str:
        """The name with the iteration index when the run has several iterations."""
        return self.name if self.iteration is None else f"{self.name} [{self.iteration}]"


@dataclass
class CollectionResult:
    """Every request result of one collection file (and iteration).

    ``requests`` holds every result when some reporter reads them all at the end of
    the run (``Reporter.needs_run_results``: HTML); otherwise only failed and broken
    ones are kept, and the others are only counted in ``omitted``, so memory stays
    flat in the number of requests.
    """

    name: str
    path: str
    requests: list[RequestResult] = field(default_factory=list)
    elapsed_ms: float = 0.0
    iteration: int | None = None
    omitted: dict[str, int] = field(default_factory=dict)  # outcome -> requests not kept in ``requests``

    def add(self, result: RequestResult, keep: bool = True) -> None:
        """Record a finished request: kept in ``requests``, or only counted."""
        if keep:
            self.requests.append(result)
        else:
            self.omitted[result.outcome] = self.omitted.get(result.outcome, 0) + 1

    def count(self, outcome: str) -> int:
        """How many requests ended with ``outcome``."""
        return self.omitted.get(outcome, 0) + sum(1 for result in self.requests if result.outcome == outcome)


@dataclass
class RunResult:
    """The whole run."""

    collections: list[CollectionResult] = field(default_factory=list)
    started_at: str = ""
    elapsed_ms: float = 0.0
    interrupted: bool = False

    def count(self, outcome: str) -> int:
        """How many requests of the run ended with ``outcome``."""
        return sum(collection.count(outcome) for collection in self.collections)

    @property
    def ok(self) -> bool:
        """True when nothing failed or errored."""
        return self.count(FAILED) == 0 and self.count(ERROR) == 0
