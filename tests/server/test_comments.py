"""Reviewers' comments on findings: read and added on the server, by any member in their own name only,
never changed or deleted, never in a checked-out file, and in a deliverable only when asked.

Against the session's real cluster: the services, ``ztmm comment``/``ztmm comments`` in a child
process, and direct SQL as each member's own login (what ``psql`` would do).
"""

from __future__ import annotations

import json
import queue
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from psycopg import errors

from tests.conftest import run_cli
from tests.support.pg import Cluster, free_port
from tests.support.team import NO_PGPASS, Server
from tests.test_report import flat, pdftotext
from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.server import schema
from ztmm_desktop.server.connect import ServerError
from ztmm_desktop.server.url import ServerUrl, parse
from ztmm_desktop.server.watch import Remote, Watch
from ztmm_desktop.services import comments, team
from ztmm_desktop.services.deliverables import build_snapshot


@dataclass
class Firm:
    server: Server
    lead: str
    assessor: str
    reviewer: str
    outsider: str
    a: str
    b: str

    def url(self, role: str, engagement: str | None = None) -> ServerUrl:
        url = parse(self.server.url(role, engagement or self.a))
        return replace(url, password=self.server.passwords[role])

    def conn(self, role: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.server.cluster.conninfo(role, self.server.passwords[role], db=self.server.db))

    def rows(self) -> list[tuple[object, ...]]:
        """Every comment of every engagement, as the DBA sees them."""
        return self.server.cluster.sql(
            "SELECT engagement, finding_id, by, text FROM ztmm.finding_comment ORDER BY id", db=self.server.db
        )

    def findings(self) -> list[str]:
        with self.conn(self.lead) as conn:
            return [str(r[0]) for r in conn.execute(f"SELECT id FROM e_{self.a}.finding ORDER BY created_at, id")]


