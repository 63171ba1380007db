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
class Usage:
    """Tokens one response reports (``usage`` of the body, or of the last streamed chunk that has it), and their cost."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = None  # None: no price for the model (never guessed)
    currency: str = ""


@dataclass
class ModelUsage:
    """The usage of every request to one model, summed."""

    model: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = 0.0  # None once one request of the model had no price
    currency: str = ""

    def add(self, usage: Usage | ModelUsage) -> None:
        """Count one request's usage (or another sum) in this sum."""
        self.requests += usage.requests if isinstance(usage, ModelUsage) else 1
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cost = None if self.cost is None or usage.cost is None else self.cost + usage.cost
        self.currency = self.currency or usage.currency


def sum_usage(items: Any) -> dict[str, ModelUsage]:
    """``Usage`` or ``ModelUsage`` items summed per model, in the order models first appear."""
    totals: dict[str, ModelUsage] = {}
    for usage in items:
        totals.setdefault(usage.model, ModelUsage(usage.model)).add(usage)
    return totals


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
    row: str = ""  # the data row of a data-driven run (its name column, or first columns), masked
    checks_skipped: int = 0  # checks and captures not evaluated because the status was not the expected one
    hint: str = ""  # why it may have failed, in the user's terms (a 401: which variable holds the key)
    usage: Usage | None = None
    waited_ms: float = 0.0  # time held back before sending (--rate, a server's rate-limit headers)
    wait_reason: str = ""

    @property
    def failed_checks(self) -> list[CheckResult]:
        """The checks that did not hold."""
        return [check for check in self.checks if not check.passed]

    @property
    def display_name(self) -> str:
        """The name with the iteration index when the run has several iterations."""
        if self.iteration is None:
            return f"{self.name} [{self.row}]" if self.row else self.name  # a data file of one row
        return f"{self.name} [{self.iteration}: {self.row}]" if self.row else f"{self.name} [{self.iteration}]"


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
    usage: dict[str, ModelUsage] = field(default_factory=dict)  # model -> its requests' usage, summed

    def add(self, result: RequestResult, keep: bool = True) -> None:
        """Record a finished request: kept in ``requests``, or only counted."""
        if result.usage is not None:
            self.usage.setdefault(result.usage.model, ModelUsage(result.usage.model)).add(result.usage)
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
    stopped: str = ""  # why the run stopped sending before the end (--budget, --max-requests); exit 1

    @property
    def usage(self) -> dict[str, ModelUsage]:
        """Token usage and cost per model, for the whole run."""
        return sum_usage(usage for collection in self.collections for usage in collection.usage.values())

    def count(self, outcome: str) -> int:
        """How many requests of the run ended with ``outcome``."""
        return sum(collection.count(outcome) for collection in self.collections)

    @property
    def ok(self) -> bool:
        """True when nothing failed or errored, and the run was not stopped early."""
        return self.count(FAILED) == 0 and self.count(ERROR) == 0 and not self.stopped
