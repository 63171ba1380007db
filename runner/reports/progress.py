"""A progress bar (requests done / total, elapsed) for runs longer than a second, on a TTY only.

The bar is live from the start of the run but draws nothing until ``show_after``
seconds have passed, so a quick run shows no bar at all while a long one shows
it even when a single request takes minutes (rich's refresh thread redraws it;
we start no thread of our own).  Lines printed through the same rich console
appear above the bar.
"""

from __future__ import annotations

import time
from typing import Any, Callable

SHOW_AFTER_S = 1.0


class Progress:
    """A transient ``requests [bar] 3/10 0:00:02`` line under the console output."""

    def __init__(self, console: Any, total: int, show_after: float = SHOW_AFTER_S, clock: Callable[[], float] = time.monotonic):
        from rich.console import Group
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

        owner = self
        show_at = clock() + show_after

        class DelayedProgress(RichProgress):
            def get_renderable(self) -> Any:
                if not owner.shown and clock() < show_at:
                    return Group()
                owner.shown = True
                return super().get_renderable()

        self.shown = False
        self._bar = DelayedProgress(
            TextColumn("requests"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,  # we print through the console; leave sys.stdout alone
            redirect_stderr=False,
        )
        self._task = self._bar.add_task("run", total=total)
        self._bar.start()

    def advance(self) -> None:
        """One more request is done."""
        self._bar.advance(self._task)

    def stop(self) -> None:
        """Remove the bar (it is transient: nothing of it stays on screen)."""
        self._bar.stop()
