"""The file gate: what it lets through, what it refuses, and how connections are set up."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.support import hostile_files
from ztmm_desktop.core import figures
from ztmm_desktop.core.errors import EngagementFileError
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import engagement as engagement_service
from ztmm_desktop.services import evidence, logo
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.store import gate, migrations
from ztmm_desktop.store.document import orphaned_working_copies
from ztmm_desktop.store.lock import lock_path_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return hostile_files.base_file(tmp_path / "base.ztmm")


def hostile(kind: str, base: Path) -> Path:
    return hostile_files.make(kind, base, base.with_name(f"{kind}.ztmm"))


# -- what every file is compared with ------------------------------------------------------


@pytest.mark.parametrize("version", range(1, migrations.SCHEMA_VERSION + 1))
def test_every_column_of_every_schema_version_has_a_domain(version: int) -> None:
    schema = gate.expected_schema(version)
    assert schema.columns, version
    for table, columns in schema.columns.items():
        assert table in gate.TABLES, f"schema {version}: table {table} has no rule"
        assert set(columns) <= set(gate.TABLES[table].columns), (version, table)
        assert set(gate.TABLES[table].key) <= set(gate.TABLES[table].columns), table


def test_the_gate_knows_the_words_the_services_write() -> None:
    assert gate.CONFIDENCE == engagement_service.CONFIDENCE
    assert gate.PRIORITY == engagement_service.PRIORITY
    assert gate.STATUS == engagement_service.STATUS
    assert set(gate.SEVERITY) == set(engagement_service.SEVERITY) == set(figures.SEVERITIES)
    assert gate.EVIDENCE_KINDS == evidence.KINDS
    assert set(gate.LOGO_TYPES) == set(logo.LOGO_FORMATS.values())
    assert gate.MAX_LOGO_BYTES == logo.MAX_LOGO_BYTES
    assert gate.SHORT >= engagement_service.MAX_NAME and gate.LONG >= engagement_service.MAX_TEXT


def test_released_fixtures_and_a_full_engagement_pass(base: Path) -> None:
    for path in [*sorted(FIXTURES.glob("schema-v*.ztmm")), base]:
        with open_engagement(path, readonly=True) as opened:
            assert opened.meta().client


# -- what is refused ------------------------------------------------------------------------


def test_a_foreign_trigger_never_runs(base: Path, data_dir: Path) -> None:
    path = hostile("trigger-forging-ratings", base)
    before = path.read_bytes()
    with pytest.raises(gate.GateError) as refused, open_engagement(path) as opened:
        opened.assess("1.1", ratings={Stage.INITIAL: Rating.NOT_MET})
    assert str(refused.value) == (
        "trigger-forging-ratings.ztmm: refused: it holds a trigger 'forge' on stage_rating "
        "that ZTMM Workbench did not create"
    )
    assert path.read_bytes() == before
    assert not lock_path_for(path).exists() and files_under(data_dir) == []


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("rating-excellent", r"stage_rating record identity\.authentication/initial, rating: 'excellent'; expected"),
        ("assessors-null", r"engagement record [0-9a-f-]+, assessors: NULL; expected a JSON list of texts"),
        ("comment-not-utf8", r"stage_rating record .*, comment: text that is not valid UTF-8"),
        ("evidence-size-big", r"evidence record [0-9a-f]+, size: 'big'; expected a whole number"),
        ("evidence-size-2-63", r"size: the number 9\.2\d*e\+18; expected a whole number"),
        ("huge-text-value", r"comment: a value larger than 32 MiB; expected text of at most"),
        ("duplicate-ids", r"damaged \(two finding records have the same id\)"),
        ("recursive-view-replacing-a-table", r"refused: 'audit' is a view where schema 7 has a table"),
        ("evidence-link-to-nothing", r"evidence_link record 1, evidence_id: refers to an evidence record that is not"),
    ],
)
def test_the_refusal_names_table_record_and_column(kind: str, message: str, base: Path) -> None:
    path = hostile(kind, base)
    with pytest.raises(gate.GateError, match=message) as refused:
        open_engagement(path, readonly=True)
    assert "\n" not in str(refused.value)


def test_an_old_schema_file_is_compared_with_its_own_version_and_refused_before_any_backup(
    tmp_path: Path, data_dir: Path
) -> None:
    path = tmp_path / "old.ztmm"
    shutil.copy(FIXTURES / "schema-v3.ztmm", path)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TRIGGER sneak AFTER INSERT ON audit BEGIN DELETE FROM audit; END")
    conn.close()
    with pytest.raises(gate.GateError, match="trigger 'sneak' on audit"):
        open_engagement(path)
    assert files_under(data_dir) == []  # no backup of a file that was never opened


def test_a_read_only_open_of_an_old_schema_file_leaves_no_backup(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "old.ztmm"
    shutil.copy(FIXTURES / "schema-v2.ztmm", path)
    with open_engagement(path, readonly=True) as opened:
        assert opened.document.migrated_from == 2 and opened.document.backup_path is None
    assert not (data_dir / "backups").exists() or files_under(data_dir / "backups") == []


def test_a_recovered_working_copy_passes_the_gate_too(tmp_path: Path) -> None:
    path = tmp_path / "client.ztmm"
    create_engagement(path, Properties(client="Fabrikam")).close()
    opened = open_engagement(path)
    opened.assess("1.1", ratings={Stage.INITIAL: Rating.MET})
    opened.document.abandon()  # as if the app had died
    (orphan,) = orphaned_working_copies()
    conn = sqlite3.connect(orphan.working)  # something tampered with the copy meanwhile
    conn.execute("CREATE TRIGGER wipe AFTER INSERT ON audit BEGIN DELETE FROM audit; END")
    conn.close()
    with pytest.raises(gate.GateError, match=r"the unsaved work of client\.ztmm: refused: it holds a trigger"):
        open_engagement(path, recover=orphan)
    assert not lock_path_for(path).exists()
    # still there to look at or discard: nothing lost
    assert [(o.document, o.working) for o in orphaned_working_copies()] == [(orphan.document, orphan.working)]


# -- leaving damaged records out --------------------------------------------------------------


def test_damaged_records_can_be_left_out_of_a_read_only_copy(base: Path) -> None:
    path = hostile("rating-excellent", base)
    before = path.read_bytes()
    with pytest.raises(gate.DamagedRecords):
        open_engagement(path, readonly=True)
    with open_engagement(path, readonly=True, leave_out_damaged=True) as opened:
        assert [(p.table, p.key, p.column) for p in opened.document.left_out] == [
            ("stage_rating", "identity.authentication/initial", "rating")
        ]
        assert Stage.INITIAL not in opened.assessment("1.1").ratings  # the damaged rating is not there
        assert opened.readonly
    assert path.read_bytes() == before


def test_records_that_refer_to_a_left_out_record_are_left_out_too(base: Path) -> None:
    path = hostile("evidence-size-big", base)
    with open_engagement(path, readonly=True, leave_out_damaged=True) as opened:
        left = [(p.table, p.column) for p in opened.document.left_out]
        assert left[0] == ("evidence", "size")
        assert ("evidence_link", "evidence_id") in left
        assert len(evidence.list_evidence(opened)) == len(hostile_files.EVIDENCE) - 1


def test_leaving_records_out_is_for_read_only_opens(base: Path) -> None:
    with pytest.raises(EngagementFileError, match="only when opening read-only"):
        open_engagement(hostile("rating-excellent", base), leave_out_damaged=True)


def test_a_file_whose_schema_is_not_ours_cannot_be_salvaged(base: Path) -> None:
    with pytest.raises(gate.GateError, match="trigger 'wipe'"):
        open_engagement(hostile("trigger-wiping-the-audit-trail", base), readonly=True, leave_out_damaged=True)


# -- connections ---------------------------------------------------------------------------------


def test_every_engine_connection_is_hardened(tmp_path: Path) -> None:
    path = tmp_path / "client.ztmm"
    with create_engagement(path, Properties(client="Fabrikam")) as opened:
        raw = opened.document.engine.raw_connection()
        try:
            cursor = raw.cursor()
            values = {}
            for name in ("trusted_schema", "cell_size_check"):
                cursor.execute(f"PRAGMA {name}")
                values[name] = cursor.fetchone()[0]
            assert values == {"trusted_schema": 0, "cell_size_check": 1}
        finally:
            raw.close()


RUNAWAY = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


def test_the_watchdog_stops_a_runaway_statement_and_the_connection_goes_on() -> None:
    conn = sqlite3.connect(":memory:")
    watchdog = gate.harden(conn, steps=2_000_000)
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        conn.execute(RUNAWAY).fetchone()
    assert watchdog.fired
    watchdog.reset()
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_runaway_statement_on_an_open_engagement_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate, "STATEMENT_STEPS", 2_000_000)
    path = tmp_path / "client.ztmm"
    create_engagement(path, Properties(client="Fabrikam")).close()
    with open_engagement(path, readonly=True) as opened, engagement_service.reading(opened) as conn:
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):
            conn.execute(RUNAWAY).fetchone()
        assert len(opened.assessments()) == 40  # the next statement has a budget of its own


def test_a_value_larger_than_the_bound_cannot_be_read() -> None:
    conn = sqlite3.connect(":memory:")
    gate.harden(conn)
    with pytest.raises(sqlite3.DataError):
        conn.execute("SELECT zeroblob(?)", (gate.MAX_VALUE_BYTES + 1,)).fetchone()
