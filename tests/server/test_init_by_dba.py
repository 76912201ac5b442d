"""``ztmm server init`` run by a firm's DBA who is not a superuser: a login with ``CREATEROLE`` that
owns the database (what docs/server.md offers as the alternative to a superuser).

A cluster of its own, started for this module: the roles ``ztmm_owner`` and ``ztmm_user`` are
cluster-wide, and on the session's cluster the superuser's ``init`` of other tests made them
already. Here the DBA's ``init`` must make them itself, and then everything a firm does after
the set-up must work: a consultant publishes (and so creates three roles, a schema and its
grants through ``ztmm_owner``), adds a colleague, the colleague edits and a reviewer is refused.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from tests.conftest import run_cli
from tests.support import pg
from tests.support.team import NO_PGPASS
from ztmm_desktop.server import schema

DB = "firm"


@pytest.fixture(scope="module")
def dba_cluster(pg_cluster: pg.Cluster) -> Iterator[tuple[pg.Cluster, dict[str, str]]]:
    """A fresh cluster with a database owned by ``dba`` (LOGIN CREATEROLE, not a superuser) and three
    consultants' logins; ``pg_cluster`` only makes the module skip or fail as every server test does."""
    folder = pg.temp_folder()
    cluster = pg.Cluster.start(folder)
    try:
        passwords = {name: secrets.token_urlsafe(12) for name in ("dba", "lead", "assessor", "reviewer")}
        for name, password in passwords.items():
            cluster.login(name, password)
        cluster.sql("ALTER ROLE dba CREATEROLE")
        cluster.sql(f"CREATE DATABASE {DB} OWNER dba")
        yield cluster, passwords
    finally:
        pg.remove(folder)


def _env(passwords: dict[str, str], who: str) -> dict[str, str]:
    return {**os.environ, "PGPASSWORD": passwords[who], "PGPASSFILE": NO_PGPASS}


def test_a_dba_with_createrole_sets_up_the_server_and_the_firm_works_on_it(
    dba_cluster: tuple[pg.Cluster, dict[str, str]], realistic: Path, tmp_path: Path
) -> None:
    cluster, passwords = dba_cluster
    assert cluster.sql("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = 'dba'") == [(False, True)]
    assert cluster.sql("SELECT count(*) FROM pg_roles WHERE rolname IN ('ztmm_owner', 'ztmm_user')") == [(0,)]

    done = run_cli("server", "init", cluster.url("dba", DB), env=_env(passwords, "dba"))
    assert done.returncode == 0, done.stderr
    assert f"now {schema.REVISIONS[-1]}" in done.stdout
    again = run_cli("server", "init", cluster.url("dba", DB), env=_env(passwords, "dba"))
    assert again.returncode == 0 and "up to date" in again.stdout, again.stderr
    # the roles are the DBA's making, the schema is owned by ztmm_owner, not by the DBA
    assert cluster.sql("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'ztmm'", db=DB) == [
        ("ztmm_owner",)
    ]

    # the DBA's third step, in their own name: make each consultant a ZTMM user
    with psycopg.connect(cluster.conninfo("dba", passwords["dba"], db=DB), autocommit=True) as dba:
        for name in ("lead", "assessor", "reviewer"):
            dba.execute(f"GRANT ztmm_user TO {name}")

    engagement = "eng_dba"
    lead_url = cluster.url("lead", DB, engagement)
    published = run_cli("publish", str(realistic), lead_url, env=_env(passwords, "lead"))
    assert published.returncode == 0, published.stderr
    for name, role in (("assessor", "assessor"), ("reviewer", "reviewer")):
        added = run_cli("server", "members", lead_url, "add", name, "--as", role, env=_env(passwords, "lead"))
        assert added.returncode == 0, added.stderr

    listed = run_cli("server", "members", lead_url, env=_env(passwords, "lead"))
    assert listed.returncode == 0, listed.stderr
    assert all(name in listed.stdout for name in ("lead", "assessor", "reviewer"))

    # the assessor edits through ztmm; the reviewer's direct SQL update is refused by the database
    function = cluster.sql(f"SELECT function_id FROM e_{engagement}.function_assessment LIMIT 1", db=DB)[0][0]
    edited = run_cli(
        "assess",
        cluster.url("assessor", DB, engagement),
        str(function),
        "--note",
        "Seen in the workshop.",
        env=_env(passwords, "assessor"),
    )
    assert edited.returncode == 0, edited.stderr
    assert cluster.sql(
        f"SELECT notes FROM e_{engagement}.function_assessment WHERE function_id = %s", (function,), db=DB
    ) == [("Seen in the workshop.",)]
    with (
        psycopg.connect(cluster.conninfo("reviewer", passwords["reviewer"], db=DB)) as reviewer,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        reviewer.execute(f"UPDATE e_{engagement}.function_assessment SET notes = 'x'")

    # the checked-out copy is the server's engagement
    copy = tmp_path / "copy.ztmm"
    out = run_cli("checkout", cluster.url("reviewer", DB, engagement), str(copy), env=_env(passwords, "reviewer"))
    assert out.returncode == 0, out.stderr
    assert copy.exists()
