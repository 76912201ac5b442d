"""The ``ztmm`` command as a user runs it: a fresh process, exit codes, one-line errors, files untouched."""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.support.processes import held_open


@pytest.fixture
def engagement(tmp_path: Path) -> Path:
    path = tmp_path / "contoso.ztmm"
    result = run_cli("new", path, "--client", "Contoso Ltd", "--title", "ZT baseline", "--assessor", "Lead assessor")
    assert result.returncode == 0, result.stderr
    return path


def assert_refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 2, exactly one line on stderr starting with 'error:', no traceback, nothing on stdout."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert message in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def info(path: Path) -> dict:
    result = run_cli("info", path, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def function(data: dict, code: str) -> dict:
    return next(f for f in data["functions"] if f["code"] == code)


def test_catalog_json_has_40_functions_160_stage_texts_and_guidance() -> None:
    result = run_cli("catalog", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    functions = [f for p in data["pillars"] for f in p["functions"]]
    assert len(functions) == 40
    assert sum(1 for f in functions for s in f["stages"] if s["text"]) == 160
    assert data["catalog"] == {
        "id": "cisa-ztmm",
        "version": "2.0",
        "title": "CISA Zero Trust Maturity Model",
        "publisher": "Cybersecurity and Infrastructure Security Agency (CISA)",
        "published": "April 2023",
    }
    app_access = next(f for f in functions if f["code"] == "4.1")
    initial = app_access["stages"][1]
    assert initial["stage"] == "initial"
    assert initial["guidance"][0]["product"] == "Microsoft Entra ID applications"
    assert initial["guidance"][0]["references"][0]["url"].startswith("https://learn.microsoft.com/entra/")
    enterprise = json.loads(run_cli("catalog", "--json", "--wording", "enterprise").stdout)
    text = enterprise["pillars"][0]["functions"][0]["stages"][0]["text"]
    assert text.startswith("Enterprise authenticates identity")


def test_new_then_assess_then_info(engagement: Path) -> None:
    result = run_cli(
        "assess", engagement, "identity.authentication",
        "--rate", "Initial=MET", "--rate", "advanced=partial", "--rate", "optimal=not-met",
        "--comment", "initial=MFA for every workforce account",
        "--target", "optimal", "--note", "Phishing-resistant MFA pilot planned", "--by", "Lead assessor",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1.1 Authentication: current Initial, target Optimal, gap 2"
    result = run_cli("assess", engagement, "2.1", "--current", "advanced", "--reason", "compensating EDR controls")
    assert result.returncode == 0, result.stderr
    data = info(engagement)
    assert data["engagement"]["client"] == "Contoso Ltd"
    assert data["engagement"]["assessors"] == ["Lead assessor"]
    auth = function(data, "1.1")
    assert [s["rating"] for s in auth["stages"]] == [None, "met", "partial", "not-met"]
    assert auth["stages"][1]["comment"] == "MFA for every workforce account"
    assert (auth["current"], auth["target"], auth["gap"], auth["overridden"]) == ("initial", "optimal", 2, False)
    assert auth["notes"] == "Phishing-resistant MFA pilot planned"
    devices = function(data, "2.1")
    assert (devices["current"], devices["derived"], devices["overridden"]) == ("advanced", "traditional", True)
    assert devices["override_reason"] == "compensating EDR controls"
    identity = next(p for p in data["pillars"] if p["id"] == "identity")
    assert identity["assessed"] == 1 and identity["score"] == 1.0 and identity["level"] == "initial"
    assert data["overall"]["distribution"] == {"traditional": 0, "initial": 1, "advanced": 1, "optimal": 0}
    text = run_cli("info", engagement)
    assert text.returncode == 0
    assert "1.1   Authentication: current Initial, target Optimal, gap 2" in text.stdout
    assert "current Advanced (override: compensating EDR controls)" in text.stdout
    cleared = run_cli("assess", engagement, "2.1", "--current", "derived")
    assert cleared.stdout.strip() == "2.1 Policy Enforcement & Compliance Monitoring: current Traditional"
    assert function(info(engagement), "2.1")["overridden"] is False


def test_scope_limits_functions_and_rollups(tmp_path: Path) -> None:
    path = tmp_path / "scoped.ztmm"
    assert run_cli("new", path, "--client", "Scoped", "--scope", "identity,4").returncode == 0
    data = info(path)
    assert data["engagement"]["scope"] == ["identity", "applications_and_workloads"]
    assert len(data["functions"]) == 15
    assert [p["id"] for p in data["pillars"]] == ["identity", "applications_and_workloads"]


def test_a_file_text_argument_and_a_comment_above_the_limit(engagement: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Line one\nLine two – with an en dash\n", encoding="utf-8")
    assert run_cli("assess", engagement, "1.2", "--note", f"@{note}").returncode == 0
    assert function(info(engagement), "1.2")["notes"] == "Line one\nLine two – with an en dash\n"
    before = engagement.read_bytes()
    big = tmp_path / "big.txt"
    big.write_text("x" * 1_048_576, encoding="utf-8")
    assert_refused(
        run_cli("assess", engagement, "1.2", "--comment", f"initial=@{big}"),
        "comment for 1.2 Initial is 1,048,576 characters long; the limit is 100,000",
    )
    assert engagement.read_bytes() == before


def test_the_limit_itself_is_accepted_whole(engagement: Path, tmp_path: Path) -> None:
    text = tmp_path / "limit.txt"
    body = ("Evidence reviewed. " * 6000)[:100_000]
    text.write_text(body, encoding="utf-8")
    assert run_cli("assess", engagement, "1.3", "--comment", f"advanced=@{text}").returncode == 0
    assert function(info(engagement), "1.3")["stages"][2]["comment"] == body


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("9.9", "--rate", "initial=met"), "unknown function '9.9'"),
        (("identity.nothing",), "unknown function 'identity.nothing'"),
        (("1.1", "--rate", "expert=met"), "unknown stage 'expert'"),
        (("1.1", "--rate", "initial=mostly"), "unknown rating 'mostly'"),
        (("1.1", "--rate", "traditional=met"), "Traditional is the floor of the model and is not rated"),
        (("1.1", "--rate", "initial"), "must look like STAGE=VALUE"),
        (("1.1", "--current", "optimal"), "--current needs --reason"),
        (("1.1", "--reason", "because"), "--reason goes with --current"),
        (("1.1", "--target", "perfect"), "unknown stage 'perfect'"),
        (("1.1", "--priority", "urgent-ish"), "unknown priority 'urgent-ish'"),
        (("1.1", "--comment", "initial=@/no/such/file.txt"), "cannot read /no/such/file.txt"),
        (("1.1", "--bogus"), "unrecognized arguments: --bogus"),
    ],
)
def test_bad_assess_input_is_refused_and_changes_nothing(engagement: Path, args: tuple[str, ...], message: str) -> None:
    before = engagement.read_bytes()
    assert_refused(run_cli("assess", engagement, *args), message)
    assert engagement.read_bytes() == before


def test_non_utf8_bytes_in_arguments(engagement: Path) -> None:
    before = engagement.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "ztmm_desktop.cli", b"assess", os.fsencode(engagement), b"1.1", b"--comment",
         b"initial=caf\xe9 \xff"],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ),
    )  # fmt: skip
    assert_refused(result, "argument 5 is not valid UTF-8 text")
    assert engagement.read_bytes() == before


