"""An engagement goes to the server and back whole: publish, checkout, list, members (against a real cluster)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from tests.conftest import run_cli
from tests.support.team import Server, table_rows
from ztmm_desktop.server.connect import ServerError
from ztmm_desktop.server.url import parse
from ztmm_desktop.services import team
from ztmm_desktop.services.engagement import open_engagement
from ztmm_desktop.services.evidence import list_evidence, verify


def _publish(server: Server, realistic: Path, tmp_path: Path, lead: str, engagement: str) -> Path:
    source = tmp_path / "source.ztmm"
    shutil.copyfile(realistic, source)
    done = run_cli("publish", source, server.url(lead, engagement), env=server.env(lead))
    assert done.returncode == 0, done.stderr
    assert "published" in done.stdout
    return source


def test_published_then_checked_out_is_the_same_engagement(server: Server, realistic: Path, tmp_path: Path) -> None:
    lead = server.login("lead")
    engagement = f"acme_{server.db}"
    source = _publish(server, realistic, tmp_path, lead, engagement)
    before = source.read_bytes()

    copy = tmp_path / "copy.ztmm"
    done = run_cli("checkout", server.url(lead, engagement), copy, env=server.env(lead))
    assert done.returncode == 0, done.stderr

    assert source.read_bytes() == before  # publishing only read the file
    original, checked_out = table_rows(source), table_rows(copy)
    assert checked_out.keys() == original.keys()
    for table, rows in original.items():
        assert checked_out[table] == rows, table
    # the realistic engagement really has what the issue lists
    for table in ("function_assessment", "finding", "action", "workshop", "response", "baseline", "audit", "evidence"):
        assert original[table], table
    assert len(original["blob_chunk"]) >= 4 and len(original["function_assessment"]) >= 30
    assert {r[2] for r in original["stage_rating"]} >= {"na", "met", "partial", "not-met"}
    # the copy is an engagement like any other: it opens through the gate and its evidence verifies
    with open_engagement(copy, readonly=True) as opened:
        assert len(list_evidence(opened)) == 3
        assert verify(opened) == []


def test_a_second_checkout_target_that_exists_is_refused_and_kept(
    server: Server, realistic: Path, tmp_path: Path
) -> None:
    lead = server.login("lead")
    engagement = f"acme_{server.db}"
    _publish(server, realistic, tmp_path, lead, engagement)
    target = tmp_path / "mine.ztmm"
    target.write_bytes(b"my own work")
    done = run_cli("checkout", server.url(lead, engagement), target, env=server.env(lead))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "already exists" in done.stderr
    assert target.read_bytes() == b"my own work"


def test_publishing_an_id_twice_is_refused(server: Server, realistic: Path, tmp_path: Path) -> None:
    lead = server.login("lead")
    engagement = f"acme_{server.db}"
    _publish(server, realistic, tmp_path, lead, engagement)
    again = run_cli("publish", realistic, server.url(lead, engagement), env=server.env(lead))
    assert again.returncode == 2
    assert "already exists" in again.stderr and again.stderr.count("\n") == 1


def test_engagements_lists_only_those_of_the_user_with_their_summary(
    server: Server, realistic: Path, tmp_path: Path
) -> None:
    lead, reviewer, outsider = server.login("lead"), server.login("reviewer"), server.login("outsider")
    engagement = f"acme_{server.db}"
    _publish(server, realistic, tmp_path, lead, engagement)

    listed = run_cli("engagements", server.url(lead), "--json", env=server.env(lead))
    assert listed.returncode == 0, listed.stderr
    (item,) = json.loads(listed.stdout)
    with open_engagement(realistic, readonly=True) as opened:
        meta = opened.meta()
    assert (item["id"], item["client"], item["title"], item["role"]) == (engagement, meta.client, meta.title, "lead")
    assert (item["start_date"], item["end_date"]) == (meta.start_date, meta.end_date)
    assert item["progress"] == 1.0  # every in-scope function of the realistic engagement is assessed

    nothing = run_cli("engagements", server.url(outsider), env=server.env(outsider))
    assert nothing.returncode == 0 and "no engagements" in nothing.stdout and meta.client not in nothing.stdout

    added = run_cli(
        "server", "members", server.url(lead, engagement), "add", reviewer, "--as", "reviewer", env=server.env(lead)
    )
    assert added.returncode == 0, added.stderr
    seen = run_cli("engagements", server.url(reviewer), env=server.env(reviewer))
    assert engagement in seen.stdout and "reviewer" in seen.stdout
    members = run_cli("server", "members", server.url(reviewer, engagement), env=server.env(reviewer))
    assert members.returncode == 0
    assert f"{lead}  lead" in members.stdout and f"{reviewer}  reviewer" in members.stdout

    # a reviewer does not manage members; the server refuses it
    refused = run_cli(
        "server", "members", server.url(reviewer, engagement), "add", outsider, "--as", "lead", env=server.env(reviewer)
    )
    assert refused.returncode == 2 and "only a lead" in refused.stderr
    removed = run_cli("server", "members", server.url(lead, engagement), "remove", reviewer, env=server.env(lead))
    assert removed.returncode == 0, removed.stderr
    gone = run_cli("engagements", server.url(reviewer), env=server.env(reviewer))
    assert engagement not in gone.stdout


def test_checked_out_evidence_that_was_altered_on_the_server_is_refused(
    server: Server, realistic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead = server.login("lead")
    engagement = f"acme_{server.db}"
    _publish(server, realistic, tmp_path, lead, engagement)
    server.cluster.sql(
        f"UPDATE e_{engagement}.blob_chunk SET data = overlay(data placing '\\x00'::bytea from 10 for 1) WHERE seq = 1",
        db=server.db,
    )
    monkeypatch.setenv("PGPASSWORD", server.passwords[lead])
    target = tmp_path / "copy.ztmm"
    with pytest.raises(ServerError, match="damaged"):
        team.checkout(parse(server.url(lead, engagement)), target, prompt=None)
    assert not target.exists()
    assert not list(tmp_path.glob(".copy.ztmm*"))  # nor the part written, nor its lock


def test_the_publisher_must_be_a_ztmm_user(server: Server, realistic: Path, tmp_path: Path) -> None:
    stranger = f"stranger_{server.db}"
    server.cluster.login(stranger, "pw-stranger")
    env = {**server.env(server.login("lead")), "PGPASSWORD": "pw-stranger"}
    done = run_cli("publish", realistic, server.url(stranger, f"acme_{server.db}"), env=env)
    assert done.returncode == 2 and "ztmm_user" in done.stderr
    with psycopg.connect(server.cluster.conninfo(db=server.db)) as conn:
        assert conn.execute("SELECT count(*) FROM ztmm.engagement").fetchone() == (0,)


def test_the_listed_progress_is_the_share_of_functions_assessed_the_window_shows(
    server: Server, tmp_path: Path
) -> None:
    """One stage rated of one function, and another function not applicable, of 40: the dashboard says
    2 of 40 functions assessed, and so does the registry (it said 100 %: every stage row there was, 4 of
    4, was rated; a stage never rated has no row)."""
    from ztmm_desktop.core.stages import Rating, Stage
    from ztmm_desktop.services.engagement import Properties, create_engagement

    lead = server.login("lead")
    path = tmp_path / "started.ztmm"
    with create_engagement(path, Properties(client="Started")) as engagement:
        first, second = (f.id for f in engagement.functions_in_scope()[:2])
        engagement.assess(first, ratings={Stage.INITIAL: Rating.MET}, by="Lead")
        engagement.assess(
            second,
            ratings={stage: Rating.NOT_APPLICABLE for stage in (Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL)},
            by="Lead",
        )
        engagement.save()
    shown = json.loads(run_cli("info", path, "--json").stdout)["overall"]
    assert (shown["assessed"], shown["functions"]) == (2, 40)
    _publish(server, path, tmp_path, lead, f"started_{server.db}")
    listed = run_cli("engagements", server.url(lead), "--json", env=server.env(lead))
    assert listed.returncode == 0, listed.stderr
    (item,) = json.loads(listed.stdout)
    assert item["progress"] == pytest.approx(2 / 40, abs=1e-6)
