"""The engagement file: identity checks, PRAGMAs, working copy, atomic save, lock, migrations."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.processes import held_open
from ztmm_desktop.core.errors import DocumentLocked, EngagementFileError
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.paths import data_dir
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.store import migrations
from ztmm_desktop.store.document import EngagementDocument, orphaned_working_copies
from ztmm_desktop.store.lock import lock_path_for
from ztmm_desktop.store.schema import SQLModel

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def new_file(tmp_path: Path, name: str = "client.ztmm") -> Path:
    path = tmp_path / name
    create_engagement(path, Properties(client="Fabrikam", assessors=("Consultant One",))).close()
    return path


def test_file_carries_application_id_and_user_version(tmp_path: Path) -> None:
    path = new_file(tmp_path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == migrations.APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    conn.close()


def test_pragmas_are_set_on_every_pooled_connection(tmp_path: Path) -> None:
    engagement = open_engagement(new_file(tmp_path))
    try:
        engine = engagement.document.engine
        connections = [engine.raw_connection() for _ in range(3)]  # three distinct pooled connections
        assert len({id(c.dbapi_connection) for c in connections}) == 3
        for conn in connections:
            cursor = conn.cursor()
            values = {}
            for name in ("journal_mode", "synchronous", "foreign_keys", "trusted_schema"):
                cursor.execute(f"PRAGMA {name}")
                values[name] = cursor.fetchone()[0]
            assert values == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "trusted_schema": 0}
        for conn in connections:
            conn.close()
    finally:
        engagement.close()


def test_schema_ddl_matches_the_models(tmp_path: Path) -> None:
    conn = sqlite3.connect(new_file(tmp_path))
    for table in SQLModel.metadata.sorted_tables:
        columns = {row[1]: (row[3] == 1) for row in conn.execute(f"PRAGMA table_info({table.name})")}
        assert set(columns) == {c.name for c in table.columns}, table.name
        for column in table.columns:
            if not column.primary_key:
                assert columns[column.name] == (not column.nullable), (table.name, column.name)
    conn.close()


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("text.ztmm", lambda p: p.write_text("hello, not a database"), "not an SQLite database"),
        ("empty.ztmm", lambda p: p.write_bytes(b""), "the file is empty"),
        ("report.ztmm", lambda p: p.write_bytes(b"%PDF-1.7\n" + b"x" * 200), "it is a PDF document"),
    ],
)
def test_foreign_files_are_refused_and_left_untouched(tmp_path: Path, name: str, make: object, message: str) -> None:
    path = tmp_path / name
    make(path)  # type: ignore[operator]
    before = path.read_bytes()
    with pytest.raises(EngagementFileError, match=message):
        open_engagement(path)
    assert path.read_bytes() == before
    assert not lock_path_for(path).exists()


def test_renamed_xlsx_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "answers.ztmm"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    before = path.read_bytes()
    with pytest.raises(EngagementFileError, match=r"answers.ztmm: not a ZTMM engagement file \(it is a zip archive"):
        open_engagement(path)
    assert path.read_bytes() == before


def test_other_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.ztmm"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(EngagementFileError, match="an SQLite database, but not a ZTMM engagement file"):
        open_engagement(path)
    assert path.read_bytes() == before


def test_newer_schema_is_refused_unchanged(tmp_path: Path) -> None:
    path = new_file(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(EngagementFileError, match=r"newer version of ZTMM Workbench \(file schema 99"):
        open_engagement(path)
    assert path.read_bytes() == before


def test_damaged_file_is_refused_unchanged(tmp_path: Path) -> None:
    path = new_file(tmp_path)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")  # (1 stands for 65536)
    page_size = 65536 if page_size == 1 else page_size
    data[page_size * 2 : page_size * 2 + 64] = b"\xff" * 64  # scribble over a table page
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(EngagementFileError, match="damaged"):
        open_engagement(path)  # the private copy is checked, not the original (which may change meanwhile)
    assert path.read_bytes() == before
    assert not lock_path_for(path).exists()


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    path = new_file(tmp_path)
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(EngagementFileError, match="truncated"):
        open_engagement(path)


def test_every_released_schema_fixture_opens() -> None:
    fixtures = sorted(FIXTURES.glob("schema-v*.ztmm"))
    assert [f.name for f in fixtures] == [f"schema-v{v}.ztmm" for v in range(1, migrations.SCHEMA_VERSION + 1)]
    for fixture in fixtures:
        with open_engagement(fixture, readonly=True) as engagement:
            assert engagement.meta().client == "Fixture Client Ltd"
            assert engagement.results()["identity.authentication"].current is Stage.INITIAL


def test_migration_backs_up_then_upgrades_the_working_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.ztmm"
    shutil.copy(FIXTURES / "schema-v1.ztmm", path)
    before = path.read_bytes()

    def add_column(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE engagement ADD COLUMN sector VARCHAR NOT NULL DEFAULT ''")

    future = migrations.SCHEMA_VERSION + 1
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", future)
    monkeypatch.setattr("ztmm_desktop.store.document.SCHEMA_VERSION", future)
    monkeypatch.setitem(migrations.MIGRATIONS, future - 1, add_column)
    document = EngagementDocument.open(path)
    try:
        assert document.migrated_from == 1
        assert document.backup_path is not None and document.backup_path.read_bytes() == before
        assert path.read_bytes() == before  # the document changes only when saved
        conn = sqlite3.connect(document.working)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == future
        assert "evidence" in {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "sector" in {row[1] for row in conn.execute("PRAGMA table_info(engagement)")}
        conn.close()
    finally:
        document.close()


def test_edits_live_in_the_working_copy_until_saved(tmp_path: Path) -> None:
    path = new_file(tmp_path)
    before = path.read_bytes()
    engagement = open_engagement(path)
    engagement.assess("1.1", ratings={Stage.INITIAL: Rating.MET})
    assert path.read_bytes() == before
    engagement.save()
    engagement.close()
    with open_engagement(path, readonly=True) as again:
        assert again.results()["identity.authentication"].current is Stage.INITIAL


COPY_CHECK = textwrap.dedent(
    """
    import sqlite3, sys
    from pathlib import Path
    from ztmm_desktop.services.engagement import open_engagement
    path = Path(sys.argv[1])
    print(sqlite3.connect(path).execute("PRAGMA quick_check").fetchone()[0])
    with open_engagement(path, readonly=True) as e:
        print(sum(1 for a in e.assessments().values() if a.ratings))
    """
)


def test_copy_of_the_document_taken_while_open_has_every_saved_edit(tmp_path: Path) -> None:
    path = new_file(tmp_path)
    engagement = open_engagement(path)
    try:
        functions = list(engagement.catalog.functions())[:12]
        for function in functions:
            engagement.assess(function.id, ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: "seen"})
        engagement.save()
        copy = tmp_path / "copied-while-open.ztmm"
        shutil.copyfile(path, copy)  # only the document, as a sync client or a user would
        result = subprocess.run(
            [sys.executable, "-c", COPY_CHECK, str(copy)], capture_output=True, text=True, cwd=ROOT, check=True
        )
        assert result.stdout.split() == ["ok", "12"]
    finally:
        engagement.close()


def test_second_opener_is_told_who_holds_the_document_until_holder_dies(tmp_path: Path) -> None:
    path = new_file(tmp_path)
    with held_open(path) as holder:
        with pytest.raises(DocumentLocked) as caught:
            open_engagement(path)
        assert f"process {holder.pid}" in str(caught.value)
        with open_engagement(path, readonly=True) as readonly:  # read-only is always possible
            assert readonly.readonly
    with open_engagement(path) as engagement:  # the dead holder's lock is reclaimed
        engagement.assess("1.2", ratings={Stage.INITIAL: Rating.PARTIAL})
        engagement.save()


def test_orphaned_working_copy_is_offered_and_recovered(tmp_path: Path) -> None:
    path = new_file(tmp_path)
    engagement = open_engagement(path)
    engagement.assess("2.1", ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: "unsaved"})
    engagement.document.abandon()  # as if the app had died without saving
    (orphan,) = orphaned_working_copies()
    assert orphan.document == path
    with open_engagement(path, recover=orphan) as recovered:
        assert recovered.assessment("2.1").rating(Stage.INITIAL).comment == "unsaved"
        recovered.save()
    assert orphaned_working_copies() == []


def test_save_refuses_to_overwrite_a_document_changed_on_disk(tmp_path: Path) -> None:
    path = new_file(tmp_path)
    engagement = open_engagement(path)
    try:
        engagement.assess("1.1", ratings={Stage.INITIAL: Rating.MET})
        other = new_file(tmp_path, "other.ztmm")
        os.replace(other, path)  # a sync client dropped another version in place
        replaced = path.read_bytes()
        with pytest.raises(EngagementFileError, match="changed on disk since it was opened"):
            engagement.save()
        assert path.read_bytes() == replaced
        target = tmp_path / "mine.ztmm"
        engagement.save_as(target)
        assert engagement.path == target and not lock_path_for(path).exists() and lock_path_for(target).exists()
    finally:
        engagement.close()


def test_opening_a_missing_file_leaves_no_lock_behind(tmp_path: Path) -> None:
    missing = tmp_path / "gone.ztmm"
    with pytest.raises(EngagementFileError, match=r"gone\.ztmm: no such file"):
        open_engagement(missing)
    assert list(tmp_path.iterdir()) == []


def test_a_crashed_read_only_session_leaves_nothing_to_recover(tmp_path: Path) -> None:
    path = new_file(tmp_path)
    viewer = open_engagement(path, readonly=True)
    viewer.document.abandon()
    assert orphaned_working_copies() == []
    assert viewer.document.working is None  # read in place: there never was a copy
    assert not any((data_dir() / "working").glob("*"))


def test_a_schema_1_file_gains_evidence_after_migration(tmp_path: Path) -> None:
    import io

    from ztmm_desktop.services import evidence

    path = tmp_path / "old.ztmm"
    shutil.copy(FIXTURES / "schema-v1.ztmm", path)
    with open_engagement(path) as engagement:
        assert engagement.document.migrated_from == 1
        evidence.attach_stream(engagement, io.BytesIO(b"new"), original_name="n.txt", expected_size=3,
                               links=[evidence.parse_link(engagement, "1.1")])  # fmt: skip
        engagement.save()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
    conn.close()
    with open_engagement(path, readonly=True) as again:
        assert [e.original_name for e in evidence.list_evidence(again)] == ["n.txt"]
        assert again.assessment("1.1").rating(Stage.INITIAL).comment == "fixture"


def test_a_schema_2_file_gains_responses_after_migration(tmp_path: Path) -> None:
    from ztmm_desktop.core.responses import Answer
    from ztmm_desktop.services import logo, questionnaire

    path = tmp_path / "old.ztmm"
    shutil.copy(FIXTURES / "schema-v2.ztmm", path)
    before = path.read_bytes()
    with open_engagement(path) as engagement:
        assert engagement.document.migrated_from == 2
        assert engagement.document.backup_path is not None and engagement.document.backup_path.read_bytes() == before
        assert questionnaire.responses(engagement) == []
        assert logo.read_logo(engagement) is None
        out = questionnaire.export_questionnaire(engagement, tmp_path / "q.xlsx", respondent="Client", scope=["1"])
        plan = questionnaire.read_responses(engagement, out)
        assert plan.differences == ()  # nothing answered yet
        engagement.save()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
    assert "response" in {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    with open_engagement(FIXTURES / "schema-v3.ztmm", readonly=True) as v3:
        [answer] = questionnaire.responses(v3)
        assert (answer.respondent, answer.answer, answer.comment) == (
            "Fixture Respondent",
            Answer.PARTIAL,
            "fixture answer",
        )
        fixture_logo = logo.read_logo(v3)
        assert fixture_logo is not None and (fixture_logo.name, fixture_logo.media_type) == (
            "fixture-logo.png",
            "image/png",
        )


def test_a_schema_3_file_gains_baselines_after_migration(tmp_path: Path) -> None:
    from ztmm_desktop.services import baselines

    path = tmp_path / "old.ztmm"
    shutil.copy(FIXTURES / "schema-v3.ztmm", path)
    before = path.read_bytes()
    with open_engagement(path) as engagement:
        assert engagement.document.migrated_from == 3
        assert engagement.document.backup_path is not None and engagement.document.backup_path.read_bytes() == before
        assert baselines.list_baselines(engagement) == []
        baselines.freeze_baseline(engagement, "After migration", by="Tester")
        engagement.assess("1.1", ratings={Stage.ADVANCED: Rating.MET})
        [changed] = baselines.compare_with_baseline(engagement, "After migration").changed
        assert (changed.function.code, changed.then and changed.then.current, changed.now.current) == (
            "1.1",
            Stage.INITIAL,
            Stage.ADVANCED,
        )
        engagement.save()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
    assert conn.execute("SELECT name FROM baseline").fetchall() == [("After migration",)]
    conn.close()
    with open_engagement(FIXTURES / "schema-v4.ztmm", readonly=True) as v4:
        [frozen] = baselines.list_baselines(v4)
        assert (frozen.name, frozen.created_by, frozen.functions) == ("Fixture baseline", "Fixture Assessor", 40)
        assert [f.function.code for f in baselines.compare_with_baseline(v4, "Fixture baseline").changed] == ["1.2"]


def test_a_schema_4_file_gains_workshops_after_migration(tmp_path: Path) -> None:
    from ztmm_desktop.services import workshops

    path = tmp_path / "old.ztmm"
    shutil.copy(FIXTURES / "schema-v4.ztmm", path)
    before = path.read_bytes()
    with open_engagement(path) as engagement:
        assert engagement.document.migrated_from == 4
        assert engagement.document.backup_path is not None and engagement.document.backup_path.read_bytes() == before
        assert workshops.list_workshops(engagement) == [] and workshops.running(engagement) is None
        assert workshops.tags(engagement, "1.1") == {}  # old audit rows belong to no workshop
        day = workshops.create_workshop(engagement, workshops.WorkshopDraft("2026-12-01", "After migration"))
        workshops.start(engagement, day.id)
        engagement.assess("1.1", ratings={Stage.ADVANCED: Rating.MET})
        workshops.stop(engagement)
        assert [tag.title for tag in workshops.tags(engagement, "1.1").values()] == ["After migration"]
        engagement.save()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION >= 5
    assert conn.execute("SELECT title, status FROM workshop").fetchall() == [("After migration", "held")]
    conn.close()
    with open_engagement(FIXTURES / "schema-v5.ztmm", readonly=True) as v5:
        [fixture] = workshops.list_workshops(v5)
        assert (fixture.title, fixture.status, fixture.attendees) == (
            "Fixture workshop",
            "held",
            (workshops.Attendee("Fixture Attendee", "CISO", "Fixture Client Ltd"),),
        )
        assert workshops.tags(v5, "1.1") == {} and workshops.tags(v5, "1.2") == {}
        assert list(workshops.tags(v5, "1.3")) == [("initial", "rating")]


def test_schema_6_names_each_workshop_alike_in_copies_migrated_apart(tmp_path: Path) -> None:
    """Two colleagues' copies of a schema 5 file, each opened by the new version on its own laptop,
    give the fixture's workshop the same uid, and key its audit rows by it, so the copies still merge."""
    from ztmm_desktop.services import workshops

    copies = []
    for name in ("mine.ztmm", "theirs.ztmm"):
        path = tmp_path / name
        shutil.copy(FIXTURES / "schema-v5.ztmm", path)
        with open_engagement(path) as engagement:
            assert engagement.document.migrated_from == 5
            [fixture] = workshops.list_workshops(engagement)
            engagement.assess("1.4", ratings={Stage.INITIAL: Rating.MET})  # a change, so the file is saved
            engagement.save()
        conn = sqlite3.connect(path)
        keys = conn.execute("SELECT DISTINCT key FROM audit WHERE entity = 'workshop'").fetchall()
        conn.close()
        copies.append((fixture.uid, keys))
    (uid, keys), other = copies
    assert other == (uid, keys) and keys == [(uid,)] and len(uid) == 36
    with open_engagement(tmp_path / "mine.ztmm") as engagement:
        made = workshops.create_workshop(engagement, workshops.WorkshopDraft("2026-12-02", "Second day"))
        assert made.uid != uid and made.id == 2


