"""``runner import curl``: curl command lines -> one collection that sends what curl sends.

The options are read as curl reads them (``curl.1``): a body from ``-d`` pieces joined
with ``&``, ``--data-urlencode`` encoded as curl encodes, ``-G`` moving the data into the
query, ``--json`` adding its two headers.  A JSON body becomes ``json:``, a form body
``form:`` when httpx encodes it to the same bytes (else it stays ``body:``), ``-F`` becomes
``multipart:``.  Options that change nothing on the wire (``-s``, ``-o``, ``-v``...) are
listed as ignored; any other option is listed in a warning, never dropped silently.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, quote_plus, unquote, urlencode, urlsplit

from ..errors import InputError
from .secrets import SecretBook, env_prefix, is_credential_name, mask_literals
from .shell import Command, split_commands
from .writer import Imported, unique_name

# option -> (canonical name, takes a value)
_OPTIONS: dict[str, tuple[str, bool]] = {}


def _define(names: str, canonical: str, value: bool) -> None:
    for name in names.split():
        _OPTIONS[name] = (canonical, value)


_define("-X --request", "request", True)
_define("-H --header", "header", True)
_define("-d --data --data-ascii", "data", True)
_define("--data-raw", "data-raw", True)
_define("--data-binary", "data-binary", True)
_define("--data-urlencode", "data-urlencode", True)
_define("--json", "json", True)
_define("-F --form", "form", True)
_define("--form-string", "form-string", True)
_define("-u --user", "user", True)
_define("--oauth2-bearer", "oauth2-bearer", True)
_define("-G --get", "get", False)
_define("--url-query", "url-query", True)
_define("-b --cookie", "cookie", True)
_define("-A --user-agent", "user-agent", True)
_define("-e --referer", "referer", True)
_define("-k --insecure", "insecure", False)
_define("-L --location", "location", False)
_define("--compressed", "compressed", False)
_define("-m --max-time", "max-time", True)
_define("--connect-timeout", "connect-timeout", True)
_define("--url", "url", True)
_define("-I --head", "head", False)
_define("--max-redirs", "max-redirs", True)
_define("--retry", "retry", True)
_define("--basic", "basic", False)
# Output and display only: nothing changes on the wire.
_IGNORED_FLAGS = "-s --silent -S --show-error -v --verbose -i --include -f --fail --fail-with-body -g --globoff -N --no-buffer -# --progress-bar --no-progress-meter -O --remote-name -J --remote-header-name --styled-output --no-styled-output -q --disable -Z --parallel --create-dirs"
_IGNORED_VALUES = "-o --output -w --write-out -D --dump-header --stderr --trace --trace-ascii -c --cookie-jar --retry-delay --retry-max-time --limit-rate -Y --speed-limit -y --speed-time"
_define(_IGNORED_FLAGS, "ignored", False)
_define(_IGNORED_VALUES, "ignored", True)
# Unknown options that take a value (so the value is not read as the URL).
_UNKNOWN_WITH_VALUE = set(
    "-x --proxy -U --proxy-user --cacert --capath -E --cert --key --cert-type --key-type --pass -T --upload-file --resolve "
    "--connect-to -r --range --interface -K --config --proto --proto-redir --ciphers --tls-max --netrc-file --aws-sigv4 "
    "-z --time-cond --local-port --dns-servers --happy-eyeballs-timeout-ms --expect100-timeout --keepalive-time "
    "--unix-socket --abstract-unix-socket --variable --expand-url --expand-header --expand-data --oauth2-bearer-file "
    "--delegation --hostpubmd5 --krb --login-options --mail-from --mail-rcpt --noproxy --preproxy --proxy-header "
    "-Q --quote --request-target --sasl-authzid --service-name --socks4 --socks5 --socks5-hostname -t --telnet-option "
    "--tlsuser --tlspassword --trace-config".split()
)


# Unknown options whose value is a credential: a warning shows only the option.
_CREDENTIAL_OPTIONS = {"-U", "--proxy-user", "--pass", "--tlspassword", "--tlsuser", "--aws-sigv4", "--proxy-pass", "--sasl-authzid", "--login-options", "-E", "--cert", "--key"}


@dataclass
class CurlRequest:
    """The options of one curl command that shape its request."""

    urls: list[str] = field(default_factory=list)
    method: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    data: list[tuple[str, str]] = field(default_factory=list)  # (kind, argument) in order
    form: list[tuple[str, str]] = field(default_factory=list)  # (kind, argument)
    url_query: list[str] = field(default_factory=list)
    user: str | None = None
    bearer: str | None = None
    cookies: list[str] = field(default_factory=list)
    get: bool = False
    head: bool = False
    insecure: bool = False
    location: bool = False
    timeout: float | None = None
    connect_timeout: float | None = None
    max_redirs: int | None = None
    retry: int | None = None
    ignored: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def parse_curl(words: list[str], where: str) -> CurlRequest:
    """The options of one curl command (``words[0]`` is ``curl``)."""
    if not words or os.path.basename(words[0]) not in ("curl", "curl.exe"):
        shown = words[0] if words else ""
        raise InputError(f"{where}: expected a curl command, found {shown!r}", None)
    spec = CurlRequest()
    args = iter(words[1:])
    for word in args:
        if word == "--":
            spec.urls.extend(args)
            break
        if not word.startswith("-") or word == "-":
            spec.urls.append(word)
            continue
        for option, value in _expand(word, args, where):
            _apply(spec, option, value, where)
    if not spec.urls:
        raise InputError(f"{where}: the curl command has no URL")
    return spec


def _expand(word: str, args: Any, where: str) -> list[tuple[str, str | None]]:
    """``-sSL`` -> three flags; ``-XPOST`` -> ``-X POST``; ``--data=x`` -> ``--data x``."""
    def take(option: str) -> str:
        try:
            return next(args)
        except StopIteration:
            raise InputError(f"{where}: option {option} needs a value") from None

    if word.startswith("--"):  # curl's long options take their value as the next word, never "--opt=value"
        known = _OPTIONS.get(word)
        if (known and known[1]) or (not known and word in _UNKNOWN_WITH_VALUE):
            return [(word, take(word))]
        return [(word, None)]
    out: list[tuple[str, str | None]] = []
    letters = word[1:]
    for index, letter in enumerate(letters):
        option = f"-{letter}"
        known = _OPTIONS.get(option)
        takes_value = (known and known[1]) or option in _UNKNOWN_WITH_VALUE
        if takes_value:
            rest = letters[index + 1 :]
            out.append((option, rest if rest else take(option)))
            return out
        out.append((option, None))
    return out


def _apply(spec: CurlRequest, option: str, value: str | None, where: str) -> None:
    canonical = _OPTIONS.get(option, ("unknown", False))[0]
    text = value or ""
    if canonical == "request":
        spec.method = text
    elif canonical == "header":
        if text.startswith("@"):
            spec.unknown.append(f"{option} {text} (headers from a file)")
            return
        name, sep, header_value = text.partition(":")
        if sep:
            if header_value.strip():
                spec.headers.append((name.strip(), header_value.strip()))
            else:
                spec.ignored.append(f"{option} {text!r} (removes a header curl adds)")
        elif text.endswith(";"):
            spec.headers.append((text[:-1].strip(), ""))
        else:
            raise InputError(f"{where}: header {text!r} has no ':' (expected 'Name: value')")
    elif canonical in ("data", "data-raw", "data-binary", "data-urlencode", "json"):
        spec.data.append((canonical, text))
    elif canonical in ("form", "form-string"):
        spec.form.append((canonical, text))
    elif canonical == "url-query":
        spec.url_query.append(text)
    elif canonical == "user":
        spec.user = text
    elif canonical == "oauth2-bearer":
        spec.bearer = text
    elif canonical == "cookie":
        if "=" in text:
            spec.cookies.append(text)
        else:
            spec.unknown.append(f"{option} {text} (cookies from a file)")
    elif canonical == "user-agent":
        spec.headers.append(("User-Agent", text))
    elif canonical == "referer":
        referer = text.removesuffix(";auto")
        if referer and referer != ";auto":
            spec.headers.append(("Referer", referer))
    elif canonical in ("max-time", "connect-timeout", "max-redirs", "retry"):
        try:
            number = float(text)
        except ValueError:
            raise InputError(f"{where}: {option} needs a number, got {text!r}") from None
        if canonical == "max-time":
            spec.timeout = number
        elif canonical == "connect-timeout":
            spec.connect_timeout = number
        elif canonical == "max-redirs":
            spec.max_redirs = int(number)
        else:
            spec.retry = int(number)
    elif canonical == "url":
        spec.urls.append(text)
    elif canonical in ("get", "head", "insecure", "location"):
        setattr(spec, canonical, True)
    elif canonical in ("compressed", "basic"):
        pass  # httpx asks for compressed bodies and decodes them by itself; --basic is the default
    elif canonical == "ignored":
        spec.ignored.append(option if value is None else f"{option} {mask_literals(value)}")
    else:
        shown = "****" if option in _CREDENTIAL_OPTIONS else mask_literals(text)
        spec.unknown.append(option if value is None else f"{option} {shown}")


def _read_file(name: str, base: Path, where: str) -> bytes:
    if name == "-":
        raise InputError(f"{where}: a body read from stdin (@-) cannot be imported: save it to a file and use @FILE")
    path = base / name
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{where}: cannot read {name} (named by @{name}): {exc.strerror or exc}") from None


def _escape_body(text: str) -> str:
    """curl's ``--data-urlencode``: a space as ``+``, everything but ``A-Za-z0-9-._~`` as ``%XX``."""
    return quote_plus(text, safe="")


