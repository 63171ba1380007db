"""A Locust user per collection: its requests in order, checked, captured, timed into Locust's stats."""

from __future__ import annotations

import re
import time
from typing import Any, Coroutine, TypeVar

import gevent
from locust import User, between, task

T = TypeVar("T")


class CheckFailed(Exception):
    """A response that failed its checks, or a request that could not be completed (runner's masked message)."""


def drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run an engine coroutine to its end in this greenlet, without an event loop.

    Load runs use the blocking transport (``transport.py``): its I/O is gevent's
    patched sockets, so the coroutine never waits on a loop.  asyncio keeps one
    running loop per OS thread, which every greenlet shares; a loop per greenlet
    would collide, so none is used.  A bare ``yield`` (``asyncio.sleep(0)``) is resumed.
    """
    try:
        while True:
            if coroutine.send(None) is not None:
                coroutine.close()
                raise RuntimeError("a load request waited on the event loop; runner load needs the blocking transport")
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def _gevent_sleep(seconds: float) -> None:
    gevent.sleep(seconds)  # retries' back-off: other users run meanwhile


def user_class_name(number: int, name: str) -> str:
    """A class name that is the same in every process of a distributed run (Locust spawns users by class name)."""
    return f"C{number}_" + re.sub(r"\W+", "_", name).strip("_")[:40]


def make_user_class(number: int, run: Any, context: Any, think: tuple[float, float]) -> type[User]:
    """The Locust user class of one collection run of the plan."""

    class CollectionUser(User):
        wait_time = between(*think)
        abstract = False

        def on_start(self) -> None:
            from ..http import HttpClients

            self._clients = HttpClients(context.options.insecure, blocking=True)
            self._client = self._clients.client(run.collection.tls)

        def on_stop(self) -> None:
            drive(self._clients.aclose())

        @task
        def collection(self) -> None:
            """One pass over the collection, in order, with a fresh scope and cookie jar."""
            from ..engine import run_request
            from ..http import SessionCookies
            from ..results import ERROR, FAILED, SKIPPED

            scope = run.start_scope(context.templates)
            cookies = SessionCookies(scope.redactor)
            fire = self.environment.events.request.fire
            for index in run.selected:
                spec = run.collection.requests[index]
                started = time.perf_counter()
                try:
                    result = drive(run_request(run.collection, spec, scope, context, self._client, None, cookies))
                except Exception as exc:  # a bug must not print a secret through Locust's own traceback log
                    fire(request_type=spec.method, name=f"{run.collection.name} > {spec.name}", response_time=(time.perf_counter() - started) * 1000, response_length=0, exception=CheckFailed(scope.redactor.mask(f"internal error: {type(exc).__name__}: {exc}")), context={})
                    return
                if result.outcome == SKIPPED:
                    continue
                exception = None
                if result.outcome in (FAILED, ERROR):
                    exception = CheckFailed(_failure_message(result))
                elapsed = result.elapsed_ms if result.elapsed_ms is not None else (time.perf_counter() - started) * 1000
                fire(request_type=result.method, name=f"{run.collection.name} > {spec.name}", response_time=elapsed, response_length=result.size or 0, exception=exception, context={})
                if exception is not None:
                    return  # later requests may need what this one should have captured

    CollectionUser.__name__ = CollectionUser.__qualname__ = user_class_name(number, run.collection.name)
    return CollectionUser


def _failure_message(result: Any) -> str:
    """One line per failure kind (Locust groups failures by message): the first failed check, or the error."""
    if result.error:
        return result.error
    check = next(iter(result.failed_checks), None)
    if check is None:
        return "failed"
    if check.kind == "schema" or check.keyword:
        return f"{check.label} at {check.pointer or '/'} ({check.keyword}): {check.message}"
    return f"{check.label}: expected {check.expected}, got {check.actual}"
