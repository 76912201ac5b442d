"""A save applies only what changed since the last save, and the document is what a whole save makes.

The working copy marks the tables each edit writes (``store.working.Changes``); the save applies those
tables to a clone of the document (a table only appended to, like the audit trail, gets its new rows).
Whatever was edited, the saved document must hold exactly what applying the whole working copy to
the same clone holds: every row of every table, the evidence bytes included. A session killed between
an edit and its save is recovered and saved whole.
"""

from __future__ import annotations

import errno
import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.hostile_templates import png
from ztmm_desktop.core.errors import DocumentLocked, EngagementFileError
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import baselines, logo, workshops
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement
from ztmm_desktop.store import document as store
from ztmm_desktop.store.document import apply_working_copy, clone_file, orphaned_working_copies

Rows = dict[str, list[tuple[object, ...]]]


def every_row(path: Path) -> Rows:
    """Every row of every table (sorted), and the schema version, of an engagement file."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        rows: Rows = {t: sorted(conn.execute(f'SELECT * FROM "{t}"'), key=repr) for t in tables}
        rows["user_version"] = [tuple(conn.execute("PRAGMA user_version").fetchone())]
        return rows
    finally:
        conn.close()


def whole_apply(document: Path, working: Path, out: Path) -> Rows:
    """What the save made before it tracked changes: the document cloned, every table of ``working`` applied."""
    out.unlink(missing_ok=True)
    clone_file(document, out)
    apply_working_copy(working, out)
    try:
        return every_row(out)
    finally:
        out.unlink()


def attach_note(engagement: Engagement, text: str, link: str = "1.1/initial") -> str:
    data = text.encode()
    attached = ev.attach_stream(
        engagement,
        io.BytesIO(data),
        original_name=f"{text[:12]}.txt",
        expected_size=len(data),
        links=[ev.parse_link(engagement, link)],
        media_type="text/plain",
    )
    return attached.evidence.id


def _finding_id(engagement: Engagement, title: str) -> str:
    with engagement.reading() as conn:
        return str(conn.execute("SELECT id FROM finding WHERE title = ?", (title,)).fetchone()[0])


def _first_workshop(engagement: Engagement) -> int:
    return workshops.list_workshops(engagement)[0].id


EDITS: list[tuple[str, Callable[[Engagement], object]]] = [
    ("nothing", lambda e: None),
    ("a rating", lambda e: e.assess("1.3", ratings={Stage.INITIAL: Rating.MET})),
    ("a comment on the same rating", lambda e: e.assess("1.3", comments={Stage.INITIAL: "seen on site"})),
    ("a finding", lambda e: e.add_finding("1.3", "Stale accounts", observation="42 of them")),
    ("a second finding", lambda e: e.add_finding("2.1", "Unmanaged laptops")),
    ("an evidence item", lambda e: attach_note(e, "interview notes, first day")),
    ("another evidence item", lambda e: attach_note(e, "configuration export", "2.1/advanced")),
    ("an evidence link", lambda e: ev.set_links(e, ev.list_evidence(e)[0].id, [ev.parse_link(e, "1.3/initial")])),
    ("a workshop", lambda e: workshops.create_workshop(e, workshops.WorkshopDraft("2026-11-20", "Identity day"))),
    ("a workshop started", lambda e: workshops.start(e, _first_workshop(e))),
    ("a rating during it", lambda e: e.assess("1.2", ratings={Stage.ADVANCED: Rating.PARTIAL})),
    ("a workshop stopped", lambda e: workshops.stop(e)),
    ("a baseline", lambda e: baselines.freeze_baseline(e, "Before remediation")),
    ("a finding deleted", lambda e: e.remove_finding(_finding_id(e, "Stale accounts"))),
    ("a logo", lambda e: logo.set_logo(e, logo.check_logo(png("navy"), "client.png"))),
    ("the logo removed", lambda e: logo.set_logo(e, None)),
    ("an evidence item removed", lambda e: ev.remove(e, ev.list_evidence(e)[-1].id)),
    ("its bytes compacted", lambda e: ev.compact(e)),
    ("a baseline deleted", lambda e: baselines.delete_baseline(e, "Before remediation")),
    ("the properties", lambda e: e.update_properties(Properties(client="Contoso Ltd", title="Second pass"))),
]


@pytest.mark.parametrize("frequent", [False, True], ids=["clone at save", "onto the window's spare"])
def test_each_save_after_an_edit_is_what_a_whole_save_makes(tmp_path: Path, frequent: bool) -> None:
    document = tmp_path / "changes.ztmm"
    create_engagement(document, Properties(client="Contoso")).close()
    with open_engagement(document, frequent_saves=frequent) as engagement:
        attach_note(engagement, "a note attached before the first save")
        working = engagement.document.working
        assert working is not None
        for what, edit in EDITS:
            edit(engagement)
            expected = whole_apply(document, working, tmp_path / "whole.ztmm")
            engagement.save()
            assert every_row(document) == expected, f"after {what}"
    with open_engagement(document, readonly=True) as again:  # the file gate, where it lies
        assert len(ev.list_evidence(again)) == 2
        assert {f.title for f in again.findings()} == {"Unmanaged laptops"}


def test_a_failed_save_is_applied_again_by_the_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changes a save applied to its clone, which then did not replace the document, are not forgotten."""
    document = tmp_path / "failed.ztmm"
    create_engagement(document, Properties(client="Contoso")).close()
    with open_engagement(document) as engagement:
        engagement.assess("1.3", ratings={Stage.INITIAL: Rating.MET})
        engagement.add_finding("1.3", "Stale accounts")

        def disk_error(path: Path) -> None:
            raise OSError(errno.EIO, "Input/output error")

        with monkeypatch.context() as patch:
            patch.setattr(store, "fsync_file", disk_error)  # after the changes went into the clone
            with pytest.raises(EngagementFileError, match="cannot save"):
                engagement.save()
        working = engagement.document.working
        assert working is not None
        expected = whole_apply(document, working, tmp_path / "whole.ztmm")
        engagement.save()
        assert every_row(document) == expected
    with sqlite3.connect(document) as conn:
        assert conn.execute("SELECT title FROM finding").fetchall() == [("Stale accounts",)]


