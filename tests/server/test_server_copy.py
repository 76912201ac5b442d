"""The window's way of working on a server engagement: a copy read once, saved back by its changes,
a save refused when someone else saved meanwhile, and their work brought in by the three-way merge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.team import Server
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.server.connect import ServerError
from ztmm_desktop.server.url import ServerUrl, parse
from ztmm_desktop.services import server_copy


def _url(server: Server, role: str, engagement: str) -> ServerUrl:
    url = parse(server.url(role, engagement))
    return ServerUrl(url.user, url.host, url.port, url.dbname, url.engagement, url.tls, server.passwords[role])


def _rating(url: ServerUrl, function: str, stage: Stage) -> Rating:
    copy = server_copy.open_copy(url)
    try:
        return copy.engagement.assessment(function).rating(stage).rating
    finally:
        copy.close()


@pytest.fixture
def published(server: Server, realistic: Path, tmp_path: Path) -> tuple[Server, str, str, str]:
    lead, assessor = server.login("lead"), server.login("assessor")
    engagement = f"acme_{server.db}"
    source = tmp_path / "source.ztmm"
    shutil.copyfile(realistic, source)
    url = server.url(lead, engagement)
    assert run_cli("publish", source, url, env=server.env(lead)).returncode == 0
    added = run_cli("server", "members", url, "add", assessor, "--as", "assessor", env=server.env(lead))
    assert added.returncode == 0, added.stderr
    return server, lead, assessor, engagement


def test_a_copy_saves_its_changes_and_a_stale_copy_is_refused_then_rebased(
    published: tuple[Server, str, str, str],
) -> None:
    server, lead, assessor, engagement = published
    mine = server_copy.open_copy(_url(server, lead, engagement))
    theirs = server_copy.open_copy(_url(server, assessor, engagement))
    try:
        assert (mine.role, theirs.role) == ("lead", "assessor")
        first, second = (f.id for f in list(mine.engagement.functions_in_scope())[:2])
        mine.engagement.assess(first, ratings={Stage.OPTIMAL: Rating.MET}, by="Lead")
        assert server_copy.save(mine) > 0
        assert server_copy.save(mine) == 0  # nothing changed since: nothing written, not refused
        theirs.engagement.assess(second, ratings={Stage.OPTIMAL: Rating.NOT_MET}, by="Assessor")
        with pytest.raises(server_copy.ServerChanged, match="someone else saved"):
            server_copy.save(theirs)
        assert _rating(_url(server, lead, engagement), second, Stage.OPTIMAL) != Rating.NOT_MET  # nothing written
        rebased = server_copy.plan_rebase(theirs)
        assert not rebased.plan.conflicts
        server_copy.rebase(rebased, {})
        rebased.copy.close()
    finally:
        mine.close()
        theirs.close()
    check = _url(server, lead, engagement)
    assert _rating(check, first, Stage.OPTIMAL) == Rating.MET  # neither lost
    assert _rating(check, second, Stage.OPTIMAL) == Rating.NOT_MET


def test_a_reviewer_copy_is_read_only_and_the_password_never_shows(published: tuple[Server, str, str, str]) -> None:
    server, lead, _assessor, engagement = published
    reviewer = server.login("reviewer")
    added = run_cli(
        "server", "members", server.url(lead, engagement), "add", reviewer, "--as", "reviewer", env=server.env(lead)
    )
    assert added.returncode == 0, added.stderr
    copy = server_copy.open_copy(_url(server, reviewer, engagement))
    try:
        assert copy.reviewer and copy.engagement.readonly
        assert server.passwords[reviewer] not in repr(copy)
    finally:
        copy.close()
    assert not copy.folder.exists()
    wrong = _url(server, lead, engagement)
    wrong = ServerUrl(wrong.user, wrong.host, wrong.port, wrong.dbname, wrong.engagement, wrong.tls, "not-it")
    with pytest.raises(ServerError, match="password authentication failed") as caught:
        server_copy.open_copy(wrong)
    assert "not-it" not in str(caught.value)


def _server_chunks(server: Server, engagement: str) -> dict[str, int]:
    rows = server.cluster.sql(
        f'SELECT b.sha256, count(c.seq) FROM "e_{engagement}".blob b '
        f'LEFT JOIN "e_{engagement}".blob_chunk c USING (chunk_key) GROUP BY b.sha256',
        db=server.db,
    )
    return {str(sha): int(str(count)) for sha, count in rows}


def test_a_command_that_reads_no_evidence_bytes_copies_none_and_the_servers_evidence_stays_whole(
    published: tuple[Server, str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a command that reads no evidence bytes works on holds the evidence's records but not its
    bytes (its cost does not grow with the evidence); what it writes back leaves the server's bytes
    whole; evidence it attaches arrives with its bytes; evidence it removes takes only its own."""
    import io

    from ztmm_desktop.services import evidence, team
    from ztmm_desktop.services.engagement import reading

    server, lead, _assessor, engagement = published
    url = _url(server, lead, engagement)
    before = _server_chunks(server, engagement)
    assert sum(before.values()) >= 4  # the realistic engagement: a 3-chunk file and a small one
    big = max(before, key=lambda sha: before[sha])

    with team.server_engagement(url, prompt=None, evidence_bytes=False) as copy:
        with reading(copy) as conn:
            assert conn.execute("SELECT count(*) FROM blob").fetchone()[0] == len(before)
            assert conn.execute("SELECT count(*) FROM blob_chunk").fetchone()[0] == 0
        listed = evidence.list_evidence(copy)
        assert {e.sha256 for e in listed} == set(before)
        function = copy.functions_in_scope()[0].id
        copy.assess(function, ratings={Stage.OPTIMAL: Rating.MET}, by="Lead")
        new = b"a new export\n" * 1000
        evidence.attach_stream(
            copy,
            io.BytesIO(new),
            original_name="new.txt",
            expected_size=len(new),
            links=[evidence.EvidenceLink(function_id=function)],
            by="Lead",
        )
        small = next(e for e in listed if e.sha256 != big and e.size < 1000)
        evidence.remove(copy, small.id, by="Lead")
        assert evidence.compact(copy, by="Lead") == 1  # its bytes, referred to by no record now

    after = _server_chunks(server, engagement)
    assert after[big] == before[big]  # untouched by a copy that never held its bytes
    assert small.sha256 not in after  # removed with its record (compacted)
    assert len(after) == len(before)  # one removed, one added
    monkeypatch.setenv("PGPASSWORD", server.passwords[lead])
    done = run_cli("verify", server.url(lead, engagement), env=server.env(lead))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(f"{len(listed)} of {len(listed)} evidence files match their SHA-256")
    assert _rating(url, function, Stage.OPTIMAL) is Rating.MET
    # and a command that reads the bytes gets them: the attached file comes back as it went in
    import json

    shown = run_cli("evidence", server.url(lead, engagement), "--json", env=server.env(lead))
    assert shown.returncode == 0, shown.stderr
    (item,) = (e for e in json.loads(shown.stdout) if e["original_name"] == "new.txt")
    out = tmp_path / "out"
    out.mkdir()
    done = run_cli("extract", server.url(lead, engagement), item["id"], out, env=server.env(lead))
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).read_bytes() == new


