"""JUnit XML, as Jenkins, GitLab and the GitHub test-report actions read it.

One ``<testsuite>`` per collection run (per iteration when iterating), one
``<testcase>`` per request: ``classname`` is the collection's name, ``name`` the
request's.  A failed check is a ``<failure>``; a request that could not be sent or
completed (transport, template) is an ``<error>``, as hurl does it: a broken
request is not a failed assertion.  The output validates against the widely
used ``junit-10.xsd`` (Jenkins xUnit), which allows ``<properties>`` only on a
suite; the method, URL and status of each request go to its ``<system-out>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from ..results import ERROR, FAILED, SKIPPED
from .document import Document, failure_lines, where
from .files import FileReporter

# characters XML 1.0 cannot carry at all, even escaped (a binary body would make the file unreadable)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _seconds(ms: float | None) -> str:
    return f"{(ms or 0.0) / 1000:.3f}"


def format_junit(document: Document) -> str:
    """The JUnit XML for a report document."""
    counts = document["counts"]
    root = ET.Element(
        "testsuites",
        name="runner",
        tests=str(counts["total"]),
        failures=str(counts[FAILED]),
        errors=str(counts[ERROR]),
        time=_seconds(document["elapsed_ms"]),
    )
    for number, collection in enumerate(document["collections"]):
        root.append(_suite(number, collection, document))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(number: int, collection: dict[str, Any], document: Document) -> ET.Element:
    counts = collection["counts"]
    name = collection["name"] if collection["iteration"] is None else f"{collection['name']} [{collection['iteration']}]"
    suite = ET.Element(
        "testsuite",
        name=_text(name),
        tests=str(counts["total"]),
        failures=str(counts[FAILED]),
        errors=str(counts[ERROR]),
        skipped=str(counts[SKIPPED]),
        time=_seconds(collection["elapsed_ms"]),
        timestamp=document["started_at"],
        id=str(number),
        file=_text(collection["path"]),
    )
    properties = ET.SubElement(suite, "properties")
    values = {"file": collection["path"], "runner.version": document["runner_version"]}
    if collection["iteration"] is not None:
        values["iteration"] = collection["iteration"]
    if document["interrupted"]:
        values["interrupted"] = "true"
    for key, value in values.items():
        ET.SubElement(properties, "property", name=key, value=_text(value))
    for request in collection["requests"]:
        suite.append(_case(collection["name"], request))
    return suite


def _case(classname: str, request: dict[str, Any]) -> ET.Element:
    case = ET.Element("testcase", name=_text(request["display_name"]), classname=_text(classname), time=_seconds(request["elapsed_ms"]))
    outcome = request["outcome"]
    if outcome == SKIPPED:
        ET.SubElement(case, "skipped", message=_text(request["skip_reason"] or "skipped"))
        return case
    lines = failure_lines(request)
    if outcome == ERROR:
        error = request["error"]
        element = ET.SubElement(case, "error", message=_text(error["message"]), type=_text(error["kind"]))
        element.text = _text("\n".join([*lines, "", *_exchange(request)]))
    elif outcome == FAILED:
        failed = [check["label"] for check in request["checks"] if not check["passed"]]
        message = f"{len(failed)} check{'s' if len(failed) != 1 else ''} failed: {', '.join(failed)}"
        element = ET.SubElement(case, "failure", message=_text(message), type="check")
        body = _body(request)
        element.text = _text("\n".join([*lines, "", *_exchange(request), *body]))
    ET.SubElement(case, "system-out").text = _text("\n".join(_exchange(request)))
    return case


def _exchange(request: dict[str, Any]) -> list[str]:
    """What was sent and what came back, and where the request is written."""
    lines = [f"{request['method']} {request['url']}"]
    response = request["response"]
    if response is not None:
        lines.append(f"status: {response['status']}, {request['elapsed_ms']:.0f} ms, {response['size']} bytes")
    if request["location"]:
        lines.append(f"at: {where(request['location'])}")
    return lines


def _body(request: dict[str, Any]) -> list[str]:
    response = request["response"]
    if response is None or not response["body_excerpt"]:
        return []
    return ["", "response body:", response["body_excerpt"]]


class JunitReporter(FileReporter):
    """``--report junit:PATH``."""

    label = "junit"

    def render(self, document: Document) -> str:
        return format_junit(document)
