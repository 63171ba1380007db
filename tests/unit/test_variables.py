"""Variable precedence, layer by layer: vars < environment file < data row < --var < captures."""

from __future__ import annotations

import pytest

from runner.errors import InputError
from runner.templating import Templates
from runner.variables import Layer, build_scope

LAYER_NAMES = ["collection vars", "environment file", "data row", "--var"]


@pytest.mark.parametrize("top", range(len(LAYER_NAMES)), ids=LAYER_NAMES)
def test_each_layer_beats_the_ones_below(top: int) -> None:
    layers = [Layer(name, {"model": name, f"only_{i}": i}) for i, name in enumerate(LAYER_NAMES[: top + 1])]
    scope = build_scope(layers, Templates(environ={}))
    assert scope.values["model"] == LAYER_NAMES[top]
    assert scope.origins["model"] == LAYER_NAMES[top]
    for i in range(top + 1):  # lower layers still supply the names only they define
        assert scope.values[f"only_{i}"] == i


def test_captures_beat_every_layer() -> None:
    scope = build_scope([Layer(name, {"model": name}) for name in LAYER_NAMES], Templates(environ={}))
    scope.capture("model", "captured")
    assert scope.values["model"] == "captured"
    assert scope.origins["model"] == "capture"


def test_a_default_may_use_a_variable_of_a_higher_layer() -> None:
    layers = [Layer("collection vars", {"url": "{{ host }}/v1"}), Layer("environment file", {"host": "https://api"})]
    assert build_scope(layers, Templates(environ={})).values["url"] == "https://api/v1"


def test_templated_values_keep_native_types() -> None:
    layers = [Layer("collection vars", {"n": "{{ base * 2 }}", "base": 21})]
    assert build_scope(layers, Templates(environ={})).values["n"] == 42


def test_environment_variable_reaches_a_variable() -> None:
    layers = [Layer("environment file", {"api_key": "{{ env.KEY }}"}, secrets=frozenset({"api_key"}))]
    scope = build_scope(layers, Templates(environ={"KEY": "s3cret-value"}))
    assert scope.values["api_key"] == "s3cret-value"
    assert scope.redactor.mask("token s3cret-value") == "token ****"


def test_missing_environment_variable_is_an_input_error_naming_it() -> None:
    layers = [Layer("environment file", {"api_key": "{{ env.MISTRAL_API_KEY }}"})]
    with pytest.raises(InputError) as info:
        build_scope(layers, Templates(environ={}))
    text = info.value.format()
    assert "environment variable MISTRAL_API_KEY is not set" in text
    assert "export MISTRAL_API_KEY" in text


def test_a_loop_between_variables_is_reported() -> None:
    with pytest.raises(InputError, match="loop"):
        build_scope([Layer("collection vars", {"a": "{{ b }}", "b": "{{ a }}"})], Templates(environ={}))


def test_child_scope_does_not_leak_captures() -> None:
    scope = build_scope([Layer("collection vars", {"x": 1})], Templates(environ={}))
    child = scope.child()
    child.capture("y", 2)
    assert "y" not in scope.values


def test_secret_capture_is_masked() -> None:
    scope = build_scope([], Templates(environ={}))
    scope.capture("token", "abc123xyz", secret=True)
    assert scope.redactor.mask("Bearer abc123xyz") == "Bearer ****"


def test_a_foreign_yaml_document_is_read_with_yaml_12_scalars() -> None:
    from runner.source import load_foreign_yaml

    data = load_foreign_yaml("a: 1e+09\nb: yes\nc: 0123\nd: 2024-01-01\ne: 0x1F\nf: TRUE\ng: ~\n")
    assert data == {"a": 1e9, "b": "yes", "c": 123, "d": "2024-01-01", "e": 31, "f": True, "g": None}
