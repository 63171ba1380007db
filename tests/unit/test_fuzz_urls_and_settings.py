"""Fuzzing what only rendering finds (issue 10 item 5): URLs, hosts, ports, numeric settings, header values.

Whatever a schema-valid collection says, ``validate`` exits 0 or 2 with a located
message, never an internal error; the preflight it shares with ``run`` then
guarantees ``run`` sends nothing it cannot send.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

URL_TOKENS = ["http://", "https://", "ftp://", "[", "]", "::1", "127.0.0.1", ":", "99999", "0", "-1", "80", "/", "?", "#", "%",
              "%zz", "..", ".", "xn--", "a" * 64, "é", "\u2603", "_", "@", "user:pw@", "\x00", "\t", " ", "\x7f", "{{ x }}", "\ud7ff"]
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**80), 2**80),
                    st.sampled_from(["{{ -1 }}", "{{ 1e300 }}", "{{ x }}", "abc", "{{ 10**400 }}", "{{ 0 }}", "{{ '1.5' }}"]))
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(
    url=st.lists(st.sampled_from(URL_TOKENS) | st.text(max_size=3), min_size=1, max_size=12).map("".join),
    timeout=st.none() | NUMBERS,
    max_redirects=st.none() | NUMBERS,
    header=st.text(max_size=8),
    base=st.sampled_from(["http://127.0.0.1:9", "http://[::1]:9/v1", "https://xn--bcher-kva.example", "http://exa_mple.local"]),
)
def test_validate_locates_every_bad_url_or_setting(run_cli: Any, tmp_path: Path, url: str, timeout: Any, max_redirects: Any, header: str, base: str) -> None:
    request = {"name": "a", "url": url, "headers": {"X-A": header}}
    for key, value in (("timeout", timeout), ("max_redirects", max_redirects)):
        if value is not None:
            request[key] = value
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"base_url": base, "vars": {"x": "abc"}, "requests": [request]}, allow_unicode=True), encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output