def test_a_colleagues_save_is_brought_into_a_live_copy_without_reading_it_all_again(
    published: tuple[Server, str, str, str],
) -> None:
    """A live copy takes in what someone else saved of the tables a live Save writes (properties,
    evidence…) in place: their rows replaced, only the evidence it lacked fetched (its bytes checked and
    read back whole), evidence gone from the server dropped, its live tables and its base left right
    (nothing to save after, and its next Save is not refused)."""
    import io
    from dataclasses import replace

    from ztmm_desktop.services import evidence
    from ztmm_desktop.services.engagement import reading

    server, lead, assessor, engagement = published
    mine = server_copy.open_copy(_url(server, lead, engagement))
    theirs = server_copy.open_copy(_url(server, assessor, engagement))
    mine.live = theirs.live = True
    try:
        function = mine.engagement.functions_in_scope()[0].id
        gone = evidence.list_evidence(theirs.engagement)[0]
        rating_before = mine.engagement.assessment(function).rating(Stage.OPTIMAL).rating
        theirs.engagement.update_properties(
            replace(theirs.engagement.properties(), title="Second round"), by="Assessor"
        )
        new = b"firewall export\n" * 5000
        evidence.attach_stream(
            theirs.engagement,
            io.BytesIO(new),
            original_name="firewall.txt",
            expected_size=len(new),
            links=[evidence.EvidenceLink(function_id=function)],
            by="Assessor",
        )
        evidence.remove(theirs.engagement, gone.id, by="Assessor")
        evidence.compact(theirs.engagement, by="Assessor")
        assert server_copy.save(theirs) > 0
        with reading(mine.engagement) as conn:
            chunks_before = conn.execute("SELECT count(*) FROM main.blob_chunk").fetchone()[0]

        changes = server_copy.bring_in_shared(mine)

        assert changes.metadata and function in changes.functions
        assert mine.engagement.meta().title == "Second round"  # its cached read dropped
        listed = {e.original_name: e for e in evidence.list_evidence(mine.engagement)}
        assert gone.id not in {e.id for e in listed.values()}
        assert evidence.read_bytes(mine.engagement, listed["firewall.txt"].id, len(new) + 1) == new
        with reading(mine.engagement) as conn:
            held = {r[0] for r in conn.execute("SELECT sha256 FROM main.blob")}
            added = conn.execute("SELECT count(*) FROM main.blob_chunk").fetchone()[0] - chunks_before
        assert added == len(new) // (1 << 20) + 1  # only the new file's bytes came (not the engagement's)
        assert held == set(_server_chunks(server, engagement))  # evidence gone from the server is gone here
        assert mine.engagement.assessment(function).rating(Stage.OPTIMAL).rating == rating_before
        assert not server_copy.pending(mine)  # what it took is the server's: nothing to save
        mine.engagement.update_properties(replace(mine.engagement.properties(), client="Acme Group"), by="Lead")
        assert server_copy.save(mine) > 0  # not refused: it is based on their Save now
        again = server_copy.open_copy(_url(server, lead, engagement))
        try:
            meta = again.engagement.meta()
            assert (meta.title, meta.client) == ("Second round", "Acme Group")
        finally:
            again.close()
    finally:
        mine.close()
        theirs.close()


