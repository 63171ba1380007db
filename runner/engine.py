"""Per request: render -> send -> check -> capture -> emit.  Per run: selection, --bail, --jobs.

The engine never raises for a failed check or a transport fault: those become
``RequestResult`` data.  Reporters subscribe to its events; with ``--jobs`` the
events of each collection are delivered in plan order, whatever order the
collections finish in.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable

from .assertions import ResponseView, check_assertion, check_schema
from .errors import TransportError
from .http import HttpClients, HttpResponse, SessionCookies, send
from .model import CaptureSpec, CollectionSpec, RequestSpec, RetrySpec
from .polling import delay_seconds, poll_delay, still_waiting
from .targets import binary_excerpt, is_binary, plain_value
from .query import MISSING, header_value, regex_value
from .redact import MASK
from .render import RenderedRequest, RunOptions, is_skipped, render_request
from .reports.base import Reporter, Reporters
from .results import (
    ERROR,
    FAILED,
    PASSED,
    SKIPPED,
    Attempt,
    CheckResult,
    CollectionResult,
    RequestResult,
    RunResult,
    SentRequest,
)
from .schemas import SchemaStore
from .templating import TemplateError, Templates
from .variables import Layer, Scope, build_scope

EXCERPT_BYTES = 2048


@dataclass
class CollectionRun:
    """One collection to run once: its spec, its variables, which requests, which iteration."""

    collection: CollectionSpec
    scope: Scope
    selected: tuple[int, ...]
    iteration: int | None = None
    layers: list[Layer] | None = None  # set when the values are rendered anew for this run (templated vars, a later iteration)
    row_label: str = ""  # the data row, as reports show it: its name column, or its first columns

    def start_scope(self, templates: Templates) -> Scope:
        """The variables this run starts with: a copy of ``scope`` (left as checked), or a fresh one from ``layers``."""
        return self.scope.child() if self.layers is None else build_scope(self.layers, templates, self.scope.redactor)


@dataclass
class RunContext:
    """What every request of the run shares."""

    templates: Templates
    schemas: SchemaStore
    options: RunOptions
    bail: bool = False
    jobs: int = 1
    stream_reader: Any = None
    keep_bodies: bool = False
    keep_details: bool = True  # False: passed requests get no sent request, response headers or checks (no reporter shows them)
    keep_results: bool = True  # False: only failed and broken requests stay in the RunResult, the others are counted
    sleep: Callable[[float], Any] = asyncio.sleep
    observe: Callable[..., None] | None = None  # (collection, spec, scope, response, result): the explore tools (runner/explore)
    stop: bool = field(default=False)
    traceback: bool = False  # --traceback: print (masked) the traceback of a request's internal error
    interrupts: Any = None  # transport.Interrupts: signals are held while the reports are written
    paid: Any = None  # llm.PaidRun: budget, pacing, OAuth2 tokens, usage and cost (None: none of it)

    @property
    def blocking(self) -> bool:
        """One request at a time: the I/O is done with blocking sockets (see ``transport.py``)."""
        return self.jobs <= 1


def select_requests(collection: CollectionSpec, expression: str | None, names: list[str] | None = None) -> tuple[int, ...]:
    """Indexes of the requests named by ``--request`` (when given) whose name or tags match ``-k`` (all when neither)."""
    specs = [spec for spec in collection.requests if not names or spec.name in names]
    if not expression:
        return tuple(spec.index for spec in specs)
    from .selection import matches

    return tuple(spec.index for spec in specs if matches(expression, spec.name, spec.tags))


async def run_plan(plan: list[CollectionRun], context: RunContext, reporters: list[Reporter]) -> RunResult:
    """Run every collection of the plan and return the run's result."""
    fanout = Reporters(reporters)
    run = RunResult(started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    fanout.run_started(plan, run.started_at)
    started = time.perf_counter()
    options = context.options
    clients = HttpClients(insecure=options.insecure, ca_cert=options.ca_cert, client_cert=options.client_cert, blocking=context.blocking)
    try:
        if context.jobs <= 1:
            for item in plan:
                if context.stop:
                    break
                result = _collection_result(item)
                run.collections.append(result)  # before it runs: an interrupted collection keeps what finished
                await _run_collection(item, result, context, clients, fanout)
        else:
            await _run_parallel(plan, context, clients, fanout, run.collections)
    except (asyncio.CancelledError, KeyboardInterrupt):
        run.interrupted = True
    finally:
        await clients.aclose()
        run.elapsed_ms = (time.perf_counter() - started) * 1000
    if context.paid is not None:
        run.stopped = context.paid.halted
    if context.interrupts is not None:
        with context.interrupts.hold():
            fanout.run_finished(run)
    else:
        fanout.run_finished(run)
    return run


async def _run_parallel(plan: list[CollectionRun], context: RunContext, clients: HttpClients, fanout: Reporters, into: list[CollectionResult]) -> None:
    """Run collections concurrently, ``jobs`` at a time; ``into`` gets the results of those that ran, in plan order.

    ``jobs`` workers take the next collection of the plan as they become free (no
    task per collection: memory stays flat in the plan's length); their events
    reach the reporters in plan order through ``BufferedReporters``.
    """
    from .reports.base import BufferedReporters

    ordered = BufferedReporters(fanout, len(plan))
    slots: list[CollectionResult | None] = [None] * len(plan)
    pending = iter(enumerate(plan))  # shared by the workers

    async def worker() -> None:
        for position, item in pending:
            if not context.stop:  # after --bail the rest are not run, nor reported
                slots[position] = result = _collection_result(item)
                await _run_collection(item, result, context, clients, ordered.channel(position))
            ordered.finish(position)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(context.jobs, len(plan)))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        ordered.flush_all()
        raise
    finally:
        into.extend(result for result in slots if result is not None)


