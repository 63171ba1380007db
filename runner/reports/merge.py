"""``runner merge-reports junit|json OUT IN...``: join the reports of several shards into one.

JUnit files are streamed suite by suite (memory stays flat in the number of
test cases): a first pass sums the suites' counts for the ``<testsuites>`` totals,
a second copies every suite in input order, numbered anew.  JSON reports are
runner's own documents (``report_version`` 1); their collections are joined in
input order and the counts summed.  The merged run started when the first
shard started and took as long as the longest one (shards run side by side).
Either way the output is written atomically, like every report.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterator

from .. import __version__
from ..errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, InputError, UsageError
from ..results import ModelUsage, sum_usage
from .document import run_cost, usage_entries
from .files import ReportFile

FORMATS = ("junit", "json")
_COUNTED = ("tests", "failures", "errors", "skipped")


def merge_reports(kind: str, output: str, inputs: list[str], force: bool = False) -> str:
    """Merge ``inputs`` (reports of format ``kind``) into ``output``; return a one-line summary."""
    if kind not in FORMATS:
        raise UsageError(f"merge-reports: unknown format {kind!r}; use one of: {', '.join(FORMATS)}")
    _check_paths(output, inputs, force)
    target = ReportFile(output, kind)
    try:
        handle = target.open()
        total = _merge_junit(inputs, handle) if kind == "junit" else _merge_json(inputs, handle)
        target.finish()
    except BaseException:
        target.discard()
        raise
    return f"merged {len(inputs)} {kind} report(s) into {output}: {total} test(s)"


def _check_paths(output: str, inputs: list[str], force: bool) -> None:
    for path in inputs:
        if not Path(path).is_file():
            raise InputError(f"merge-reports: no such report file: {path}")
    seen: dict[str, str] = {}
    for path in inputs:  # a shell glob plus one named file: its tests would count twice
        real = os.path.realpath(path)
        if real in seen:
            raise UsageError(f"merge-reports: {path} is given twice (also as {seen[real]}); its tests would count twice")
        seen[real] = path
    if output != "-" and any(os.path.abspath(output) == os.path.abspath(path) for path in inputs):
        raise UsageError(f"merge-reports: the output {output} is also an input; write the merged report to another file")
    if output != "-" and Path(output).exists() and not force:
        raise UsageError(f"merge-reports: {output} exists; pass --force to overwrite it")


# -- JUnit -------------------------------------------------------------------------------------


def _suites(path: str) -> Iterator[ET.Element]:
    """Every top-level ``<testsuite>`` of a JUnit file (the root itself when it is one), each once complete."""
    depth = 0
    root_tag = None
    try:
        for event, element in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                depth += 1
                if root_tag is None:
                    root_tag = element.tag
                    if root_tag not in ("testsuites", "testsuite"):
                        raise InputError(f"merge-reports: {path} is not a JUnit report: its root element is <{root_tag}>, not <testsuites>")
                continue
            depth -= 1
            if element.tag == "testsuite" and depth == (0 if root_tag == "testsuite" else 1):
                yield element
                element.clear()
    except ET.ParseError as exc:
        raise InputError(f"merge-reports: {path} is not well-formed XML ({exc})") from None


def _number(element: ET.Element, name: str) -> float:
    try:
        return float(element.get(name) or 0)
    except ValueError:
        return 0.0


def _merge_junit(inputs: list[str], out: Any) -> int:
    totals = dict.fromkeys(_COUNTED, 0.0)
    elapsed = 0.0
    for path in inputs:  # first pass: the totals the root carries
        shard = 0.0
        for suite in _suites(path):
            for name in _COUNTED:
                totals[name] += _number(suite, name)
            shard += _number(suite, "time")
        elapsed = max(elapsed, shard)
    root = ET.Element("testsuites", name="runner", tests=str(int(totals["tests"])), failures=str(int(totals["failures"])), errors=str(int(totals["errors"])), time=f"{elapsed:.3f}")
    out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    head = ET.tostring(root, encoding="unicode")
    out.write(head[: -len(" />")].encode("utf-8") + b">")
    number = 0
    for path in inputs:
        for suite in _suites(path):
            suite.set("id", str(number))
            number += 1
            suite.tail = None
            ET.indent(suite, level=1)
            out.write(b"\n  " + ET.tostring(suite, encoding="utf-8", xml_declaration=False))
    out.write(b"\n</testsuites>\n")
    return int(totals["tests"])


# -- JSON --------------------------------------------------------------------------------------


def _load_json(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"merge-reports: {path} is not JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("report_version") != 1 or not isinstance(document.get("collections"), list):
        raise InputError(f"merge-reports: {path} is not a runner JSON report (report_version 1, written by --report json:PATH)")
    return document


def merge_usage(entries: list[dict[str, Any]]) -> dict[str, ModelUsage]:
    """The per-model usage of several reports, summed (a cost stays unknown when one part of it is)."""
    return sum_usage(ModelUsage(entry["model"], entry["requests"], entry["input_tokens"], entry["output_tokens"], entry["cost"], entry["currency"] or "") for entry in entries)


def _merge_json(inputs: list[str], out: Any) -> int:
    documents = [_load_json(path) for path in inputs]
    counts = {name: sum(int(doc["counts"].get(name, 0)) for doc in documents) for name in ("total", "passed", "failed", "error", "skipped")}
    interrupted = any(doc.get("interrupted") for doc in documents)
    stopped = "; ".join(str(doc["stopped"]) for doc in documents if doc.get("stopped")) or None
    status = EXIT_INTERRUPTED if interrupted else EXIT_FAILED if counts["failed"] or counts["error"] or stopped else EXIT_OK
    usage = merge_usage([entry for doc in documents for entry in doc.get("usage") or []])
    merged = {
        "report_version": 1,
        "runner_version": __version__,
        "started_at": min(str(doc.get("started_at", "")) for doc in documents),
        "elapsed_ms": max(float(doc.get("elapsed_ms", 0)) for doc in documents),
        "interrupted": interrupted,
        "exit_status": status,
        "counts": counts,
        "collections": [collection for doc in documents for collection in doc["collections"]],
        "usage": usage_entries(usage),
        "cost": run_cost(usage),
        "stopped": stopped,
    }
    out.write((json.dumps(merged, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return counts["total"]


__all__ = ["FORMATS", "merge_reports"]