def _escape_query(text: str) -> str:
    """curl's ``--url-query`` (its URL API): as ``--data-urlencode``, with lower-case hex digits."""
    return re.sub(r"%[0-9A-F]{2}", lambda match: match.group(0).lower(), _escape_body(text))


def _urlencode_piece(argument: str, base: Path, where: str, escape: Callable[[str], str] | None = None) -> str:
    """One ``--data-urlencode`` (or ``--url-query``) argument as curl encodes it."""
    _escape = escape or _escape_body
    if argument.startswith("="):
        return _escape(argument[1:])
    name, eq, content = argument.partition("=")
    if eq and "@" not in name:
        return f"{name}={_escape(content)}"
    name, at, path = argument.partition("@")
    if at:
        content = _read_file(path, base, where).decode("utf-8", "replace")
        return f"{name}={_escape(content)}" if name else _escape(content)
    return _escape(argument)


def _body_text(spec: CurlRequest, base: Path, where: str) -> str:
    pieces: list[str] = []
    for kind, argument in spec.data:
        if kind == "data-urlencode":
            piece = _urlencode_piece(argument, base, where)
        elif kind != "data-raw" and argument.startswith("@"):
            raw = _read_file(argument[1:], base, where)
            if kind == "data":  # -d @file strips carriage returns and newlines
                raw = raw.replace(b"\r", b"").replace(b"\n", b"")
            try:
                piece = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(f"{where}: {argument[1:]} is not UTF-8 text; a collection body is text (use -F name=@FILE to upload a binary file)") from None
        else:
            piece = argument
        pieces.append(piece)
    joiner = "" if all(kind == "json" for kind, _ in spec.data) else "&"
    return joiner.join(pieces)


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


