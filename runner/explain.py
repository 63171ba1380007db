"""Why a request failed, in the user's terms: hints the engine attaches to a result.

A 401 should point at the key and the variable that supplies it; a request that
cannot render because a capture is missing should name the request that was to
capture it.  Pure functions over the model and the run's variables.
"""

from __future__ import annotations

import re
from typing import Any

from .model import CollectionSpec, RequestSpec
from .templating import Templates, iter_strings
from .variables import Scope

_CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"}


def credential_names(collection: CollectionSpec, spec: RequestSpec, templates: Templates) -> list[str]:
    """The variables the request's credentials come from (its auth, or an auth header), sorted."""
    texts: list[Any] = []
    auth = spec.auth if spec.auth is not None else collection.auth
    if auth is not None and auth.kind != "none":
        texts += [auth.token, auth.username, auth.password, auth.value]
    headers = {**{k.lower(): v for k, v in collection.headers.items()}, **{k.lower(): v for k, v in spec.headers.items()}}
    texts += [value for name, value in headers.items() if name in _CREDENTIAL_HEADERS]
    names: set[str] = set()
    for text in iter_strings(texts):
        try:
            names |= templates.names(text)
        except Exception:  # noqa: BLE001 - a template error was reported by the preflight; no hint then
            continue
    return sorted(names)


def refused_hint(status: int, collection: CollectionSpec, spec: RequestSpec, scope: Scope, templates: Templates) -> str:
    """A hint for an unexpected 401 or 403: which key was sent and where its value comes from."""
    if status not in (401, 403):
        return ""
    what = "rejected the credentials" if status == 401 else "refused access with these credentials"
    names = credential_names(collection, spec, templates)
    if not names:
        sent = _sent_credentials(collection, spec)
        if sent:  # written out in the collection: no variable to point at, but the request did send some
            return f"the server {what} ({status}): check the {sent} written in the collection (see docs/format.md#auth)"
        return f"the server {what} ({status}) and the request sends none: add auth (see docs/format.md#auth)"
    sources = ", ".join(f"{name!r} (from {scope.origins.get(name, 'nowhere: it is not set')})" for name in names)
    return f"the server {what} ({status}): check the key; it comes from {sources}; set it in an environment file (-e) or with --var {names[0]}=..."


def _sent_credentials(collection: CollectionSpec, spec: RequestSpec) -> str:
    """What the request sends as credentials (``digest auth``, ``Authorization header``), or '' when nothing."""
    auth = spec.auth if spec.auth is not None else collection.auth
    if auth is not None and auth.kind != "none":
        return f"{auth.kind} auth"
    headers = {**{k.lower(): k for k in collection.headers}, **{k.lower(): k for k in spec.headers}}
    sent = [original for name, original in headers.items() if name in _CREDENTIAL_HEADERS]
    return f"{sent[0]} header" if sent else ""


_UNDEFINED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined")


def missing_capture(message: str, collection: CollectionSpec, spec: RequestSpec) -> tuple[str, str]:
    """For a render error on an undefined name that an earlier request captures: the name, and a message naming that request."""
    match = _UNDEFINED.search(message)
    if match is None:
        return "", ""
    name = match.group(1)
    for earlier in collection.requests[: spec.index]:
        if any(capture.name == name for capture in earlier.captures):
            return name, f"{name!r} was not captured: request {earlier.name!r}, which captures it, failed or did not run"
    return "", ""


def skipped_text(count: int, status: int) -> str:
    """``12 more checks skipped: the status was 401``."""
    noun = "check" if count == 1 else "checks"
    return f"{count} more {noun} skipped: the status was {status}"
