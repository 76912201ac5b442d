"""The throw-away cluster the team-mode tests run against is a real, password-checking server."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.pg import Cluster


def test_cluster_checks_passwords_over_tcp(pg_cluster: Cluster) -> None:
    pg_cluster.login("cluster_probe", "right-password")
    with psycopg.connect(pg_cluster.conninfo("cluster_probe", "right-password")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("cluster_probe",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_cluster.conninfo("cluster_probe", "wrong-password"))


def test_cluster_is_not_run_by_root(pg_cluster: Cluster) -> None:
    assert pg_cluster.sql("SELECT 1") == [(1,)]
    assert (pg_cluster.data / "postmaster.pid").stat().st_uid != 0
