"""The questionnaire round trip: export for client staff, read answers back, keep them per respondent."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import run_cli
from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.core.responses import Agreement, Answer
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.excel import layout
from ztmm_desktop.services import questionnaire as qs
from ztmm_desktop.services.catalogs import default_library
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement

INITIAL, ADVANCED, OPTIMAL = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL


@pytest.fixture
def engagement(tmp_path: Path) -> Iterator[Engagement]:
    path = tmp_path / "client.ztmm"
    with create_engagement(path, Properties(client="Contoso", title="Baseline", assessors=("Lead",))) as e:
        e.assess("1.1", ratings={INITIAL: Rating.MET, ADVANCED: Rating.PARTIAL}, by="Lead")
        yield e


def export(engagement: Engagement, folder: Path, **kwargs: object) -> Path:
    return qs.export_questionnaire(engagement, folder / "questionnaire.xlsx", **kwargs)  # type: ignore[arg-type]


def fill(
    source: Path,
    target: Path,
    answers: Mapping[tuple[str, str], tuple[object, object]],
    *,
    name: str | None = None,
    role: str | None = None,
) -> Path:
    """Fill a questionnaire as a client would: (code, stage) → (answer, comment), found by the hidden ids."""
    book = openpyxl.load_workbook(source)
    catalog = {f.code: f.id for f in default_library().catalog.functions()}
    wanted = {(catalog[code], stage): value for (code, stage), value in answers.items()}
    for sheet in book.worksheets:
        header = next((r for r in range(1, 30) if sheet.cell(r, 1).value == layout.FUNCTION_ID), None)
        if header is None:
            continue
        columns = {sheet.cell(header, c).value: c for c in range(1, sheet.max_column + 1)}
        for row in range(header + 1, sheet.max_row + 1):
            key = (sheet.cell(row, columns[layout.FUNCTION_ID]).value, sheet.cell(row, columns[layout.STAGE_ID]).value)
            if key in wanted:
                answer, comment = wanted.pop(key)
                sheet.cell(row, columns["Answer"]).value = answer
                sheet.cell(row, columns["Comment"]).value = comment
    assert not wanted, f"not in the questionnaire: {wanted}"
    if name is not None:
        book["Instructions"]["B6"] = name
    if role is not None:
        book["Instructions"]["B7"] = role
    book.save(target)
    return target


def engagement_state(engagement: Engagement) -> tuple[object, ...]:
    return (engagement.assessments(), qs.responses(engagement), len(engagement.audit_log()))


# -- export ------------------------------------------------------------------------------------


def test_questionnaire_is_marked_protected_and_has_a_dropdown_per_rated_stage(
    engagement: Engagement, tmp_path: Path
) -> None:
    out = export(engagement, tmp_path, respondent="Identity team lead", scope=["identity", "5"])
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Instructions", "Identity", "Data", layout.META_SHEET]
    meta = dict(book[layout.META_SHEET].iter_rows(values_only=True, max_col=2))
    assert meta["kind"] == "questionnaire" and meta["engagement"] == engagement.meta().id
    assert book[layout.META_SHEET].sheet_state == "veryHidden"
    assert book.security.lockStructure
    assert book["Instructions"]["B6"].value == "Identity team lead"
    sheet = book["Identity"]
    assert sheet.protection.sheet and book["Instructions"].protection.sheet
    assert sheet.column_dimensions["A"].hidden and sheet.column_dimensions["B"].hidden
    header = [c.value for c in sheet[4]]
    assert header == [layout.FUNCTION_ID, layout.STAGE_ID, "Code", "Function", "Stage",
                      "What this stage looks like", "Answer", "Comment"]  # fmt: skip
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert len(rows) == 7 * 4  # seven functions, four stages each
    assert rows[0][:5] == ("identity.authentication", "traditional", "1.1", "Authentication", "Traditional")
    assert rows[1][5] == engagement.stage_text(engagement.catalog.function("1.1"), INITIAL)
    [validation] = sheet.data_validations.dataValidation
    assert validation.formula1 == '"Met,Partially met,Not met,Not applicable,Don\'t know"'
    covered = {str(r) for r in validation.sqref.ranges}
    answer_cells = {f"G{5 + n}" for n in range(28) if rows[n][1] != "traditional"}
    assert covered == answer_cells  # a dropdown on every rated stage, none on Traditional
    for n in range(28):
        unlocked = not sheet[f"G{5 + n}"].protection.locked
        assert unlocked == (rows[n][1] != "traditional")
        assert sheet[f"F{5 + n}"].protection.locked and sheet[f"A{5 + n}"].protection.locked
    assert not book["Instructions"]["B6"].protection.locked and not book["Instructions"]["B7"].protection.locked


def test_export_refuses_bad_arguments_and_leaves_no_file(engagement: Engagement, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="name it"):
        qs.export_questionnaire(engagement, tmp_path / "q.xls")
    with pytest.raises(BadInput, match="unknown pillar"):
        qs.export_questionnaire(engagement, tmp_path / "q.xlsx", scope=["nope"])
    with pytest.raises(BadInput, match="names no pillar"):
        qs.export_questionnaire(engagement, tmp_path / "q.xlsx", scope=[" "])
    assert list(tmp_path.glob("*.xls*")) == []


def test_user_text_in_the_questionnaire_is_never_a_formula(tmp_path: Path) -> None:
    with create_engagement(tmp_path / "e.ztmm", Properties(client='=HYPERLINK("x")', marking="@SUM(1)")) as e:
        out = qs.export_questionnaire(e, tmp_path / "q.xlsx", respondent="+cmd|' /C calc'!A0")
    import zipfile

    with zipfile.ZipFile(out) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name
    book = openpyxl.load_workbook(out)
    assert book["Instructions"]["B6"].value == "+cmd|' /C calc'!A0"


# -- import ------------------------------------------------------------------------------------


def test_round_trip_keeps_answers_per_respondent_and_reimport_finds_nothing(
    engagement: Engagement, tmp_path: Path
) -> None:
    blank = export(engagement, tmp_path)
    filled = fill(
        blank,
        tmp_path / "identity-team.xlsx",
        {
            ("1.1", "initial"): ("Partially met", "MFA for most staff"),
            ("1.1", "advanced"): ("Met", None),
            ("1.1", "optimal"): ("Don't know", None),
            ("2.1", "initial"): ("Not applicable", "no devices"),
        },
        name="Identity  team lead",
        role="IAM lead",
    )
    rating_before = engagement.assessments()
    plan = qs.read_responses(engagement, filled)
    assert plan.kind == "questionnaire" and plan.respondent == "Identity team lead" and plan.role == "IAM lead"
    got = {(d.function_code, d.stage, d.old_answer, d.new_answer, d.new_comment) for d in plan.differences}
    assert got == {
        ("1.1", INITIAL, None, Answer.PARTIAL, "MFA for most staff"),
        ("1.1", ADVANCED, None, Answer.MET, ""),
        ("1.1", OPTIMAL, None, Answer.DONT_KNOW, ""),
        ("2.1", INITIAL, None, Answer.NOT_APPLICABLE, "no devices"),
    }
    disagreeing = {(d.function_code, d.stage) for d in plan.differences if d.disagrees_with_rating}
    assert disagreeing == {("1.1", INITIAL), ("1.1", ADVANCED)}  # Don't know and unrated stages never disagree
    assert qs.responses(engagement) == []  # reading changes nothing

    changes = qs.apply_responses(engagement, plan, by="Lead")
    assert changes.functions == {engagement.catalog.function(code).id for code in ("1.1", "2.1")}
    stored = {(r.function_id, r.stage): r for r in qs.responses(engagement)}
    assert len(stored) == 4
    first = stored[("identity.authentication", INITIAL)]
    assert (first.respondent, first.role, first.answer, first.comment) == (
        "Identity team lead", "IAM lead", Answer.PARTIAL, "MFA for most staff")  # fmt: skip
    assert first.source_name == "identity-team.xlsx" and len(first.source_sha256) == 64 and first.imported_by == "Lead"
    assert engagement.assessments() == rating_before  # a respondent never overwrites the rating
    assert any(a.entity == "response" for a in engagement.audit_log())

    again = qs.read_responses(engagement, filled)
    assert again.differences == () and again.unchanged == 4


def test_second_respondent_is_kept_side_by_side_and_agreement_is_shown(engagement: Engagement, tmp_path: Path) -> None:
    blank = export(engagement, tmp_path)
    for name, answer in (("Identity team lead", "Met"), ("Omar", "Not met")):
        filled = fill(blank, tmp_path / f"{name}.xlsx", {("1.1", "initial"): (answer, None),
                                                         ("1.2", "initial"): ("Met", None)}, name=name)  # fmt: skip
        qs.apply_responses(engagement, qs.read_responses(engagement, filled))
    assert qs.respondents(engagement) == ["Identity team lead", "Omar"]
    states = {(a.function_id, a.stage): a for a in qs.agreements(engagement)}
    auth = states[("identity.authentication", INITIAL)]
    assert auth.state is Agreement.RESPONDENTS_DISAGREE and auth.disagree_with_rating == ["Omar"]
    assert states[("identity.identity_stores", INITIAL)].state is Agreement.UNRATED
    assert states[("identity.authentication", ADVANCED)].state is Agreement.NO_ANSWERS
    engagement.assess("1.2", ratings={INITIAL: Rating.PARTIAL})
    assert {a.stage: a.state for a in qs.agreements(engagement, "1.2")}[INITIAL] is Agreement.DISAGREE_WITH_RATING
    engagement.assess("1.2", ratings={INITIAL: Rating.MET})
    assert {a.stage: a.state for a in qs.agreements(engagement, "1.2")}[INITIAL] is Agreement.AGREE


def test_client_edits_are_tolerated(engagement: Engagement, tmp_path: Path) -> None:
    """Reordered, hidden and added columns, extra sheets, blank rows, case, spacing and typed values."""
    blank = export(engagement, tmp_path)
    book = openpyxl.load_workbook(blank)
    for sheet in book.worksheets:
        sheet.protection.sheet = False
    book.security.lockStructure = False
    sheet = book["Identity"]
    sheet.insert_rows(7, 3)  # blank rows inside the table
    sheet.insert_cols(3)  # an added column before Code
    sheet["C4"] = "Our notes"
    sheet.move_range("I4:I60", cols=3)  # Comment moves to the far right (column L)
    sheet.column_dimensions["H"].hidden = True  # the Answer column hidden
    sheet["H5"].value = None
    sheet["H6"] = "  PARTIALLY  "  # 1.1 initial
    sheet["L6"] = "typed comment"
    sheet["H10"] = "n/a"  # 1.1 advanced, after the three blank rows
    sheet["H11"] = "dont know"
    sheet["C11"] = "ignored note"
    book.create_sheet("Our working", 0)["A1"] = "scratch"
    book.move_sheet("Identity", offset=3)
    book.save(tmp_path / "edited.xlsx")
    plan = qs.read_responses(engagement, tmp_path / "edited.xlsx", respondent="Identity team lead")
    got = {(d.function_code, d.stage, d.new_answer, d.new_comment) for d in plan.differences}
    assert got == {("1.1", INITIAL, Answer.PARTIAL, "typed comment"), ("1.1", ADVANCED, Answer.NOT_APPLICABLE, ""),
                   ("1.1", OPTIMAL, Answer.DONT_KNOW, "")}  # fmt: skip


def test_blank_cells_never_erase_what_is_recorded(engagement: Engagement, tmp_path: Path) -> None:
    blank = export(engagement, tmp_path)
    first = fill(blank, tmp_path / "1.xlsx", {("1.1", "initial"): ("Met", "all staff")}, name="Identity team lead")
    qs.apply_responses(engagement, qs.read_responses(engagement, first))
    second = fill(
        blank, tmp_path / "2.xlsx", {("1.1", "initial"): (None, "all staff, since May")}, name="identity TEAM lead"
    )
    plan = qs.read_responses(engagement, second)
    [diff] = plan.differences
    assert (diff.respondent, diff.old_answer, diff.new_answer, diff.new_comment) == (
        "Identity team lead", Answer.MET, Answer.MET, "all staff, since May")  # fmt: skip
    assert "comment only" in qs.describe(diff)


def test_export_for_a_known_respondent_prefills_their_answers(engagement: Engagement, tmp_path: Path) -> None:
    blank = export(engagement, tmp_path)
    filled = fill(
        blank,
        tmp_path / "j.xlsx",
        {("1.1", "initial"): ("not met", "none yet")},
        name="Identity team lead",
        role="CISO",
    )
    qs.apply_responses(engagement, qs.read_responses(engagement, filled))
    again = qs.export_questionnaire(engagement, tmp_path / "again.xlsx", respondent="IDENTITY team lead")
    sheet = openpyxl.load_workbook(again)["Identity"]
    assert (sheet["G6"].value, sheet["H6"].value) == ("Not met", "none yet")
    assert openpyxl.load_workbook(again)["Instructions"]["B7"].value == "CISO"
    assert qs.read_responses(engagement, again).differences == ()


def test_apply_some_differences_then_undo_and_redo_as_one_step(engagement: Engagement, tmp_path: Path) -> None:
    blank = export(engagement, tmp_path)
    first = fill(blank, tmp_path / "1.xlsx", {("1.1", "initial"): ("Met", "a")}, name="Identity team lead")
    qs.apply_responses(engagement, qs.read_responses(engagement, first))
    before = qs.responses(engagement)
    second = fill(blank, tmp_path / "2.xlsx", {("1.1", "initial"): ("Not met", "b"), ("1.2", "advanced"): ("Met", ""),
                                               ("1.3", "optimal"): ("Met", "")}, name="Identity team lead")  # fmt: skip
    plan = qs.read_responses(engagement, second)
    assert len(plan.differences) == 3
    done = qs.apply_responses(engagement, plan, accept=[0, 1])
    assert len(qs.responses(engagement)) == 2 and len(done.previous) == 2
    after = qs.responses(engagement)
    undone = qs.restore_responses(engagement, done.previous)
    assert qs.responses(engagement) == before
    qs.restore_responses(engagement, undone.previous)
    assert qs.responses(engagement) == after
    with pytest.raises(BadInput, match="no difference number 7"):
        qs.apply_responses(engagement, plan, accept=[7])


def test_a_stale_plan_is_refused_whole(engagement: Engagement, tmp_path: Path) -> None:
    blank = export(engagement, tmp_path)
    filled = fill(blank, tmp_path / "1.xlsx", {("1.1", "initial"): ("Met", ""), ("1.2", "initial"): ("Met", "")},
                  name="Identity team lead")  # fmt: skip
    plan = qs.read_responses(engagement, filled)
    qs.apply_responses(engagement, plan, accept=[1])
    state = engagement_state(engagement)
    with pytest.raises(BadInput, match="changed since"):
        qs.apply_responses(engagement, plan)
    assert engagement_state(engagement) == state


def test_adopting_an_answer_sets_the_rating_and_comment(engagement: Engagement, tmp_path: Path) -> None:
    blank = export(engagement, tmp_path)
    filled = fill(blank, tmp_path / "1.xlsx", {("1.1", "initial"): ("Partially met", "only staff"),
                                               ("1.1", "optimal"): ("Don't know", "")}, name="Identity team lead")  # fmt: skip
    qs.apply_responses(engagement, qs.read_responses(engagement, filled))
    changes = qs.adopt_response(engagement, "1.1", "initial", "identity team LEAD", by="Lead")
    assert changes.functions == {"identity.authentication"}
    rating = engagement.assessment("1.1").rating(INITIAL)
    assert (rating.rating, rating.comment) == (Rating.PARTIAL, "only staff")
    with pytest.raises(BadInput, match="Don't know"):
        qs.adopt_response(engagement, "1.1", OPTIMAL, "Identity team lead")
    with pytest.raises(BadInput, match="gave no answer"):
        qs.adopt_response(engagement, "1.1", ADVANCED, "Identity team lead")


# -- strict failures: each names sheet and cell, nothing applied ---------------------------------------


def _edit(source: Path, target: Path, change: object) -> Path:
    book = openpyxl.load_workbook(source)
    change(book)  # type: ignore[operator]
    book.save(target)
    return target


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda b: b["Identity"].__setitem__("A6", "identity.nonsense"),
            r"Identity!A6: unknown function id 'identity\.nonsense'",
        ),
        (lambda b: b["Identity"].__setitem__("G6", "Mostly"), r"Identity!G6: 'Mostly' is not an answer"),
        (lambda b: b["Identity"].__setitem__("G7", 3), r"Identity!G7: '3' is not an answer"),
        (
            lambda b: b["Identity"].__setitem__("G6", '=IF(1,"Met","")'),
            r"Identity!G6: a formula where an answer belongs",
        ),
        (lambda b: b["Identity"].__setitem__("H6", "=A1"), r"Identity!H6: a formula where an answer belongs"),
        (lambda b: b["Identity"].merge_cells("G6:G7"), r"Identity!G6:G7: merged cells where answers belong"),
        (lambda b: b["Identity"].merge_cells("F10:H10"), r"Identity!F10:H10: merged cells where answers belong"),
        (lambda b: b["Identity"].__setitem__("B6", "expert"), r"Identity!B6: unknown stage id 'expert'"),
    ],
    ids=[
        "unknown-function",
        "invalid-value",
        "number",
        "formula-answer",
        "formula-comment",
        "merged",
        "merged-row",
        "stage",
    ],
)
def test_strict_failures_name_sheet_and_cell_and_apply_nothing(
    engagement: Engagement, tmp_path: Path, change: object, message: str
) -> None:
    blank = export(engagement, tmp_path)
    filled = fill(blank, tmp_path / "ok.xlsx", {("1.1", "optimal"): ("Met", "fine")}, name="Identity team lead")
    bad = _edit(filled, tmp_path / "bad.xlsx", change)
    state = engagement_state(engagement)
    with pytest.raises(BadInput, match=message) as caught:
        qs.read_responses(engagement, bad)
    assert "nothing imported" in str(caught.value) and "\n" not in str(caught.value)
    assert engagement_state(engagement) == state


def test_every_problem_is_listed_in_one_line(engagement: Engagement, tmp_path: Path) -> None:
    blank = export(engagement, tmp_path)

    def change(book: openpyxl.Workbook) -> None:
        for row in range(6, 30):
            book["Devices"][f"G{row}"] = "maybe"

    bad = _edit(blank, tmp_path / "bad.xlsx", change)
    with pytest.raises(BadInput, match=r"bad\.xlsx: 18 problems, nothing imported: Devices!G6: .*; and 13 more$"):
        qs.read_responses(engagement, bad, respondent="Identity team lead")


def test_workbook_from_another_engagement_is_refused_unless_forced(engagement: Engagement, tmp_path: Path) -> None:
    with create_engagement(tmp_path / "other.ztmm", Properties(client="Fabrikam")) as other:
        blank = qs.export_questionnaire(other, tmp_path / "other.xlsx")
    filled = fill(blank, tmp_path / "filled.xlsx", {("1.1", "initial"): ("Met", "")}, name="Identity team lead")
    state = engagement_state(engagement)
    with pytest.raises(BadInput, match=r"another engagement .*--force-engagement"):
        qs.read_responses(engagement, filled)
    assert engagement_state(engagement) == state
    plan = qs.read_responses(engagement, filled, force=True)
    assert [d.function_code for d in plan.differences] == ["1.1"]


def test_not_our_workbook_and_no_respondent_are_refused(engagement: Engagement, tmp_path: Path) -> None:
    plain = openpyxl.Workbook()
    plain.active["A1"] = "Answer"
    plain.save(tmp_path / "plain.xlsx")
    with pytest.raises(BadInput, match="not a workbook exported by ZTMM Workbench"):
        qs.read_responses(engagement, tmp_path / "plain.xlsx")
    blank = export(engagement, tmp_path)
    with pytest.raises(BadInput, match=r"does not name its respondent.*--respondent"):
        qs.read_responses(engagement, blank)


def test_the_deliverable_workbook_is_read_back_as_a_respondent(engagement: Engagement, tmp_path: Path) -> None:
    from ztmm_desktop.services.workbook import export_workbook

    engagement.assess("1.2", ratings={INITIAL: Rating.NOT_APPLICABLE}, comments={INITIAL: "no directory"})
    deliverable = export_workbook(engagement, tmp_path / "deliverable.xlsx")
    with pytest.raises(BadInput, match="name the respondent with --respondent"):
        qs.read_responses(engagement, deliverable)
    plan = qs.read_responses(engagement, deliverable, respondent="Client CISO")
    got = {(d.function_code, d.stage, d.new_answer, d.new_comment) for d in plan.differences}
    assert got == {("1.1", INITIAL, Answer.MET, ""), ("1.1", ADVANCED, Answer.PARTIAL, ""),
                   ("1.2", INITIAL, Answer.NOT_APPLICABLE, "no directory")}  # fmt: skip
    assert not any(d.disagrees_with_rating for d in plan.differences)


# -- the command line -------------------------------------------------------------------------------


def test_cli_import_dry_run_then_apply(tmp_path: Path) -> None:
    path = tmp_path / "c.ztmm"
    with create_engagement(path, Properties(client="Contoso")) as e:
        e.assess("1.1", ratings={INITIAL: Rating.MET})
        e.save()
        qs.export_questionnaire(e, tmp_path / "q.xlsx", respondent="Identity team lead", scope=["1"])
    filled = fill(tmp_path / "q.xlsx", tmp_path / "f.xlsx", {("1.1", "initial"): ("not met", "no MFA")})
    before = path.read_bytes()
    dry = run_cli("import", path, filled, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert (
        "1.1 Authentication, Initial: (no answer) → Not met; comment added (Identity team lead) — your rating: Met"
        in dry.stdout
    )
    assert "dry run, nothing changed" in dry.stdout
    assert path.read_bytes() == before
    real = run_cli("import", path, filled, "--by", "Lead")
    assert real.returncode == 0 and "imported into" in real.stdout
    with open_engagement(path, readonly=True) as e:
        assert [(r.respondent, r.answer) for r in qs.responses(e)] == [("Identity team lead", Answer.NOT_MET)]
    bad = run_cli("import", path, tmp_path / "c.ztmm")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: ")


# -- a real client: re-saved by LibreOffice ------------------------------------------------------------


_PROFILE: dict[str, Path] = {}


def _soffice(source: Path, folder: Path, target_format: str) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    out = folder / "converted"
    out.mkdir(exist_ok=True)
    profile = (_PROFILE.get("dir") or folder / "lo-profile").as_uri()
    _PROFILE.setdefault("dir", folder / "lo-profile")  # later conversions in this process reuse the warm profile
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            target_format,
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(folder)},
    )
    converted = out / f"{source.stem}.{target_format.split(':')[0]}"
    assert converted.is_file()
    return converted


@pytest.mark.slow
def test_questionnaire_resaved_by_libreoffice_imports_the_same(engagement: Engagement, tmp_path: Path) -> None:
    blank = export(engagement, tmp_path, respondent="Identity team lead")
    filled = fill(blank, tmp_path / "filled.xlsx", {("1.1", "initial"): (" partially ", "MFA: most staff"),
                                                    ("4.2", "optimal"): ("Don't know", "ask AppSec"),
                                                    ("6.3", "advanced"): ("Met", "")}, role="CISO")  # fmt: skip
    folder = tmp_path / "client"
    folder.mkdir()
    resaved = _soffice(filled, folder, "xlsx")
    assert resaved.read_bytes() != filled.read_bytes()
    direct = qs.read_responses(engagement, filled)
    through = qs.read_responses(engagement, resaved)
    assert through.respondent == "Identity team lead" and through.role == "CISO"
    assert [(d.function_id, d.stage, d.new_answer, d.new_comment) for d in through.differences] == [
        (d.function_id, d.stage, d.new_answer, d.new_comment) for d in direct.differences
    ]
    assert len(through.differences) == 3
