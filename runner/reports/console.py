"""The console report: a line per request as it finishes, failure details, a summary.

Formatting is pure (``format_*`` return ``Line`` segments); the printer writes
them plain, or through rich when colour is on.  rich is imported only then, so a
plain run (CI logs, pipes) does not pay for it at start-up.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable, TextIO

from ..model import CollectionSpec
from ..terminal import escape_control, guard_commands
from ..results import ERROR, FAILED, PASSED, SKIPPED, CollectionResult, RequestResult, RunResult
from .base import Reporter

Segment = tuple[str, str]  # (text, rich style)
Line = list[Segment]

MARKS = {PASSED: ("PASS", "bold green"), FAILED: ("FAIL", "bold red"), ERROR: ("ERR ", "bold red"), SKIPPED: ("SKIP", "yellow")}


def format_size(size: int) -> str:
    """Bytes as ``512 B`` / ``1.2 kB`` / ``3.4 MB``."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


def format_request_line(result: RequestResult, name_width: int = 0) -> Line:
    """``PASS  GET    list models   200  123 ms  1.2 kB``."""
    mark, style = MARKS[result.outcome]
    line: Line = [(mark, style), ("  ", ""), (f"{result.method:<6} ", "bold"), (result.display_name.ljust(name_width), "")]
    if result.outcome == SKIPPED:
        line.append((f"  ({result.skip_reason})" if result.skip_reason else "", "dim"))
        return line
    if result.outcome == ERROR:
        line.append((f"  {result.error}", "red"))
        return line + _attempts(result) + _waited(result)
    status_style = "green" if result.outcome == PASSED else "red"  # by outcome: an expected 401 is a pass
    line += [("  ", ""), (str(result.status), status_style), (f"  {result.elapsed_ms:.0f} ms", "cyan"), (f"  {format_size(result.size)}", "dim")]
    if result.first_event_ms is not None:
        line.append((f"  first event {result.first_event_ms:.0f} ms, {result.event_count} events", "dim"))
    if result.usage is not None:
        from .document import usage_text

        line.append((f"  {usage_text(result.usage.input_tokens, result.usage.output_tokens, result.usage.cost, result.usage.currency)}", "magenta"))
    return line + _attempts(result) + _waited(result)


def _waited(result: RequestResult) -> Line:
    """``(waited 200 ms: rate 5/s for http://host)``: why a request was held back before it was sent."""
    if result.waited_ms < 1:
        return []
    return [(f"  (waited {result.waited_ms:.0f} ms: {result.wait_reason})", "yellow")]


def _attempts(result: RequestResult) -> Line:
    return [(f"  ({len(result.attempts)} attempts)", "yellow")] if len(result.attempts) > 1 else []


def format_failure(result: RequestResult) -> list[Line]:
    """Every failed check of a request with expected vs actual, then a body excerpt."""
    mark, style = MARKS[result.outcome]
    where = f"  ({result.location})" if result.location else ""
    lines: list[Line] = [[(mark, style), (f"  {result.collection} > {result.display_name}", "bold"), (where, "dim")]]
    lines.append([(f"  {result.method} {result.url}", "dim")])
    if result.outcome == ERROR:
        lines.append([("  x ", "red"), (result.error, "")])
    from .document import attempt_lines

    for text in attempt_lines([(attempt.number, attempt.error or f"status {attempt.status}") for attempt in result.attempts[:-1]]):
        lines.append([(f"  {text}", "dim")])
    for check in result.failed_checks:
        label = check.label
        if check.kind == "schema" or check.keyword:  # a schema violation of the body or of one event
            label += f" at {check.pointer or '/'} ({check.keyword})"
        text: Line = [("  x ", "red"), (label, "bold"), (": ", "")]
        stream_detail = check.kind == "events" and bool(check.message)  # a bad event: why, then its content
        if check.kind == "schema" or stream_detail:
            text.append((check.message, ""))
        else:
            text += [("expected ", "dim"), (check.expected, "green"), (", got ", "dim"), (check.actual, "red")]
            if check.detail != f"expected {check.expected}, got {check.actual}":  # the why, worded as CheckResult.detail
                text.append((check.detail[len(f"expected {check.expected}, got {check.actual}"):], "dim"))
        if check.location is not None:
            text.append((f"  ({check.location})", "dim"))
        lines.append(text)
        if stream_detail and check.actual:
            lines.append([("      got ", "dim"), (check.actual, "red")])
    if result.checks_skipped and result.status is not None:
        from ..explain import skipped_text

        lines.append([(f"  {skipped_text(result.checks_skipped, result.status)}", "dim")])
    if result.hint:
        lines.append([("  hint: ", "yellow"), (result.hint, "")])
    if result.body_excerpt:
        lines.append([("  response body:", "dim")])
        lines += [[(f"    {body_line}", "")] for body_line in excerpt_lines(result.body_excerpt)]
    return lines


BODY_LINES = 20


def excerpt_lines(text: str, limit: int = BODY_LINES) -> list[str]:
    """The first ``limit`` lines of ``text``, then a line saying how much was cut."""
    lines = text.splitlines()
    if len(lines) <= limit:
        return lines
    rest = lines[limit:]
    return lines[:limit] + [f"... ({len(rest)} more lines, {sum(len(line) + 1 for line in rest)} more characters)"]


