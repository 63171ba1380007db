"""The redactor masks every secret, in every form it takes."""

from __future__ import annotations

import base64
import json

import pytest

from runner.redact import Redactor


def test_masks_inside_longer_text_and_urls() -> None:
    redactor = Redactor()
    redactor.add("s3cr3t/key+1")
    assert redactor.mask("x s3cr3t/key+1 y") == "x **** y"
    assert redactor.mask("https://h/?k=s3cr3t%2Fkey%2B1") == "https://h/?k=****"
    assert redactor.mask("https://h/?k=s3cr3t%2Fkey%2B1&a=1") == "https://h/?k=****&a=1"


def test_longest_secret_first() -> None:
    redactor = Redactor()
    redactor.add("abc")
    redactor.add("abcdef")
    assert redactor.mask("abcdef") == "****"


def test_basic_auth_encoded_form() -> None:
    redactor = Redactor()
    redactor.add_basic("user", "pa55word")
    encoded = base64.b64encode(b"user:pa55word").decode()
    assert redactor.mask(f"Basic {encoded}") == "Basic ****"


def test_credential_headers_are_masked_whole() -> None:
    redactor = Redactor()
    masked = dict(redactor.mask_headers([("Authorization", "Bearer abc"), ("Cookie", "sid=1"), ("X-API-Key", "k"), ("Accept", "x")]))
    assert masked == {"Authorization": "Bearer ****", "Cookie": "****", "X-API-Key": "****", "Accept": "x"}


def test_mask_data_walks_structures_values_only() -> None:
    redactor = Redactor()
    redactor.add("token-123")
    data = {"a": ["token-123", 1], "b": {"c": "xtoken-123x"}, "token-123": "k", "kept": "token-123"}
    assert redactor.mask_data(data, frozenset({"kept"})) == {"a": ["****", 1], "b": {"c": "x****x"}, "token-123": "k", "kept": "token-123"}


@pytest.mark.parametrize(
    ("secret", "text", "masked"),
    [
        ("e", "connection refused: e", "connection refused: ****"),
        ("ed", '{"ed": "ed", "needed": 1}', '{"****": "****", "needed": 1}'),
        ("200", "status 200 in 0.2001 s", "status **** in 0.2001 s"),
        ("pass", "passed pass_word pass-word", "passed pass_word ****-word"),
    ],
    ids=["letter", "json", "digits", "word-chars"],
)
def test_a_short_secret_is_masked_only_where_it_stands_alone(secret: str, text: str, masked: str) -> None:
    redactor = Redactor()
    redactor.add(secret, "tok")
    assert redactor.mask(text) == masked
    assert redactor.warnings() == ["warning: secret 'tok' is shorter than 8 characters: it is masked only where it stands alone, not inside longer words (docs/security.md)"]


def test_a_long_secret_is_masked_in_upper_and_lower_case() -> None:
    redactor = Redactor()
    redactor.add("Sk-Mixed-Case-1")
    assert redactor.mask("X-SK-MIXED-CASE-1 sk-mixed-case-1 Sk-Mixed-Case-1") == "X-**** **** ****"


def test_every_member_of_a_secret_mapping_or_list_is_a_secret() -> None:
    redactor = Redactor()
    value = {"user": "alice-the-admin", "keys": ["first-key-0001", 12345678], "nested": {"deep": "deep-secret-42"}}
    redactor.add_value(value, "creds")
    text = f"alice-the-admin first-key-0001 12345678 deep-secret-42 {json.dumps(value)}"
    assert redactor.mask(text) == "**** **** **** **** ****"


@pytest.mark.parametrize(
    "text",
    ["error (sk-1234567...)", "multi-byte sk-12345\ufffd...", "first line sk-1234...\nsecond line", "middle sk-123... then more"],
    ids=["before-parenthesis", "mid-character", "line-end", "mid-text"],
)
def test_a_secret_cut_anywhere_in_a_text_is_masked(text: str) -> None:
    redactor = Redactor()
    redactor.add("sk-1234567890")
    masked = redactor.mask(text.replace("\\ufffd", "\ufffd").replace("\\n", "\n"))
    assert "sk-" not in masked and "****..." in masked


def test_nothing_to_mask_is_identity() -> None:
    assert Redactor().mask("abc") == "abc"


URL_SECRETS = {
    "space-slash-plus": "sk CANARY/+=&tok",
    "specials": "a\"<>`{}|\\^[]:@!$'()*,;~b",
    "percent-escape": "k%41y%zz",
    "non-ascii": "cl\u00e9 \u5bc6",
}


@pytest.mark.parametrize("secret", URL_SECRETS.values(), ids=URL_SECRETS.keys())
@pytest.mark.parametrize("place", ["path", "query"])
def test_a_secret_placed_raw_in_a_url_is_masked_as_httpx_encodes_it(secret: str, place: str) -> None:
    """The forms come from httpx itself: a URL built around the secret, as the runner sends it."""
    import httpx

    redactor = Redactor()
    redactor.add(secret)
    prefix = "http://h/a/" if place == "path" else "http://h/a?k="
    sent = str(httpx.URL(prefix + secret))
    assert sent != prefix + secret or secret == URL_SECRETS["percent-escape"]  # httpx did encode something
    assert redactor.mask(sent) == prefix + "****"
    assert redactor.mask(json.dumps({"echo": sent})) == json.dumps({"echo": prefix + "****"})  # echoed in JSON


