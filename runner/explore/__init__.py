"""The explore loop: send one request, read the answer, save it, run again on save.

``Explorer`` is what ``session.py`` plugs into a run: the engine calls ``observe``
with every response received (and the stream reader tells ``stream_listener`` of
each event as it arrives); ``finish`` writes saved examples and the drift report
after the run.  The parts, one module each:

- ``pane.py``   ``--show``: status, headers, pretty body, live streams
- ``save.py``   ``--save-examples``: the response as the request's ``example:``, spliced into the YAML
- ``drift.py``  ``--diff-examples``: JSON-shape differences from the saved example
- ``watch.py``  ``--watch``: run again when an input file changes
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..errors import EXIT_FAILED, EXIT_OK, SaveError
from ..results import FAILED, PASSED, RunResult


@dataclass
class ExploreState:
    """What one ``--watch`` run leaves the next: captured values, the files it read, the files it wrote."""

    carried: dict[str, dict[str, tuple[Any, bool]]] = field(default_factory=dict)  # collection path -> name -> (value, secret)
    files: set[str] = field(default_factory=set)
    written: dict[str, str] = field(default_factory=dict)  # path -> the text --save-examples wrote (not a change to re-run for)

    @staticmethod
    def widen(collection: Any, selected: tuple[int, ...], scope: Any, templates: Any) -> tuple[int, ...]:
        """``selected`` and the earlier requests that capture a value they use and no run has captured yet."""
        from ..templating import iter_strings

        raw = collection.source.data.get("requests") if collection.source is not None and isinstance(collection.source.data, dict) else None
        if not isinstance(raw, list):
            return selected
        wanted, queue = set(selected), list(selected)
        while queue:
            index = queue.pop()
            names: set[str] = set()
            for text in iter_strings(raw[index]):
                names |= templates.names(text)
            for name in sorted(names - scope.values.keys()):
                producer = next((spec for spec in collection.requests[:index] if any(capture.name == name for capture in spec.captures)), None)
                if producer is not None and producer.index not in wanted:
                    wanted.add(producer.index)
                    queue.append(producer.index)
        return tuple(sorted(wanted))


def wants_pane(settings: Any, plan: Any, tty: bool) -> bool:
    """``--show``, or a terminal and exactly one request selected (the Postman case: one request, read its answer)."""
    return bool(settings.show) or (tty and not settings.quiet and sum(len(run.selected) for run in plan.runs) == 1)


def explorer_for(settings: Any, plan: Any, file: TextIO, color: bool, tty: bool) -> "Explorer | None":
    """The run's ``Explorer``, or ``None`` when no explore option is in play."""
    pane = wants_pane(settings, plan, tty)
    if not (pane or settings.save_examples or settings.diff_examples or settings.explore_state is not None):
        return None
    return Explorer(settings, plan, file, color, pane)


