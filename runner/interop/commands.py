"""The click commands of ``runner import``, ``runner export`` and ``runner init``.

Only click is imported here (``runner --help`` stays fast); each command imports its
module when it runs, and hands errors to ``runner.cli``'s one handler.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click


def _run(traceback: bool, action: Callable[[], int]) -> None:
    from ..cli import _guard

    _guard(traceback, action)


def _traceback(func: Any) -> Any:
    return click.option("--traceback", is_flag=True, hidden=True)(func)


def _force(func: Any) -> Any:
    return click.option("--force", is_flag=True, help="Replace an existing output file or folder.")(func)


def _report(lines: list[str]) -> None:
    """Warnings and notes for the user, on stderr (stdout may be the collection itself)."""
    for line in lines:
        click.echo(line, err=True)


@click.group("import")
def import_group() -> None:
    """Bring requests in: curl command lines, Postman collections, OpenAPI documents, HAR files."""


@import_group.command("curl")
@click.argument("command", nargs=-1, metavar="[CMD | -]")
@click.option("-f", "--file", "file", type=click.Path(dir_okay=False), help="Read curl command lines from a file (one command a line; backslash continuations).")
@click.option("-o", "--output", "out", metavar="OUT.yaml", help="Write the collection here (default: stdout).")
@_force
@_traceback
def import_curl_command(command: tuple[str, ...], file: str | None, out: str | None, force: bool, traceback: bool) -> None:
    """Turn curl command lines into a collection that sends the same requests."""

    def action() -> int:
        import shlex

        from ..errors import UsageError
        from .curl import import_curl
        from .writer import emit, format_collection, read_input

        if file and command:
            raise UsageError("give curl commands as an argument, with -f FILE, or on stdin (-), not several of these")
        if file:
            text, source = read_input(file, "curl command"), file
        elif not command or command == ("-",):
            if not command and sys.stdin.isatty():
                raise UsageError("no curl command: pass one as an argument, -f FILE, or - to read stdin")
            text, source = sys.stdin.read(), "stdin"
        else:
            text = command[0] if len(command) == 1 else shlex.join(command)
            source = "the command line"
        out_path = Path(out) if out and out != "-" else None
        if out_path is not None:
            from .writer import check_writable

            check_writable(out_path, force)
        imported, notes = import_curl(text, source, out_path)
        emit(format_collection(imported), out, force)
        _report(notes + ([f"wrote {out} ({len(imported.data['requests'])} request(s))"] if out_path else []))
        return 0

    _run(traceback, action)


@import_group.command("openapi")
@click.argument("spec", metavar="SPEC.(yaml|json)")
@click.option("-o", "--output", "out", metavar="OUTDIR", help="Folder for the collections (default: a folder named after the spec).")
@_force
@_traceback
def import_openapi_command(spec: str, out: str | None, force: bool, traceback: bool) -> None:
    """Turn an OpenAPI 3.0/3.1 document into collections, one per tag."""

    def action() -> int:
        from .openapi import import_openapi

        _report(import_openapi(Path(spec), Path(out) if out else Path(Path(spec).stem), force))
        return 0

    _run(traceback, action)


@import_group.command("postman")
@click.argument("collection", metavar="COLLECTION.json")
@click.option("-e", "--environment", "environments", multiple=True, metavar="POSTMAN_ENV.json", help="A Postman environment file (repeatable).")
@click.option("-o", "--output", "out", metavar="OUTDIR", help="Folder for the collections (default: a folder named after the collection).")
@_force
@_traceback
def import_postman_command(collection: str, environments: tuple[str, ...], out: str | None, force: bool, traceback: bool) -> None:
    """Turn a Postman collection (v2.0/v2.1) into collections; test scripts become checks."""

    def action() -> int:
        from .postman import import_postman

        target = Path(out) if out else Path(Path(collection).stem.removesuffix(".postman_collection"))
        _report(import_postman(Path(collection), [Path(e) for e in environments], target, force))
        return 0

    _run(traceback, action)


@import_group.command("har")
@click.argument("har", metavar="FILE.har")
@click.option("-o", "--output", "out", metavar="OUT.yaml", help="Write the collection here (default: stdout).")
@click.option("--all", "include_all", is_flag=True, help="Keep static assets (images, fonts, CSS, JavaScript) too.")
@_force
@_traceback
def import_har_command(har: str, out: str | None, include_all: bool, force: bool, traceback: bool) -> None:
    """Turn a browser's HAR export into a collection of its requests, in order."""

    def action() -> int:
        from .har import import_har

        _report(import_har(Path(har), out, include_all, force))
        return 0

    _run(traceback, action)


@click.command("export")
@click.argument("target", type=click.Choice(["postman"]))
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-o", "--output", "out", required=True, metavar="FILE.json", help="The Postman collection (v2.1) to write.")
@_force
@_traceback
def export_command(target: str, paths: tuple[str, ...], out: str, force: bool, traceback: bool) -> None:
    """Write collections as a Postman collection (v2.1), for Postman and Apidog."""

    def action() -> int:
        from .export import export_postman

        _report(export_postman(list(paths), Path(out), force))
        return 0

    _run(traceback, action)


@click.command("init")
@click.argument("directory", default=".", metavar="[DIR]")
@_force
@_traceback
def init_command(directory: str, force: bool, traceback: bool) -> None:
    """Start a project: an example collection, environments, schemas, .gitignore, .env.example, CI workflow."""

    def action() -> int:
        from .init import init_project

        _report(init_project(Path(directory), force))
        return 0

    _run(traceback, action)


def register(main: click.Group) -> None:
    """Add ``import``, ``export`` and ``init`` to the ``runner`` command group."""
    for command in (import_group, export_command, init_command):
        main.add_command(command)