def _collection_result(item: CollectionRun) -> CollectionResult:
    return CollectionResult(item.collection.name, item.collection.path, iteration=item.iteration)


async def _run_collection(item: CollectionRun, result: CollectionResult, context: RunContext, clients: HttpClients, fanout: Any) -> None:
    """Run one collection's requests in order, filling ``result`` as each finishes."""
    collection = item.collection
    fanout.collection_started(collection, item.iteration)
    started = time.perf_counter()
    client = clients.client(collection.tls)
    scope = item.start_scope(context.templates)
    cookies = SessionCookies(scope.redactor)  # this run's own: not shared with other collections, iterations or rows
    try:
        for index in item.selected:
            if context.stop:
                break
            spec = collection.requests[index]
            outcome = await run_request(collection, spec, scope, context, client, item.iteration, cookies)
            outcome.row = item.row_label
            result.add(outcome, keep=context.keep_results or outcome.outcome in (FAILED, ERROR))
            fanout.request_finished(outcome)
            if context.bail and outcome.outcome in (FAILED, ERROR):
                context.stop = True
    finally:
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        fanout.collection_finished(result)


def _base_result(collection: CollectionSpec, spec: RequestSpec, iteration: int | None, outcome: str) -> RequestResult:
    return RequestResult(
        collection=collection.name,
        name=spec.name,
        method=spec.method,
        url=str(spec.url),
        location=spec.location,
        outcome=outcome,
        iteration=iteration,
        tags=spec.tags,
    )


async def run_request(
    collection: CollectionSpec,
    spec: RequestSpec,
    scope: Scope,
    context: RunContext,
    client: Any,
    iteration: int | None = None,
    cookies: SessionCookies | None = None,
) -> RequestResult:
    """Render, send (with retries), check and capture one request; ``cookies`` are its collection run's.

    The safety net: an exception nobody expected (a bug, or an input class not
    yet handled) makes this request an error, masked, and the run goes on.
    """
    try:
        return await _run_request(collection, spec, scope, context, client, iteration, cookies)
    except Exception as exc:  # noqa: BLE001 - never the end of the run; Ctrl-C and cancellation pass (BaseException)
        result = _base_result(collection, spec, iteration, ERROR)
        result.error_kind = "internal"
        detail = " ".join(str(getattr(exc, "message", None) or exc).split())
        result.error = scope.redactor.mask(f"internal error: {type(exc).__name__}: {detail} (run again with --traceback for details)")
        if context.traceback:
            import sys
            import traceback

            sys.stderr.write(scope.redactor.mask_lines("".join(traceback.format_exception(exc))))
        return result


