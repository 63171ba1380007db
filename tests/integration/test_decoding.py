"""Content-Encoding over real sockets: every coding and stack decodes, and a bomb stops at max_response_bytes.

The server is a raw socket (``fault_servers.respond``): it sends exactly the
bytes built here, with the ``Content-Encoding`` header given.
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any, Callable

import brotli
import pytest

from fault_servers import respond, serve


def _zstd(data: bytes) -> bytes:
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found,no-redef]
    return zstd.compress(data)


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


CODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": _zstd,
    "identity": lambda data: data,
}


def encode(data: bytes, codings: str) -> bytes:
    """``data`` with every coding of a Content-Encoding header applied, in order."""
    for coding in (part.strip() for part in codings.split(",")):
        data = CODERS[coding](data)
    return data


def _collection(write: Any, url: str, limit: int | None = None) -> Any:
    bound = f"\n    max_response_bytes: {limit}" if limit else ""
    return write("enc.yaml", f"""\
name: enc
requests:
  - name: get
    url: {url}/x{bound}
    expect:
      status: 200
      json: {{"$.word": hello}}
""")


BODY = json.dumps({"word": "hello", "pad": "ab" * 5000}).encode()


@pytest.mark.parametrize("codings", ["gzip", "x-gzip", "deflate", "br", "zstd", "gzip, gzip", "gzip, br", "br, zstd, deflate", "identity, gzip", "GZIP"])
def test_every_coding_and_stack_decodes(run_cli: Any, write: Any, codings: str) -> None:
    with serve(respond(body=encode(BODY, codings.lower()), headers={"Content-Type": "application/json", "Content-Encoding": codings})) as server:
        result = run_cli("run", str(_collection(write, server.url)))
    assert result.exit_code == 0, result.output


def test_raw_deflate_without_a_zlib_header_decodes(run_cli: Any, write: Any) -> None:
    with serve(respond(body=_raw_deflate(BODY), headers={"Content-Type": "application/json", "Content-Encoding": "deflate"})) as server:
        result = run_cli("run", str(_collection(write, server.url)))
    assert result.exit_code == 0, result.output


def bomb(codings: str, size: int) -> bytes:
    """``size`` zero bytes, encoded: a few KB on the wire."""
    return encode(b"\0" * size, codings)


@pytest.mark.parametrize("codings", ["gzip", "deflate", "br", "zstd", "gzip, gzip", "br, gzip"])
def test_a_compression_bomb_stops_at_the_limit_as_a_request_error(run_cli: Any, write: Any, codings: str) -> None:
    payload = bomb(codings, 8 * 1024 * 1024)
    assert len(payload) < 300 * 1024
    with serve(respond(body=payload, headers={"Content-Type": "application/json", "Content-Encoding": codings})) as server:
        result = run_cli("run", str(_collection(write, server.url, limit=100_000)), "--report", "json:-")
    assert result.exit_code == 1, result.output
    assert f"decoded (Content-Encoding: {codings}), is larger than max_response_bytes (100000 bytes)" in result.output
    assert '"outcome": "error"' in result.stdout


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_a_body_that_is_not_what_its_encoding_says_is_a_request_error(run_cli: Any, write: Any, coding: str) -> None:
    with serve(respond(body=b"\xff\xfe not encoded at all " * 10, headers={"Content-Type": "application/json", "Content-Encoding": coding})) as server:
        result = run_cli("run", str(_collection(write, server.url)))
    assert result.exit_code == 1, result.output
    assert f"cannot decode the body as its Content-Encoding says: {coding}:" in result.output


def test_an_unknown_coding_is_left_as_it_is(run_cli: Any, write: Any) -> None:
    with serve(respond(body=BODY, headers={"Content-Type": "application/json", "Content-Encoding": "x-unknown"})) as server:
        result = run_cli("run", str(_collection(write, server.url)))
    assert result.exit_code == 0, result.output
