"""Credentials found while importing: each becomes a variable read from an environment variable.

Every importer hands the values it writes through a ``SecretBook``.  A header, query
parameter, cookie, basic-auth password or body field that looks like a credential is
replaced by ``{{ NAME }}``; the collection gets ``vars: {NAME: "{{ env.ENV_NAME }}"}``
and ``secrets: [NAME]``, and the user a note: "export ENV_NAME=...".  The same value
seen twice becomes the same variable.
"""

from __future__ import annotations

import re
from typing import Any

# Header names that carry a credential whatever their value (lower case).
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "apikey", "x-auth-token",
        "x-access-token", "x-csrf-token", "x-xsrf-token", "x-amz-security-token", "x-goog-api-key", "ocp-apim-subscription-key",
    }
)
# A header, parameter or body field whose name says it holds a credential.
_SECRET_NAME = re.compile(
    r"(?:^|[-_.])(?:api[-_]?key|apikey|key|token|access[-_]?token|refresh[-_]?token|id[-_]?token|auth|secret|client[-_]?secret|"
    r"password|passwd|pwd|passphrase|session(?:[-_]?id)?|sid|signature|sig|credential|credentials|private[-_]?key)$",
    re.IGNORECASE,
)
# Values that are credentials wherever they appear (well-known token shapes).
_SECRET_VALUE = re.compile(
    r"\b(?:sk|pk|rk)[-_](?:live[-_]|test[-_]|proj[-_])?[A-Za-z0-9_-]{16,}"  # OpenAI, Mistral-style, Stripe
    r"|\b(?:ghp|gho|ghs|ghu|ghr|github_pat)_[A-Za-z0-9_]{20,}"  # GitHub
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bAIza[0-9A-Za-z_-]{30,}"  # Google API key
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # a JWT
    r"|\bglpat-[A-Za-z0-9_-]{20,}"  # GitLab
)
# A credential's field inside a text body: JSON ``"password": "v"``, XML ``<password>v</password>``, a form ``password=v``.
_JSON_FIELD = re.compile(r'"(?P<key>[\w.-]{1,64})"\s*:\s*"(?P<value>(?:\\.|[^"\\])*)"')
_XML_FIELD = re.compile(r"<(?P<key>[\w.-]{1,64})(?:\s[^<>]*)?>(?P<value>[^<]*)</(?P=key)>")
_FORM_FIELD = re.compile(r"(?:^|(?<=&))(?P<key>[\w.\[\]-]{1,64})=(?P<value>[^&\s]*)")
_ENV_REF = re.compile(r"^\{\{\s*env\.(\w+)\s*\}\}$")
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
MIN_SECRET = 4  # a field value shorter than this is no credential ("t", "on"): left as it is
_SCHEMES = ("bearer", "basic", "token", "digest", "apikey", "api-key", "key")


_CREDENTIAL_WORD = re.compile(r"password|passwd|pwd|token|secret|api[-_]?key|apikey|authorization|credential|session|cookie", re.IGNORECASE)
_STRING_LITERAL = re.compile(r"""(["'`])((?:\\.|(?!\1)[^\\\n])*)\1""")
_SCHEME_VALUE = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}")
_URL_PASSWORD = re.compile(r"(://[^/@\s:]+):[^/@\s]+@")


def mask_literals(text: str) -> str:
    """Free text for a comment or a warning (a kept script, an unconverted option): credentials shown as ``****``."""
    text = _SECRET_VALUE.sub("****", text)
    text = _SCHEME_VALUE.sub(lambda match: f"{match.group(1)} ****", text)
    text = _URL_PASSWORD.sub(r"\1:****@", text)
    out, last, before = [], 0, ""
    for match in _STRING_LITERAL.finditer(text):  # a string literal right after a credential's name is its value
        gap = text[last : match.start()]
        value = match.group(2)
        named = _CREDENTIAL_WORD.search(before + gap[-40:]) and len(gap) <= 40
        if named and len(value) >= MIN_SECRET and not _CREDENTIAL_WORD.fullmatch(value) and not is_credential_name(value):
            out.append(gap + match.group(1) + "****" + match.group(1))
        else:
            out.append(gap + match.group(0))
        before, last = value if not named else "", match.end()
    out.append(text[last:])
    return "".join(out)


def is_credential_name(name: str) -> bool:
    """Whether a header, parameter or field name says its value is a credential."""
    lowered = name.lower()
    return lowered in CREDENTIAL_HEADERS or bool(_SECRET_NAME.search(lowered))


def looks_secret(value: str) -> bool:
    """Whether a text holds a well-known token shape (``sk-...``, a JWT, a GitHub token, ...)."""
    return bool(_SECRET_VALUE.search(value))


def is_template(value: str) -> bool:
    """Whether a value is already wholly a template (nothing literal to hide)."""
    return bool(value) and not _TEMPLATE.sub("", value).strip()


def env_prefix(host: str) -> str:
    """An environment-variable prefix from a host name: ``api.mistral.ai`` -> ``MISTRAL``."""
    labels = [label for label in host.lower().split(".") if label and not label.isdigit()]
    if len(labels) >= 2:
        labels = labels[:-1]  # the top-level domain says nothing
    words = [label for label in labels if label not in ("api", "www", "localhost", "app", "rest", "gateway", "example")]
    word = words[-1] if words else ""
    return re.sub(r"[^A-Z0-9]+", "_", word.upper()).strip("_")


