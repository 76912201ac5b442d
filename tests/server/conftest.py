"""Fixtures of the team-mode tests: a fresh database of the session's cluster per test, set up by the DBA."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pg import Cluster
from tests.support.team import NO_PGPASS, Server, realistic_engagement
from ztmm_desktop.server import schema
from ztmm_desktop.server.url import parse


@pytest.fixture
def server(pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A database on which ``ztmm server init`` ran (as the cluster's superuser)."""
    db = f"firm{secrets.token_hex(4)}"
    pg_cluster.database(db)
    monkeypatch.setenv("PGPASSFILE", NO_PGPASS)
    with monkeypatch.context() as patch:
        patch.setenv("PGPASSWORD", pg_cluster.password)
        schema.init(parse(pg_cluster.url(db=db)), prompt=None)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    yield Server(pg_cluster, db)


@pytest.fixture(scope="session")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A realistic engagement file (made once per session); tests copy it before changing anything."""
    folder = tmp_path_factory.mktemp("realistic")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTMM_DATA_DIR", str(folder / "appdata"))
        return realistic_engagement(folder / "realistic.ztmm")
