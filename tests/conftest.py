"""Shared fixtures: real SQLite files and a real PostgreSQL database per test, config files."""

from __future__ import annotations

import logging
import os
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("HALLMON_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """``hallmon`` commands run in-process point the root logger at the stderr pytest captured for
    that test; put it back, or a server thread still logging later writes to a closed file."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except Exception as exc:  # no server answers: say so, and why
        return f"PostgreSQL at {PG_URL} is not reachable ({type(exc).__name__}: {exc}); set HALLMON_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    problem = _postgres_problem()
    if problem:
        pytest.skip(problem)
    return PG_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"hallmon_test_{uuid.uuid4().hex[:12]}"
    admin = postgres_admin_url.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage and pipeline test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hallmon.db'}"
    return str(request.getfixturevalue("postgres_url"))


def write_config(directory: Path, body: str) -> Path:
    path = directory / "hallmon.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path
