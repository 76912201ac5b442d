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