async def _run_request(
    collection: CollectionSpec,
    spec: RequestSpec,
    scope: Scope,
    context: RunContext,
    client: Any,
    iteration: int | None,
    cookies: SessionCookies | None,
) -> RequestResult:
    redactor = scope.redactor
    result = _base_result(collection, spec, iteration, PASSED)
    paid = context.paid
    if paid is not None and paid.halted:  # --budget or --max-requests stopped the run: the rest is reported, not sent
        result.outcome, result.skip_reason = SKIPPED, f"not sent: {paid.halted}"
        return result
    try:
        if is_skipped(spec, scope, context.templates):
            result.outcome = SKIPPED
            result.skip_reason = "skip condition is true"
            return result
        request = render_request(collection, spec, scope, context.templates, context.options)
        retry = _retry_policy(spec, collection, context.options, context.templates, scope.values)
    except TemplateError as exc:
        from .explain import missing_capture

        result.outcome = ERROR
        result.error_kind = "template"
        name, missing = missing_capture(exc.message, collection, spec)
        result.error = redactor.mask(missing or f"cannot render the request: {exc.message}")
        if name:  # show the URL it would have had, the missing value marked
            stand_in = scope.child()
            stand_in.values[name] = f"<{name}: not captured>"
            try:
                result.url = redactor.mask(render_request(collection, spec, stand_in, context.templates, context.options).full_url())
            except TemplateError:
                pass  # another value is missing too: the template stays as written
        return result
    result.method, result.url = redactor.mask(request.method), redactor.mask(request.full_url())  # a templated method may be a secret
    if paid is not None:
        refusal = await paid.admit(collection, request, spec.name)
        if refusal:
            result.outcome, result.skip_reason = SKIPPED, f"not sent: {refusal}"
            return result
    if context.keep_details and request.oauth2 is None:
        result.request = _sent(request, redactor)
    if spec.delay is not None:
        try:
            await context.sleep(delay_seconds(context.templates.render(spec.delay, scope.values)))
        except TemplateError as exc:
            result.outcome, result.error_kind, result.error = ERROR, "template", redactor.mask(exc.message)
            return result
    response: HttpResponse | None = None
    attempt = 0
    while True:
        attempt += 1
        try:
            if paid is not None:
                await paid.before_send(collection, request, result, client, context.sleep)
            response = await send(client, request, context.stream_reader, cookies, redactor)
            if paid is not None and paid.after_attempt(request, response):  # 401 with an OAuth2 token: a new token, once
                await paid.before_send(collection, request, result, client, context.sleep)
                response = await send(client, request, context.stream_reader, cookies, redactor)
                paid.after_attempt(request, response)
            result.attempts.append(Attempt(attempt, response.status, response.elapsed_ms))
            delay = _retry_delay(retry, request.method, attempt, response=response)
            if delay is None and retry is not None and retry.until is not None:  # polling: again while the checks fail
                polled_view = _view(response)
                polled = check_response(spec, request, polled_view, response, context) + _capture_probes(spec.captures, polled_view)
                if still_waiting(retry, polled):
                    delay = poll_delay(retry, attempt)
        except TransportError as exc:
            result.attempts.append(Attempt(attempt, None, 0.0, redactor.mask(exc.cause)))
            delay = _retry_delay(retry, request.method, attempt, transport=True)
            if delay is None or exc.kind == "oauth2":  # no token: trying again gets none either
                result.outcome = ERROR
                result.error_kind = exc.kind
                result.error = redactor.mask(exc.cause)
                if paid is not None:
                    paid.account(collection, request, None, None, result)
                return result
        if delay is None:
            break
        await context.sleep(delay)
    assert response is not None
    if context.keep_details and request.oauth2 is not None:  # with its bearer token, masked
        result.request = _sent(request, redactor)
    _fill_response(result, response, redactor, context.keep_details)
    view = _view(response)
    if paid is not None:
        paid.account(collection, request, response, view, result)
    checks = check_response(spec, request, view, response, context)
    missed = capture_values(spec.captures, view, scope, result.captures)  # what an error body holds is still captured
    if any(check.kind == "status" and not check.passed for check in checks):  # nothing else was judged: say how much
        from .explain import refused_hint

        result.checks_skipped = _check_count(spec) - len(checks) - len(spec.captures) + len(missed)
        result.hint = redactor.mask(refused_hint(response.status, collection, spec, scope, context.templates))
    else:
        checks.extend(missed)
        checks.extend(check_vars(spec, scope, context.templates))
    result.checks = checks
    if response.truncated:
        checks.append(CheckResult("size", "", False, f"<= {request.max_response_bytes} bytes", "more", "the response is larger than the limit; the rest was not read"))
    if any(not check.passed for check in checks):
        result.outcome = FAILED
    if context.observe is not None:
        context.observe(collection, spec, scope, response, result)
    if result.outcome != FAILED and not context.keep_details:  # read by no reporter of this run: not worth masking
        result.checks, result.response_headers = [], []
        return result
    if result.outcome == FAILED or context.keep_bodies:
        if response.events and not is_binary(response):  # a secret may be cut across events: each piece is masked
            from .explore.pane import event_token
            from .redact import mask_stream_text

            result.body_excerpt = redactor.mask(_excerpt(mask_stream_text(redactor, view.text, response.events, event_token)))
        else:
            result.body_excerpt = redactor.mask(body_excerpt(view) if not is_binary(response) else binary_excerpt(response.body))
    for check in checks:
        check.expected = redactor.mask(check.expected)
        check.actual = redactor.mask(check.actual)
        check.message = redactor.mask(check.message)
    result.response_headers = redactor.mask_headers(result.response_headers)  # again: a secret capture may be in them
    return result


