"""Who the assessor is: ``--by`` > ZTMM_ASSESSOR > the preference > the login name; and a given
name keeps the login name out of the audit trail and every deliverable."""

from __future__ import annotations

import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import run_cli
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import identity
from ztmm_desktop.services.deliverables import build_snapshot
from ztmm_desktop.services.engagement import Properties, create_engagement

MARKER = "loginmarker7q"
LOGIN_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")


@pytest.fixture
def login_marker(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LOGIN_VARIABLES:
        monkeypatch.setenv(name, MARKER)
    monkeypatch.delenv(identity.ENV_ASSESSOR, raising=False)


def test_the_preference_is_stored_as_json_in_the_settings_folder(data_dir: Path) -> None:
    assert identity.read_preference() == identity.AssessorPreference()
    stored = identity.write_preference(identity.AssessorPreference("  Lead   assessor ", "Northwind Advisory"))
    assert stored == identity.AssessorPreference("Lead assessor", "Northwind Advisory")
    assert identity.preference_path().parent == data_dir
    assert identity.read_preference() == stored
    identity.preference_path().write_text("{not json", encoding="utf-8")
    assert identity.read_preference() == identity.AssessorPreference()  # damaged: no preference, no failure


def test_precedence_by_then_environment_then_preference_then_login(
    login_marker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert identity.resolve_assessor(None) == MARKER
    assert identity.given_assessor(None) == ""
    identity.write_preference(identity.AssessorPreference("Lead assessor", "Northwind Advisory"))
    assert identity.resolve_assessor(None) == "Lead assessor"
    monkeypatch.setenv(identity.ENV_ASSESSOR, "Identity team lead")
    assert identity.resolve_assessor(None) == "Identity team lead"
    assert identity.resolve_assessor("Quality reviewer") == "Quality reviewer"
    assert identity.resolve_assessor("  ") == "Identity team lead"


def test_edits_and_the_snapshot_take_the_preference(login_marker: None, tmp_path: Path) -> None:
    identity.write_preference(identity.AssessorPreference("Lead assessor", "Northwind Advisory"))
    with create_engagement(tmp_path / "e.ztmm", Properties(client="Contoso Ltd")) as engagement:
        engagement.assess("1.1", ratings={Stage.INITIAL: Rating.MET})
        assert {e.by for e in engagement.audit_log()} == {"Lead assessor"}
        meta = build_snapshot(engagement).meta
        assert (meta.prepared_by, meta.prepared_by_organisation) == ("Lead assessor", "Northwind Advisory")
        assert build_snapshot(engagement, prepared_by="Quality reviewer").meta.prepared_by == "Quality reviewer"


def test_without_any_name_the_deliverable_names_nobody(login_marker: None, tmp_path: Path) -> None:
    with create_engagement(tmp_path / "e.ztmm", Properties(client="Contoso Ltd")) as engagement:
        assert build_snapshot(engagement).meta.prepared_by == ""


def test_a_given_name_keeps_the_login_name_out_of_the_file_and_the_deliverables(tmp_path: Path) -> None:
    env = {name: MARKER for name in LOGIN_VARIABLES}
    env[identity.ENV_ASSESSOR] = "Lead assessor"
    path = tmp_path / "contoso.ztmm"
    evidence = tmp_path / "policy.txt"
    evidence.write_text("Conditional access policy export\n", encoding="utf-8")

    def ztmm(*args: str | Path) -> None:
        result = run_cli(*args, env=env)
        assert result.returncode == 0, result.stderr

    ztmm("new", path, "--client", "Contoso Ltd", "--assessor", "Lead assessor")
    ztmm("assess", path, "1.1", "--rate", "initial=met", "--target", "advanced", "--owner", "Identity team lead")
    ztmm("attach", path, evidence, "--to", "1.1/initial")
    ztmm("finding", "add", path, "1.1", "--title", "MFA not enforced", "--severity", "high", "--likelihood", "4",
         "--impact", "4", "--owner", "Identity team lead", "--due", "2027-03-31")  # fmt: skip
    ztmm("action", "add", path, "1.1", "--text", "Enforce MFA", "--phase", "now", "--effort", "M")
    ztmm("set", path, "--section", "executive-summary=Contoso is at Initial.", "--consultancy", "Northwind Advisory",
         "--history", "1.0|2026-11-28|Lead assessor|Issued")  # fmt: skip
    ztmm("baseline", path, "First look")
    workbook, report = tmp_path / "contoso.xlsx", tmp_path / "contoso.pdf"
    ztmm("export", path, workbook)
    ztmm("report", path, report)

    conn = sqlite3.connect(path)
    audit = conn.execute("SELECT * FROM audit").fetchall()
    dump = "\n".join(conn.iterdump())
    conn.close()
    assert audit and {row[2] for row in audit} == {"Lead assessor"}
    assert MARKER not in dump
    with zipfile.ZipFile(workbook) as archive:
        for name in archive.namelist():
            assert MARKER.encode() not in archive.read(name), name
    text = subprocess.run(["pdftotext", str(report), "-"], capture_output=True, text=True, check=True).stdout
    assert "Contoso" in text and MARKER not in text
    metadata = subprocess.run(["pdfinfo", str(report)], capture_output=True, text=True, check=True).stdout
    assert MARKER not in metadata
    assert MARKER.encode() not in report.read_bytes()
