"""The report document: the run as plain, masked data that every file report renders.

``build_document`` turns a ``RunResult`` into the structure the JSON report
writes (``schemas/report.schema.json`` describes it, ``docs/reports.md``
documents it); JUnit, HTML, Markdown and GitHub render the same structure.  The
parts are built here too, one request at a time (``request_entry``), for the
reports written as the run goes (``streamed.py``).  Everything is masked with the
run's redactor when it is built, so no format can leak what another hides.

Key order follows the order a streamed report writes them in: what is known at
the start, then the list, then what sums it up.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Iterator

from .. import __version__
from ..errors import Location
from ..redact import Redactor
from ..results import ERROR, FAILED, PASSED, SKIPPED, CheckResult, CollectionResult, ModelUsage, RequestResult, RunResult, Usage

REPORT_VERSION = 1
OUTCOMES = (PASSED, FAILED, ERROR, SKIPPED)
# Values the runner writes itself (versions, times, enums, file paths): never masked, so a short
# secret ("e", "pass") cannot rewrite them; every other string value came from users or servers.
UNMASKED_KEYS = frozenset({"report_version", "runner_version", "started_at", "outcome", "kind", "keyword", "file", "path"})

Document = dict[str, Any]


def exit_status(run: RunResult) -> int:
    """The exit code ``runner run`` gives for this run (0 passed, 1 failed, 130 interrupted)."""
    if run.interrupted:
        return 130
    return 0 if run.ok else 1


def run_head(started_at: str) -> dict[str, Any]:
    """The fields of the document known when the run starts (they come first)."""
    return {"report_version": REPORT_VERSION, "runner_version": __version__, "started_at": started_at}


def run_tail(run: RunResult, counts: dict[str, int]) -> dict[str, Any]:
    """The fields of the document known when the run is done (they come after the collections)."""
    return {
        "elapsed_ms": _ms(run.elapsed_ms),
        "interrupted": run.interrupted,
        "exit_status": exit_status(run),
        "counts": counts,
        "usage": usage_entries(run.usage),
        "cost": run_cost(run.usage),
        "stopped": run.stopped or None,
    }


def collection_head(name: str, path: str, iteration: int | None) -> dict[str, Any]:
    """The fields of a collection known when it starts."""
    return {"name": name, "path": path, "iteration": iteration}


def collection_tail(elapsed_ms: float, counts: dict[str, int], usage: dict[str, ModelUsage] | None = None) -> dict[str, Any]:
    """The fields of a collection known when it is done (they come after its requests)."""
    return {"elapsed_ms": _ms(elapsed_ms), "counts": counts, "usage": usage_entries(usage or {})}


def usage_entries(usage: dict[str, ModelUsage]) -> list[dict[str, Any]]:
    """Token usage and cost per model, as the document lists them."""
    return [
        {"model": item.model, "requests": item.requests, "input_tokens": item.input_tokens, "output_tokens": item.output_tokens, "cost": _money(item.cost), "currency": item.currency or None}
        for item in usage.values()
    ]


def run_cost(usage: dict[str, ModelUsage]) -> dict[str, Any] | None:
    """The run's cost: the sum over priced models, the currency, and the models without a price (their cost is unknown); None without a price table."""
    priced = [item for item in usage.values() if item.cost is not None and item.currency]
    if not any(item.currency for item in usage.values()):  # no price table: no cost to speak of
        return None
    currencies = sorted({item.currency for item in priced})
    return {
        "total": _money(sum(item.cost or 0.0 for item in priced)) if len(currencies) <= 1 else None,
        "currency": currencies[0] if len(currencies) == 1 else None,
        "unpriced_models": [item.model for item in usage.values() if item not in priced],
    }


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 10)


def counts_of(numbers: Iterable[int]) -> dict[str, int]:
    """``{total, passed, failed, error, skipped}`` from the numbers of each outcome, in ``OUTCOMES`` order."""
    numbers = list(numbers)
    return {"total": sum(numbers), **dict(zip(OUTCOMES, numbers))}


def build_document(run: RunResult, redactor: Redactor, outcomes: tuple[str, ...] | None = None) -> Document:
    """The whole run as masked, JSON-ready data; ``outcomes`` keeps only the requests that ended so (counts stay whole)."""
    document = lazy_document(run, redactor, outcomes)
    document["collections"] = [{**collection, "requests": list(collection["requests"])} for collection in document["collections"]]
    return document


def lazy_document(run: RunResult, redactor: Redactor, outcomes: tuple[str, ...] | None = None) -> Document:
    """The same document, built as it is read: ``collections`` can be iterated (again and again), each collection's ``requests`` once."""
    totals = counts_of(sum(collection.count(outcome) for collection in run.collections) for outcome in OUTCOMES)
    return {**redactor.mask_data(run_head(run.started_at), UNMASKED_KEYS), "collections": Collections(run, redactor, outcomes), **run_tail(run, totals)}


