"""What every command that runs collections is given: the paths, ``-e``, ``--var`` and ``--mock``.

``runner run``'s ``RunSettings`` (session.py) and ``runner load``'s ``LoadSettings``
(load/settings.py) grow from it, so the two read their common options alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CollectionInput:
    """The collections, the environment file, the ``--var`` values, and whether the built-in mock answers."""

    paths: list[str]
    env_file: str | None = None
    cli_vars: list[str] = field(default_factory=list)
    mock: bool = False