@dataclass
class _Context:
    base: Path  # where @file paths are read from
    out_dir: Path  # where the collection is written (multipart file paths are relative to it)
    where: str
    notes: list[str] = field(default_factory=list)  # what could not be converted (shown as warnings)


def build_request(spec: CurlRequest, book: SecretBook, ctx: _Context) -> tuple[dict[str, Any], str]:
    """The runner request for one parsed curl command, and its URL's origin."""
    url = spec.urls[0]
    if "://" not in url.split("?")[0]:
        url = "http://" + url  # curl's default scheme
    userinfo = re.match(r"^(\w+://)([^/@?#]*)@", url)
    if userinfo:  # https://user:pass@host/: curl sends it as basic auth, and so will the collection
        url = userinfo.group(1) + url[userinfo.end() :]
        if spec.user is None and spec.bearer is None:
            spec.user = unquote(userinfo.group(2).split(":", 1)[0]) + (":" + unquote(userinfo.group(2).split(":", 1)[1]) if ":" in userinfo.group(2) else "")
    headers = list(spec.headers)
    request: dict[str, Any] = {}
    body: dict[str, Any] = {}
    has_data = bool(spec.data)
    if spec.data and any(kind == "json" for kind, _ in spec.data):
        if _header(headers, "content-type") is None:
            headers.append(("Content-Type", "application/json"))
        if _header(headers, "accept") is None:
            headers.append(("Accept", "application/json"))
    queries = [_urlencode_piece(item, ctx.base, ctx.where, _escape_query) if not item.startswith("+") else item[1:] for item in spec.url_query]
    if spec.get and has_data:
        queries.append(_body_text(spec, ctx.base, ctx.where))
    elif has_data:
        text = _body_text(spec, ctx.base, ctx.where)
        content_type = _header(headers, "content-type")
        if content_type is None:
            content_type = "application/x-www-form-urlencoded"
            headers.append(("Content-Type", content_type))
        body = _body(text, content_type, headers, book)
    if spec.form:
        if has_data:
            raise InputError(f"{ctx.where}: -F (multipart) and -d (a body) cannot be used together, as curl says")
        body = {"multipart": _multipart(spec.form, ctx, book)}
    url = url.split("#")[0]  # curl sends no fragment
    for query in queries:
        if query:
            url += ("&" if "?" in url else "?") + query
    url = _hide_query_secrets(url, book)
    method = spec.method or ("HEAD" if spec.head else "POST" if (body or spec.form or (has_data and not spec.get)) else "GET")
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    request["method"] = method.upper() if method.lower() in _COMMON else method
    request["url"] = url
    auth = _auth(spec, headers, book)
    if auth:
        request["auth"] = auth
    if spec.cookies:
        headers.append(("Cookie", "; ".join(spec.cookies)))
    if headers:
        request["headers"] = _headers_map(headers, book)
    request.update(body)
    if spec.timeout is not None or spec.connect_timeout is not None:
        request["timeout"] = spec.timeout if spec.timeout is not None else spec.connect_timeout
    if spec.location:
        request["follow_redirects"] = True
    if spec.max_redirs is not None and spec.max_redirs >= 0:
        request["max_redirects"] = spec.max_redirs
    if spec.retry:
        request["retries"] = spec.retry
    return request, origin