class Explorer:
    """Watches a run's responses for the pane, the examples to save and the drift report."""

    def __init__(self, settings: Any, plan: Any, file: TextIO, color: bool, pane: bool):
        from .pane import Pane

        self.settings = settings
        self.plan = plan
        self.redactor = plan.redactor
        self.printer = Pane(file, color, plan.redactor, live=settings.jobs <= 1)
        self.pane = self.printer if pane else None
        self.state: ExploreState | None = settings.explore_state
        self.examples: dict[str, dict[int, dict[str, Any]]] = {}  # path -> request index -> example
        self.unsaved: dict[tuple[str, str], str] = {}  # (path, request) -> why it was not saved
        self.drift: dict[tuple[str, str], Any] = {}  # (collection, request) -> list of changes, or None without an example
        # the text as on disk, line endings and all (the loader's text has them normalised); None when it moved since the load
        self.sources = {collection.path: _raw_text(collection) for collection in plan.collections} if settings.save_examples else {}
        if self.state is not None:
            self._note_files()

    @property
    def stream_listener(self) -> Any:
        """Who hears streamed events as they arrive: the pane, when it shows streams live."""
        return self.pane if self.pane is not None and self.pane.live else None

    def observe(self, collection: Any, spec: Any, scope: Any, response: Any, result: Any) -> None:
        """One response received (checked, captures taken): show it, keep it to save, compare it."""
        if self.pane is not None:
            self.pane.response(spec.name, result.method, result.url, response)
        if self.settings.save_examples:
            self._keep_example(collection, spec, scope, response, result)
        if self.settings.diff_examples:
            from .drift import response_drift

            key = (collection.path, spec.name)
            self.drift[key] = response_drift(spec.example, response) if spec.example is not None else None
        if self.state is not None:
            carried = self.state.carried.setdefault(collection.path, {})
            for capture in spec.captures:
                if scope.origins.get(capture.name) == "capture" and capture.name in scope.values:
                    carried[capture.name] = (scope.values[capture.name], capture.name in scope.secret_names)

    def _keep_example(self, collection: Any, spec: Any, scope: Any, response: Any, result: Any) -> None:
        from .save import build_example

        if result.outcome != PASSED and not (self.settings.save_failed and result.outcome == FAILED):
            if spec.index not in self.examples.get(collection.path, {}):  # an earlier iteration's passed answer stays
                self.unsaved[(collection.path, spec.name)] = "it failed (--save-failed saves it anyway)"
            return
        example, reason = build_example(response, scope)
        if example is None:
            self.unsaved[(collection.path, spec.name)] = reason
            return
        if "events" in example:  # the mock's pacing is the user's choice, not part of the answer: kept as written
            written = _written_example(collection, spec.index)
            if "event_delay_ms" in written:
                example["event_delay_ms"] = written["event_delay_ms"]
        self.unsaved.pop((collection.path, spec.name), None)
        self.examples.setdefault(collection.path, {})[spec.index] = example

    def finish(self, run: RunResult, code: int) -> int:
        """After the run: save the examples, print the drift report; the exit code, 1 on drift with ``--fail-on-drift``."""
        if self.state is not None:
            self._note_files()
        if run.interrupted:
            return code
        if self.settings.save_examples:
            self._save()
        if self.settings.diff_examples:
            drifted = self._print_drift()
            if drifted and self.settings.fail_on_drift and code == EXIT_OK:
                return EXIT_FAILED
        return code

    def _save(self) -> None:
        from .pane import printable
        from .save import save_examples

        for (path, name), reason in self.unsaved.items():
            self.printer.write([("example not saved: ", "yellow"), (printable(self.redactor.mask(f"{name} ({reason})")), "")])
        for path, examples in self.examples.items():
            if not examples:
                continue
            source = self.sources.get(path)
            if source is None:
                raise SaveError(f"{path} changed on disk during the run: examples not saved (run again to save them)")
            changed = save_examples(path, source, examples)
            if changed and self.state is not None:
                with open(path, encoding="utf-8", newline="") as file:
                    self.state.written[os.path.abspath(path)] = file.read()
            count = len(examples)
            verb = "saved" if changed else "unchanged:"
            self.printer.write([(f"{verb} {count} example{'s' if count != 1 else ''} in {path}", "green" if changed else "dim")])

    def _print_drift(self) -> bool:
        """The drift report; whether any response drifted."""
        from .pane import printable

        drifted = {key: changes for key, changes in self.drift.items() if changes}
        missing = [key for key, changes in self.drift.items() if changes is None]
        self.printer.write([("Drift from saved examples", "bold underline")])
        names = {collection.path: collection.name for collection in self.plan.collections}
        for (path, name), changes in drifted.items():
            self.printer.write([(printable(self.redactor.mask(f"  {names.get(path, path)} > {name}")), "bold")])
            for change in changes:
                style = "green" if change.kind == "added" else "red" if change.kind == "removed" else "yellow"
                self.printer.write([(printable(self.redactor.mask(f"    {change}")), style)])
        for path, name in missing:
            self.printer.write([(printable(self.redactor.mask(f"  {names.get(path, path)} > {name}")), "bold"), ("  no saved example (--save-examples saves one)", "dim")])
        same = len(self.drift) - len(drifted) - len(missing)
        self.printer.write([(f"{len(drifted)} drifted, {same} match their example, {len(missing)} without an example", "bold yellow" if drifted else "bold green")])
        self.printer.write([])
        return bool(drifted)

    def _note_files(self) -> None:
        assert self.state is not None
        files = {collection.path for collection in self.plan.collections}
        files |= {path for path in (self.settings.env_file, self.settings.data_file) if path}
        files |= {str(path) for path in self.plan.schemas.paths}
        self.state.files = {os.path.abspath(path) for path in files}


def _written_example(collection: Any, index: int) -> dict[str, Any]:
    """The request's ``example`` as written in the file (raw values), or ``{}``."""
    data = collection.source.data if collection.source is not None else None
    try:
        example = data["requests"][index].get("example")
    except (TypeError, KeyError, IndexError, AttributeError):
        return {}
    return example if isinstance(example, dict) else {}


def _raw_text(collection: Any) -> str | None:
    """The collection file as it is on disk, if it still holds what was loaded."""
    try:
        with open(collection.path, encoding="utf-8", newline="") as file:
            raw = file.read()
    except (OSError, UnicodeDecodeError):
        return None
    loaded = collection.source.text if collection.source is not None else None
    return raw if loaded is None or raw.replace("\r\n", "\n") == loaded.replace("\r\n", "\n") else None


__all__ = ["ExploreState", "Explorer", "explorer_for", "wants_pane"]
