"""A colleague's copy is input from outside: merging a damaged or forged one never harms my file.

Each case makes a real change in the other copy (so its audit trail offers the
record to the merge), then alters the stored value behind the app's back, as a
hostile or damaged file would hold it. ``ztmm merge`` (and ``--dry-run``) must
end in exit 2 with one line naming the record and the value, with my file
byte for byte as it was, nothing left in the data folder, and my file still
readable by every command.
"""

from __future__ import annotations

import io
import json
import resource
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import run_cli
from tests.support.inprocess import assert_refused_in_process, ztmm
from ztmm_desktop.core import merge as core
from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.core.responses import Answer
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import actions, baselines, evidence, workshops
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.services.logo import check_logo, set_logo
from ztmm_desktop.services.merge import plan_merge
from ztmm_desktop.services.questionnaire import record_responses
from ztmm_desktop.store.document import orphaned_working_copies


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "navy").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """My file, and a colleague's copy carrying one record of every kind a merge brings."""
    mine, theirs = tmp_path / "contoso.ztmm", tmp_path / "contoso-colleague.ztmm"
    create_engagement(mine, Properties(client="Contoso Ltd")).close()
    shutil.copy(mine, theirs)
    with open_engagement(theirs) as engagement:
        engagement.update_properties(Properties(client="Contoso Group", title="ZT 2026"), by="Second assessor")
        set_logo(engagement, check_logo(png(), "contoso.png"), by="Second assessor")
        engagement.assess("1.1", ratings={Stage.INITIAL: Rating.MET}, confidence="high", by="Second assessor")
        engagement.add_finding("1.1", "Legacy protocols enabled", severity="high", by="Second assessor")
        evidence.attach_stream(
            engagement, io.BytesIO(b"a config export"), original_name="fw.txt", expected_size=15,
            links=[evidence.parse_link(engagement, "1.1/initial")], by="Second assessor",
        )  # fmt: skip
        workshops.create_workshop(
            engagement, workshops.WorkshopDraft("2026-12-01", "Identity day"), by="Second assessor"
        )
        record_responses(
            engagement, "Client CISO", [("1.1", Stage.ADVANCED, Answer.PARTIAL, "pilot")], source_name="call"
        )
        baselines.freeze_baseline(engagement, "Workshop 1", by="Second assessor")
        actions.add_action(engagement, "1.1", actions.ActionDraft("Enforce MFA", "now", "M"), by="Second assessor")
        engagement.save()
    return mine, theirs


