"""Property-based run against the OpenAPI schema of the app (schemathesis): no
generated request makes the server fail (no 5xx), with and without a valid key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from adsentry.config import Config
from adsentry.pipeline import analyze
from adsentry.store import open_store
from adsentry.web import create_app

KEY = "schema-test-key-0123456789"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("schema")
    src = folder / "ads.jsonl"
    ads = [
        {"id": f"a{i}", "title": f"Ad {i}", "body": f"Call 619-555-01{i:02d} tonight, ask for Mia"}
        for i in range(6)
    ]
    src.write_text("".join(json.dumps(a) + "\n" for a in ads))
    db = folder / "case.db"
    store = open_store(db)
    try:
        analyze([src], store, db_path=db)
    finally:
        store.close()
    app = create_app(Path(db), Config(api_keys=(KEY,)))
    with TestClient(app):  # runs the lifespan: the screener is built
        yield app


@pytest.mark.parametrize(("path", "method"), [("/v1/screen", "POST"), ("/api/top", "GET")])
def test_no_server_errors(live_app: FastAPI, path: str, method: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", live_app)
    operation = schema[path][method]
    seen: list[int] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case) -> None:  # type: ignore[no-untyped-def]
        for headers in ({"Authorization": f"Bearer {KEY}"}, {}):
            response = case.call(headers=headers)
            seen.append(response.status_code)
            assert response.status_code < 500, (case.body, case.query, response.text)

    run()
    assert len(seen) >= 20
    if path == "/v1/screen":
        assert {200, 401} <= set(seen)  # generated ads were screened, and refused without key
