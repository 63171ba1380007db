"""Paid APIs: token usage and cost, budgets, rate limits (see docs/llm.md).

The engine sees one object, ``PaidRun`` (``meter.py``); the parts are
``settings`` (the ``pricing``, ``usage`` and ``rate`` keys), ``usage`` (tokens
from responses), ``ratelimit`` (pacing per host, adaptive to the servers'
headers).  OAuth2 tokens are ``runner/oauth2.py``.  The core imports this
package only when a run uses it.
"""

from __future__ import annotations

from .meter import PaidRun, PaidSettings

__all__ = ["PaidRun", "PaidSettings"]
