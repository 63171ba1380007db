"""What a rendered request sends, as the generated commands need it: the URL httpx builds, the body bytes."""

from __future__ import annotations

from urllib.parse import urlencode

from ..render import RenderedRequest

FORM_TYPE = "application/x-www-form-urlencoded"  # what httpx sends a form as


def sent_url(request: RenderedRequest) -> str:
    """The URL as httpx sends it (its encoding, ``params`` after the URL's own query); as written when httpx refuses it."""
    import httpx

    if "<captured:" in request.url:  # runner show: a value only a real run has; httpx would percent-encode the marker
        return request.full_url()
    try:
        url = httpx.URL(request.url)
        if request.params:
            url = url.copy_with(params=httpx.QueryParams([*url.params.multi_items(), *request.params]))
    except (httpx.InvalidURL, TypeError, ValueError):
        return request.full_url()
    return str(url)


def body_bytes(request: RenderedRequest) -> bytes | None:
    """The body of a request that is not multipart: raw or JSON content, or the form url-encoded as httpx does it."""
    if request.content is not None:
        return request.content
    if request.form:
        return urlencode(request.form).encode("ascii")
    return None


def has_header(request: RenderedRequest, name: str) -> bool:
    """Whether the request sets header ``name`` (any case)."""
    return request.header(name) is not None
