"""``runner import har``: a browser's HAR export -> one collection of its requests, in order.

The file is streamed (``ijson``): one entry is in memory at a time, and what is kept
per request is bounded (bodies over ``MAX_BODY`` are left out), so a 100 MB export
does not need 100 MB.  Static assets (images, fonts, CSS, JavaScript, media) are left
out unless ``--all``.  Cookies, ``Authorization`` and api-key headers, credential
query parameters and token-shaped values become secret variables.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

from ..errors import InputError
from .secrets import SecretBook, env_prefix, is_credential_name
from .writer import Imported, emit, format_collection, literal, unique_name

MAX_BODY = 256 * 1024  # request and example bodies larger than this are left out (with a note)
_STATIC_TYPES = re.compile(r"^(image|font|audio|video)/|^text/css|javascript|^application/(font|x-font|wasm)|ecmascript")
_STATIC_EXTENSIONS = re.compile(r"\.(png|jpe?g|gif|webp|avif|svg|ico|bmp|woff2?|ttf|otf|eot|css|js|mjs|map|mp4|webm|mp3|ogg|wav)$", re.IGNORECASE)
# Headers a browser or the connection adds: they say nothing about the API call.
_NOISE = re.compile(r"^(:.*|host|content-length|connection|accept-encoding|keep-alive|te|priority|upgrade-insecure-requests|sec-.*|cache-control|pragma|dnt|origin|referer|user-agent|accept-language)$", re.IGNORECASE)


def _entries(path: Path) -> Iterator[dict[str, Any]]:
    import ijson

    try:
        with open(path, "rb") as file:
            yield from ijson.items(file, "log.entries.item", use_float=True)
    except FileNotFoundError:
        raise InputError(f"no such HAR file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a HAR file") from None
    except ijson.JSONError as exc:
        raise InputError(f"{path} is not valid JSON ({exc}): a HAR file is the JSON a browser's 'Save all as HAR' writes") from None


def _is_static(entry: dict[str, Any]) -> bool:
    response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    content = response.get("content") if isinstance(response.get("content"), dict) else {}
    request = entry.get("request") if isinstance(entry.get("request"), dict) else {}
    mime, url = str(content.get("mimeType") or "").lower(), str(request.get("url") or "")
    if str(request.get("method") or "GET").upper() not in ("GET", "HEAD"):
        return False  # an upload, or an API call answering with an image: not an asset the page loaded
    return bool(_STATIC_TYPES.search(mime) or _STATIC_EXTENSIONS.search(urlsplit(url).path))


class _Converter:
    def __init__(self) -> None:
        self.book = SecretBook()
        self.origin = ""
        self.names: set[str] = set()
        self.skipped = 0
        self.malformed = 0
        self.notes: dict[int, list[str]] = {}

    def request(self, entry: dict[str, Any], index: int) -> dict[str, Any] | None:
        request = literal(entry.get("request") or {})  # the browser's text, never a template
        url = str(request.get("url") or "")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return None
        if not self.origin:
            self.origin = f"{parts.scheme}://{parts.netloc}"
        self.book.prefix = env_prefix(parts.hostname or "")  # named after the host each credential was sent to
        notes: list[str] = []
        method = str(request.get("method") or "GET").upper()
        origin = f"{parts.scheme}://{parts.netloc}"
        target = parts.path or "/"
        out: dict[str, Any] = {"name": unique_name(f"{method} {target}", self.names), "method": method}
        out["url"] = self.book.text(target if origin == self.origin else f"{origin}{target}")
        params: dict[str, Any] = {}
        for item in request.get("queryString") or []:
            name, value = str(item.get("name", "")), str(item.get("value", ""))
            if name:
                value = self.book.param(name, value)
                params[name] = (params[name] if isinstance(params[name], list) else [params[name]]) + [value] if name in params else value
        if params:
            out["params"] = params
        headers: dict[str, str] = {}
        for item in request.get("headers") or []:
            name, value = str(item.get("name", "")), str(item.get("value", ""))
            if not name or _NOISE.match(name) or name.lower() == "content-type" and request.get("postData"):
                continue
            header = self.book.header(name, value)
            if name.lower() == "authorization" and header.lower().startswith("bearer {{"):
                out["auth"] = {"bearer": header.split(" ", 1)[1]}
                continue
            headers[name] = header
        if headers:
            out["headers"] = headers
        self.body(request.get("postData"), out, notes)
        response = entry.get("response") or {}
        status = response.get("status")
        if isinstance(status, int) and 100 <= status <= 599:
            out["expect"] = {"status": status}
            self.example(response, out, notes)
        if notes:
            self.notes[index] = notes
        return out

    def body(self, post: Any, out: dict[str, Any], notes: list[str]) -> None:
        if not isinstance(post, dict):
            return
        mime = str(post.get("mimeType") or "").split(";")[0].strip().lower()
        text = post.get("text")
        if isinstance(text, str) and str(post.get("encoding", "")).lower() == "base64":  # some tools write binary bodies so
            try:
                text = base64.b64decode(text, validate=True).decode("utf-8")
            except ValueError:
                notes.append("the request body (base64, not UTF-8 text) was left out: runner sends text bodies")
                return
        if isinstance(text, str) and len(text) > MAX_BODY:
            notes.append(f"the request body ({len(text)} characters) was left out: over {MAX_BODY} characters")
            return
        if mime == "application/json" or mime.endswith("+json"):
            try:
                out["json"] = self.book.data(json.loads(text or ""))
                return
            except ValueError:
                pass
        if mime == "application/x-www-form-urlencoded" and post.get("params"):
            out["form"] = {str(p.get("name")): self.book.param(str(p.get("name")), str(p.get("value", ""))) for p in post["params"] if p.get("name")}
            return
        if mime.startswith("multipart/") and post.get("params"):
            fields = {}
            for p in post["params"]:
                if p.get("fileName"):
                    notes.append(f"multipart file field {p.get('name')!r} ({p.get('fileName')}) is not converted: the HAR does not hold the file")
                elif p.get("name"):
                    fields[str(p["name"])] = self.book.param(str(p["name"]), str(p.get("value", "")))
            if fields:
                out["multipart"] = fields
            return
        if isinstance(text, str) and text:
            out["body"] = self.book.body_text(text)
            out.setdefault("headers", {})["Content-Type"] = str(post.get("mimeType") or "text/plain")

    def example(self, response: dict[str, Any], out: dict[str, Any], notes: list[str]) -> None:
        content = response.get("content") or {}
        example: dict[str, Any] = {"status": response["status"]}
        mime = str(content.get("mimeType") or "")
        text = content.get("text")
        if mime:
            example["headers"] = {"content-type": mime}
        if isinstance(text, str) and text and content.get("encoding") != "base64":
            if len(text) > MAX_BODY:
                notes.append(f"the response body ({len(text)} characters) is not kept as an example")
            else:
                try:
                    example["json"] = self.book.data(json.loads(text)) if "json" in mime else _not_json()
                except ValueError:
                    example["body"] = self.book.text(text)
        out["example"] = example


def _not_json() -> Any:
    raise ValueError


def import_har(path: Path, out: str | None, include_all: bool, force: bool) -> list[str]:
    """Convert the HAR's requests in order; write the collection to ``out`` (stdout when None)."""
    if out and out != "-":
        from .writer import check_writable

        check_writable(Path(out), force)
    converter = _Converter()
    requests: list[dict[str, Any]] = []
    seen = 0
    for entry in _entries(path):
        seen += 1
        if not isinstance(entry, dict):
            continue
        if not include_all and _is_static(entry):
            converter.skipped += 1
            continue
        try:
            request = converter.request(entry, len(requests))
        except (TypeError, AttributeError, ValueError, KeyError):  # a malformed entry of a foreign file: the others still count
            converter.malformed += 1
            continue
        if request is not None:
            requests.append(request)
    if not seen:
        raise InputError(f"{path} has no requests under log.entries: is it a HAR file (a browser's 'Save all as HAR')?")
    if not requests:
        raise InputError(f"{path}: every one of its {seen} requests is a static asset or not HTTP; pass --all to keep static assets")
    name = Path(out).stem if out and out != "-" else path.stem
    collection: dict[str, Any] = {"name": name, "vars": {"base_url": converter.origin}, "base_url": "{{ base_url }}", "requests": requests}
    header = [f"Imported from {path.name} (HAR) by `runner import har`: {len(requests)} request(s) in the order the browser sent them."]
    if converter.malformed:
        header.append(f"warning: {converter.malformed} entr(y/ies) of the HAR were malformed and left out.")
    if converter.skipped:
        header.append(f"{converter.skipped} static asset(s) (images, fonts, CSS, JavaScript, media) left out; --all keeps them.")
    if converter.book.vars:
        header.append("Secrets are read from the environment; before running:")
        header.extend(f"  {note}" for note in converter.book.notes())
    emit(format_collection(Imported(converter.book.apply(collection), header, converter.notes)), out, force)
    summary = f"{len(requests)} request(s) imported, {converter.skipped} static asset(s) left out" + (f", wrote {out}" if out and out != "-" else "")
    warnings = [f"warning: {converter.malformed} malformed entr(y/ies) left out"] if converter.malformed else []
    return [*warnings, summary, *converter.book.notes()]
