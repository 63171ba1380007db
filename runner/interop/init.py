"""``runner init [DIR]``: scaffold a project that validates and runs green against ``--mock`` at once.

collections/   one example collection (its ``yaml-language-server`` line points at schemas/)
environments/  local and production, keys read from environment variables
schemas/       the format schema the runner ships (editor completion and checks)
.gitignore     reports/ and .env
.env.example   the variables to put in an untracked .env
.github/workflows/api.yml   CI: validate, run against the mock with JUnit and step-summary reports
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from .writer import write_text

EXAMPLE = """\
# yaml-language-server: $schema=../schemas/collection.schema.json
#
# An example collection. Run it against its own saved examples (no network, no key):
#
#   runner run collections/ --mock
#
# and against a real API with an environment file:
#
#   export API_KEY=...
#   runner run collections/ -e environments/production.yaml
#
# The format: docs/format.md in the runner's repository; every key completes in an
# editor that reads the schema line above (VS Code with the YAML extension).
name: Example API
description: List items, then fetch the first one by the id the list returned.
vars:
  base_url: http://127.0.0.1:8080
  api_key: mock-key        # environments/*.yaml read the real key from API_KEY
secrets: [api_key]         # masked as **** in every output
base_url: "{{ base_url }}"
auth: {bearer: "{{ api_key }}"}
headers: {Accept: application/json}
requests:
  - name: list items
    url: /items
    params: {limit: 10}
    tags: [smoke]
    expect:
      status: 200
      headers: {content-type: {contains: application/json}}
      json:
        "$.items": {type: array, length: {ge: 1}}
        "$.items[0].id": {type: number}
      max_ms: 5000
    capture:
      first_id: "$.items[0].id"
    example:               # a saved response: documents the API, and --mock serves it
      status: 200
      json: {items: [{id: 1, name: first item}]}

  - name: get item
    url: /items/{{ first_id }}
    expect:
      status: 200
      json:
        "$.id": "{{ first_id }}"
        "$.name": {type: string}
    example:
      status: 200
      json: {id: 1, name: first item}
"""

LOCAL = """\
# A local server (or `runner mock collections/`, which listens on 8080).
#   runner run collections/ -e environments/local.yaml
base_url: http://127.0.0.1:8080
api_key: "{{ env.API_KEY | default('mock-key') }}"
secrets: [api_key]
"""

PRODUCTION = """\
# The real API. Needs the key in the process environment (or in ./.env):
#   export API_KEY=...
#   runner run collections/ -e environments/production.yaml
# Without API_KEY the run stops before sending anything (exit 2) and names the variable.
base_url: https://api.example.com
api_key: "{{ env.API_KEY }}"
secrets: [api_key]
"""

GITIGNORE = """\
# runner: reports are build output; .env holds local secrets
reports/
.env
.venv/
__pycache__/
"""

ENV_EXAMPLE = """\
# Copy to .env (never committed) and fill in; runner reads ./.env into `env` for templates.
# A variable set in the process environment wins over .env.
API_KEY=
"""

WORKFLOW = """\
name: API checks

on:
  push:
  pull_request:
  workflow_dispatch:

permissions:
  contents: read

jobs:
  api:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install runner
        run: pip install "git+https://github.com/YOUR-ORG/runner.git"   # pin a tag or commit
      - name: Validate (sends nothing)
        run: runner validate collections/ --mock
      - name: Run against the mock
        run: >
          runner run collections/ --mock
          --report junit:reports/junit.xml
          --report github:-
      # Against the real API, with the key from the repository's secrets:
      # - name: Run against production
      #   if: github.event_name != 'pull_request'
      #   env:
      #     API_KEY: ${{ secrets.API_KEY }}
      #   run: runner run collections/ -e environments/production.yaml --report junit:reports/junit-live.xml --report github:-
      - name: Keep the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: api-reports
          path: reports/
"""


def init_project(directory: Path, force: bool) -> list[str]:
    """Write the scaffold into ``directory``; refuse a folder that is not empty unless ``force``."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file: runner init needs a folder")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise UsageError(f"{directory} is not empty: refusing to write a project into it (pass --force to add the files, replacing those with the same names)")
    schema = (Path(__file__).resolve().parent.parent / "data" / "collection.schema.json").read_text(encoding="utf-8")
    files = {
        "collections/example.yaml": EXAMPLE,
        "environments/local.yaml": LOCAL,
        "environments/production.yaml": PRODUCTION,
        "schemas/collection.schema.json": schema,
        ".gitignore": GITIGNORE,
        ".env.example": ENV_EXAMPLE,
        ".github/workflows/api.yml": WORKFLOW,
    }
    for name, text in files.items():
        write_text(directory / name, text)
    shown = "." if str(directory) in ("", ".") else str(directory)
    return [f"created {shown}/{name}" for name in files] + [
        "next:",
        f"  cd {shown} && runner run collections/ --mock      # green at once, nothing leaves the machine",
        "  cp .env.example .env   # then put API_KEY in it, and run with -e environments/production.yaml",
    ]
