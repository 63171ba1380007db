"""``runner load``: the collections as Locust users (Locust as a library, in the ``load`` extra).

Each collection is one Locust user class: a user runs the collection's requests in
order, with captures and its own cookies, as ``runner run`` does, then thinks
(``--think``) and starts again.  Every response is checked as usual; a failed
check is a Locust failure carrying runner's masked message.  Locust does the rest:
spawning, distribution (``--master``/``--worker``), percentiles, CSV, HTML, web UI.

Importing Locust monkey-patches the standard library for gevent, so this package
is imported only by ``runner load``, before anything that opens sockets.
"""

from __future__ import annotations

from .settings import LoadSettings

__all__ = ["LoadSettings", "run_load"]


def run_load(settings: LoadSettings) -> int:
    """Run the load test ``settings`` describe and return the exit code."""
    from .main import run_load as run

    return run(settings)
