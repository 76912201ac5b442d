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
