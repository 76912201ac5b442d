"""An engagement goes laptop → server → laptop any number of times, and the ordinary commands take a URL."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.support.team import Server, table_rows
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.server.connect import ServerError
from ztmm_desktop.server.url import parse
from ztmm_desktop.services import team
from ztmm_desktop.services.engagement import open_engagement


def _rating(path: Path, code: str, stage: str) -> str:
    info = run_cli("info", path, "--json")
    assert info.returncode == 0, info.stderr
    data = json.loads(info.stdout)
    (function,) = (f for f in data["functions"] if f["code"] == code)
    (found,) = (s for s in function["stages"] if s["stage"] == stage)
    return str(found["rating"])


def _audit_count(rows: dict[str, list[tuple[object, ...]]], key_part: str, field: str, new: str) -> int:
    return sum(1 for r in rows["audit"] if key_part in str(r[4]) and r[5] == field and r[7] == new)


def test_work_goes_back_and_forth_through_the_three_way_merge(server: Server, realistic: Path, tmp_path: Path) -> None:
    lead, assessor = server.login("lead"), server.login("assessor")
    engagement = f"acme_{server.db}"
    url, url_assessor = server.url(lead, engagement), server.url(assessor, engagement)
    source = tmp_path / "source.ztmm"
    shutil.copyfile(realistic, source)
    assert run_cli("publish", source, url, env=server.env(lead)).returncode == 0
    added = run_cli("server", "members", url, "add", assessor, "--as", "assessor", env=server.env(lead))
    assert added.returncode == 0, added.stderr

    laptop = tmp_path / "laptop.ztmm"
    assert run_cli("checkout", url, laptop, env=server.env(lead)).returncode == 0
    for trip in range(2):  # any number of times
        offline = "met" if trip == 0 else "partial"
        online = "not-met" if trip == 0 else "met"
        done = run_cli("assess", laptop, "1.1", "--rate", f"optimal={offline}", "--by", "Offline lead")
        assert done.returncode == 0, done.stderr
        done = run_cli(
            "assess",
            url_assessor,
            "2.1",
            "--rate",
            f"optimal={online}",
            "--by",
            "Online assessor",
            env=server.env(assessor),
        )
        assert done.returncode == 0, done.stderr

        up = run_cli("merge", url, laptop, "--by", "Offline lead", env=server.env(lead))
        assert up.returncode == 0, up.stderr
        assert "1 change, 0 conflicts" in up.stdout
        down = run_cli("merge", laptop, url, "--by", "Offline lead", env=server.env(lead))
        assert down.returncode == 0, down.stderr
        again = run_cli("merge", url, laptop, env=server.env(lead))
        assert "nothing to merge" in again.stdout

        fresh = tmp_path / f"fresh{trip}.ztmm"
        assert run_cli("checkout", url, fresh, env=server.env(lead)).returncode == 0
        for path in (laptop, fresh):
            assert _rating(path, "1.1", "optimal") == offline
            assert _rating(path, "2.1", "optimal") == online
        on_server = table_rows(fresh)
        # each change is in the server's audit trail once, with its author
        assert _audit_count(on_server, "/optimal", "rating", offline) >= 1
        assert [r[2] for r in on_server["audit"] if r[5] == "rating" and r[7] == online and "/optimal" in str(r[4])][
            -1
        ] == "Online assessor"
        ids = [r[0] for r in on_server["audit"]]
        assert len(ids) == len(set(ids))


def test_a_conflict_keeps_the_servers_value_unless_theirs_is_taken(
    server: Server, realistic: Path, tmp_path: Path
) -> None:
    lead = server.login("lead")
    engagement = f"acme_{server.db}"
    url = server.url(lead, engagement)
    assert run_cli("publish", realistic, url, env=server.env(lead)).returncode == 0
    laptop = tmp_path / "laptop.ztmm"
    assert run_cli("checkout", url, laptop, env=server.env(lead)).returncode == 0
    assert run_cli("assess", laptop, "1.1", "--rate", "advanced=met", "--by", "A").returncode == 0
    assert (
        run_cli("assess", url, "1.1", "--rate", "advanced=not-met", "--by", "B", env=server.env(lead)).returncode == 0
    )

    kept = run_cli("merge", url, laptop, "--dry-run", env=server.env(lead))
    assert kept.returncode == 0, kept.stderr
    assert "would keep mine" in kept.stdout
    key = kept.stdout.split("[")[-1].split("]")[0]
    taken = run_cli("merge", url, laptop, "--theirs", key, env=server.env(lead))
    assert taken.returncode == 0, taken.stderr and "took theirs" in taken.stdout
    check = tmp_path / "check.ztmm"
    assert run_cli("checkout", url, check, env=server.env(lead)).returncode == 0
    assert _rating(check, "1.1", "advanced") == "met"


def test_reading_commands_take_a_url_and_see_what_the_file_has(server: Server, realistic: Path, tmp_path: Path) -> None:
    lead = server.login("lead")
    engagement = f"acme_{server.db}"
    url = server.url(lead, engagement)
    assert run_cli("publish", realistic, url, env=server.env(lead)).returncode == 0
    env = server.env(lead)

    from_server = run_cli("info", url, "--json", env=env)
    from_file = run_cli("info", realistic, "--json")
    assert from_server.returncode == 0, from_server.stderr
    server_data, file_data = json.loads(from_server.stdout), json.loads(from_file.stdout)
    server_data.pop("file"), file_data.pop("file")
    assert server_data == file_data

    verified = run_cli("verify", url, env=env)
    assert verified.returncode == 0, verified.stderr
    listed = run_cli("evidence", url, env=env)
    assert listed.returncode == 0 and "export.bin" in listed.stdout and "policy.txt" in listed.stdout
    workbook = tmp_path / "out.xlsx"
    assert run_cli("export", url, workbook, env=env).returncode == 0 and workbook.stat().st_size > 0
    report = tmp_path / "out.pdf"
    done = run_cli("report", url, report, env=env)
    assert done.returncode == 0, done.stderr
    assert report.read_bytes().startswith(b"%PDF")


def test_a_reviewer_cannot_assess_through_the_app_either(server: Server, realistic: Path, tmp_path: Path) -> None:
    lead, reviewer = server.login("lead"), server.login("reviewer")
    engagement = f"acme_{server.db}"
    url = server.url(lead, engagement)
    assert run_cli("publish", realistic, url, env=server.env(lead)).returncode == 0
    assert run_cli("server", "members", url, "add", reviewer, "--as", "reviewer", env=server.env(lead)).returncode == 0
    before = tmp_path / "before.ztmm"
    assert run_cli("checkout", url, before, env=server.env(lead)).returncode == 0

    done = run_cli("assess", server.url(reviewer, engagement), "1.1", "--rate", "optimal=met", env=server.env(reviewer))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "may not change this engagement" in done.stderr
    after = tmp_path / "after.ztmm"
    assert run_cli("checkout", url, after, env=server.env(lead)).returncode == 0
    assert table_rows(after) == table_rows(before)


def test_a_command_about_a_file_says_why_it_takes_no_url(server: Server) -> None:
    lead = server.login("lead")
    url = server.url(lead, f"acme_{server.db}")
    for args in (("new", url, "--client", "Acme"), ("encrypt", url), ("rekey", url)):
        done = run_cli(*args, env=server.env(lead))
        assert done.returncode == 2, args
        assert (
            done.stderr.startswith(f"error: '{args[0]}' does not take a server address: ")
            and done.stderr.count("\n") == 1
        )


def test_compare_takes_a_url_on_either_side_and_agrees_with_the_file(
    server: Server, realistic: Path, tmp_path: Path
) -> None:
    lead = server.login("lead")
    url = server.url(lead, f"acme_{server.db}")
    env = server.env(lead)
    assert run_cli("publish", realistic, url, env=env).returncode == 0
    later = tmp_path / "later.ztmm"
    shutil.copy(realistic, later)
    assert run_cli("assess", later, "1.1", "--rate", "optimal=met", "--by", "Lead").returncode == 0

    def compared(*args: object, env: dict[str, str] | None = None) -> dict[str, object]:
        done = run_cli("compare", *args, "--json", env=env)
        assert done.returncode == 0, done.stderr
        data: dict[str, object] = json.loads(done.stdout)
        data.pop("engagement")  # names the file or the address
        for side in ("then", "now"):  # name the file or the address (checked below)
            data.pop(side)
        return data

    # against its latest baseline: the server's engagement as the file it was published from
    assert compared(url, env=env) == compared(realistic)
    # the server's engagement against a later file of the client, and the other way round
    assert compared(later, "--with", url, env=env) == compared(later, "--with", realistic)
    assert compared(url, "--with", later, env=env) == compared(realistic, "--with", later)
    done = run_cli("compare", later, "--with", url, env=env)
    assert done.returncode == 0, done.stderr
    display = parse(url).display
    assert done.stdout.startswith(f"Acme Corporation: {display} (") or f": {display} (" in done.stdout.splitlines()[0]
    assert server.passwords[lead] not in done.stdout + done.stderr
    # nothing was left behind in the app's data folder by the snapshots
    copies = [p for p in (Path(os.environ["ZTMM_DATA_DIR"]) / "server-copies").glob("*") if p.is_dir()]
    assert copies == []


def test_a_batch_on_a_url_is_written_whole_or_not_at_all(server: Server, realistic: Path, tmp_path: Path) -> None:
    lead = server.login("lead")
    url = server.url(lead, f"acme_{server.db}")
    env = server.env(lead)
    assert run_cli("publish", realistic, url, env=env).returncode == 0
    before = tmp_path / "before.ztmm"
    assert run_cli("checkout", url, before, env=env).returncode == 0

    failing = "assess 1.1 --rate optimal=met --by Lead\nassess 9.9 --rate optimal=met --by Lead\n"
    done = run_cli("batch", url, input=failing, env=env)
    assert done.returncode == 2
    assert done.stderr.startswith("line 2: error: ") and "nothing was written to the server" in done.stderr
    assert done.stderr.count("\n") == 1
    unchanged = tmp_path / "unchanged.ztmm"
    assert run_cli("checkout", url, unchanged, env=env).returncode == 0
    assert table_rows(unchanged) == table_rows(before)

    shot = tmp_path / "batch-shot.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 5000)  # over one chunk
    good = (
        "assess 1.1 --rate optimal=met --by Lead\nfinding add 1.2 --title 'Found in a batch' --by Lead\n"
        f"attach {shot} --to 1.1/initial --by Lead\ninfo\n"
    )
    done = run_cli("batch", url, input=good, env=env)
    assert done.returncode == 0, done.stderr
    after = tmp_path / "after.ztmm"
    assert run_cli("checkout", url, after, env=env).returncode == 0
    assert _rating(after, "1.1", "optimal") == "met"
    verified = run_cli("verify", after)
    assert verified.returncode == 0 and "batch-shot.png" in run_cli("evidence", after).stdout, verified.stdout
    with open_engagement(after, readonly=True) as engagement:
        assert [f.title for f in engagement.findings() if f.title == "Found in a batch"] == ["Found in a batch"]


def test_an_edit_racing_another_writer_is_refused_whole(
    server: Server, realistic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers read the same state; the second to commit writes nothing and is told to run again."""
    lead = server.login("lead")
    engagement = f"acme_{server.db}"
    url = server.url(lead, engagement)
    assert run_cli("publish", realistic, url, env=server.env(lead)).returncode == 0
    monkeypatch.setenv("PGPASSWORD", server.passwords[lead])
    with (
        pytest.raises(ServerError, match="changed on the server meanwhile; nothing was written"),
        team.server_engagement(parse(url), prompt=None) as engagement_copy,
    ):
        first = run_cli("assess", url, "1.1", "--rate", "optimal=met", "--by", "First", env=server.env(lead))
        assert first.returncode == 0, first.stderr
        engagement_copy.assess("1.2", ratings={Stage.OPTIMAL: Rating.MET}, by="Second")
    after = tmp_path / "after.ztmm"
    assert run_cli("checkout", url, after, env=server.env(lead)).returncode == 0
    assert _rating(after, "1.1", "optimal") == "met"  # the first writer's edit is there
    assert _rating(after, "1.2", "optimal") != "met"  # the second's is not, not even in part
    assert not [r for r in table_rows(after)["audit"] if r[2] == "Second"]


