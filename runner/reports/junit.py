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

import codecs
import re
import shutil
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as xml_escape
from typing import IO, Any, Callable

from ..terminal import CONTROL_CHARS, guard_commands
from ..results import ERROR, FAILED, SKIPPED
from .document import Document, failure_lines, format_money, stream_text, usage_text, where
from .streamed import Progress, StreamedReporter, copy_part, restore

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
PROPERTIES_END = b"    </properties>\n"

# characters XML 1.0 cannot carry at all, even escaped (a binary body would make the file unreadable)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _seconds(ms: float | None) -> str:
    return f"{(ms or 0.0) / 1000:.3f}"


def format_junit(document: Document) -> str:
    """The JUnit XML for a report document (what ``JunitReporter`` writes for the same run)."""
    suites = "".join(
        _suite_text(number, collection, "".join(_case_text(collection["name"], request) for request in collection["requests"]), document)
        for number, collection in enumerate(document["collections"])
    )
    head, tail = _root_texts(document, bool(suites))
    return head + suites + tail


def _root_texts(document: dict[str, Any], suites: bool) -> tuple[str, str]:
    """What comes before the suites and after them (``<testsuites>`` holds the run's totals)."""
    counts = document["counts"]
    root = ET.Element(
        "testsuites",
        name="runner",
        tests=str(counts["total"]),
        failures=str(counts[FAILED]),
        errors=str(counts[ERROR]),
        time=_seconds(document["elapsed_ms"]),
    )
    if not suites:
        return DECLARATION + ET.tostring(root, encoding="unicode"), "\n"
    return DECLARATION + _open_tag(root), "\n</testsuites>\n"


def _open_tag(element: ET.Element) -> str:
    """``<tag attr="...">`` exactly as ElementTree writes it."""
    shell = ET.Element(element.tag, element.attrib)
    shell.text = "|"
    return ET.tostring(shell, encoding="unicode")[: -len(f"|</{element.tag}>")]


def _suite_text(number: int, collection: dict[str, Any], cases: str, document: dict[str, Any]) -> str:
    """One ``<testsuite>``, indented as in the whole document, around its cases' text."""
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
    properties = ET.Element("properties")
    values = {"file": collection["path"], "runner.version": document["runner_version"]}
    if collection["iteration"] is not None:
        values["iteration"] = collection["iteration"]
    if document["interrupted"]:
        values["interrupted"] = "true"
    values.update(usage_properties(collection.get("usage") or []))
    for key, value in values.items():
        ET.SubElement(properties, "property", name=key, value=_text(value))
    ET.indent(properties, level=2)
    return "\n  " + _open_tag(suite) + "\n    " + ET.tostring(properties, encoding="unicode") + cases + "\n  </testsuite>"


def usage_properties(usage: list[dict[str, Any]]) -> dict[str, Any]:
    """A suite's token usage and cost as properties: ``usage.MODEL.input_tokens``, ``.output_tokens``, ``.cost`` (with its currency)."""
    values: dict[str, Any] = {}
    for entry in usage:
        prefix = f"usage.{entry['model']}"
        values[f"{prefix}.requests"] = entry["requests"]
        values[f"{prefix}.input_tokens"] = entry["input_tokens"]
        values[f"{prefix}.output_tokens"] = entry["output_tokens"]
        values[f"{prefix}.cost"] = format_money(entry["cost"], entry["currency"]) if entry["cost"] is not None and entry["currency"] else "unknown"
    return values


def _case_text(classname: str, request: dict[str, Any]) -> str:
    """One ``<testcase>``, indented as in the whole document."""
    case = _case(classname, request)
    ET.indent(case, level=2)
    return "\n    " + guard_xml_lines(ET.tostring(case, encoding="unicode"))


def guard_xml_lines(markup: str) -> str:
    """Markup safe to print (``--report junit:-`` in a CI log), with the same meaning.

    What a terminal would obey (CR, DEL, C1, bidi overrides) becomes a character
    reference, and so does the first character of a line of text that GitHub
    would read as a workflow command (``&#58;:stop-commands::``).
    """
    markup = _RAW_CONTROL.sub(lambda match: f"&#{ord(match.group(0))};", markup)
    return guard_commands(markup, lambda char: f"&#{ord(char)};")


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
    if request["stream"] is not None:
        lines.append(f"stream: {stream_text(request)}")
    if request["usage"] is not None:
        usage = request["usage"]
        lines.append(f"usage: {usage['model']}, {usage_text(usage['input_tokens'], usage['output_tokens'], usage['cost'], usage['currency'])}")
    if request["waited_ms"]:
        lines.append(f"waited: {request['waited_ms']:.0f} ms ({request['wait_reason']})")
    if request["location"]:
        lines.append(f"at: {where(request['location'])}")
    return lines


def _body(request: dict[str, Any]) -> list[str]:
    response = request["response"]
    if response is None or not response["body_excerpt"]:
        return []
    return ["", "response body:", response["body_excerpt"]]


