"""Content-Encoding, decoded incrementally and bounded: a compression bomb stops at ``max_response_bytes``.

httpx decodes a whole network chunk at once: 3.5 KB of ``gzip, gzip`` on the
wire became gigabytes in one call.  Here every decoder is asked for at most
``CHUNK`` bytes at a time (``zlib``'s ``max_length``, brotli's
``output_buffer_limit``, zstd's ``max_length``), layers are chained lazily, and
the reader stops asking once the decoded size passes the limit, so no more
than the limit plus a chunk per layer is ever produced.

Codings: ``gzip`` (``x-gzip``), ``deflate`` (zlib-wrapped or raw, as browsers
accept), ``br`` (the ``brotli`` package, 1.2 or later: earlier versions cannot
bound their output), ``zstd`` (the standard library's ``compression.zstd`` from
Python 3.14, its ``backports.zstd`` before: the ``zstandard`` package cannot
bound its output either), ``identity``.  Stacks (``gzip, br``) are decoded
right to left.  An unknown coding is left as it is, as httpx and curl do.
"""

from __future__ import annotations

import zlib
from typing import Any, AsyncIterator, Iterator

CHUNK = 64 * 1024


class BodyTooLargeError(Exception):
    """The decoded body passed the limit; ``codings`` says what it was encoded with."""

    def __init__(self, limit: int, codings: list[str]):
        super().__init__(f"the response body, decoded (Content-Encoding: {', '.join(codings)}), is larger than max_response_bytes ({limit} bytes): reading stopped there")
        self.limit = limit
        self.codings = codings


class DecodeError(Exception):
    """The body is not what its Content-Encoding says."""


class _Zlib:
    """gzip and deflate: ``decompress(data, max_length)`` keeps what it did not use in ``unconsumed_tail``."""

    def __init__(self, coding: str):
        self._coding = coding
        self._head = b""  # deflate: the first bytes, until we know whether a zlib header is there
        self._obj: Any = zlib.decompressobj(zlib.MAX_WBITS | 16) if coding == "gzip" else None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._obj is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            zlib_header = data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        while True:
            if self._obj.eof:
                rest = self._obj.unused_data + data
                if self._coding != "gzip" or not rest:  # trailing bytes after a deflate stream are ignored
                    return
                self._obj, data = zlib.decompressobj(zlib.MAX_WBITS | 16), rest  # another gzip member
            try:
                out = self._obj.decompress(data, CHUNK)
            except zlib.error as exc:
                raise DecodeError(f"{self._coding}: {exc}") from None
            data = self._obj.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < CHUNK:
                return

    def flush(self) -> Iterator[bytes]:
        if self._obj is None and self._head:
            yield from self.feed(b"\0")  # one byte of deflate: let the decoder say what is wrong
        yield from self.feed(b"") if self._obj is not None and not self._obj.eof else ()


class _Brotli:
    def __init__(self) -> None:
        try:
            import brotli
        except ImportError:  # pragma: no cover - a dependency; brotlicffi has the same interface
            import brotlicffi as brotli  # type: ignore[import-not-found,no-redef]
        self._error = brotli.error
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._obj.process(data, output_buffer_limit=CHUNK)
            while out:  # the decoder may hold more output than it gave: ask until it gives nothing
                yield out
                if self._obj.is_finished():
                    return
                out = self._obj.process(b"", output_buffer_limit=CHUNK)
        except self._error as exc:
            raise DecodeError(f"br: {exc}") from None

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Zstd:
    def __init__(self) -> None:
        self._module = _zstd()
        self._obj = self._module.ZstdDecompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            while True:
                if self._obj.eof:  # frames one after another: each needs a new decompressor
                    data = self._obj.unused_data + data
                    if not data:
                        return
                    self._obj = self._module.ZstdDecompressor()
                out = self._obj.decompress(data, CHUNK)
                data = b""
                if out:
                    yield out
                if self._obj.needs_input and not self._obj.eof:
                    return
        except self._module.ZstdError as exc:
            raise DecodeError(f"zstd: {exc}") from None

    def flush(self) -> Iterator[bytes]:
        return iter(())


def _zstd() -> Any:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found,no-redef]
    return zstd


_DECODERS: dict[str, Any] = {"gzip": lambda: _Zlib("gzip"), "x-gzip": lambda: _Zlib("gzip"), "deflate": lambda: _Zlib("deflate"), "br": _Brotli, "zstd": _Zstd}


def content_codings(header: str) -> list[str]:
    """The codings of a ``Content-Encoding`` header that the runner decodes, in the order they were applied."""
    return [coding for coding in (part.strip().lower() for part in header.split(",")) if coding in _DECODERS]


def _through(layers: list[Any], data: bytes) -> Iterator[bytes]:
    """``data`` through every layer, lazily: a layer is asked for more only when the next wants it."""
    if not layers:
        if data:
            yield data
        return
    for piece in layers[0].feed(data):
        yield from _through(layers[1:], piece)


def _flush(layers: list[Any]) -> Iterator[bytes]:
    for position, layer in enumerate(layers):
        for piece in layer.flush():
            yield from _through(layers[position + 1 :], piece)


async def decoded_chunks(raw: AsyncIterator[bytes], content_encoding: str, limit: int) -> AsyncIterator[bytes]:
    """The body of ``raw`` decoded; raises ``BodyTooLargeError`` once an encoded body decodes past ``limit``.

    A body without a coding is not cut here: the caller cuts it at the limit (and reports a truncated body).
    """
    codings = content_codings(content_encoding)
    if not codings:
        async for chunk in raw:
            yield chunk
        return
    layers = [_DECODERS[coding]() for coding in reversed(codings)]
    size = 0
    async for chunk in raw:
        for piece in _through(layers, chunk):
            size += len(piece)
            if size > limit:
                raise BodyTooLargeError(limit, codings)
            yield piece
    for piece in _flush(layers):
        size += len(piece)
        if size > limit:
            raise BodyTooLargeError(limit, codings)
        yield piece


__all__ = ["BodyTooLargeError", "DecodeError", "content_codings", "decoded_chunks"]