_COMMON = {"get", "post", "put", "patch", "delete", "head", "options"}


def _headers_map(headers: list[tuple[str, str]], book: SecretBook) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in headers:
        value = book.header(name, value)
        existing = next((key for key in out if key.lower() == name.lower()), None)
        if existing is None:
            out[name] = value
        else:  # curl sends a repeated header twice; the closest runner form joins them
            out[existing] = f"{out[existing]}, {value}"
    return out


def _auth(spec: CurlRequest, headers: list[tuple[str, str]], book: SecretBook) -> dict[str, Any] | None:
    if spec.bearer is not None:
        return {"bearer": book.hide("token", spec.bearer)}
    if spec.user is not None:
        username, sep, password = spec.user.partition(":")
        if not sep:  # curl would prompt for the password: read it from the environment instead
            password = f"\0prompt {username}"
        # `-u sk_test_...:` (Stripe and others): the key is the username and the password is empty
        secret_password = f"{{{{ {book.variable('password', password)} }}}}" if password else ""
        return {"basic": {"username": book.text(username) if password else book.hide("api_key", username), "password": secret_password}}
    for index, (name, value) in enumerate(headers):
        scheme, _, token = value.partition(" ")
        if name.lower() == "authorization" and scheme.lower() == "bearer" and token.strip():
            del headers[index]
            return {"bearer": book.hide("token", token.strip())}
    return None


def _body(text: str, content_type: str, headers: list[tuple[str, str]], book: SecretBook) -> dict[str, Any]:
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            value = json.loads(text)
        except ValueError:
            pass
        else:
            if media == "application/json" and content_type.strip().lower() == "application/json":
                headers[:] = [(k, v) for k, v in headers if k.lower() != "content-type"]
            return {"json": book.data(value)}
    if media == "application/x-www-form-urlencoded":
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs and urlencode(pairs) == text:  # httpx sends the same bytes: a readable form
            headers[:] = [(k, v) for k, v in headers if k.lower() != "content-type"]
            form: dict[str, Any] = {}
            for name, value in pairs:
                value = book.param(name, value)
                if name in form:
                    form[name] = (form[name] if isinstance(form[name], list) else [form[name]]) + [value]
                else:
                    form[name] = value
            return {"form": form}
        if text and "=" in text:
            return {"body": _hide_pairs(text, book)}
    return {"body": book.body_text(text)}


def _hide_pairs(text: str, book: SecretBook) -> str:
    """``a=1&password=x`` with the credential values templated, every other byte kept."""
    parts = []
    for item in text.split("&"):
        name, eq, value = item.partition("=")
        if eq and value and is_credential_name(unquote(name)):
            value = book.hide(unquote(name), unquote(value))
        else:
            value = book.text(value)
        parts.append(f"{name}{eq}{value}")
    return "&".join(parts)


def _hide_query_secrets(url: str, book: SecretBook) -> str:
    head, sep, query = url.partition("?")
    head = book.text(head)
    if not sep:
        return head
    query, hash_sep, fragment = query.partition("#")
    return f"{head}?{_hide_pairs(query, book)}{hash_sep}{fragment}"


