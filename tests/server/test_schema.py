"""The server's schema: ``ztmm server init`` creates and upgrades it; a client of another schema is refused."""

from __future__ import annotations

import importlib
import secrets

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.conftest import run_cli
from tests.support.pg import Cluster
from tests.support.team import NO_PGPASS
from ztmm_desktop.server import schema
from ztmm_desktop.server.connect import ServerError
from ztmm_desktop.server.url import parse
from ztmm_desktop.store.migrations import SCHEMA_VERSION


def test_the_client_knows_exactly_alembics_revisions() -> None:
    config = Config()
    config.set_main_option("script_location", str(schema.MIGRATIONS))
    history = [rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()]
    assert tuple(reversed(history)) == schema.REVISIONS


def test_the_server_knows_the_file_format_this_client_writes() -> None:
    (step,) = (schema.MIGRATIONS / "versions").glob(f"{schema.REVISIONS[-1]}_*.py")
    latest = importlib.import_module(f"ztmm_desktop.server.migrations.versions.{step.stem}")
    assert latest.FILE_FORMAT == SCHEMA_VERSION


def test_init_creates_the_schema_once_and_then_finds_it_up_to_date(pg_cluster: Cluster) -> None:
    db = f"init{secrets.token_hex(4)}"
    pg_cluster.database(db)
    env = {"PGPASSWORD": pg_cluster.password, "PGPASSFILE": NO_PGPASS}
    first = run_cli("server", "init", pg_cluster.url(db=db), env=env)
    assert first.returncode == 0, first.stderr
    assert f"now {schema.REVISIONS[-1]}" in first.stdout
    again = run_cli("server", "init", pg_cluster.url(db=db), env=env)
    assert again.returncode == 0 and "up to date" in again.stdout
    names = {r[0] for r in pg_cluster.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'ztmm'", db=db)}
    assert names == {"alembic_version", "engagement", "member", "finding_comment", "engagement_ddl", "edit"}
    assert pg_cluster.sql("SELECT relrowsecurity FROM pg_class WHERE oid = 'ztmm.engagement'::regclass", db=db) == [
        (True,)
    ]


def test_a_server_older_than_the_client_says_the_dba_upgrades_it(
    pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"older{secrets.token_hex(4)}"
    pg_cluster.database(db)
    monkeypatch.setenv("PGPASSWORD", pg_cluster.password)
    monkeypatch.setenv("PGPASSFILE", NO_PGPASS)
    url = parse(pg_cluster.url(db=db))
    schema.init(url, prompt=None)
    monkeypatch.setattr(schema, "REVISIONS", (*schema.REVISIONS, "9999"))  # a client one step ahead
    with pytest.raises(
        ServerError, match=r"older than this ztmm's \(9999\); the DBA upgrades it with ztmm server init"
    ):
        schema.open_checked(url, prompt=None)
