"""The throw-away cluster the team-mode tests run against is a real, password-checking server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ROOT
from tests.support.pg import Cluster, reap_stale


def test_cluster_checks_passwords_over_tcp(pg_cluster: Cluster) -> None:
    pg_cluster.login("cluster_probe", "right-password")
    with psycopg.connect(pg_cluster.conninfo("cluster_probe", "right-password")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("cluster_probe",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_cluster.conninfo("cluster_probe", "wrong-password"))


def test_cluster_is_not_run_by_root(pg_cluster: Cluster) -> None:
    assert pg_cluster.sql("SELECT 1") == [(1,)]
    assert (pg_cluster.data / "postmaster.pid").stat().st_uid != 0


def test_a_cluster_left_by_a_killed_run_is_stopped_and_removed() -> None:
    # a run that starts a cluster and dies without stopping it
    code = "from tests.support import pg; f = pg.temp_folder(); pg.Cluster.start(f); print(f)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    folder = Path(done.stdout.strip())
    assert (folder / "data" / "postmaster.pid").exists()
    pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
    reap_stale()
    assert not folder.exists()
    assert not _running(pid)


def _running(pid: int) -> bool:
    """The process exists and has not exited (an exited server whose parent is gone may stay a zombie
    where PID 1 does not reap, as in some containers)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return not any(line.startswith("State:") and "Z" in line for line in status)
    except FileNotFoundError:
        return False
