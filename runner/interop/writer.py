"""The one YAML writer every importer shares: a collection (plain data) plus comments -> text -> file.

PyYAML writes the values; this module places comments where a reader needs them
(a header saying where the collection came from and which variables to export,
and a note above a request, such as a Postman script kept verbatim).  Files are
never overwritten unless the user said ``--force``.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError


@dataclass
class Imported:
    """One collection an importer built: its data, a header comment, per-request comments."""

    data: dict[str, Any]
    header: list[str] = field(default_factory=list)
    request_notes: dict[int, list[str]] = field(default_factory=dict)  # request index -> comment lines


def _dumper() -> Any:
    import yaml

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class Dumper(base):  # type: ignore[misc, valid-type]
        """Block style; multi-line text as ``|`` literals (scripts and descriptions stay readable)."""

    def text(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value and not value.startswith(" ") and _printable(value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return Dumper


def _printable(value: str) -> bool:
    return all(char.isprintable() or char in "\n\t" for char in value) and not any(line.endswith(" ") for line in value.split("\n"))


def dump_yaml(value: Any, indent: int = 0) -> str:
    """A value as block YAML, every line indented by ``indent`` spaces."""
    import yaml

    text = yaml.dump(value, Dumper=_dumper(), sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    if not indent:
        return text
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def comment_lines(lines: list[str], indent: int = 0) -> str:
    """Lines as YAML comments (an empty line stays a bare ``#``)."""
    pad = " " * indent
    return "".join(f"{pad}# {line}".rstrip() + "\n" for text in lines for line in str(text).splitlines() or [""])


def format_collection(imported: Imported, schema_line: str = "") -> str:
    """The collection as YAML text with its comments."""
    out = []
    if schema_line:
        out.append(f"# yaml-language-server: $schema={schema_line}\n")
    out.append(comment_lines(imported.header))
    head = {key: value for key, value in imported.data.items() if key != "requests"}
    if head:
        out.append(dump_yaml(head))
    out.append("requests:\n")
    for index, request in enumerate(imported.data.get("requests", [])):
        if index:
            out.append("\n")
        out.append(comment_lines(imported.request_notes.get(index, []), indent=2))
        out.append(dump_yaml([request], indent=2))
    return "".join(out)


def check_writable(path: Path, force: bool, folder: bool = False) -> None:
    """Refuse an output path that exists unless ``--force`` (exit 2, nothing written)."""
    if not path.exists():
        return
    if folder and path.is_dir() and not any(path.iterdir()):
        return
    if not force:
        what = "folder" if path.is_dir() else "file"
        raise UsageError(f"{path} exists: refusing to overwrite the {what} (pass --force to replace it)")
    if path.is_dir() and not folder:
        raise UsageError(f"{path} is a folder: give a file name with -o")


def write_text(path: Path, text: str) -> None:
    """Write a file atomically (a temporary file renamed into place), creating its folder."""
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # a file where the folder should be is an OSError too
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def emit(text: str, out: str | None, force: bool) -> None:
    """Write ``text`` to ``out``, or to stdout when there is no ``-o``."""
    if out is None or out == "-":
        sys.stdout.write(text)
        return
    path = Path(out)
    check_writable(path, force)
    write_text(path, text)


def read_input(path: str, what: str) -> str:
    """A file's text (``-`` is stdin), with a clear error when it cannot be read."""
    if path == "-":
        return sys.stdin.read()
    from ..source import read_text_file

    return read_text_file(path, f"{what} file", encoding="utf-8-sig")  # exports from Windows tools may start with a BOM


_DELIMITER = re.compile(r"\{[{%#]")


def literal(value: Any) -> Any:
    """Imported text as a template that renders to itself: ``{{``, ``{%`` and ``{#`` become ``{{ '{{' }}``..."""
    if isinstance(value, str):
        return _DELIMITER.sub(lambda match: "{{ '" + match.group(0) + "' }}", value) if "{" in value else value
    if isinstance(value, dict):
        return {key: literal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [literal(item) for item in value]
    return value


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... so request names stay unique in a file."""
    name = " ".join(name.split()) or "request"
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} ({number})", number + 1
    taken.add(candidate)
    return candidate