def test_bringing_in_evidence_whose_bytes_on_the_server_are_damaged_changes_nothing(
    published: tuple[Server, str, str, str],
) -> None:
    import io

    from ztmm_desktop.services import evidence

    server, lead, assessor, engagement = published
    mine = server_copy.open_copy(_url(server, lead, engagement))
    theirs = server_copy.open_copy(_url(server, assessor, engagement))
    mine.live = theirs.live = True
    try:
        function = mine.engagement.functions_in_scope()[0].id
        evidence.attach_stream(
            theirs.engagement,
            io.BytesIO(b"to be damaged" * 100),
            original_name="damaged.txt",
            expected_size=1300,
            links=[evidence.EvidenceLink(function_id=function)],
            by="Assessor",
        )
        server_copy.save(theirs)
        server.cluster.sql(
            f"UPDATE \"e_{engagement}\".blob_chunk SET data = 'altered'::bytea "
            f'WHERE chunk_key = (SELECT chunk_key FROM "e_{engagement}".blob b '
            f"JOIN \"e_{engagement}\".evidence e ON e.sha256 = b.sha256 WHERE e.original_name = 'damaged.txt')",
            db=server.db,
        )
        before = {e.id for e in evidence.list_evidence(mine.engagement)}
        with pytest.raises(ServerError, match="damaged"):
            server_copy.bring_in_shared(mine)
        assert {e.id for e in evidence.list_evidence(mine.engagement)} == before  # nothing taken
        assert not list(mine.folder.glob("incoming-*"))  # nothing left behind
    finally:
        mine.close()
        theirs.close()