def test_a_secret_through_the_urlencode_filter_is_masked() -> None:
    from runner.templating import Templates

    redactor = Redactor()
    redactor.add("sk CANARY/+=&tok")
    encoded = Templates().render("{{ tok | urlencode }}", {"tok": "sk CANARY/+=&tok"})
    assert redactor.mask(f"/a?k={encoded}") == "/a?k=****"


SET_COOKIES = {
    "one": ("sess=abc123; Path=/; HttpOnly", "sess=****; Path=/; HttpOnly"),
    "joined-by-httpx": ("a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT, b=2; Secure", "a=****; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT, b=****; Secure"),
    "no-attributes": ("a=1, b=2", "a=****"),
    "no-name": ("justavalue; Path=/", "****; Path=/"),
    "deleted": ("sess=; Max-Age=0", "sess=****; Max-Age=0"),
}


@pytest.mark.parametrize("header, masked", SET_COOKIES.values(), ids=SET_COOKIES.keys())
def test_set_cookie_values_are_masked_names_kept(header: str, masked: str) -> None:
    assert Redactor().mask_headers([("Set-Cookie", header)]) == [("Set-Cookie", masked)]


def test_a_cookie_is_masked_as_name_value_and_alone_when_long_enough() -> None:
    redactor = Redactor()
    redactor.add_cookie("consent", "1")
    redactor.add_cookie("sess", "s3ssion-token")
    assert redactor.mask("Cookie: consent=1; sess=s3ssion-token") == "Cookie: ****; ****"
    assert redactor.mask('{"token": "s3ssion-token", "count": 1}') == '{"token": "****", "count": 1}'  # a short value alone stays


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("body ends in sk-12345...", "body ends in ****..."),
        ("excerpt sk-1... (40 more characters)", "excerpt ****... (40 more characters)"),
        ("two chars sk...", "two chars sk..."),  # too short to tell: left as it is
        ("not cut sk-12345", "not cut sk-12345"),  # no cut mark: only whole secrets are masked
        ("whole sk-1234567890...", "whole ****..."),
    ],
    ids=["cut-mark", "excerpt-mark", "too-short", "no-cut", "whole-before-mark"],
)
def test_a_secret_cut_short_at_the_end_of_a_text_is_masked(text: str, masked: str) -> None:
    redactor = Redactor()
    redactor.add("sk-1234567890")
    assert redactor.mask(text) == masked


KEY = "sk-abcd1234efgh5678ijkl9012mnop"  # 31 characters: a part of 12 or more is masked too


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"Incorrect API key provided: {KEY[:12]}****{KEY[-4:]}", "Incorrect API key provided: ********mnop"),
        (f"key {KEY[:12]}...", "key ****..."),
        (f"suffix {KEY[-12:]}.", "suffix ****."),
        (f"middle {KEY[7:19]}!", "middle ****!"),
        (f"{KEY[:12]} then {KEY[12:]}", "**** then ****"),
        (f"the key, then its start: {KEY}{KEY[:15]}", "the key, then its start: ********"),
        (f"11 characters are shown: {KEY[:11]}", f"11 characters are shown: {KEY[:11]}"),
        (f"not a run: {KEY[:6]}-{KEY[6:12]}", f"not a run: {KEY[:6]}-{KEY[6:12]}"),
    ],
    ids=["prefix-echoed-by-a-server", "prefix-cut", "suffix", "middle", "two-parts", "overlapping", "under-12", "broken-run"],
)
def test_twelve_characters_of_a_long_secret_are_masked_anywhere(text: str, masked: str) -> None:
    redactor = Redactor()
    redactor.add(KEY)
    assert redactor.mask(text) == masked


@pytest.mark.parametrize("secret", ["0123456789abcde", "correct horse battery staple"], ids=["15-characters", "white-space"])
def test_a_secret_short_or_with_white_space_is_masked_whole_only(secret: str) -> None:
    redactor = Redactor()
    redactor.add(secret)
    assert redactor.mask(f"x {secret[:13]} y") == f"x {secret[:13]} y"
    assert redactor.mask(f"x {secret} y") == "x **** y"


def test_part_of_a_secret_streamed_across_pieces_is_held_back_and_masked() -> None:
    from runner.redact import StreamMasker

    redactor = Redactor()
    redactor.add(KEY)
    masker = StreamMasker(redactor)
    text = f"{'x' * 80} Incorrect API key provided: {KEY[:14]}**** and more text after it {'y' * 40}"
    shown = "".join(masker.feed(text[start : start + 7]) for start in range(0, len(text), 7)) + masker.flush()
    assert shown == text.replace(KEY[:14], "****")


def test_runs_of_a_secret_streamed_end_to_end_are_masked_with_a_bounded_hold() -> None:
    """A hostile stream of 15-character runs of the key, back to back: held back whole, it was never shown and cost quadratic time."""
    from runner.redact import StreamMasker

    redactor = Redactor()
    redactor.add(KEY)
    masker = StreamMasker(redactor)
    pieces = [KEY[index % 5 : index % 5 + 15] for index in range(2000)]
    keep = max(len(form) for form in redactor.forms())  # the longest form of the key (its base64 is longer)
    shown = []
    for piece in pieces:
        shown.append(masker.feed(piece))
        assert len(masker.pending) <= 4 * keep + len(piece)  # bounded, whatever comes
    shown.append(masker.flush())
    text = "".join(shown)
    assert len(text) > 0 and set(text) <= set("*")  # every character of the runs is masked
    assert redactor.partial_spans(text) == []