def test_a_schema_6_file_gains_the_registers_after_migration(tmp_path: Path) -> None:
    """A schema 6 file migrates: old findings are open with no register fields, and every new
    record (sections, document control, the consultancy's logo, finding fields, actions) can be written."""
    from ztmm_desktop.core.register import Recipient, VersionLine
    from ztmm_desktop.services import actions, logo, register
    from ztmm_desktop.services.engagement import FindingDraft

    path = tmp_path / "old.ztmm"
    shutil.copy(FIXTURES / "schema-v6.ztmm", path)
    before = path.read_bytes()
    with open_engagement(path) as engagement:
        assert engagement.document.migrated_from == 6
        assert engagement.document.backup_path is not None and engagement.document.backup_path.read_bytes() == before
        assert register.read_sections(engagement).filled() == []
        assert register.read_control(engagement).empty
        assert register.read_report_options(engagement) == register.ReportOptions("A4", False)
        assert logo.read_consultancy_logo(engagement) is None
        assert actions.list_actions(engagement) == []
        register.set_sections(engagement, {"scope": "Identity only."}, by="Lead assessor")
        register.update_control(
            engagement,
            consultancy="Example Advisory",
            history=[VersionLine("1.0", "2026-12-05", "Lead assessor", "Issued")],
            distribution=[Recipient("Identity team lead", "Fixture Client Ltd", "Owner")],
            paper="Letter",
            by="Lead assessor",
        )
        key, _ = engagement.add_finding(
            "1.1", "After migration", owner="Identity team lead", due_date="2027-01-31", likelihood=2, impact=5
        )
        engagement.update_finding(key, FindingDraft("After migration", status="resolved", likelihood=2, impact=5))
        actions.add_action(engagement, "1.1", actions.ActionDraft("Enforce MFA", "now", "S"))
        engagement.save()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION >= 7
    assert conn.execute("SELECT key, text FROM engagement_section").fetchall() == [("scope", "Identity only.")]
    assert conn.execute("SELECT consultancy, paper, vendor_neutral FROM engagement").fetchone() == (
        "Example Advisory",
        "Letter",
        0,
    )
    assert conn.execute("SELECT status, likelihood, impact, due_date FROM finding").fetchall() == [
        ("resolved", 2, 5, None)
    ]
    assert conn.execute("SELECT text, phase, effort FROM action").fetchall() == [("Enforce MFA", "now", "S")]
    conn.close()


