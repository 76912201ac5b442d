"""``ztmm set`` sections and document control, ``ztmm finding`` and ``ztmm action``, as a user runs them."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_cli import assert_refused, info
from ztmm_desktop.core.register import MAX_SECTION
from ztmm_desktop.services.deliverables import build_snapshot
from ztmm_desktop.services.engagement import open_engagement

BY = ("--by", "Lead assessor")


@pytest.fixture
def engagement(tmp_path: Path) -> Path:
    path = tmp_path / "contoso.ztmm"
    result = run_cli("new", path, "--client", "Contoso Ltd", "--assessor", "Lead assessor")
    assert result.returncode == 0, result.stderr
    return path


def ok(*args: str | Path) -> str:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_set_writes_sections_and_document_control(engagement: Path, tmp_path: Path) -> None:
    scope = tmp_path / "scope.txt"
    scope.write_text("Identity and Devices pillars.\n\n- Out of scope: OT networks", encoding="utf-8")
    ok(
        "set", engagement, "--section", "executive-summary=Contoso is at Initial.", "--section", f"scope=@{scope}",
        "--section", "key_messages=Three things matter.", "--consultancy", "Northwind Advisory",
        "--report-version", "1.0", "--history", "0.9|2026-11-20|Lead assessor|Draft for review",
        "--history", "1.0|2026-11-28|Lead assessor|Issued", "--recipient", "Chief Information Security Officer|Contoso Ltd|Sponsor",
        "--reviewer", "Quality reviewer", "--reviewed-on", "2026-11-27", "--approver", "Engagement partner",
        "--approved-on", "2026-11-28", "--paper", "letter", "--vendor-neutral", "yes", *BY,
    )  # fmt: skip
    data = info(engagement)
    assert data["sections"]["scope"] == scope.read_text(encoding="utf-8")
    assert data["sections"]["key_messages"] == "Three things matter."
    control = data["document_control"]
    assert control["consultancy"] == "Northwind Advisory" and control["report_version"] == "1.0"
    assert [line["version"] for line in control["history"]] == ["0.9", "1.0"]
    assert control["distribution"] == [
        {"name": "Chief Information Security Officer", "organisation": "Contoso Ltd", "role": "Sponsor"}
    ]
    assert (control["reviewed_on"], control["approved_on"], control["paper"], control["vendor_neutral"]) == (
        "2026-11-27",
        "2026-11-28",
        "Letter",
        True,
    )
    # an empty text clears a section; one empty --history clears the list
    ok("set", engagement, "--section", "scope=", "--history", "", "--vendor-neutral", "no", *BY)
    data = info(engagement)
    assert data["sections"]["scope"] == "" and data["document_control"]["history"] == []
    assert data["document_control"]["vendor_neutral"] is False
    with open_engagement(engagement, readonly=True) as opened:
        fields = {(e.field, e.by) for e in opened.audit_log() if e.entity == "engagement"}
    assert ("section:scope", "Lead assessor") in fields and ("history", "Lead assessor") in fields


def test_findings_carry_the_register_and_the_numbers_of_the_deliverables(engagement: Path) -> None:
    ok("finding", "add", engagement, "1.1", "--title", "MFA not enforced", "--severity", "high", "--owner",
       "Identity team lead", "--due", "2027-03-31", "--status", "open", "--likelihood", "4", "--impact", "3", *BY)  # fmt: skip
    ok("finding", "add", engagement, "2.1", "--title", "No device inventory", "--severity", "critical", *BY)
    ok(
        "finding",
        "add",
        engagement,
        "1.2",
        "--title",
        "Stale accounts",
        "--severity",
        "high",
        "--stage",
        "initial",
        *BY,
    )
    listed = json.loads(ok("finding", "list", engagement, "--json"))
    assert [(f["number"], f["title"]) for f in listed] == [
        ("F-01", "No device inventory"),
        ("F-02", "MFA not enforced"),
        ("F-03", "Stale accounts"),
    ]
    assert (listed[1]["risk_score"], listed[1]["risk_rating"], listed[1]["due_date"]) == (12, "High", "2027-03-31")
    with open_engagement(engagement, readonly=True) as opened:
        numbers = build_snapshot(opened).finding_numbers()
    assert {f["id"]: f["number"] for f in listed} == numbers

    ok("finding", "edit", engagement, "F-02", "--status", "in progress", "--likelihood", "", "--owner", "IAM lead", *BY)
    edited = next(
        f for f in json.loads(ok("finding", "list", engagement, "--json")) if f["title"] == "MFA not enforced"
    )
    assert (edited["status"], edited["likelihood"], edited["impact"], edited["owner"]) == (
        "in-progress",
        None,
        3,
        "IAM lead",
    )
    assert edited["risk_rating"] is None
    ok("finding", "remove", engagement, listed[2]["id"][:8], *BY)
    assert [f["title"] for f in json.loads(ok("finding", "list", engagement, "--json"))] == [
        "No device inventory",
        "MFA not enforced",
    ]
    assert info(engagement)["finding_register"] == {"open": 1, "in-progress": 1, "resolved": 0, "risk-accepted": 0}


def test_actions_in_roadmap_order_with_a_dependency(engagement: Path) -> None:
    ok("assess", engagement, "1.1", "--rate", "initial=not-met", "--target", "advanced", "--priority", "high", *BY)
    ok("action", "add", engagement, "1.1", "--stage", "advanced", "--text", "Enforce phishing-resistant MFA",
       "--phase", "next", "--effort", "M", "--cost", "$10k-50k", "--owner", "Identity team lead", *BY)  # fmt: skip
    ok("action", "add", engagement, "2.1", "--text", "Build a device inventory", "--phase", "now", "--effort", "L", *BY)
    listed = json.loads(ok("action", "list", engagement, "--json"))
    assert [(a["number"], a["text"]) for a in listed] == [
        ("A-01", "Build a device inventory"),
        ("A-02", "Enforce phishing-resistant MFA"),
    ]
    assert (listed[1]["priority"], listed[1]["gap"], listed[1]["stage"]) == ("high", 2, "advanced")
    ok("action", "edit", engagement, "A-02", "--after", "A-01", "--effort", "small", *BY)
    listed = json.loads(ok("action", "list", engagement, "--json"))
    assert (listed[1]["after"], listed[1]["after_number"], listed[1]["effort"]) == (listed[0]["id"], "A-01", "S")
    ok("action", "remove", engagement, "A-01", *BY)  # the action after it no longer depends on it
    [left] = json.loads(ok("action", "list", engagement, "--json"))
    assert (left["number"], left["after"]) == ("A-01", None)
    assert info(engagement)["actions"] == 1


@pytest.fixture(scope="module")
def busy_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An engagement with one finding and two actions (A-02 after A-01), made once for the module."""
    folder = tmp_path_factory.mktemp("busy")
    env = {"ZTMM_DATA_DIR": str(folder / "appdata")}
    path = folder / "busy.ztmm"
    for args in (
        ("new", path, "--client", "Contoso Ltd"),
        ("finding", "add", path, "1.1", "--title", "MFA not enforced", *BY),
        ("action", "add", path, "1.1", "--text", "First", "--phase", "now", "--effort", "S", *BY),
        ("action", "add", path, "1.2", "--text", "Second", "--phase", "next", "--effort", "M", "--after", "A-01", *BY),
    ):
        result = run_cli(*args, env=env)
        assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def busy(busy_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "busy.ztmm"
    shutil.copyfile(busy_template, path)
    return path


def _bad_inputs(tmp: Path) -> list[tuple[tuple[str, ...], str]]:
    long_text = tmp / "long.txt"
    long_text.write_text("x" * (MAX_SECTION + 1), encoding="utf-8")
    not_image = tmp / "logo.png"
    not_image.write_text("GIF89a? no, plain text pretending to be a PNG", encoding="utf-8")
    gif = tmp / "logo.gif"
    gif.write_bytes(
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )
    return [
        (("set", "{file}", "--section", f"scope=@{long_text}"), "the limit is 20,000"),
        (("set", "{file}", "--section", "summary=Text"), "unknown section 'summary'"),
        (("set", "{file}", "--consultancy-logo", str(not_image)), "is not a PNG or JPEG"),
        (("set", "{file}", "--consultancy-logo", str(gif)), "use a PNG or JPEG"),
        (("set", "{file}", "--history", "1.0|someday|Lead assessor|Issued"), "is not a date"),
        (("set", "{file}", "--paper", "A3"), "unknown paper size"),
        (("set", "{file}", "--reviewed-on", "2026-02-30"), "is not a date"),
        (("finding", "add", "{file}", "1.1", "--title", "T", "--due", "next March"), "is not a date"),
        (("finding", "add", "{file}", "1.1", "--title", "T", "--likelihood", "0"), "likelihood '0' is not a number"),
        (("finding", "add", "{file}", "1.1", "--title", "T", "--impact", "6"), "impact '6' is not a number"),
        (("finding", "add", "{file}", "1.1", "--title", "T", "--status", "closed"), "unknown finding status"),
        (("finding", "edit", "{file}", "F-01", "--likelihood", "6"), "likelihood '6'"),
        (("finding", "edit", "{file}", "F-09", "--status", "resolved"), "no finding 'F-09'"),
        (("finding", "remove", "{file}", "not-a-finding"), "no finding 'not-a-finding'"),
        (
            ("action", "add", "{file}", "1.1", "--text", "T", "--phase", "now", "--effort", "S", "--after", "A-07"),
            "no action 'A-07'",
        ),
        (("action", "edit", "{file}", "A-01", "--after", "A-01"), "cannot come after itself"),
        (("action", "edit", "{file}", "A-01", "--after", "A-02"), "cycle"),
        (("action", "add", "{file}", "1.1", "--text", "T", "--phase", "soon", "--effort", "S"), "unknown phase"),
        (("action", "add", "{file}", "1.1", "--text", "T", "--phase", "now", "--effort", "XL"), "unknown effort"),
        (("action", "add", "{file}", "1.1", "--text", " ", "--phase", "now", "--effort", "S"), "needs a text"),
        (("action", "remove", "{file}", "A-09"), "no action 'A-09'"),
    ]


@pytest.mark.parametrize("case", range(21))
def test_bad_register_input_is_refused_and_the_file_is_unchanged(busy: Path, tmp_path: Path, case: int) -> None:
    cases = _bad_inputs(tmp_path)
    assert len(cases) == 21
    args, message = cases[case]
    before = sha256(busy)
    assert_refused(run_cli(*(str(busy) if a == "{file}" else a for a in args), *BY), message)
    assert sha256(busy) == before


def test_the_consultancy_logo_set_with_ztmm_reaches_the_report_cover(tmp_path: Path) -> None:
    from PIL import Image

    from tests.test_report import images

    path = tmp_path / "cover.ztmm"
    assert run_cli("new", path, "--client", "Cover Client Ltd").returncode == 0
    client, firm = tmp_path / "client.png", tmp_path / "firm.png"
    Image.new("RGB", (200, 200), (200, 70, 60)).save(client)
    Image.new("RGB", (300, 100), (30, 70, 130)).save(firm)
    without = tmp_path / "without.pdf"
    assert run_cli("set", path, "--logo", client, "--consultancy", "Example Advisory LLP").returncode == 0
    assert run_cli("report", path, without).returncode == 0
    done = run_cli("set", path, "--consultancy-logo", firm)
    assert done.returncode == 0, done.stderr
    with_firm = tmp_path / "with.pdf"
    assert run_cli("report", path, with_firm).returncode == 0
    assert images(with_firm) == images(without) + 1  # the consultancy's logo beside the client's