def test_new_refuses_an_existing_file(engagement: Path) -> None:
    before = engagement.read_bytes()
    assert_refused(run_cli("new", engagement, "--client", "Other"), "already exists")
    assert engagement.read_bytes() == before


def test_new_refuses_bad_metadata(tmp_path: Path) -> None:
    target = tmp_path / "x.ztmm"
    assert_refused(run_cli("new", target, "--client", "  "), "an engagement needs a client name")
    assert_refused(run_cli("new", target, "--client", "C", "--scope", "identity,moon"), "unknown pillar 'moon'")
    assert_refused(run_cli("new", target, "--client", "C", "--start", "30/11/2026"), "is not a date like")
    assert_refused(run_cli("new", tmp_path / "no" / "x.ztmm", "--client", "C"), "no such folder")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just some text\n", "not a ZTMM engagement file (it is not an SQLite database)"),
        (b"PK\x03\x04" + b"\0" * 200, "it is a zip archive"),
        (b"", "the file is empty"),
    ],
)
def test_foreign_files_are_refused_by_every_command(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "suspect.ztmm"
    path.write_bytes(content)
    assert_refused(run_cli("info", path), message)
    assert_refused(run_cli("assess", path, "1.1", "--rate", "initial=met"), message)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["suspect.ztmm"]


def test_newer_schema_is_refused(engagement: Path) -> None:
    conn = sqlite3.connect(engagement)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = engagement.read_bytes()
    assert_refused(run_cli("assess", engagement, "1.1", "--rate", "initial=met"), "made by a newer version")
    assert engagement.read_bytes() == before


def test_document_locked_by_another_process(engagement: Path) -> None:
    with held_open(engagement) as holder:
        before = engagement.read_bytes()
        user = pwd.getpwuid(os.getuid()).pw_name
        assert_refused(
            run_cli("assess", engagement, "1.1", "--rate", "initial=met"),
            f"contoso.ztmm is open by {user} on ",
        )
        assert f"(process {holder.pid}, since " in run_cli("assess", engagement, "1.1").stderr
        assert engagement.read_bytes() == before
        assert run_cli("info", engagement).returncode == 0  # reading is still possible
    assert run_cli("assess", engagement, "1.1", "--rate", "initial=met").returncode == 0


CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
PR_CAPBSET_DROP = 24


def drop_root_file_powers() -> None:
    """In the child, before exec: give up root's right to ignore file permissions.

    Root writes anywhere, so a read-only folder means nothing to it; without these
    capabilities in the bounding set, the exec'd program obeys permissions like any user.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@pytest.fixture
def readonly_folder(tmp_path: Path) -> Iterator[tuple[Path, dict[str, object]]]:
    """A folder the CLI cannot write to, and how to run the CLI so that holds."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    kwargs: dict[str, object] = {}
    if os.geteuid() == 0:
        kwargs["preexec_fn"] = drop_root_file_powers
    try:
        yield folder, kwargs
    finally:
        folder.chmod(stat.S_IRWXU)


def test_read_only_folder(readonly_folder: tuple[Path, dict[str, object]]) -> None:
    folder, kwargs = readonly_folder
    document = folder / "client.ztmm"
    assert run_cli("new", document, "--client", "Read Only Ltd").returncode == 0
    folder.chmod(0o555)
    document.chmod(0o644)
    before = document.read_bytes()
    assert_refused(
        run_cli("assess", document, "1.1", "--rate", "initial=met", **kwargs),  # type: ignore[arg-type]
        "cannot write in the folder of client.ztmm (Permission denied)",
    )
    assert document.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["client.ztmm"]
    assert_refused(
        run_cli("new", folder / "another.ztmm", "--client", "X", **kwargs),  # type: ignore[arg-type]
        "cannot write in the folder of another.ztmm (Permission denied)",
    )
    read = run_cli("info", document, **kwargs)  # type: ignore[arg-type]
    assert read.returncode == 0, read.stderr
    assert "Read Only Ltd" in read.stdout


def test_a_pillar_at_traditional_reads_as_traditional(engagement: Path) -> None:
    assert run_cli("assess", engagement, "1.1", "--rate", "initial=not-met", "--target", "traditional").returncode == 0
    data = info(engagement)
    identity = next(p for p in data["pillars"] if p["id"] == "identity")
    assert (identity["level"], identity["lowest"], identity["score"]) == ("traditional", "traditional", 0.0)
    assert function(data, "1.1")["target"] == "traditional"
    text = run_cli("info", engagement)
    assert text.returncode == 0, text.stderr
    assert "Identity                           0.0 (Traditional)" in text.stdout


def test_set_changes_properties_and_records_them_in_the_audit_trail(engagement: Path) -> None:
    result = run_cli(
        "set", engagement, "--wording", "enterprise", "--assessor", "Lead assessor", "--assessor", "Second assessor",
        "--start", "2026-11-02", "--end", "2026-12-18", "--scope", "1,2,6", "--by", "Lead assessor",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"updated {engagement}: Contoso Ltd — ZT baseline"
    meta = info(engagement)["engagement"]
    assert meta["wording"] == "enterprise"
    assert meta["assessors"] == ["Lead assessor", "Second assessor"]
    assert (meta["start_date"], meta["end_date"]) == ("2026-11-02", "2026-12-18")
    assert meta["scope"] == ["identity", "devices", "cross_cutting"]
    assert meta["title"] == "ZT baseline"  # not named, not changed
    conn = sqlite3.connect(engagement)
    audit = conn.execute("SELECT by, field, old, new FROM audit WHERE entity = 'engagement' ORDER BY id").fetchall()
    conn.close()
    assert ("Lead assessor", "wording", "cisa", "enterprise") in audit
    assert {row[1] for row in audit} == {"wording", "assessors", "start_date", "end_date", "scope"}
    again = run_cli("set", engagement, "--wording", "enterprise")
    assert again.stdout.startswith("nothing changed in ")
    cleared = run_cli("set", engagement, "--end", "")
    assert cleared.returncode == 0 and info(engagement)["engagement"]["end_date"] is None


def test_set_refuses_bad_properties_and_changes_nothing(engagement: Path) -> None:
    before = engagement.read_bytes()
    assert_refused(run_cli("set", engagement, "--client", ""), "an engagement needs a client name")
    assert_refused(run_cli("set", engagement, "--start", "2026-12-01", "--end", "2026-11-01"), "end date is before")
    assert_refused(run_cli("set", engagement, "--wording", "federal"), "invalid choice: 'federal'")
    assert_refused(run_cli("set", engagement, "--scope", ","), "the scope names no pillar")
    assert engagement.read_bytes() == before
