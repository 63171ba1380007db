"""The baseline: the same requests as the benchmark collection, sent by a plain httpx loop.

Usage (bench.py calls it; timing is done from outside, on the whole process):

    python raw_httpx.py seq  URL TOKEN SCHEMA N
    python raw_httpx.py par  URL TOKEN SCHEMA N WORKERS

Each request is a POST with bearer auth and a JSON body; each response is checked
for status 200 and validated against SCHEMA with a prebuilt jsonschema validator.
"""

from __future__ import annotations

import asyncio
import json
import sys

import httpx
import jsonschema

BODY = {"model": "mistral-small-latest", "max_tokens": 16, "messages": [{"role": "user", "content": "What is the best French cheese?"}]}


def _check(response: httpx.Response, validator: jsonschema.protocols.Validator) -> None:
    if response.status_code != 200:
        raise SystemExit(f"unexpected status {response.status_code}")
    errors = list(validator.iter_errors(response.json()))
    if errors:
        raise SystemExit(f"schema violation: {errors[0].message}")


def run_sequential(url: str, token: str, validator: jsonschema.protocols.Validator, count: int) -> None:
    """``count`` requests one after the other on one ``httpx.Client``."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client() as client:
        for _ in range(count):
            _check(client.post(url, json=BODY, headers=headers), validator)


async def run_parallel(url: str, token: str, validator: jsonschema.protocols.Validator, count: int, workers: int) -> None:
    """``count`` requests by ``workers`` concurrent tasks on one ``httpx.AsyncClient``."""
    headers = {"Authorization": f"Bearer {token}"}
    remaining = iter(range(count))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in remaining:
            _check(await client.post(url, json=BODY, headers=headers), validator)

    async with httpx.AsyncClient() as client:
        await asyncio.gather(*(worker(client) for _ in range(workers)))


def main(argv: list[str]) -> None:
    """Entry point: ``seq`` or ``par``."""
    mode, url, token, schema_path, count = argv[:5]
    with open(schema_path, encoding="utf-8") as file:
        schema = json.load(file)
    validator = jsonschema.Draft202012Validator(schema)
    if mode == "seq":
        run_sequential(url, token, validator, int(count))
    else:
        asyncio.run(run_parallel(url, token, validator, int(count), int(argv[5])))


if __name__ == "__main__":
    main(sys.argv[1:])