def _multipart(items: list[tuple[str, str]], ctx: _Context, book: SecretBook) -> dict[str, Any]:
    from .curl_form import FormSyntaxError, parse_form

    fields: dict[str, Any] = {}
    for kind, argument in items:
        try:
            part = parse_form(argument, literal=kind == "form-string")
        except FormSyntaxError as exc:
            raise InputError(f"{ctx.where}: -F {mask_literals(argument)!r}: {mask_literals(str(exc))}") from None
        name = part.name
        if part.filename is not None:  # a file name may be a token too (-F 'x=...;filename=sk-...'): never written in clear
            part.filename = book.text(part.filename)
        if part.ignored:
            ctx.notes.append(f"-F {name}: not converted (no runner equivalent): {'; '.join(part.ignored)}")
        value: Any
        if part.source == "file":
            value = {"file": _relative_file(part.content, ctx)}
            if part.filename is not None:
                value["filename"] = part.filename
            if part.content_type is not None:
                value["content_type"] = part.content_type
        else:
            text = _read_file(part.content, ctx.base, ctx.where).decode("utf-8", "replace") if part.source == "read" else part.content
            value = book.param(name, text)
            if part.content_type is not None or part.filename is not None:  # a text part with its own headers
                value = {"value": value, **({"filename": part.filename} if part.filename is not None else {}), **({"content_type": part.content_type} if part.content_type is not None else {})}
        if name in fields and not isinstance(value, dict) and not isinstance(fields[name], dict):
            previous = fields[name]
            fields[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            fields[name] = value
    return fields


def _relative_file(path: str, ctx: _Context) -> str:
    full = (ctx.base / path).resolve()
    if not full.is_file():
        raise InputError(f"{ctx.where}: -F names the file {path}, which does not exist")
    return Path(os.path.relpath(full, ctx.out_dir.resolve())).as_posix()


def import_curl(text: str, source: str, out_path: Path | None, base: Path | None = None) -> tuple[Imported, list[str]]:
    """Every curl command in ``text`` -> one collection, and the warnings to show."""
    commands: list[Command] = split_commands(text, source)
    if not commands:
        raise InputError(f"{source}: no curl command found")
    base = base or Path.cwd()
    out_dir = out_path.parent if out_path else Path.cwd()
    parsed: list[tuple[CurlRequest, str]] = []
    for command in commands:
        where = f"{source}, line {command.line}" if len(commands) > 1 or command.line > 1 else source
        parsed.append((parse_curl(command.words, where), where))
    first_host = urlsplit(_with_scheme(parsed[0][0].urls[0])).hostname or ""
    book = SecretBook(env_prefix(first_host))
    requests: list[dict[str, Any]] = []
    warnings: list[str] = []
    ignored: list[str] = []
    insecure = False
    origins: list[str] = []
    taken: set[str] = set()
    for spec, where in parsed:
        ctx = _Context(base, out_dir, where)
        for url in spec.urls:  # curl sends the same options to every URL it is given
            spec_one = CurlRequest(**{**spec.__dict__, "urls": [url]})
            book.prefix = env_prefix(urlsplit(_with_scheme(url)).hostname or "")  # a GitHub token is GITHUB_..., even after a Stripe call
            request, origin = build_request(spec_one, book, ctx)
            warnings.extend(f"{where}: {note}" for note in ctx.notes if f"{where}: {note}" not in warnings)
            origins.append(origin)
            requests.append(request)
        insecure = insecure or spec.insecure
        if spec.unknown:
            warnings.append(f"{where}: not converted (no runner equivalent): {', '.join(spec.unknown)}")
        ignored.extend(item for item in spec.ignored if item not in ignored)
    base_origin = origins[0]
    for request, origin in zip(requests, origins):
        full = request["url"]
        if origin == base_origin:
            request["url"] = full[len(origin):] or "/"
        request["name"] = unique_name(f"{request['method']} {urlsplit(full).path or '/'}", taken)
    ordered = [{"name": r.pop("name"), **r} for r in requests]
    collection: dict[str, Any] = {"name": out_path.stem if out_path else "curl import", "vars": {"base_url": base_origin}, "base_url": "{{ base_url }}"}
    if insecure:
        collection["verify"] = False
    collection["requests"] = ordered
    header = [f"Imported from {source} by `runner import curl`."]
    if ignored:
        header.append(f"Ignored (they change only curl's output, not the request): {' '.join(ignored)}")
    header.extend(f"warning: {warning}" for warning in warnings)
    if book.vars:
        header.append("Secrets are read from the environment; before running:")
        header.extend(f"  {note}" for note in book.notes())
    return Imported(book.apply(collection), header), warnings + [note for note in book.notes()]


def _with_scheme(url: str) -> str:
    return url if "://" in url.split("?")[0] else "http://" + url
