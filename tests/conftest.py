"""Shared fixtures: isolated settings and stores, and a guard that keeps every test off the network."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.store import Store

POSTGRES_URL = os.environ.get("CAHIER_TEST_POSTGRES_URL")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address: object) -> bool:
    if isinstance(address, str):  # a Unix socket path
        return True
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _allowed(address):
        raise ConnectionRefusedError(f"tests may only reach loopback; blocked connection to {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _allowed(address):
        raise ConnectionRefusedError(f"tests may only reach loopback; blocked connection to {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    """No test reaches beyond loopback, whatever library it goes through."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer's own keys and settings never leak into a test."""
    for name in list(os.environ):
        if name.startswith("CAHIER_") and name != "CAHIER_TEST_POSTGRES_URL" or name.startswith("OPENAI_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def _postgres_store() -> Iterator[Store]:
    """A store in a fresh PostgreSQL schema-less database namespace (its own database), dropped afterwards."""
    from sqlalchemy import create_engine, text

    assert POSTGRES_URL
    name = f"cahier_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = POSTGRES_URL.rpartition("/")
    store = Store(f"{base}/{name}")
    try:
        yield store
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same store tests on SQLite and, when `CAHIER_TEST_POSTGRES_URL` is set, on PostgreSQL."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'cahier.db'}")
        yield store
        store.close()
    else:
        if not POSTGRES_URL:
            if os.environ.get("CI"):
                pytest.fail("CI must test PostgreSQL too: .ci/run sets `CAHIER_TEST_POSTGRES_URL`")
            pytest.skip("set CAHIER_TEST_POSTGRES_URL to run the store tests on PostgreSQL (CI does)")
        yield from _postgres_store()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'cahier.db'}")
    yield store
    store.close()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    """Services (SQLite store, scripted model, interview) an AppTest opens the real app on (`tests.app.conftest.App`).

    Here rather than in tests/app/ because the reliability tests drive the app too; imported late so that the
    tests that never open the app do not import Streamlit.
    """
    from tests.app.conftest import build_app

    built = build_app(tmp_path)
    yield built
    built.services.interview.close()
    built.store.close()