@pytest.fixture(scope="module")
def firm(pg_cluster: Cluster, realistic: Path) -> Iterator[Firm]:
    """Engagement A (lead, assessor, reviewer) and B (the outsider's own, of which the others are not members)."""
    db = f"rev{secrets.token_hex(4)}"
    pg_cluster.database(db)
    server = Server(pg_cluster, db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PGPASSFILE", NO_PGPASS)
        patch.setenv("PGPASSWORD", pg_cluster.password)
        schema.init(parse(pg_cluster.url(db=db)), prompt=None)
        lead, assessor, reviewer, outsider = (server.login(n) for n in ("lead", "assessor", "reviewer", "outsider"))
        a, b = f"a_{db}", f"b_{db}"
        patch.setenv("PGPASSWORD", server.passwords[lead])
        team.publish(realistic, parse(server.url(lead, a)), prompt=None)
        team.set_member(parse(server.url(lead, a)), assessor, "assessor", prompt=None)
        team.set_member(parse(server.url(lead, a)), reviewer, "reviewer", prompt=None)
        patch.setenv("PGPASSWORD", server.passwords[outsider])
        team.publish(realistic, parse(server.url(outsider, b)), prompt=None)
    yield Firm(server, lead, assessor, reviewer, outsider, a, b)


def test_a_reviewer_comments_in_their_own_name_and_every_member_reads_them_oldest_first(firm: Firm) -> None:
    first, second = firm.findings()[:2]
    done = comments.add_comment(firm.url(firm.reviewer), first, "  Which system does this cover?  ", prompt=None)
    assert (done.comment.by, done.comment.text, done.comment.finding_id) == (
        firm.reviewer,
        "Which system does this cover?",
        first,
    )
    assert done.finding_title
    comments.add_comment(firm.url(firm.assessor), first[:6], "The HR system; noted in the observation.", prompt=None)
    comments.add_comment(firm.url(firm.lead), second, "Severity looks high to me.", prompt=None)

    for role in (firm.lead, firm.assessor, firm.reviewer):
        read = comments.read_comments(firm.url(role), prompt=None)
        mine = [c for c in read if c.finding_id == first]
        assert [(c.by, c.text) for c in mine][-2:] == [
            (firm.reviewer, "Which system does this cover?"),
            (firm.assessor, "The HR system; noted in the observation."),
        ]
        assert all(c.at.endswith("+00:00") for c in read)
        assert [c.at for c in read] == sorted(c.at for c in read)
        assert (second, firm.lead, "Severity looks high to me.") in [(c.finding_id, c.by, c.text) for c in read]


def test_bad_comments_are_refused_with_one_line_and_write_nothing(firm: Firm) -> None:
    finding = firm.findings()[0]
    before = firm.rows()
    cases: list[tuple[str, str, type[Exception], str]] = [
        ("no_such_finding", "text", BadInput, "no finding 'no_such_finding' in engagement"),
        (finding, "   \n ", BadInput, "the comment is empty"),
        (finding, "x" * 20_001, BadInput, "the comment is 20,001 characters long; the limit is 20,000"),
        (finding, "a\x00b", BadInput, "NUL"),
        (finding, "bad \udc80 text", BadInput, "not valid Unicode"),
    ]
    for key, text, kind, message in cases:
        with pytest.raises(kind, match=message) as raised:
            comments.add_comment(firm.url(firm.reviewer), key, text, prompt=None)
        assert "\n" not in str(raised.value)
    with pytest.raises(ServerError, match=r"no engagement .* that you may open"):
        comments.add_comment(firm.url(firm.outsider), finding, "from outside", prompt=None)
    with pytest.raises(ServerError, match=r"no engagement .* that you may open"):
        comments.read_comments(firm.url(firm.outsider), prompt=None)
    assert firm.rows() == before


def test_a_comment_cannot_be_changed_deleted_forged_or_read_from_outside(firm: Firm) -> None:
    finding = firm.findings()[0]
    comments.add_comment(firm.url(firm.reviewer), finding, "to be kept as written", prompt=None)
    before = firm.rows()
    for role in (firm.reviewer, firm.assessor, firm.lead):
        with firm.conn(role) as conn:
            for statement in (
                "UPDATE ztmm.finding_comment SET text = 'rewritten'",
                "UPDATE ztmm.finding_comment SET by = 'someone'",
                "DELETE FROM ztmm.finding_comment",
                "TRUNCATE ztmm.finding_comment",
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(statement)
                conn.rollback()
            with pytest.raises(errors.InsufficientPrivilege):  # the author is the database's: never named
                conn.execute(
                    "INSERT INTO ztmm.finding_comment (engagement, finding_id, text, by) VALUES (%s, %s, 'x', %s)",
                    (firm.a, finding, firm.lead),
                )
            conn.rollback()
            with pytest.raises(errors.InsufficientPrivilege):  # nor the time
                conn.execute(
                    "INSERT INTO ztmm.finding_comment (engagement, finding_id, text, at) VALUES (%s, %s, 'x', now())",
                    (firm.a, finding),
                )
            conn.rollback()
    with firm.conn(firm.outsider) as conn:  # a member of B only: row-level security hides A's comments
        assert conn.execute(
            "SELECT count(*) FROM ztmm.finding_comment WHERE engagement = %s", (firm.a,)
        ).fetchone() == (0,)
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO ztmm.finding_comment (engagement, finding_id, text) VALUES (%s, %s, 'x')",
                (firm.a, finding),
            )
    assert firm.rows() == before


def test_a_checkout_carries_no_comments(firm: Firm, tmp_path: Path) -> None:
    marker = "comment-marker-" + secrets.token_hex(6)
    comments.add_comment(firm.url(firm.reviewer), firm.findings()[0], marker, prompt=None)
    copy = tmp_path / "copy.ztmm"
    team.checkout(firm.url(firm.reviewer), copy, prompt=None)
    assert marker.encode() not in copy.read_bytes()
    conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    assert not any("comment" in t for t in tables)


def test_a_new_comment_reaches_a_watching_window_with_its_author_and_never_its_text(firm: Firm) -> None:
    seen: queue.Queue[Remote] = queue.Queue()
    raw: list[str] = []
    watch = Watch(firm.url(firm.assessor), seen.put)
    listener = psycopg.connect(
        firm.server.cluster.conninfo(firm.outsider, firm.server.passwords[firm.outsider], db=firm.server.db),
        autocommit=True,
    )
    try:
        listener.execute(f'LISTEN "ztmm_{firm.a}"')  # any login may LISTEN: the payload must say nothing
        assert watch.listening.wait(10)
        finding = firm.findings()[1]
        secret = "only for members " + secrets.token_hex(4)
        done = comments.add_comment(firm.url(firm.reviewer), finding, secret, prompt=None)
        remote = seen.get(timeout=10)
        raw += [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    finally:
        watch.close()
        listener.close()
    assert (remote.table, remote.key, remote.author, remote.seq) == (
        "finding_comment",
        finding,
        firm.reviewer,
        done.comment.id,
    )
    assert json.loads(raw[0]) == [done.comment.id, "finding_comment", finding, "text"]
    assert secret not in raw[0]


# -- the command line ---------------------------------------------------------------------------


def _cli(firm: Firm, role: str, *args: str | Path) -> tuple[int, str, str]:
    done = run_cli(*args, env=firm.server.env(role))
    return done.returncode, done.stdout, done.stderr


def test_ztmm_comment_and_comments(firm: Firm) -> None:
    url = firm.server.url(firm.reviewer, firm.a)
    finding = firm.findings()[2]
    text = "Evidence for this is a screenshot only — ask for the export."
    code, out, err = _cli(firm, firm.reviewer, "comment", url, finding[:8], text)
    assert code == 0, err
    assert f"({finding})" in out and f"as {firm.reviewer}" in out
    code, out, err = _cli(firm, firm.lead, "comments", firm.server.url(firm.lead, firm.a), "--json")
    assert code == 0, err
    listed = {item["finding"]: item for item in json.loads(out)}
    assert listed[finding]["title"]
    assert [(c["by"], c["text"]) for c in listed[finding]["comments"]][-1] == (firm.reviewer, text)
    code, out, err = _cli(firm, firm.assessor, "comments", firm.server.url(firm.assessor, firm.a))
    assert code == 0, err
    assert f"{firm.reviewer}: {text}" in out and finding[:8] in out


def test_bad_comment_commands_get_one_line_exit_2_and_write_nothing(
    firm: Firm, realistic: Path, tmp_path: Path
) -> None:
    finding = firm.findings()[0]
    url = firm.server.url(firm.reviewer, firm.a)
    local = tmp_path / "local.ztmm"
    shutil.copyfile(realistic, local)
    before, file_before = firm.rows(), local.read_bytes()
    unreachable = url.replace(f"{firm.server.cluster.host}:{firm.server.cluster.port}", f"127.0.0.1:{free_port()}")
    cases: dict[str, tuple[str, tuple[str | Path, ...], str]] = {
        "unknown finding": (firm.reviewer, ("comment", url, "nosuchfinding", "text"), "no finding 'nosuchfinding'"),
        "empty text": (firm.reviewer, ("comment", url, finding, "  "), "the comment is empty"),
        "not a member": (
            firm.outsider,
            ("comment", firm.server.url(firm.outsider, firm.a), finding, "text"),
            "that you may open",
        ),
        "a file": (firm.reviewer, ("comment", local, finding, "text"), "comments on findings live on the team server"),
        "a file listed": (firm.reviewer, ("comments", local), "comments on findings live on the team server"),
        "unreachable": (firm.reviewer, ("comment", unreachable, finding, "text"), "cannot connect"),
        "no engagement": (
            firm.reviewer,
            ("comments", firm.server.url(firm.reviewer)),
            "needs the engagement",
        ),
        "report of a file": (
            firm.reviewer,
            ("report", local, tmp_path / "r.pdf", "--review-comments"),
            "comments on findings live on the team server",
        ),
        "workbook of a file": (
            firm.reviewer,
            ("export", local, tmp_path / "w.xlsx", "--review-comments"),
            "comments on findings live on the team server",
        ),
    }
    for case, (role, args, expected) in cases.items():
        code, out, err = _cli(firm, role, *args)
        assert code == 2, (case, out, err)
        assert out == "" and err.startswith("error: ") and err.count("\n") == 1, (case, err)
        assert expected in err, (case, err)
    assert firm.rows() == before
    assert local.read_bytes() == file_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local.ztmm"]


# -- deliverables --------------------------------------------------------------------------------


def test_the_report_and_workbook_print_review_comments_only_when_asked(firm: Firm, tmp_path: Path) -> None:
    finding = firm.findings()[3]
    text = "Reviewed: the recommendation should name the owner " + secrets.token_hex(3)
    comments.add_comment(firm.url(firm.reviewer), finding, text, prompt=None)
    url = firm.server.url(firm.lead, firm.a)
    plain, reviewed = tmp_path / "plain.pdf", tmp_path / "reviewed.pdf"
    assert _cli(firm, firm.lead, "report", url, plain)[0] == 0
    code, _out, err = _cli(firm, firm.lead, "report", url, reviewed, "--review-comments")
    assert code == 0, err
    assert "Review comments" not in flat(pdftotext(plain)) and text not in flat(pdftotext(plain))
    shown = flat(pdftotext(reviewed))
    assert "Review comments" in shown and text in shown and f"{firm.reviewer} ·" in shown

    word = tmp_path / "reviewed.docx"
    code, _out, err = _cli(firm, firm.lead, "report", url, word, "--review-comments")
    assert code == 0, err
    from docx import Document

    paragraphs = [p.text for p in Document(str(word)).paragraphs]
    assert "Review comments" in paragraphs and any(text in p for p in paragraphs)

    plain_book, reviewed_book = tmp_path / "plain.xlsx", tmp_path / "reviewed.xlsx"
    assert _cli(firm, firm.lead, "export", url, plain_book)[0] == 0
    code, _out, err = _cli(firm, firm.lead, "export", url, reviewed_book, "--review-comments")
    assert code == 0, err
    plain_sheet = load_workbook(plain_book)["Findings"]
    sheet = load_workbook(reviewed_book)["Findings"]
    header = [c.value for c in sheet[3]]
    assert header[-1] == "Review comments" and "Review comments" not in [c.value for c in plain_sheet[3]]
    assert any(text in str(row[-1].value or "") for row in sheet.iter_rows(min_row=4))
    # every other cell of the findings register is what the plain workbook has
    plain_rows = [[c.value for c in row] for row in plain_sheet.iter_rows(min_row=4)]
    reviewed_rows = [[c.value for c in row][:-1] for row in sheet.iter_rows(min_row=4)]
    assert reviewed_rows == plain_rows


def test_comments_change_no_figure_of_the_deliverable(firm: Firm) -> None:
    comments.add_comment(firm.url(firm.reviewer), firm.findings()[0], "a figure check", prompt=None)
    read = comments.read_comments(firm.url(firm.lead), prompt=None)
    with team.server_engagement(firm.url(firm.lead), readonly=True, prompt=None) as engagement:
        plain = build_snapshot(engagement, generated_at="2026-01-01T00:00:00+00:00")
        reviewed = build_snapshot(engagement, generated_at="2026-01-01T00:00:00+00:00", review_comments=read)
    assert reviewed.review_comments and not plain.review_comments
    assert set(reviewed.review_comments) <= {f.id for f in reviewed.findings}
    assert replace(reviewed, review_comments={}) == plain