def test_the_schema_7_fixture_holds_every_register() -> None:
    from ztmm_desktop.services import actions, logo
    from ztmm_desktop.services.deliverables import build_snapshot

    with open_engagement(FIXTURES / "schema-v7.ztmm", readonly=True) as engagement:
        snapshot = build_snapshot(engagement, prepared_by="Lead assessor")
        assert logo.read_consultancy_logo(engagement) is not None
        assert len(actions.list_actions(engagement)) == 2
    assert snapshot.sections.executive_summary == "Fixture summary"
    assert snapshot.control.consultancy == "Fixture Consultancy"
    assert [v.version for v in snapshot.control.history] == ["1.0"]
    assert (snapshot.control.reviewed_on, snapshot.control.approved_on) == ("2026-12-04", "2026-12-05")
    assert (snapshot.meta.paper, snapshot.meta.vendor_neutral) == ("Letter", True)
    [finding] = snapshot.findings
    assert (finding.owner, finding.due_date, finding.status, finding.risk_rating) == (
        "Fixture Owner",
        "2027-03-31",
        "in-progress",
        "High",
    )
    first, second = snapshot.actions
    assert (first.text, first.phase, second.after) == ("Fixture action", "now", first.id)


def _copy_rows(source: Path) -> Callable[[sqlite3.Connection], None]:
    """An ``initialise`` for ``write_new``: the frozen steps, then every row of ``source``."""

    def initialise(conn: sqlite3.Connection) -> None:
        migrations.create_baseline(conn)
        with sqlite3.connect(source) as src:
            tables = [r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                rows = src.execute(f'SELECT * FROM "{table}"').fetchall()
                if rows and not table.startswith("sqlite_"):
                    marks = ", ".join("?" * len(rows[0]))
                    conn.executemany(f'INSERT OR REPLACE INTO main."{table}" VALUES ({marks})', rows)

    return initialise


def test_a_document_written_whole_is_one_plain_file_that_passes_the_gate(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    source = new_file(tmp_path / "src")
    folder = tmp_path / "out"
    folder.mkdir()
    target = EngagementDocument.write_new(folder / "copy.ztmm", _copy_rows(source))
    assert sorted(p.name for p in folder.iterdir()) == ["copy.ztmm"]  # no journal, clone or lock left beside it
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA page_size").fetchone()[0] == 16384
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    with open_engagement(target, readonly=True) as copied, open_engagement(source, readonly=True) as original:
        assert copied.properties() == original.properties()


def test_a_document_written_whole_leaves_nothing_when_it_fails_and_never_replaces_a_file(tmp_path: Path) -> None:
    def failing(conn: sqlite3.Connection) -> None:
        migrations.create_baseline(conn)
        raise RuntimeError("the server went away")

    with pytest.raises(RuntimeError, match="went away"):
        EngagementDocument.write_new(tmp_path / "copy.ztmm", failing)
    assert list(tmp_path.iterdir()) == []
    mine = tmp_path / "mine.ztmm"
    mine.write_bytes(b"my own work")
    with pytest.raises(EngagementFileError, match="already exists"):
        EngagementDocument.write_new(mine, migrations.create_baseline)
    assert mine.read_bytes() == b"my own work" and [p.name for p in tmp_path.iterdir()] == ["mine.ztmm"]