class Collections:
    """The collections of a lazy document: each one built and masked when it is reached."""

    def __init__(self, run: RunResult, redactor: Redactor, outcomes: tuple[str, ...] | None):
        self.run, self.redactor, self.outcomes = run, redactor, outcomes

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for collection in self.run.collections:
            yield {
                **self.redactor.mask_data(collection_head(collection.name, collection.path, collection.iteration), UNMASKED_KEYS),
                "requests": self._requests(collection),
                **collection_tail(collection.elapsed_ms, _collection_counts(collection), collection.usage),
            }

    def _requests(self, collection: CollectionResult) -> Iterator[dict[str, Any]]:
        for request in collection.requests:
            if self.outcomes is None or request.outcome in self.outcomes:
                yield request_entry(request, self.redactor)


def _collection_counts(collection: CollectionResult) -> dict[str, int]:
    # count(), not the list: without an HTML report only failed requests are kept in it
    return counts_of(collection.count(outcome) for outcome in OUTCOMES)


def request_entry(result: RequestResult, redactor: Redactor) -> dict[str, Any]:
    """One request of the document, masked with what the redactor knows now."""
    entry: dict[str, Any] = redactor.mask_data(_request(result), UNMASKED_KEYS)
    # a captured mapping's keys are the server's: mask_data keeps keys, they may hold a secret
    entry["captures"] = {name: _finite(redactor.mask_json(value)) for name, value in entry["captures"].items()}
    return entry


def _finite(value: Any) -> Any:
    """``value`` with each float JSON cannot hold (a body's ``1e400`` is infinity) as the string JavaScript would print."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value


def _request(result: RequestResult) -> dict[str, Any]:
    sent = result.request
    response = None
    if result.status is not None:
        response = {
            "status": result.status,
            "headers": _headers(result.response_headers),
            "content_type": result.content_type,
            "size": result.size,
            # only failed requests keep their body: -v keeps every body for the console, reports do not
            "body_excerpt": result.body_excerpt if result.outcome == FAILED else "",
        }
    stream = None
    if result.first_event_ms is not None or result.event_count is not None:
        stream = {"first_event_ms": _ms(result.first_event_ms), "event_count": result.event_count}
    return {
        "name": result.name,
        "display_name": result.display_name,
        "outcome": result.outcome,
        "iteration": result.iteration,
        "location": _location(result.location),
        "tags": list(result.tags),
        "method": result.method,
        "url": result.url,
        "elapsed_ms": _ms(result.elapsed_ms),
        "request": None if sent is None else {"method": sent.method, "url": sent.url, "headers": _headers(sent.headers), "body": sent.body},
        "response": response,
        "error": {"kind": result.error_kind or "transport", "message": result.error} if result.outcome == ERROR else None,
        "skip_reason": result.skip_reason if result.outcome == SKIPPED else None,
        "checks": [_check(check) for check in result.checks],
        "attempts": [
            {"number": attempt.number, "status": attempt.status, "elapsed_ms": _ms(attempt.elapsed_ms), "error": attempt.error or None}
            for attempt in result.attempts
        ],
        "captures": dict(result.captures),
        "stream": stream,
        "usage": None if result.usage is None else _usage(result.usage),
        "waited_ms": _ms(result.waited_ms) if result.waited_ms >= 1 else None,
        "wait_reason": result.wait_reason if result.waited_ms >= 1 else None,
    }


def _usage(usage: Usage) -> dict[str, Any]:
    return {"model": usage.model, "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens, "cost": _money(usage.cost), "currency": usage.currency or None}


def _check(check: CheckResult) -> dict[str, Any]:
    return {
        "kind": check.kind,
        "target": check.target,
        "label": check.label,
        "passed": check.passed,
        "expected": check.expected,
        "actual": check.actual,
        "message": check.message,
        "location": _location(check.location),
        "pointer": check.pointer or None,
        "keyword": check.keyword or None,
    }


def _headers(headers: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _location(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"file": location.file, "line": location.line or None, "col": location.col or None}


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# -- helpers the text formats share ------------------------------------------------------------


def where(location: dict[str, Any] | None) -> str:
    """``file:line`` of a document location ('' when unknown)."""
    if not location:
        return ""
    return f"{location['file']}:{location['line']}" if location.get("line") else location["file"]


def describe_check(check: dict[str, Any]) -> str:
    """One line for a failed check: ``status: expected 200, got 500``."""
    label = check["label"]
    if check["keyword"]:  # a schema violation, of the body or of one event
        return f"{label} at {check['pointer'] or '/'} ({check['keyword']}): {check['message']}"
    if check["kind"] == "events" and check["message"]:  # a bad event or stream: why, then what came
        return f"{label}: {check['message']}" + (f" (got {check['actual']})" if check["actual"] else "")
    text = f"{label}: expected {check['expected']}, got {check['actual']}"
    if check["message"] and check["actual"] in ("(no JSON)", "(nothing)", "more"):
        text += f" - {check['message']}"
    return text


def attempt_lines(attempts: list[tuple[int, str]], keep: int = 6) -> list[str]:
    """``attempt 1: status 503`` lines, a run of equal outcomes as one (``attempts 2-59: status 200``), at most ``keep``.

    A poll of 1000 attempts must not print 1000 lines; the reports' attempt lists keep each one.
    """
    groups: list[list[Any]] = []
    for number, detail in attempts:
        if groups and groups[-1][2] == detail and groups[-1][1] == number - 1:
            groups[-1][1] = number
        else:
            groups.append([number, number, detail])
    lines = [f"attempt {first}: {detail}" if first == last else f"attempts {first}-{last}: {detail}" for first, last, detail in groups]
    if len(lines) > keep:
        lines = [*lines[: keep // 2], f"... ({len(lines) - keep} more attempt lines)", *lines[-(keep // 2):]]
    return lines


def failure_lines(request: dict[str, Any]) -> list[str]:
    """Why a request failed or errored, one line per cause (checks, transport, earlier attempts)."""
    lines = []
    if request["error"]:
        lines.append(f"{request['error']['kind']} error: {request['error']['message']}")
    lines += attempt_lines([(attempt["number"], attempt["error"] or f"status {attempt['status']}") for attempt in request["attempts"][:-1]])
    lines += [describe_check(check) for check in request["checks"] if not check["passed"]]
    return lines


def stream_text(request: dict[str, Any]) -> str:
    """``5 events, first after 120 ms`` for a request read as an event stream, else ``""``."""
    stream = request["stream"]
    if stream is None:
        return ""
    count = stream["event_count"]
    text = f"{count} event{'' if count == 1 else 's'}" if count is not None else "no events"
    if stream["first_event_ms"] is not None:
        text += f", first after {stream['first_event_ms']:.0f} ms"
    return text


def counts_text(passed: int, failed: int, errors: int, skipped: int) -> str:
    """``3 passed, 1 failed, 1 error, 1 skipped`` (errors only when there are some)."""
    text = f"{passed} passed, {failed} failed"
    if errors:
        text += f", {errors} error" + ("" if errors == 1 else "s")
    return text + f", {skipped} skipped"


def summary_text(document: Document) -> str:
    """``3 passed, 1 failed, 1 error, 1 skipped in 1.23 s``."""
    counts = document["counts"]
    text = counts_text(counts[PASSED], counts[FAILED], counts[ERROR], counts[SKIPPED]) + f" in {document['elapsed_ms'] / 1000:.2f} s"
    if document["interrupted"]:
        text += " (interrupted)"
    return text


def requests_of(document: Document) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (collection, request) pair of the document, in order."""
    return [(collection, request) for collection in document["collections"] for request in collection["requests"]]


