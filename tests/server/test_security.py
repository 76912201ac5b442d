"""Who may do what is enforced by PostgreSQL itself; bad addresses and servers get one line and change nothing.

Everything here runs against the session's real cluster: direct SQL as each member's own
login (what ``psql`` would do), and ``ztmm`` in a child process for the one-line refusals.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from tests.conftest import run_cli
from tests.support.pg import Cluster, free_port
from tests.support.team import NO_PGPASS, Server
from ztmm_desktop.server import schema
from ztmm_desktop.server.url import parse
from ztmm_desktop.services import team

#: A password distinctive enough to be searched for in every output, log and stored row.
SECRET = "Pw-" + secrets.token_hex(12)


@dataclass
class Firm:
    server: Server
    lead: str
    assessor: str
    reviewer: str
    outsider: str
    a: str
    b: str

    def conn(self, role: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.server.cluster.conninfo(role, self.server.passwords[role], db=self.server.db))


@pytest.fixture(scope="module")
def firm(pg_cluster: Cluster, realistic: Path) -> Iterator[Firm]:
    """Two engagements, A (lead, assessor, reviewer) and B (only its lead, the outsider of A)."""
    db = f"sec{secrets.token_hex(4)}"
    pg_cluster.database(db)
    server = Server(pg_cluster, db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PGPASSFILE", NO_PGPASS)
        patch.setenv("PGPASSWORD", pg_cluster.password)
        schema.init(parse(pg_cluster.url(db=db)), prompt=None)
        lead, assessor, reviewer, outsider = (server.login(n) for n in ("lead", "assessor", "reviewer", "outsider"))
        server.passwords[lead] = SECRET
        pg_cluster.sql(f"ALTER ROLE \"{lead}\" PASSWORD '{SECRET}'")
        a, b = f"a_{db}", f"b_{db}"
        patch.setenv("PGPASSWORD", SECRET)
        team.publish(realistic, parse(server.url(lead, a)), prompt=None)
        team.set_member(parse(server.url(lead, a)), assessor, "assessor", prompt=None)
        team.set_member(parse(server.url(lead, a)), reviewer, "reviewer", prompt=None)
        patch.setenv("PGPASSWORD", server.passwords[outsider])
        team.publish(realistic, parse(server.url(outsider, b)), prompt=None)
    yield Firm(server, lead, assessor, reviewer, outsider, a, b)


def test_a_reviewer_reads_but_cannot_change_a_rating_with_direct_sql(firm: Firm) -> None:
    with firm.conn(firm.reviewer) as conn:
        assert conn.execute(f"SELECT count(*) FROM e_{firm.a}.stage_rating").fetchone()[0] > 90  # type: ignore[index]
        conn.rollback()
        for statement in (
            f"UPDATE e_{firm.a}.stage_rating SET rating = 'met'",
            f"DELETE FROM e_{firm.a}.finding",
            f"INSERT INTO e_{firm.a}.audit (at, by, entity, key, field) VALUES ('', 'x', 'x', 'x', 'x')",
            f"UPDATE ztmm.engagement SET client = 'x' WHERE id = '{firm.a}'",
            f"SELECT ztmm.update_registry('{firm.a}', 'x', 'x', null, null, 0)",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()


def test_a_reviewer_comments_on_findings_of_their_engagement_only(firm: Firm) -> None:
    with firm.conn(firm.reviewer) as conn:
        finding = conn.execute(f"SELECT id FROM e_{firm.a}.finding LIMIT 1").fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO ztmm.finding_comment (engagement, finding_id, text) VALUES (%s, %s, 'needs a date')",
            (firm.a, finding),
        )
        conn.commit()
        with pytest.raises(errors.InsufficientPrivilege):  # row-level security: not a member of B
            conn.execute(
                "INSERT INTO ztmm.finding_comment (engagement, finding_id, text) VALUES (%s, 'f', 'x')", (firm.b,)
            )
        conn.rollback()
        with pytest.raises(errors.InsufficientPrivilege):  # nor in someone else's name
            conn.execute(
                "INSERT INTO ztmm.finding_comment (engagement, finding_id, text, by) VALUES (%s, 'f', 'x', 'lead')",
                (firm.a,),
            )
    with firm.conn(firm.lead) as conn:
        assert conn.execute("SELECT by, text FROM ztmm.finding_comment").fetchall() == [(firm.reviewer, "needs a date")]


def test_an_assessor_edits_but_never_rewrites_the_audit_trail(firm: Firm) -> None:
    with firm.conn(firm.assessor) as conn:
        conn.execute(f"UPDATE e_{firm.a}.function_assessment SET notes = notes")  # allowed (rolled back)
        conn.rollback()
        for statement in (f"UPDATE e_{firm.a}.audit SET by = 'someone'", f"DELETE FROM e_{firm.a}.audit"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
        with pytest.raises(errors.InsufficientPrivilege, match="only a lead"):
            conn.execute("SELECT ztmm.set_member(%s, %s, 'lead')", (firm.a, firm.assessor))


def test_a_lead_manages_members_only_through_the_checked_functions(firm: Firm) -> None:
    """The group roles are granted without ADMIN OPTION: a lead cannot hand them out with a bare GRANT
    (which would bypass the membership list) nor take another engagement's."""
    with firm.conn(firm.lead) as conn:
        for statement in (
            f'GRANT "ztmm_{firm.a}_lead" TO "{firm.outsider}"',
            f'GRANT "ztmm_{firm.b}_reviewer" TO "{firm.lead}"',
            f'REVOKE "ztmm_{firm.a}_reviewer" FROM "{firm.reviewer}"',
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()


def test_a_member_of_a_cannot_read_b_nor_see_it_listed(firm: Firm) -> None:
    with firm.conn(firm.lead) as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"SELECT * FROM e_{firm.b}.finding")
        conn.rollback()
        assert conn.execute("SELECT id FROM ztmm.engagement").fetchall() == [(firm.a,)]
        assert {r[0] for r in conn.execute("SELECT engagement FROM ztmm.member")} == {firm.a}
        with pytest.raises(errors.InsufficientPrivilege):  # nor make themselves a member
            conn.execute("SELECT ztmm.set_member(%s, %s, 'reviewer')", (firm.b, firm.lead))
    with firm.conn(firm.outsider) as conn:
        assert conn.execute("SELECT id FROM ztmm.engagement").fetchall() == [(firm.b,)]
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"SELECT * FROM e_{firm.a}.stage_rating")