def _view(response: HttpResponse) -> ResponseView:
    return ResponseView(
        response.status, response.headers, None, response.elapsed_ms, events=response.events,
        body=response.body, url=response.url, http_version=response.http_version, hops=getattr(response, "hops", []),
    )


def _capture_probes(captures: tuple[CaptureSpec, ...], view: ResponseView) -> list[CheckResult]:
    """A failed check for each capture that would find nothing in ``view`` (polling waits for them too); nothing is stored."""
    from .filters import FilterError
    from .targets import TargetError

    out = []
    for capture in captures:
        try:
            found = extract(capture, view) is not MISSING
        except (FilterError, TargetError):
            found = False
        if not found:
            out.append(CheckResult("capture", capture.name, False, location=capture.location))
    return out


def check_vars(spec: RequestSpec, scope: Scope, templates: Templates) -> list[CheckResult]:
    """``expect.vars``: predicates on variables, after this request's captures (a template in one is rendered now)."""
    from .assertions import evaluate, show

    out = []
    for check in spec.expect.vars:
        actual = scope.values.get(check.target, MISSING)
        try:
            predicate = templates.render(check.predicate, scope.values)
        except TemplateError as exc:
            out.append(CheckResult("var", check.target, False, "", show(actual), exc.message, check.location))
            continue
        ok, expected = evaluate(predicate, actual)
        out.append(CheckResult("var", check.target, ok, expected, show(actual), "" if ok else "variable mismatch", check.location))
    return out


def _sent(request: RenderedRequest, redactor: Any) -> SentRequest:
    body = request.body_text(EXCERPT_BYTES)
    return SentRequest(redactor.mask(request.method), redactor.mask(request.full_url()), redactor.mask_headers(request.headers), redactor.mask(body))


def _fill_response(result: RequestResult, response: HttpResponse, redactor: Any, headers: bool = True) -> None:
    result.status = response.status
    result.elapsed_ms = response.elapsed_ms
    result.size = len(response.body)
    result.content_type = response.headers.get("content-type", "")
    if headers:  # only reports and -v show them (RunContext.keep_details)
        result.response_headers = redactor.mask_headers(list(response.headers.items()))
    result.first_event_ms = response.first_event_ms
    result.event_count = len(response.events) if response.events is not None else None


def _excerpt(text: str) -> str:
    if len(text) <= EXCERPT_BYTES:
        return text
    return text[:EXCERPT_BYTES] + f"... ({len(text) - EXCERPT_BYTES} more characters)"  # the redactor knows this mark


def body_excerpt(view: ResponseView) -> str:
    """The start of the body's text, as ``_excerpt`` cuts it, without decoding a large body whole."""
    from .bodytext import body_charset, text_length
    from .jsonstream import STREAM_THRESHOLD

    if len(view.body) <= STREAM_THRESHOLD or view.decoded is not None:
        return _excerpt(view.text)
    head = view.body[: 4 * EXCERPT_BYTES + 4].decode(body_charset(view.headers), errors="replace")[:EXCERPT_BYTES]
    return head + f"... ({text_length(view.body, view.headers) - EXCERPT_BYTES} more characters)"


def check_response(spec: RequestSpec, request: RenderedRequest, view: ResponseView, response: HttpResponse, context: RunContext) -> list[CheckResult]:
    """Every check of ``expect`` against the response, failed or not; but when the status is not
    the one expected, only the status check: the others would judge an error body."""
    from .jsonstream import counts_only

    view.want([(assertion.target, counts_only(predicate)) for assertion, predicate in request.assertions if assertion.kind == "json"])
    view.want([(capture.expr, tuple(capture.filters) == ("count",)) for capture in spec.captures if capture.source == "json"])
    checks = [check_assertion(assertion, predicate, view) for assertion, predicate in request.assertions if assertion.kind == "status"]
    if any(not check.passed for check in checks):
        return checks
    checks += [check_assertion(assertion, predicate, view) for assertion, predicate in request.assertions if assertion.kind != "status"]
    if spec.expect.schema is not None:
        checks.extend(check_schema(spec.expect, view, context.schemas))
    if spec.expect.events is not None or response.events is not None:
        from .streaming import check_events

        checks.extend(check_events(request.events, response, request.stream, context.schemas))
    return checks