SESSION = textwrap.dedent(
    """
    import io, sys, time
    from pathlib import Path
    from ztmm_desktop.core.stages import Rating, Stage
    from ztmm_desktop.services import evidence as ev
    from ztmm_desktop.services.engagement import open_engagement

    engagement = open_engagement(Path(sys.argv[1]))
    engagement.assess("1.3", ratings={Stage.INITIAL: Rating.MET})
    engagement.save()  # the changes so far are the document's: the next save would apply what follows
    engagement.add_finding("1.3", "Killed before its save")
    engagement.assess("1.3", comments={Stage.INITIAL: "after the save"})
    data = b"notes written after the save"
    ev.attach_stream(engagement, io.BytesIO(data), original_name="late.txt", expected_size=len(data),
                     links=[ev.parse_link(engagement, "2.1/initial")])
    print("edited", flush=True)
    time.sleep(600)
    """
)


def test_a_session_killed_between_edit_and_save_is_recovered_and_saved_whole(tmp_path: Path) -> None:
    document = tmp_path / "killed.ztmm"
    create_engagement(document, Properties(client="Contoso")).close()
    child = subprocess.Popen(
        [sys.executable, "-c", SESSION, str(document)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "edited"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    (orphan,) = orphaned_working_copies()
    expected = whole_apply(document, orphan.working, tmp_path / "whole.ztmm")
    with open_engagement(document, recover=orphan) as recovered:
        recovered.save()
    saved = every_row(document)
    assert saved == expected
    assert [row[3] for row in saved["finding"]] == ["Killed before its save"]
    assert [row[4] for row in saved["evidence"]] == ["late.txt"]
    assert "after the save" in {row[3] for row in saved["stage_rating"]}


KILLED_SAVE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ztmm_desktop.core.stages import Rating, Stage
    from ztmm_desktop.services.engagement import open_engagement
    from ztmm_desktop.store import document as store

    applied = store.apply_working_copy

    def apply_then_stop(*args, **kwargs):  # the clone beside the document is complete, not yet renamed
        result = applied(*args, **kwargs)
        print("saving", args[1].name, flush=True)
        time.sleep(600)
        return result

    store.apply_working_copy = apply_then_stop
    engagement = open_engagement(Path(sys.argv[1]))
    engagement.assess("1.3", ratings={Stage.INITIAL: Rating.MET})
    engagement.save()
    """
)


def _saving(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".saving" in p.name)


def test_a_save_killed_before_its_rename_leaves_a_clone_the_next_editing_open_removes(tmp_path: Path) -> None:
    document = tmp_path / "killed.ztmm"
    neighbour = tmp_path / "neighbour.ztmm"
    create_engagement(document, Properties(client="Contoso")).close()
    create_engagement(neighbour, Properties(client="Fabrikam")).close()

    def start_save(path: Path) -> tuple[subprocess.Popen[str], str]:
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED_SAVE, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=dict(os.environ),
        )
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert line[:1] == ["saving"], line
        return child, line[1]

    def kill(child: subprocess.Popen[str]) -> None:
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.stdout is not None
        child.stdout.close()

    killed, clone = start_save(document)
    kill(killed)
    assert _saving(tmp_path) == [clone] and clone.startswith(".killed.ztmm.")
    live, live_clone = start_save(neighbour)  # another process, alive, in the middle of its save
    try:
        with open_engagement(document, readonly=True):
            assert clone in _saving(tmp_path), "a read-only open removed a file"
        with pytest.raises(DocumentLocked):  # the live holder's document is never touched
            open_engagement(neighbour)
        for orphan in orphaned_working_copies():
            if orphan.document == document:
                with open_engagement(document, recover=orphan) as recovered:  # the lock is ours: the leftover goes
                    assert _saving(tmp_path) == [live_clone]
                    recovered.save()
        assert _saving(tmp_path) == [live_clone], "the live save's clone must stay"
    finally:
        kill(live)
    with open_engagement(neighbour) as engagement:  # its holder is dead: the lock and the leftover are reclaimed
        assert _saving(tmp_path) == []
        engagement.save()
    assert _saving(tmp_path) == []
