"""The runner against httpbin, a real third-party HTTP server, on loopback."""

from __future__ import annotations


def test_auth_bodies_and_checks_against_httpbin(run_cli, write, httpbin_url: str) -> None:
    path = write("httpbin.yaml", f"""
name: httpbin
base_url: {httpbin_url}
vars: {{user: ann, password: "pa55 word", n: 3}}
secrets: [password]
requests:
  - name: basic auth accepted
    url: /basic-auth/ann/pa55 word
    auth: {{basic: {{username: "{{{{ user }}}}", password: "{{{{ password }}}}"}}}}
    expect: {{status: 200, json: {{"$.authenticated": true, "$.user": ann}}}}
  - name: bearer accepted
    url: /bearer
    auth: {{bearer: tok-1}}
    expect: {{status: 200, json: {{"$.token": tok-1}}}}
  - name: json echo keeps types
    method: POST
    url: /anything
    json: {{n: "{{{{ n }}}}", tags: [a, b]}}
    expect:
      json:
        "$.json": {{n: 3, tags: [a, b]}}
        "$.headers['Content-Type']": application/json
  - name: form echo
    method: POST
    url: /post
    form: {{a: "1"}}
    expect: {{json: {{"$.form.a": "1"}}}}
  - name: status class
    url: /status/418
    expect: {{status: 4xx}}
  - name: redirects followed
    url: /redirect/2
    follow_redirects: true
    expect: {{status: 200, json: {{"$.url": {{contains: /get}}}}}}
  - name: response header capture
    url: /response-headers?X-Trace=abc-123
    capture: {{trace: {{header: X-Trace}}}}
  - name: uses capture
    url: "/anything/{{{{ trace }}}}"
    expect: {{json: {{"$.url": {{matches: "abc-123$"}}}}}}
""")
    result = run_cli("run", str(path))
    assert result.exit_code == 0, result.output
    assert "8 passed, 0 failed, 0 skipped" in result.stdout


def test_wrong_basic_password_fails_and_stays_masked(run_cli, write, httpbin_url: str) -> None:
    path = write("httpbin.yaml", f"""
name: httpbin
base_url: {httpbin_url}
requests:
  - name: basic auth refused
    url: /basic-auth/ann/right-password
    auth: {{basic: {{username: ann, password: wrong-password-canary}}}}
    expect: {{status: 200}}
""")
    result = run_cli("run", str(path), "-v")
    assert result.exit_code == 1
    assert "status: expected 200, got 401" in result.stdout
    assert "wrong-password-canary" not in result.output
    assert "Authorization: Basic ****" in result.stdout
