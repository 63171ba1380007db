"""The built-in mock: serves saved examples (and OpenAPI documents) over HTTP on loopback.

- ``server``: the HTTP server (stdlib ``ThreadingHTTPServer``), ``MockServer``;
- ``routes``: which route answers a request (pure, table-tested);
- ``answers``: the reply for a route: request validation, templated examples, dynamic bodies;
- ``validation``: request bodies against a route's ``request_schema``, the API's 422;
- ``dynamic``: bodies generated from a response schema, deterministic by seed;
- ``openapi``: routes from an OpenAPI 3.0/3.1 document;
- ``checks``: start-up checks of what is served; ``serve``: the ``runner mock`` command.
"""

from __future__ import annotations

from .answers import mistral_401
from .serve import serve_forever
from .server import HANDLER_THREAD_NAME, HEALTH_PATH, MockServer

__all__ = ["HANDLER_THREAD_NAME", "HEALTH_PATH", "MockServer", "mistral_401", "serve_forever"]