_RAW_CONTROL = re.compile(f"[{CONTROL_CHARS}]")  # XML carries these raw (or as U+FFFD): a terminal obeys them
_TAG = re.compile(r"<[^>]*>")  # ElementTree escapes every "<" and ">" of text and attribute values
_ATTRIBUTE = re.compile(r'([\w:.-]+)="([^"]*)"')
# attributes that hold text from users and servers; the others (counts, times, kinds, paths) are the runner's
_MASKED_ATTRIBUTES = frozenset({"name", "classname", "message"})


_REFERENCE = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _unescape(text: str) -> str:
    """XML text or an attribute value decoded: entities and character references (``&#58;``), in one pass."""

    def decode(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#"):
            return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
        return _ENTITIES[name]

    return _REFERENCE.sub(decode, text)


def _escape_attribute(text: str) -> str:
    """An attribute value as ElementTree writes it."""
    return xml_escape(text, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#09;"})


def remask_markup(markup: str, mask: Callable[[str], str]) -> str:
    """XML text with every text node and text attribute (``_MASKED_ATTRIBUTES``) unescaped, masked with ``mask`` and escaped again."""
    out: list[str] = []
    position = 0
    for tag in _TAG.finditer(markup):
        out.append(xml_escape(mask(_unescape(markup[position : tag.start()]))))
        text = tag.group(0)
        if not text.startswith(("<?", "<!")):
            text = _ATTRIBUTE.sub(lambda attribute: _remask_attribute(attribute, mask), text)
        out.append(text)
        position = tag.end()
    out.append(xml_escape(mask(_unescape(markup[position:]))))
    return "".join(out)


def _remask_attribute(attribute: re.Match[str], mask: Callable[[str], str]) -> str:
    name, value = attribute.groups()
    if name not in _MASKED_ATTRIBUTES:
        return attribute.group(0)
    return f'{name}="{_escape_attribute(mask(_unescape(value)))}"'


class JunitReporter(StreamedReporter):
    """``--report junit:PATH``, written as the run goes.

    A ``<testsuite>`` carries its counts, and ``<testsuites>`` the run's, so
    each is written once what it holds is known: a collection's cases go to a
    scratch file, the whole suite to a second one when the collection is done,
    and the report is the run's totals followed by that second file.  Whether the
    run was interrupted is known only then: the ``interrupted`` property is added
    to each suite while it is copied.
    """

    label = "junit"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.head: dict[str, Any] = {}
        self.cases: IO[bytes] | None = None
        self.suites: IO[bytes] | None = None

    def begin(self, head: dict[str, Any]) -> tuple[int, ...]:
        self.head = head
        self.cases, self.suites = self.scratch(), self.scratch()
        return (0, 0)

    def open_collection(self, head: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        return (0, progress.offsets[1])

    def add_request(self, entry: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        assert self.cases is not None
        cases, suites = progress.offsets
        restore(self.cases, cases)
        data = _case_text(self._collection["name"], entry).encode("utf-8")
        self.cases.write(data)
        return (cases + len(data), suites)

    def close_collection(self, head: dict[str, Any], tail: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        assert self.cases is not None and self.suites is not None
        cases, suites = progress.offsets
        restore(self.suites, suites)
        before, _, after = _suite_text(progress.collections - 1, {**head, **tail}, "|", {**self.head, "interrupted": False}).rpartition("|")
        self.suites.write(before.encode("utf-8"))
        copy_part(self.cases, cases, self.suites)
        self.suites.write(after.encode("utf-8"))
        return (0, self.suites.tell())

    def end(self, tail: dict[str, Any], progress: Progress) -> tuple[int, ...]:
        assert self.suites is not None
        suites = progress.offsets[1]
        restore(self.suites, suites)
        head, end = _root_texts(tail, bool(progress.collections))
        output = self.output.open()
        output.write(head.encode("utf-8"))
        self.suites.seek(0)
        if tail["interrupted"]:
            marked = ("      " + ET.tostring(ET.Element("property", name="interrupted", value="true"), encoding="unicode") + "\n").encode("utf-8")
            for line in self.suites:  # markup lines: text cannot hold a raw "<"
                output.write(marked + line if line == PROPERTIES_END else line)
        else:
            shutil.copyfileobj(self.suites, output)
        output.write(end.encode("utf-8"))
        return (0, 0)

    def remask(self, source: IO[bytes], target: IO[bytes]) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")()
        pending = ""
        for chunk in iter(lambda: source.read(1 << 16), b""):
            pending += decoder.decode(chunk)
            complete = pending.rfind(">") + 1  # a text node is masked whole: up to the tag after it
            target.write(guard_xml_lines(remask_markup(pending[:complete], self.redactor.mask_lines)).encode("utf-8"))
            pending = pending[complete:]
        target.write(guard_xml_lines(remask_markup(pending + decoder.decode(b"", final=True), self.redactor.mask_lines)).encode("utf-8"))