def format_summary(run: RunResult) -> Line:
    """``3 passed, 1 failed, 1 error, 0 skipped in 1.23 s``."""
    from .document import counts_text

    style = "bold green" if run.ok else "bold red"
    text = counts_text(run.count(PASSED), run.count(FAILED), run.count(ERROR), run.count(SKIPPED))
    line: Line = [(text, style), (f" in {run.elapsed_ms / 1000:.2f} s", "")]
    if run.interrupted:
        line.append(("  (interrupted)", "bold yellow"))
    return line


def format_usage(run: RunResult) -> list[Line]:
    """The run's token usage and cost per model, a line each, and the total."""
    from .document import usage_lines

    return [[(text, "magenta")] for text in usage_lines([_usage_entry(usage) for usage in run.usage.values()])]


def _usage_entry(usage: Any) -> dict[str, Any]:
    return {"model": usage.model, "requests": usage.requests, "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens, "cost": usage.cost, "currency": usage.currency}


def format_exchange(result: RequestResult) -> list[Line]:
    """``-v``: the request sent and the response received (masked)."""
    lines: list[Line] = []
    if result.request is not None:
        lines.append([(f"  > {result.request.method} {result.request.url}", "cyan")])
        lines += [[(f"  > {name}: {value}", "dim")] for name, value in result.request.headers]
        if result.request.body:
            lines += [[(f"  > {body_line}", "")] for body_line in excerpt_lines(result.request.body)]
    if result.status is not None:
        lines.append([(f"  < {result.status}", "cyan")])
        lines += [[(f"  < {name}: {value}", "dim")] for name, value in result.response_headers]
        if result.body_excerpt:
            lines += [[(f"  < {body_line}", "")] for body_line in excerpt_lines(result.body_excerpt)]
    return lines


@dataclass
class ConsoleOptions:
    """How the console report prints."""

    color: bool = False
    quiet: bool = False
    verbose: bool = False
    progress: bool = False  # the caller decides: only on a TTY
    progress_after: float = 1.0  # seconds before the bar appears: quick runs show none


class ConsoleReporter(Reporter):
    """Prints the run as it happens."""

    def __init__(self, file: TextIO | None = None, options: ConsoleOptions | None = None, mask: Callable[[str], str] | None = None):
        self.file = file or sys.stdout
        self.options = options or ConsoleOptions()
        # the failure list comes at the end: masked again with every secret of the run (a token captured, then used in auth)
        self.mask = mask or (lambda text: text)
        self.failures: list[RequestResult] = []
        self.name_width = 0
        self._console: Any = None
        self._progress: Any = None
        if self.options.color or self.options.progress:
            from rich.console import Console

            # no_color keeps the bar's cursor control but drops every colour (NO_COLOR, --no-color)
            self._console = Console(file=self.file, force_terminal=True, no_color=not self.options.color, highlight=False, soft_wrap=True)

    def write(self, line: Line) -> None:
        """Print one line, styled when colour is on; through rich whenever a bar may be live.

        Foreign text is made printable here, the one place console lines pass:
        control characters escaped, a line that GitHub would read as a workflow
        command defused (``runner.terminal``).
        """
        line = [(escape_control(chunk, newlines=True), style) for chunk, style in line]
        joined = "".join(chunk for chunk, _ in line)
        guarded = guard_commands(joined)
        if guarded != joined:
            line = [(guarded, line[0][1])]
        if self._console is None:
            self.file.write(guarded + "\n")
            return
        from rich.text import Text

        text = Text()
        for chunk, style in line:
            text.append(chunk, style=(style or None) if self.options.color else None)
        self._console.print(text)

    def run_started(self, plan: list[Any]) -> None:
        if self.options.progress and self._console is not None:
            from .progress import Progress

            total = sum(len(item.selected) for item in plan)
            self._progress = Progress(self._console, total, self.options.progress_after)

    def collection_started(self, collection: CollectionSpec, iteration: int | None) -> None:
        self.name_width = min(40, max((len(spec.name) for spec in collection.requests), default=0) + (6 if iteration is not None else 0))
        if not self.options.quiet:
            title = f"{collection.path}  {collection.name}"
            if iteration is not None:
                title += f"  (iteration {iteration})"
            self.write([(title, "bold underline")])

    def request_finished(self, result: RequestResult) -> None:
        if result.outcome in (FAILED, ERROR):
            self.failures.append(result)
        if not self.options.quiet or result.outcome in (FAILED, ERROR):
            self.write(format_request_line(result, self.name_width))
        if self.options.verbose:
            for line in format_exchange(result):
                self.write(line)
        if self._progress is not None:
            self._progress.advance()
        self.file.flush()  # a pipe (CI log, tee) sees each request as it finishes, not at the end

    def collection_finished(self, result: CollectionResult) -> None:
        if not self.options.quiet:
            self.write([])

    def run_finished(self, result: RunResult) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if self.failures:
            if self.options.quiet:  # the request lines above had no blank line after them
                self.write([])
            self.write([("Failures", "bold red underline")])
            for failure in self.failures:
                for line in format_failure(failure):
                    self.write([(self.mask(chunk), style) for chunk, style in line])
                self.write([])
        for line in format_usage(result):
            self.write(line)
        self.write(format_summary(result))
        if result.stopped:  # the one line that explains exit 1 when nothing failed
            self.write([(f"stopped: {result.stopped}", "bold red")])
        self.file.flush()
