"""A progress bar (requests done / total, elapsed) for runs longer than a second, on a TTY only."""

from __future__ import annotations

import time
from typing import Any

SHOW_AFTER_S = 1.0


class Progress:
    """Wraps rich's progress display; it appears once the run has lasted ``SHOW_AFTER_S``."""

    def __init__(self, console: Any, total: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

        self._bar = RichProgress(
            TextColumn("requests"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True
        )
        self._task = self._bar.add_task("run", total=total)
        self._started = time.monotonic()
        self.shown = False

    def advance(self) -> None:
        """One more request is done."""
        self._bar.advance(self._task)
        if not self.shown and time.monotonic() - self._started >= SHOW_AFTER_S:
            self._bar.start()
            self.shown = True

    def pause(self) -> None:
        """Nothing to do: rich prints other output above a live bar."""

    def stop(self) -> None:
        """Remove the bar."""
        if self.shown:
            self._bar.stop()
            self.shown = False