def _fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def newer_server(pg_cluster: Cluster) -> str:
    """A database whose server schema a later ztmm made."""
    db = f"newer{secrets.token_hex(4)}"
    pg_cluster.database(db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PGPASSFILE", NO_PGPASS)
        patch.setenv("PGPASSWORD", pg_cluster.password)
        schema.init(parse(pg_cluster.url(db=db)), prompt=None)
    pg_cluster.sql("UPDATE ztmm.alembic_version SET version_num = '9999'", db=db)
    pg_cluster.sql("GRANT ztmm_user TO postgres", db=db)
    return db


CASES = {
    "unreachable": ("cannot connect", "refused"),
    "wrong password": ("cannot connect", "password authentication failed"),
    "no password": ("cannot connect", "no password"),
    "not our database": ("holds no ZTMM engagements", "server init"),
    "unknown engagement": ("no engagement", "that you may open"),
    "engagement not visible": ("no engagement", "that you may open"),
    "server schema newer": ("newer than this ztmm", "upgrade ztmm"),
    "injected parameter": ("'options' is not accepted", ""),
    "second host": ("more than one host", ""),
}


#: Every bad case with every command it applies to (only checkout opens an engagement that exists).
COMBINATIONS = [
    (command, case)
    for command in ("checkout", "publish", "engagements")
    for case in sorted(CASES)
    if command == "checkout" or case not in ("unknown engagement", "engagement not visible")
]


@pytest.mark.parametrize(("command", "case"), COMBINATIONS)
def test_bad_servers_and_addresses_get_one_line_and_change_nothing(
    firm: Firm, newer_server: str, realistic: Path, tmp_path: Path, case: str, command: str
) -> None:
    cluster, server = firm.server.cluster, firm.server
    user, password, db, engagement = firm.lead, SECRET, server.db, f"new_{server.db}_{secrets.token_hex(3)}"
    host_port = f"{cluster.host}:{cluster.port}"
    if command == "checkout":
        engagement = firm.a
    if case == "unreachable":
        host_port = f"127.0.0.1:{free_port()}"
    elif case == "wrong password":
        password = "wrong-" + SECRET
    elif case == "no password":
        password = ""
    elif case == "not our database":
        db = "postgres"
    elif case == "unknown engagement":
        engagement = "no_such_engagement"
    elif case == "engagement not visible":
        engagement = firm.b
    elif case == "server schema newer":
        user, password, db = "postgres", cluster.password, newer_server
    query = f"?engagement={engagement}" if command != "engagements" else ""
    url = f"postgresql://{user}@{host_port}/{db}{query}"
    if case == "injected parameter":
        url += ("&" if query else "?") + "options=-c%20search_path%3Devil"
    elif case == "second host":
        url = url.replace(host_port, f"{host_port},127.0.0.1:1")

    folder = tmp_path / "local"
    folder.mkdir()
    source = folder / "source.ztmm"
    shutil.copyfile(realistic, source)
    before = _fingerprint(folder)
    args = {"checkout": ("checkout", url, folder / "copy.ztmm"), "publish": ("publish", source, url)}
    args["engagements"] = ("engagements", url)
    env = {**server.env(firm.lead), "PGPASSWORD": password}
    if case == "injected parameter":  # the password inside the URL must not leak either
        url_with_password = url.replace(f"{user}@", f"{user}:{SECRET}@")
        args = {k: tuple(url_with_password if a == url else a for a in v) for k, v in args.items()}
    done = run_cli(*args[command], env=env)

    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    for expected in CASES[case]:
        assert expected in done.stderr
    assert SECRET not in done.stderr and cluster.password not in done.stderr
    assert _fingerprint(folder) == before  # no local file changed, none made


def test_the_password_is_in_no_stored_row_and_no_server_log(firm: Firm, tmp_path: Path) -> None:
    server = firm.server
    # a checkout and a refused login with the password in the URL, then look everywhere
    url = server.url(firm.lead, firm.a).replace(f"{firm.lead}@", f"{firm.lead}:{SECRET}@")
    done = run_cli("checkout", url, tmp_path / "copy.ztmm", env={**server.env(firm.lead), "PGPASSWORD": ""})
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    wrong = run_cli("engagements", url.replace(SECRET, SECRET + "x"), env=server.env(firm.lead))
    assert wrong.returncode == 2 and SECRET not in wrong.stderr
    assert SECRET.encode() not in (tmp_path / "copy.ztmm").read_bytes()
    dump = server.cluster.sql(
        f"SELECT string_agg(t::text, '') FROM (SELECT * FROM e_{firm.a}.audit) t "
        "UNION ALL SELECT string_agg(t::text, '') FROM ztmm.engagement t "
        "UNION ALL SELECT string_agg(t::text, '') FROM ztmm.member t",
        db=server.db,
    )
    assert dump and all(SECRET not in str(row[0]) for row in dump)
    log = (server.cluster.folder / "log").read_bytes()
    assert b"password authentication failed" in log  # the log is the real one
    assert SECRET.encode() not in log


def test_without_pgpassword_or_pgpass_the_password_is_asked_for(firm: Firm, monkeypatch: pytest.MonkeyPatch) -> None:
    from ztmm_desktop.server.connect import ServerError
    from ztmm_desktop.server.url import ServerUrl

    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", NO_PGPASS)
    url = parse(firm.server.url(firm.lead))
    asked: list[str] = []

    def answer(password: str | None) -> object:
        def prompt(where: ServerUrl) -> str | None:
            asked.append(where.display)
            return password

        return prompt

    listed = team.engagements(url, prompt=answer(SECRET))  # type: ignore[arg-type]
    assert [e.id for e in listed] == [firm.a]
    assert asked == [url.display] and SECRET not in asked[0]
    with pytest.raises(ServerError, match="password authentication failed") as wrong:
        team.engagements(url, prompt=answer("typo-" + SECRET))  # type: ignore[arg-type]
    assert SECRET not in str(wrong.value) and "\n" not in str(wrong.value)
    with pytest.raises(ServerError, match="no password supplied"):
        team.engagements(url, prompt=answer(None))  # type: ignore[arg-type]