def tamper(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA ignore_check_constraints = ON")  # as a hostile file's maker would
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


POISON: list[tuple[str, tuple[str, ...], str]] = [
    ("finding stage", ("UPDATE finding SET stage = 'bogus'",), "finding "),
    ("finding severity", ("UPDATE finding SET severity = 'apocalyptic'",), "severity 'apocalyptic'"),
    ("finding likelihood", ("UPDATE finding SET likelihood = 9",), "likelihood 9"),
    ("evidence link stage", ("UPDATE evidence_link SET stage = 'bogus'",), "linked stage 'bogus'"),
    ("evidence link function", ("UPDATE evidence_link SET function_id = 'x.y'",), "linked function 'x.y'"),
    ("evidence link empty", ("UPDATE evidence_link SET function_id = NULL, stage = NULL",), "neither a function"),
    ("evidence kind", ("UPDATE evidence SET kind = 'selfie'",), "kind 'selfie'"),
    ("evidence size", ("UPDATE evidence SET size = 'big'",), "size 'big'"),
    ("evidence size 2^63", ("UPDATE evidence SET size = 9223372036854775807",), "size 9223372036854775807"),
    ("evidence name NUL", ("UPDATE evidence SET original_name = 'a' || char(0) || 'b'",), "NUL character"),
    ("baseline stage", ("UPDATE baseline_function SET current = 'bogus'",), "current stage 'bogus'"),
    ("baseline ratings", ("UPDATE baseline_function SET ratings = 'not json'",), "ratings 'not json'"),
    ("baseline rollups", ("UPDATE baseline SET rollups = '[1]'",), "rollups '[1]'"),
    ("logo bytes", ("UPDATE engagement_logo SET data = X'89504E470D0A1A0A00'",), "logo contoso.png is"),
    ("logo type", ("UPDATE engagement_logo SET media_type = 'image/svg+xml'",), "logo type 'image/svg+xml'"),
    ("logo text", ("UPDATE engagement_logo SET data = 'text'",), "logo data is a str"),
    ("workshop title", ("UPDATE workshop SET title = 'a' || char(10) || 'b'",), "title is not one line"),
    ("workshop date", ("UPDATE workshop SET date = 'tomorrow'",), "date 'tomorrow'"),
    ("workshop start", ("UPDATE workshop SET started_at = X'00'",), "started at is binary data"),
    ("response answer", ("UPDATE response SET answer = 'maybe'",), "answer 'maybe'"),
    ("action effort", ("UPDATE action SET effort = 'XL'",), "effort 'XL'"),
    ("function confidence", ("UPDATE function_assessment SET confidence = 'extreme'",), "confidence 'extreme'"),
    ("rating", ("UPDATE stage_rating SET rating = 'excellent'",), "rating 'excellent'"),
    ("scope", ("UPDATE engagement SET scope = '[\"moon\"]'",), "scope names 'moon'"),
    ("client NULL-ish", ("UPDATE engagement SET client = ''",), "client is empty"),
    ("comment too long", ("UPDATE engagement SET title = zeroblob(10)",), "title is binary data"),
]


@pytest.mark.parametrize(("statements", "message"), [p[1:] for p in POISON], ids=[p[0] for p in POISON])
def test_a_poisoned_record_is_refused_before_anything_is_written(
    pair: tuple[Path, Path], statements: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    mine, theirs = pair
    tamper(theirs, *statements)
    before, theirs_before = mine.read_bytes(), theirs.read_bytes()
    for extra in ((), ("--dry-run",)):
        result = ztmm(capsys, "merge", mine, theirs, *extra)
        assert_refused_in_process(result, "the other copy's")
        assert message in result.err and "nothing merged" in result.err
    assert mine.read_bytes() == before and theirs.read_bytes() == theirs_before
    assert orphaned_working_copies() == []
    for command in (("info", mine, "--json"), ("verify", mine), ("evidence", mine)):
        assert ztmm(capsys, *command).code == 0


def test_the_same_copy_unpoisoned_merges(pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """The control: the fixture's records are sound, so each refusal above is the poison's."""
    mine, theirs = pair
    result = ztmm(capsys, "merge", mine, theirs)
    assert result.code == 0, result.err
    data = json.loads(ztmm(capsys, "info", mine, "--json").out)
    assert data["engagement"]["client"] == "Contoso Group" and data["findings"] == 1 and data["actions"] == 1


def test_evidence_whose_size_disagrees_with_bytes_already_here_is_refused(
    pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    mine, theirs = pair
    with open_engagement(mine) as engagement:  # the same bytes, attached here too
        evidence.attach_stream(engagement, io.BytesIO(b"a config export"), original_name="same.txt",
                               expected_size=15, links=[evidence.parse_link(engagement, "2.1")])  # fmt: skip
        engagement.save()
    tamper(theirs, "UPDATE evidence SET size = 14")
    before = mine.read_bytes()
    result = ztmm(capsys, "merge", mine, theirs)
    assert_refused_in_process(result, "size 14 does not match its bytes; nothing merged")
    assert mine.read_bytes() == before


def test_altered_evidence_bytes_in_the_other_copy_are_not_copied(
    pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    mine, theirs = pair
    tamper(theirs, "UPDATE blob_chunk SET data = CAST('a config EXPORT' AS BLOB)")
    before = mine.read_bytes()
    result = ztmm(capsys, "merge", mine, theirs)
    assert_refused_in_process(result, "bytes changed (SHA-256 does not match); nothing merged")
    assert mine.read_bytes() == before


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE VIEW everything AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n",
        "CREATE TRIGGER forge AFTER UPDATE ON stage_rating BEGIN UPDATE stage_rating SET rating = 'met'; END",
    ],
    ids=["recursive view", "trigger"],
)
def test_a_copy_with_a_view_or_trigger_is_refused_at_once(
    pair: tuple[Path, Path], statement: str, capsys: pytest.CaptureFixture[str]
) -> None:
    mine, theirs = pair
    tamper(theirs, statement)
    before = mine.read_bytes()
    started = time.monotonic()
    result = ztmm(capsys, "merge", mine, theirs, "--dry-run")
    assert_refused_in_process(result, "that ZTMM Workbench does not make; not merged")
    assert time.monotonic() - started < 5
    assert mine.read_bytes() == before


def test_a_forged_merge_marker_is_read_as_ranges() -> None:
    marker = json.dumps({"from": "x", "upto": 1, "digest": "0" * 64, "rows": 10**8})
    undo = json.dumps({"marker": 2, "rows": 10**12})
    rows = [
        core.AuditRecord(1, "t", "a", "function", "f", "notes", None, "x"),
        core.AuditRecord(2, "t", "a", core.MERGE_ENTITY, "e", core.MERGED_FIELD, None, marker),
        core.AuditRecord(3, "t", "a", "function", "f", "owner", None, "y"),
        core.AuditRecord(4, "t", "a", core.MERGE_ENTITY, "2", core.UNDONE_FIELD, None, undo),
        core.AuditRecord(5, "t", "a", core.MERGE_ENTITY, "e", core.MERGED_FIELD, None, '{"rows": 3}'),
        core.AuditRecord(6, "t", "a", core.MERGE_ENTITY, "e", core.MERGED_FIELD, None, "[" * 100_000),
    ]
    started = time.monotonic()
    trail = core.read_trail(rows)
    assert 3 in trail.ignored and 10**11 in trail.ignored and 1 not in trail.ignored
    assert 6 in trail.written and 9 not in trail.written
    assert core.changed_since(trail, 0) == {("function", "f"): {"notes"}}
    assert time.monotonic() - started < 1


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))


def test_a_forged_merge_marker_in_the_other_copy_does_not_exhaust_memory(pair: tuple[Path, Path]) -> None:
    """A real process limited to 1.5 GB: expanding rows=10^8 one id at a time took several GB."""
    mine, theirs = pair
    forged = json.dumps({"from": "x", "upto": 1, "digest": "0" * 64, "rows": 10**8})
    tamper(
        theirs,
        "INSERT INTO audit (at, by, entity, key, field, old, new) "
        f"VALUES ('2026-01-01T00:00:00+00:00', 'x', 'merge', 'e', 'merged', NULL, '{forged}')",
    )
    before = mine.read_bytes()
    result = run_cli("merge", mine, theirs, "--dry-run", preexec_fn=_limit_memory)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith("dry run, nothing changed")
    assert mine.read_bytes() == before


def test_the_service_the_window_calls_refuses_the_same_way(pair: tuple[Path, Path]) -> None:
    mine, theirs = pair
    tamper(theirs, "UPDATE finding SET stage = 'bogus'")
    before = mine.read_bytes()
    with open_engagement(mine) as engagement, pytest.raises(BadInput, match="stage 'bogus' is not a stage"):
        plan_merge(engagement, theirs)
    assert mine.read_bytes() == before
