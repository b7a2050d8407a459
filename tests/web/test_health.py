"""Probes for load balancers: alive, and ready only when the database is usable."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu import migrate
from kefu.app import create_app
from kefu.config import Settings
from kefu.db import make_engine


def test_healthz_and_readyz_on_a_migrated_database(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok"}


def test_readyz_reports_an_unreachable_database(settings: Settings, db: Engine) -> None:
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    app = create_app(settings, engine=dead)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert "cannot use database" in ready.json()["database"]


def test_readyz_reports_a_schema_behind_the_code(settings: Settings, tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    with TestClient(create_app(settings, engine=engine)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "kefu migrate" in ready.json()["database"]
