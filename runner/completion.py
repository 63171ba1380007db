"""Shell completion for the values click cannot know: report formats and request names.

click completes commands, options and paths by itself once the shell is set up
(``eval "$(_RUNNER_COMPLETE=bash_source runner)"``, see docs/cli.md).  These
callbacks run at every Tab press, so they read the YAML only (no validation,
no httpx) and never raise: a broken file completes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def complete_report(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    """``--report``: ``FORMAT:`` while the format is typed, then paths after the colon."""
    from click.shell_completion import CompletionItem

    from .reports import FORMATS

    fmt, sep, path = incomplete.partition(":")
    if not sep:
        return [CompletionItem(f"{name}:", help=f"write a {name} report") for name in sorted(FORMATS) if name.startswith(fmt)]
    return [CompletionItem(f"{fmt}:{path}", type="file")]  # the shell completes the file name


def complete_request_name(ctx: Any, param: Any, incomplete: str) -> list[Any]:
    """``--request`` / ``-k``: the names of the requests in the PATH(s) given so far."""
    from click.shell_completion import CompletionItem

    given = list(ctx.params.get("paths") or ([ctx.params["path"]] if ctx.params.get("path") else []))
    given += [arg for arg in ctx.args if not arg.startswith("-")]  # while an option waits for its value, click leaves the PATHs here
    names: list[str] = []
    for path in _collection_files(given):
        names.extend(name for name in _request_names(path) if name not in names)
    return [CompletionItem(name) for name in names if name.lower().startswith(incomplete.lower())]


def _collection_files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.is_file():
            out.append(path)
    return out


def _request_names(path: Path) -> list[str]:
    from .errors import RunnerError
    from .source import read_yaml

    try:
        data = read_yaml(path).data
    except RunnerError:
        return []
    requests = data.get("requests") if isinstance(data, dict) else None
    if not isinstance(requests, list):
        return []
    return [str(item["name"]) for item in requests if isinstance(item, dict) and "name" in item]