def format_money(amount: float, currency: str | None = "") -> str:
    """``0.000123 EUR``: up to 8 decimals, trailing zeros dropped."""
    text = f"{amount:.8f}".rstrip("0").rstrip(".") or "0"
    return f"{text} {currency or ''}".strip()


def usage_text(input_tokens: int, output_tokens: int, cost: float | None, currency: str | None) -> str:
    """``19/7 tokens, 0.0000123 EUR``; ``cost unknown`` for a model the price table lacks; no cost without a table."""
    if not currency:
        return f"{input_tokens}/{output_tokens} tokens"
    money = format_money(cost, currency) if cost is not None else "cost unknown"
    return f"{input_tokens}/{output_tokens} tokens, {money}"


def usage_lines(entries: list[dict[str, Any]]) -> list[str]:
    """``usage: MODEL  3 requests  57 in / 21 out tokens  0.0001 EUR`` per model, then the run's total cost."""
    lines = []
    for entry in entries:
        requests = f"{entry['requests']} request{'' if entry['requests'] == 1 else 's'}"
        lines.append(f"usage: {entry['model']}  {requests}  {entry['input_tokens']} in / {entry['output_tokens']} out tokens  {_cost_text(entry)}".rstrip())
    priced = [entry for entry in entries if entry["cost"] is not None and entry["currency"]]
    currencies = {entry["currency"] for entry in priced}
    if len(entries) > 1 and len(currencies) == 1:
        unknown = len(entries) - len(priced)
        total = format_money(sum(entry["cost"] for entry in priced), currencies.pop())
        lines.append(f"cost: {total}" + (f" (and {unknown} model{'' if unknown == 1 else 's'} without a price)" if unknown else ""))
    return lines


def _cost_text(entry: dict[str, Any]) -> str:
    if not entry["currency"]:
        return ""
    return format_money(entry["cost"], entry["currency"]) if entry["cost"] is not None else "cost unknown (no price)"