def _check_count(spec: RequestSpec) -> int:
    """How many checks and captures a request has (a schema and the stream checks count one each)."""
    expect = spec.expect
    return len(expect.assertions) + (expect.schema is not None) + (expect.events is not None) + len(spec.captures)


def capture_values(captures: tuple[CaptureSpec, ...], view: ResponseView, scope: Scope, captured: dict[str, Any] | None = None) -> list[CheckResult]:
    """Store every capture in ``scope`` (and in ``captured``, secrets as ``****``, for reports); a capture that finds nothing is a failed check."""
    from .filters import FilterError
    from .targets import TargetError

    failures = []
    for capture in captures:
        try:
            value = extract(capture, view)
        except (FilterError, TargetError) as exc:
            failures.append(CheckResult("capture", capture.name, False, f"a value at {capture.expr or capture.source}", f"(nothing: {exc})", str(exc), capture.location))
            continue
        if value is MISSING:
            reason = view.json_error if capture.source == "json" and view.json_error else "nothing matched"
            failures.append(CheckResult("capture", capture.name, False, f"a value at {capture.expr or capture.source}", "(nothing)", reason, capture.location))
            continue
        scope.capture(capture.name, value, capture.secret or (capture.source == "cookie" and capture.attribute in ("", "value")))  # a cookie value is a credential
        if captured is not None:
            captured[capture.name] = MASK if capture.name in scope.secret_names else plain_value(value)
    return failures


def extract(capture: CaptureSpec, view: ResponseView) -> Any:
    """The value a capture takes from a response (through its filters), or ``MISSING``; raises ``FilterError``/``TargetError``."""
    value = _source_value(capture, view)
    if capture.filters:
        from .filters import apply_filters

        value = apply_filters(capture.filters, value)
    return value


def _source_value(capture: CaptureSpec, view: ResponseView) -> Any:
    if capture.source in ("body", "bytes", "url", "cookie", "xpath"):
        from .targets import capture_target

        return capture_target(capture, view)
    if capture.source == "json":
        from .jsonstream import BudgetError

        try:
            return view.json_at(capture.expr, tuple(capture.filters) == ("count",))
        except BudgetError as exc:
            from .targets import TargetError

            raise TargetError(str(exc)) from None
    if capture.source == "header":
        return header_value(view.headers, capture.expr)
    if capture.source == "regex":
        return regex_value(capture.expr, view.text)
    if capture.source == "status":
        return view.status
    from .streaming import extract_from_events

    return extract_from_events(capture, view)


# -- retries -----------------------------------------------------------------------------------


def _retry_policy(spec: RequestSpec, collection: CollectionSpec, options: RunOptions, templates: Templates, values: dict[str, Any]) -> RetrySpec | None:
    policy = spec.retries or collection.retries
    if policy is not None:
        policy = _render_retries(policy, templates, values)
    if options.retries is not None:
        policy = RetrySpec(count=options.retries) if policy is None else RetrySpec(options.retries, policy.backoff, policy.max_delay, policy.on, policy.methods)
    return policy if policy is not None and policy.count > 0 else None


def _render_retries(policy: RetrySpec, templates: Templates, values: dict[str, Any]) -> RetrySpec:
    """The policy with its numbers rendered (they may be templates); ``TemplateError`` if one is not a number."""
    numbers: dict[str, Any] = {}
    for name, convert in (("count", int), ("backoff", float), ("max_delay", float), ("interval", float)):
        if getattr(policy, name) is None:
            continue
        value = templates.render(getattr(policy, name), values)
        try:
            number = convert(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError, OverflowError):
            number = None
        if number is None or not math.isfinite(number) or number < 0:
            raise TemplateError(f"retries.{name}: {value!r} is not a number >= 0")
        numbers[name] = number
    return replace(policy, **numbers)


def _retry_delay(policy: RetrySpec | None, method: str, attempt: int, response: HttpResponse | None = None, transport: bool = False) -> float | None:
    """Seconds to wait before the next attempt, or None when there is none."""
    if policy is None or attempt > policy.count or method.upper() not in policy.methods:
        return None
    if transport:
        if "transport" not in policy.on:
            return None
    else:
        assert response is not None
        status = response.status
        if not any(status == rule or (isinstance(rule, str) and rule[:1] == str(status)[:1] and rule.endswith("xx")) for rule in policy.on):
            return None
        after = retry_after_seconds(response.headers.get("retry-after"))
        if after is not None:
            return min(after, policy.max_delay)
    delay = policy.backoff * (2 ** (attempt - 1))
    return min(policy.max_delay, delay * (0.5 + random.random()))  # jitter: 50-150 %


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


__all__ = ["CollectionRun", "RunContext", "run_plan", "run_request", "select_requests"]
