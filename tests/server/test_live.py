"""Live co-editing: each edit one transaction on the server, seen by the other sessions, conflicts refused."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_cli
from tests.support.live import Published, publish, url_with_password
from tests.support.team import Server
from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.server.connect import ServerError
from ztmm_desktop.server.live import RESYNC, Applied, Change, Conflict, Edit, LiveSession, State
from ztmm_desktop.server.url import parse
from ztmm_desktop.services import team

WAIT = 10  # seconds a delivery may take before the test gives up (a bound, not a measurement)


@pytest.fixture
def published(server: Server, realistic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Published:
    monkeypatch.setenv("ZTMM_DATA_DIR", str(tmp_path / "appdata"))
    return publish(server, realistic, tmp_path)[0]


@pytest.fixture
def sessions(server: Server, published: Published, tmp_path: Path) -> Iterator[tuple[LiveSession, LiveSession]]:
    lead = LiveSession.open(url_with_password(server, published.lead, published.engagement), prompt=None)
    assessor = LiveSession.open(url_with_password(server, published.assessor, published.engagement), prompt=None)
    try:
        yield lead, assessor
    finally:
        lead.close()
        assessor.close()


def _changes(session: LiveSession) -> queue.Queue[object]:
    seen: queue.Queue[object] = queue.Queue()
    session.subscribe(seen.put)
    return seen


def _next_change(seen: queue.Queue[object]) -> Change:
    while True:
        event = seen.get(timeout=WAIT)
        if isinstance(event, Change) and event is not RESYNC:
            return event


def _audit(server: Server, published: Published) -> list[tuple[object, ...]]:
    return server.cluster.sql(
        f'SELECT by, entity, key, field, old, new FROM "e_{published.engagement}".audit ORDER BY id', db=server.db
    )


def test_an_edit_is_committed_with_its_author_and_reaches_the_other_session(
    server: Server, published: Published, sessions: tuple[LiveSession, LiveSession]
) -> None:
    lead, assessor = sessions
    seen = _changes(assessor)
    function = lead.engagement.functions_in_scope()[0]
    before = assessor.engagement.assessment(function.id).ratings[Stage.INITIAL].rating  # read (and cached)
    new = Rating.PARTIAL if before is not Rating.PARTIAL else Rating.MET
    done = lead.rate(function.id, Stage.INITIAL, new, base=before)
    assert isinstance(done, Applied) and done.changed

    change = _next_change(seen)
    assert (change.table, change.key, change.field, change.seq) == (
        "stage_rating",
        f"{function.id}/initial",
        "rating",
        done.seq,
    )
    assert not change.mine
    assert assessor.engagement.assessment(function.id).ratings[Stage.INITIAL].rating is new  # cache dropped
    assert _audit(server, published)[-1] == (
        published.lead,
        "stage",
        f"{function.id}/initial",
        "rating",
        before.value,
        new.value,
    )
    logged = server.cluster.sql(
        "SELECT seq, by, entity, key, field FROM ztmm.edit WHERE edit_id = %s", (done.edit_id,), db=server.db
    )
    assert logged == [(done.seq, published.lead, "stage_rating", f"{function.id}/initial", "rating")]


def test_notes_target_override_and_comments_are_edited_live(sessions: tuple[LiveSession, LiveSession]) -> None:
    lead, assessor = sessions
    function = lead.engagement.functions_in_scope()[5]
    fid = function.id
    lead.assess(fid, "notes", "seen at the workshop", base=lead.value("function_assessment", fid, "notes"))
    lead.assess(fid, "target", "advanced", base=lead.value("function_assessment", fid, "target"))
    lead.assess(
        fid, "override", ("optimal", "compensating control"), base=lead.value("function_assessment", fid, "override")
    )
    lead.assess(fid, "confidence", "High", base=lead.value("function_assessment", fid, "confidence"))
    lead.assess(fid, "owner", "CISO office", base=lead.value("function_assessment", fid, "owner"))
    lead.comment(fid, Stage.OPTIMAL, "no evidence yet", base=lead.value("stage_rating", f"{fid}/optimal", "comment"))
    seen = assessor.engagement.assessment(fid)
    assert seen.notes == "seen at the workshop"
    assert seen.target is Stage.ADVANCED
    assert (seen.override_stage, seen.override_reason) == (Stage.OPTIMAL, "compensating control")
    assert seen.confidence == "high" and seen.owner == "CISO office"
    assert seen.ratings[Stage.OPTIMAL].comment == "no evidence yet"
    lead.assess(fid, "override", None, base=("optimal", "compensating control"))
    lead.assess(fid, "target", None, base="advanced")
    assert assessor.value("function_assessment", fid, "override") is None
    assert assessor.value("function_assessment", fid, "target") is None


def test_a_field_changed_meanwhile_is_a_conflict_never_overwritten(
    server: Server, published: Published, sessions: tuple[LiveSession, LiveSession]
) -> None:
    lead, assessor = sessions
    fid = lead.engagement.functions_in_scope()[1].id
    base = assessor.value("function_assessment", fid, "notes")  # both start from the same notes
    lead.assess(fid, "notes", "the lead's notes", base=base)
    with pytest.raises(Conflict) as raised:
        assessor.assess(fid, "notes", "the assessor's notes", base=base)
    conflict = raised.value
    assert (conflict.field, conflict.base, conflict.theirs, conflict.mine) == (
        "notes",
        base,
        "the lead's notes",
        "the assessor's notes",
    )
    assert lead.value("function_assessment", fid, "notes") == "the lead's notes"  # not overwritten
    assert server.cluster.sql(  # nothing of the refused edit on the server
        "SELECT count(*) FROM ztmm.edit WHERE edit_id = %s", (conflict.edit.edit_id,), db=server.db
    ) == [(0,)]
    kept = assessor.keep_mine(conflict)  # resolved: keep mine
    assert isinstance(kept, Applied) and kept.changed
    assert lead.value("function_assessment", fid, "notes") == "the assessor's notes"
    notes_rows = [r for r in _audit(server, published) if r[2] == fid and r[3] == "notes"]
    assert [r[0] for r in notes_rows[-2:]] == [published.lead, published.assessor]


def test_an_edit_sent_twice_is_applied_once(
    server: Server, published: Published, sessions: tuple[LiveSession, LiveSession]
) -> None:
    lead, _ = sessions
    fid = lead.engagement.functions_in_scope()[2].id
    edit = Edit("function_assessment", fid, "notes", lead.value("function_assessment", fid, "notes"), "once")
    first, again = lead.submit(edit), lead.submit(edit)  # e.g. a replay after a lost answer
    assert isinstance(first, Applied) and first.changed
    assert again == Applied(edit.edit_id, first.seq, False)
    assert [r for r in _audit(server, published) if r[2] == fid and r[5] == "once"] == [
        (published.lead, "function", fid, "notes", "", "once")
    ]


def test_findings_are_added_changed_and_removed_live(sessions: tuple[LiveSession, LiveSession]) -> None:
    lead, assessor = sessions
    fid = lead.engagement.functions_in_scope()[3].id
    finding_id, done = lead.add_finding(fid, {"title": "MFA gaps", "severity": "high", "likelihood": 4})
    assert isinstance(done, Applied)
    (found,) = (f for f in assessor.engagement.findings() if f.id == finding_id)
    assert (found.title, found.severity, found.likelihood, found.created_by) == ("MFA gaps", "high", 4, lead.login)
    assessor.set_finding(finding_id, "title", "MFA gaps on VPN", base="MFA gaps")
    with pytest.raises(Conflict):
        lead.set_finding(finding_id, "title", "MFA gaps (all)", base="MFA gaps")
    assert lead.value("finding", finding_id, "title") == "MFA gaps on VPN"
    lead.remove_finding(finding_id)
    assert all(f.id != finding_id for f in assessor.engagement.findings())
    assert isinstance(assessor.remove_finding(finding_id), Applied)  # gone already: nothing to do


def test_bad_values_are_refused_before_anything_is_sent(
    server: Server, published: Published, sessions: tuple[LiveSession, LiveSession]
) -> None:
    lead, _ = sessions
    fid = lead.engagement.functions_in_scope()[0].id
    before = server.cluster.sql("SELECT count(*) FROM ztmm.edit", db=server.db)
    for table, key, field, value, message in (
        ("stage_rating", f"{fid}/initial", "rating", "excellent", "unknown rating"),
        ("stage_rating", f"{fid}/traditional", "rating", "met", "not rated"),
        ("function_assessment", fid, "confidence", "sure", "unknown confidence"),
        ("function_assessment", fid, "override", ("optimal", " "), "needs a reason"),
        ("function_assessment", fid, "notes", "x" * 200_001, "limit"),
        ("function_assessment", fid, "updated_by", "someone", "cannot change"),
        ("audit", "1", "by", "someone", "cannot change"),
    ):
        with pytest.raises(BadInput, match=message):
            lead.submit(Edit(table, key, field, None, value))
    assert server.cluster.sql("SELECT count(*) FROM ztmm.edit", db=server.db) == before
    assert lead.queued == 0


def test_a_reviewer_cannot_edit_nor_anyone_forge_an_author(server: Server, published: Published) -> None:
    reviewer = LiveSession.open(url_with_password(server, published.reviewer, published.engagement), prompt=None)
    try:
        assert reviewer.role == "reviewer" and reviewer.state is State.ONLINE
        fid = reviewer.engagement.functions_in_scope()[0].id
        with pytest.raises(ServerError, match="may not change this engagement"):
            reviewer.assess(fid, "notes", "a reviewer's note", base=reviewer.value("function_assessment", fid, "notes"))
        assert reviewer.queued == 0
    finally:
        reviewer.close()
    with (
        psycopg.connect(
            server.cluster.conninfo(published.assessor, server.passwords[published.assessor], server.db)
        ) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),  # not even the column: the database writes it
    ):
        conn.execute(
            "INSERT INTO ztmm.edit (engagement, edit_id, entity, key, field, by) VALUES (%s, %s, 'x', 'x', 'x', %s)",
            (published.engagement, "0" * 32, published.lead),
        )


def test_a_notification_carries_no_text(
    server: Server, published: Published, sessions: tuple[LiveSession, LiveSession]
) -> None:
    lead, _ = sessions
    outsider = server.login("outsider")  # any login may LISTEN on any channel
    heard: list[str] = []
    ready, done = threading.Event(), threading.Event()

    def listen() -> None:
        with psycopg.connect(
            server.cluster.conninfo(outsider, server.passwords[outsider], server.db), autocommit=True
        ) as conn:
            conn.execute(f"LISTEN ztmm_{published.engagement}")
            ready.set()
            for note in conn.notifies(timeout=WAIT, stop_after=1):
                heard.append(note.payload)
            done.set()

    thread = threading.Thread(target=listen)
    thread.start()
    assert ready.wait(WAIT)
    fid = lead.engagement.functions_in_scope()[0].id
    secret = "the client's firewall has no rules"
    lead.assess(fid, "notes", secret, base=lead.value("function_assessment", fid, "notes"))
    thread.join(WAIT)
    assert len(heard) == 1
    seq, table, key, field = json.loads(heard[0])
    assert (table, key, field) == ("function_assessment", fid, "notes") and isinstance(seq, int)
    assert secret not in heard[0]


def test_the_registry_shows_the_progress_of_live_ratings(server: Server, published: Published) -> None:
    def progress() -> float:
        rows = server.cluster.sql(
            "SELECT progress FROM ztmm.engagement WHERE id = %s", (published.engagement,), db=server.db
        )
        return float(str(rows[0][0]))

    before = progress()
    session = LiveSession.open(url_with_password(server, published.assessor, published.engagement), prompt=None)
    fid = session.engagement.functions_in_scope()[5].id  # (the first two are overridden: assessed regardless)
    for stage in (Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL):  # one function fewer assessed
        rating = session.engagement.assessment(fid).ratings[stage].rating
        if rating is not Rating.NOT_ASSESSED:
            session.rate(fid, stage, Rating.NOT_ASSESSED, base=rating)
    session.close()  # the start page's progress follows (once, on close)
    # the same figure as the dashboard's and info's "N of M functions assessed"
    shown = run_cli(
        "info", server.url(published.assessor, published.engagement), "--json", env=server.env(published.assessor)
    )
    assert shown.returncode == 0, shown.stderr
    overall = json.loads(shown.stdout)["overall"]
    assert overall["assessed"] == overall["functions"] - 1
    assert progress() == pytest.approx(overall["assessed"] / overall["functions"], abs=1e-6) and progress() < before


def test_a_command_on_the_url_reaches_live_sessions_too(
    server: Server, published: Published, sessions: tuple[LiveSession, LiveSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, assessor = sessions
    seen = _changes(assessor)
    fid = assessor.engagement.functions_in_scope()[7].id
    assessor.engagement.assessments()  # cached
    monkeypatch.setenv("PGPASSWORD", server.passwords[published.lead])
    with team.server_engagement(parse(server.url(published.lead, published.engagement)), prompt=None) as copy:
        copy.assess(fid, note="written through a copy", by="Lead")  # as ztmm assess URL does
    change = _next_change(seen)
    assert change.table == "*" and not change.mine  # re-read everything
    assert assessor.engagement.assessment(fid).notes == "written through a copy"


def test_opening_refuses_a_wrong_password_and_an_engagement_one_may_not_see(
    server: Server, published: Published, tmp_path: Path
) -> None:
    wrong = server.url(published.assessor, published.engagement).replace(
        f"//{published.assessor}@", f"//{published.assessor}:not-the-password@", 1
    )
    with pytest.raises(ServerError, match="password authentication failed") as raised:
        LiveSession.open(wrong, prompt=None, queue=tmp_path / "q.sqlite")
    assert "not-the-password" not in str(raised.value) and "\n" not in str(raised.value)
    outsider = server.login("outsider")
    with pytest.raises(ServerError, match=f"no engagement {published.engagement} that you may open"):
        LiveSession.open(url_with_password(server, outsider, published.engagement), prompt=None)


def test_roadmap_actions_are_added_changed_and_removed_live(
    server: Server, published: Published, sessions: tuple[LiveSession, LiveSession]
) -> None:
    lead, assessor = sessions
    fid = lead.engagement.functions_in_scope()[4].id
    first, _ = lead.add_action(fid, {"text": "Enforce MFA", "phase": "now", "effort": "S"})
    second, _ = assessor.add_action(fid, {"text": "Retire VPN", "after_id": first})
    with pytest.raises(BadInput, match="cycle"):  # the service's own check, on the server's rows
        lead.set_action(first, "after_id", second, base=None)
    assessor.set_action(first, "owner", "IT operations", base="")
    with pytest.raises(Conflict):
        lead.set_action(first, "owner", "Security team", base="")
    removed = lead.remove_action(first)  # the service reads every action first: inside the same transaction
    assert isinstance(removed, Applied) and removed.changed
    assert assessor.value("action", second, "after_id") is None  # what came after it no longer does
    assert server.cluster.sql(
        "SELECT count(*) FROM ztmm.edit WHERE edit_id = %s", (removed.edit_id,), db=server.db
    ) == [(1,)]
    trail = [r for r in _audit(server, published) if r[1] == "action"]
    assert (published.lead, "action", first, "removed", "Enforce MFA", None) in trail
    assert (published.lead, "action", second, "after_id", first, None) in trail


def test_a_stage_edit_writes_what_assess_writes_and_is_checked_like_any_edit(
    server: Server, published: Published, sessions: tuple[LiveSession, LiveSession]
) -> None:
    """Ratings and comments take a shorter way to the server than the other edits (one statement, not the
    ORM): the same rows, the same audit row, the same conflicts, replays and refusals."""
    lead, assessor = sessions
    schema_name = f"e_{published.engagement}"
    fid = lead.engagement.functions_in_scope()[4].id
    key = f"{fid}/advanced"
    (workshop,) = server.cluster.sql(
        f'INSERT INTO "{schema_name}".workshop (uid, date, title, pillars, functions, notes, status) '
        "VALUES ('w-live', '2026-01-05', 'Live', '[]', '[]', '', 'running') RETURNING id",
        db=server.db,
    )[0]
    before = assessor.engagement.assessment(fid).ratings[Stage.ADVANCED].rating  # read (and cached)
    new = Rating.PARTIAL if before is not Rating.PARTIAL else Rating.MET
    done = lead.rate(fid, Stage.ADVANCED, new, base=before)
    assert isinstance(done, Applied) and done.changed

    def rows() -> tuple[list[tuple[object, ...]], ...]:
        return (
            server.cluster.sql(
                f'SELECT rating, comment, updated_at, updated_by FROM "{schema_name}".stage_rating '
                "WHERE function_id = %s AND stage = 'advanced'",
                (fid,),
                db=server.db,
            ),
            server.cluster.sql(
                f'SELECT updated_at, updated_by FROM "{schema_name}".function_assessment WHERE function_id = %s',
                (fid,),
                db=server.db,
            ),
            server.cluster.sql(
                f'SELECT at, by, entity, key, field, old, new, workshop_id FROM "{schema_name}".audit '
                "WHERE key = %s ORDER BY id",
                (key,),
                db=server.db,
            ),
        )

    stage, function, trail = rows()
    at = str(stage[0][2])
    assert at and stage[0][0] == new.value and stage[0][3] == published.lead
    assert function == [(at, published.lead)]
    assert trail[-1] == (at, published.lead, "stage", key, "rating", before.value, new.value, workshop)
    assert assessor.engagement.assessment(fid).ratings[Stage.ADVANCED].rating is new  # its cache dropped

    with pytest.raises(Conflict) as raised:  # the assessor still starts from the old rating
        assessor.rate(fid, Stage.ADVANCED, Rating.NOT_MET, base=before)
    assert (raised.value.base, raised.value.theirs, raised.value.mine) == (
        before.value,
        new.value,
        Rating.NOT_MET.value,
    )
    assert server.cluster.sql(
        "SELECT count(*) FROM ztmm.edit WHERE edit_id = %s", (raised.value.edit.edit_id,), db=server.db
    ) == [(0,)]
    same = assessor.rate(fid, Stage.ADVANCED, new, base=before)  # what the server holds already: nothing to do
    assert isinstance(same, Applied) and not same.changed
    edit = Edit("stage_rating", key, "comment", stage[0][1], "seen in the logs")
    first, again = assessor.submit(edit), assessor.submit(edit)  # e.g. a replay after a lost answer
    assert first.changed and again == Applied(edit.edit_id, first.seq, False)
    stage_after, function_after, trail_after = rows()
    assert stage_after[0][:2] == (new.value, "seen in the logs") and stage_after[0][3] == published.assessor
    assert function_after[0][1] == published.assessor
    assert [r[1:] for r in trail_after[len(trail) :]] == [
        (published.assessor, "stage", key, "comment", stage[0][1], "seen in the logs", workshop)
    ]  # the conflict, the edit that changed nothing and the replay left no audit row

    reviewer = LiveSession.open(url_with_password(server, published.reviewer, published.engagement), prompt=None)
    try:
        with pytest.raises(ServerError, match="may not change this engagement"):
            reviewer.rate(fid, Stage.ADVANCED, Rating.NOT_MET, base=new)
        assert reviewer.queued == 0
    finally:
        reviewer.close()

    server.cluster.sql(  # a stage without its row yet: the ordinary way makes it
        f"DELETE FROM \"{schema_name}\".stage_rating WHERE function_id = %s AND stage = 'optimal'", (fid,), db=server.db
    )
    made = lead.rate(fid, Stage.OPTIMAL, Rating.MET, base=Rating.NOT_ASSESSED)
    assert isinstance(made, Applied) and made.changed
    assert lead.value("stage_rating", f"{fid}/optimal", "rating") == "met"


def test_a_live_rating_and_comment_write_exactly_what_assess_writes_on_the_file(
    server: Server, published: Published, sessions: tuple[LiveSession, LiveSession], realistic: Path, tmp_path: Path
) -> None:
    """The stage edits' own statement (no ORM) against ``Engagement.assess`` on a copy of the file that was
    published: every column of the stage's and the function's rows and the new audit rows, but for the
    time and the author, are the same. Should ``assess`` ever write something more, this fails."""
    import shutil

    from ztmm_desktop.services.engagement import open_engagement

    lead, _assessor = sessions
    schema_name = f"e_{published.engagement}"
    fid = lead.engagement.functions_in_scope()[6].id
    before = lead.engagement.assessment(fid).ratings[Stage.ADVANCED]
    new = Rating.PARTIAL if before.rating is not Rating.PARTIAL else Rating.MET
    text = "seen in the change records"
    assert isinstance(lead.rate(fid, Stage.ADVANCED, new, base=before.rating), Applied)
    assert isinstance(lead.comment(fid, Stage.ADVANCED, text, base=before.comment), Applied)

    path = tmp_path / "same.ztmm"
    shutil.copyfile(realistic, path)
    with open_engagement(path) as engagement:
        engagement.assess(fid, ratings={Stage.ADVANCED: new}, by="Someone")
        engagement.assess(fid, comments={Stage.ADVANCED: text}, by="Someone")
        engagement.save()

    skip = {"updated_at", "updated_by", "at", "by", "id"}

    def server_rows(query: str) -> list[dict[str, object]]:
        with psycopg.connect(server.cluster.conninfo(db=server.db)) as conn:
            conn.execute(f'SET search_path = "{schema_name}"')
            cur = conn.execute(query, (fid,))
            names = [d.name for d in cur.description or ()]
            return [{k: v for k, v in zip(names, row, strict=True) if k not in skip} for row in cur.fetchall()]

    def file_rows(query: str) -> list[dict[str, object]]:
        return [
            {k: v for k, v in row.items() if k not in skip}
            for row in _file_rows(path, query.replace("%s", "?"), (fid,))
        ]

    for query in (
        "SELECT * FROM stage_rating WHERE function_id = %s ORDER BY stage",
        "SELECT * FROM function_assessment WHERE function_id = %s",
    ):
        assert server_rows(query) == file_rows(query), query
    audit = "SELECT * FROM audit WHERE key = %s || '/advanced' ORDER BY id"
    assert server_rows(audit)[-2:] == file_rows(audit)[-2:]
    assert [r["field"] for r in file_rows(audit)[-2:]] == ["rating", "comment"]


def _file_rows(path: Path, query: str, params: tuple[object, ...] = ()) -> list[dict[str, object]]:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(query, params)]
    finally:
        conn.close()