def test_editing_commands_take_a_url_and_their_changes_reach_the_server(
    server: Server, realistic: Path, tmp_path: Path
) -> None:
    lead = server.login("lead")
    engagement = f"acme_{server.db}"
    url = server.url(lead, engagement)
    env = server.env(lead)
    assert run_cli("publish", realistic, url, env=env).returncode == 0
    shot = tmp_path / "screenshot.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 5000)  # over one chunk
    for command in (
        ("attach", url, shot, "--to", "1.1/initial", "--by", "L"),
        ("finding", "add", url, "1.1", "--title", "Server finding", "--by", "L"),
        ("action", "add", url, "1.1", "--text", "Server action", "--phase", "now", "--effort", "S", "--by", "L"),
        ("workshop", url, "add", "--date", "2026-12-01", "--title", "Server workshop", "--by", "L"),
        ("baseline", url, "Server baseline", "--by", "L"),
        ("set", url, "--title", "Renamed on the server", "--by", "L"),
    ):
        done = run_cli(*command, env=env)
        assert done.returncode == 0, (command[0], done.stderr)

    copy = tmp_path / "copy.ztmm"
    assert run_cli("checkout", url, copy, env=env).returncode == 0
    rows = table_rows(copy)
    for table, value in (
        ("evidence", "screenshot.png"),
        ("finding", "Server finding"),
        ("action", "Server action"),
        ("workshop", "Server workshop"),
        ("baseline", "Server baseline"),
    ):
        assert any(value in row for row in rows[table]), table
    verified = run_cli("verify", copy)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    listed = run_cli("engagements", server.url(lead), "--json", env=env)
    assert json.loads(listed.stdout)[0]["title"] == "Renamed on the server"  # the registry follows
