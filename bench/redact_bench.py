"""Time the redactor alone: ``Redactor.mask`` on texts a run masks, with a few secrets known.

    python bench/redact_bench.py [--module PATH]

``--module`` loads another copy of ``runner/redact.py`` (an older commit's, from
``git show OLD:runner/redact.py > /tmp/old_redact.py``) to compare the two on the
same machine.  Prints microseconds per ``mask`` call, best of five rounds.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import timeit
from types import ModuleType

SECRETS = ["sk-bench-0123456789abcdef0123456789abcdef", "bench-token-0123456789", "hunter2hunter2", "Zm9vYmFyYmF6cXV4cXV1eA=="]
RESPONSE = json.dumps({"id": "cmpl-e5cc70bb28c444948073e77776eb30ef", "model": "mistral-small-latest", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Comté, aged 24 months."}}], "usage": {"prompt_tokens": 16, "completion_tokens": 8}})
TEXTS = {
    "a short line (check message)": "expected status 200, got 418 for GET http://127.0.0.1:8080/v1/chat/completions",
    "a 300-byte JSON response": RESPONSE,
    "a 64 KiB body": (RESPONSE + "\n") * (65536 // (len(RESPONSE) + 1)),
    "a 1 MiB body": ("lorem ipsum dolor sit amet, consectetur adipiscing elit 0123456789 " * 16000)[: 1 << 20],
}


def load(path: str | None) -> ModuleType:
    """The redact module: the project's, or the copy at ``path``."""
    if path is None:
        from runner import redact

        return redact
    spec = importlib.util.spec_from_file_location("redact_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Print the time per ``mask`` call for every text."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", help="path of another runner/redact.py to time instead")
    args = parser.parse_args()
    redact = load(args.module)
    redactor = redact.Redactor()
    for secret in SECRETS:
        redactor.add(secret)
    redactor.mask("warm up: compile the patterns")
    for label, text in TEXTS.items():
        number = max(1, 2_000_000 // len(text))
        best = min(timeit.repeat(lambda: redactor.mask(text), number=number, repeat=5)) / number
        print(f"{label:32} {best * 1e6:10.1f} us")


if __name__ == "__main__":
    main()