def _var_name(hint: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", hint.lower()).strip("_") or "secret"
    return name if not name[0].isdigit() else f"v_{name}"


class SecretBook:
    """The credentials one import found, and the variables that replace them."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.vars: dict[str, str] = {}  # variable -> "{{ env.ENV_NAME }}"
        self.env_names: dict[str, str] = {}  # variable -> ENV_NAME
        self._by_value: dict[str, str] = {}
        self.reserved: set[str] = set()  # the source's own variable names: a new secret variable must not shadow one

    def variable(self, hint: str, value: str) -> str:
        """The name of the secret variable holding ``value`` (made up from ``hint`` on first sight)."""
        if value in self._by_value:
            return self._by_value[value]
        env_ref = _ENV_REF.match(value.strip())
        base = _var_name(env_ref.group(1) if env_ref else hint)
        name, number = base, 2
        while name in self.vars or name in self.reserved:
            name, number = f"{base}_{number}", number + 1
        if env_ref:  # already read from the environment in the source (a curl line's $MISTRAL_API_KEY)
            env_name = env_ref.group(1)
        else:
            env_name = f"{self.prefix}_{name}".upper() if self.prefix else name.upper()
            taken = set(self.env_names.values())
            while env_name in taken:
                env_name += "_2"
        self.vars[name] = f"{{{{ env.{env_name} }}}}"
        self.env_names[name] = env_name
        self._by_value[value] = name
        return name

    def hide(self, hint: str, value: str) -> str:
        """``value`` as a template reading a secret variable; templates and empty values stay as they are."""
        if not value or (is_template(value) and not _ENV_REF.match(value.strip())):
            return value
        return f"{{{{ {self.variable(hint, value)} }}}}"

    def header(self, name: str, value: str) -> str:
        """A header value with any credential in it replaced (the scheme word of ``Authorization`` kept)."""
        lowered = name.lower()
        if lowered in ("cookie", "set-cookie"):
            return self.cookies(value)
        if lowered in ("authorization", "proxy-authorization"):
            scheme, sep, rest = value.partition(" ")
            if sep and scheme.lower() in _SCHEMES and rest.strip():
                return f"{scheme} {self.hide('token' if scheme.lower() != 'basic' else 'basic_credentials', rest.strip())}"
            return self.hide("authorization", value)
        if is_credential_name(lowered):
            return self.hide(_hint_from_name(lowered), value)
        return self.text(value)

    def param(self, name: str, value: str) -> str:
        """A query or form value, hidden when its name or shape says it is a credential."""
        if is_credential_name(name):
            return self.hide(_hint_from_name(name), value)
        return self.text(value)

    def cookies(self, value: str) -> str:
        """A ``Cookie`` header: each cookie's value becomes a secret variable named after the cookie."""
        parts = []
        for item in value.split(";"):
            cookie_name, sep, cookie_value = item.strip().partition("=")
            if not sep:
                parts.append(item.strip())
                continue
            parts.append(f"{cookie_name}={self.hide(f'cookie_{cookie_name}', cookie_value)}")
        return "; ".join(part for part in parts if part)

    def text(self, value: str) -> str:
        """Free text with every well-known token shape in it replaced by a secret variable."""
        if not isinstance(value, str) or not looks_secret(value):
            return value
        return _SECRET_VALUE.sub(lambda match: f"{{{{ {self.variable('api_key', match.group(0))} }}}}", value)

    def body_text(self, text: str) -> str:
        """A text body (JSON that does not parse, XML, a form) with credential fields and token shapes replaced."""

        def field(match: re.Match[str]) -> str:
            key, value = match.group("key"), match.group("value")
            if not is_credential_name(key) or _harmless_field(key) or len(value) < MIN_SECRET or is_template(value):
                return match.group(0)
            return match.group(0)[: match.start("value") - match.start()] + self.hide(_hint_from_name(key), value) + match.group(0)[match.end("value") - match.start() :]

        text = _JSON_FIELD.sub(field, text)
        text = _XML_FIELD.sub(field, text)
        if "\n" not in text.strip() and not text.lstrip().startswith(("{", "[", "<")):
            text = _FORM_FIELD.sub(field, text)
        return self.text(text)

    def data(self, value: Any, key: str = "") -> Any:
        """A JSON-like body with credential fields and token-shaped strings replaced."""
        if isinstance(value, dict):
            return {k: self.data(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(item, key) for item in value]
        if isinstance(value, str):
            if key and is_credential_name(key) and not _harmless_field(key) and len(value) >= MIN_SECRET:
                return self.hide(_hint_from_name(key), value)
            return self.text(value)
        return value

    def notes(self) -> list[str]:
        """One line per secret variable: which environment variable to export."""
        return [f"export {self.env_names[name]}=...   # secret variable {name!r}" for name in self.vars]

    def apply(self, collection: dict[str, Any]) -> dict[str, Any]:
        """The collection with the secret variables added to ``vars`` and ``secrets``."""
        if not self.vars:
            return collection
        out = {key: collection[key] for key in ("name", "description") if key in collection}
        out["vars"] = {**collection.get("vars", {}), **self.vars}
        out["secrets"] = sorted(set(collection.get("secrets", [])) | set(self.vars))
        out.update((key, value) for key, value in collection.items() if key not in out)
        return out


def _hint_from_name(name: str) -> str:
    lowered = name.lower().removeprefix("x-")
    if lowered in ("authorization", "proxy-authorization"):
        return "token"
    return lowered or "secret"


def _harmless_field(key: str) -> bool:
    """Body fields named like credentials that are not (``max_tokens``, ``token_type``)."""
    return key.lower() in ("max_tokens", "token_type", "tokens", "key_type", "auth_type", "max_completion_tokens")
