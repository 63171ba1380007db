"""The mock's route index (``RouteTable``): the routes it finds for a method and path are those a scan of every route finds."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from runner.mock.openapi import openapi_routes
from runner.mock.routes import Incoming, Route, RouteTable, build_routes, path_pattern, path_routes
from runner.plan import PlanInput, build_plan
from runner.schemas import SchemaStore

REPO = Path(__file__).resolve().parents[2]
URLS = ["/", "{{ base_url }}/v1/models", "/v1/models/{{ id }}", "/v1/a.b/{{ id }}-x/c+d", "/weird(1)/{{ n }}", "/v1/{{ a }}-{{ b }}/z", "https://{{ host }}/x/y?q=1"]


def _collection_routes() -> list[Route]:
    plan = build_plan(PlanInput(["collections/", "tests/data/mock/shop.yaml"], None, [], mock_url="http://127.0.0.1:9"))
    return build_routes(plan.collections, plan.templates, {id(run.collection): run.scope for run in plan.runs})


def _sample_paths(routes: list[Route]) -> list[str]:
    """Each route's label made concrete, with a trailing slash, one segment more and one less, and a few odd paths."""
    paths = {"", "/", "//", "/v1", "/v1/", "/nothing/here", "/any/a/b/c/d"}
    for route in routes:
        path = re.sub(r"\{[^}]*\}", "x1", route.label.split(" ", 1)[1]).split("#", 1)[0]
        paths |= {path, path + "/", path + "/extra", path.rsplit("/", 1)[0], path + "//"}
    return sorted(paths)


def _check(routes: list[Route]) -> None:
    table = RouteTable(routes)
    for path in _sample_paths(routes):
        for method in ("GET", "POST", "HEAD", "DELETE"):
            request = Incoming.parse(method, path, {}, b"")
            expected = path_routes(list(routes), request)  # a plain list: every route scanned
            assert path_routes(table, request) == expected, (method, path)
            assert path_routes(table, request) == expected, (method, path)  # remembered


def test_the_table_finds_what_a_scan_finds_for_collections() -> None:
    routes = _collection_routes()
    _check(routes)
    assert not RouteTable(routes).unshaped  # every collection route is indexed


def test_the_table_finds_what_a_scan_finds_for_an_openapi_document() -> None:
    routes, _ = openapi_routes(str(REPO / "tests/data/interop/mistral-openapi.yaml"), 0, SchemaStore())
    _check(routes)
    assert not RouteTable(routes).unshaped


@pytest.mark.parametrize("url", URLS)
def test_odd_urls_are_indexed_as_they_match(url: str) -> None:
    base = _collection_routes()[0]
    pattern, literal, label, _ = path_pattern(url)
    routes = [replace(base, method="GET", pattern=pattern, literal=literal, label=f"GET {label}", order=0)]
    _check(routes)


def test_a_pattern_of_another_shape_is_always_tried() -> None:
    base = _collection_routes()[0]
    odd = replace(base, method="GET", pattern=re.compile(r"^/any/.*$"), label="GET /any/…", order=1)
    table = RouteTable([base, odd])
    assert table.unshaped == [odd]
    assert path_routes(table, Incoming.parse("GET", "/any/a/b/c", {}, b"")) == [odd]
    _check([base, odd])
