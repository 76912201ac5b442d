"""Baselines and progress: freeze a named baseline, compare with it or with another file of the client."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from ztmm_desktop.core.catalog import Pillar
from ztmm_desktop.core.errors import BadInput, EngagementFileError
from ztmm_desktop.core.progress_compare import FunctionState, Movement, compare
from ztmm_desktop.core.scoring import FunctionAssessment, StageRating
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import baselines
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement
from ztmm_desktop.store.document import orphaned_working_copies
from ztmm_desktop.store.lock import lock_path_for

MET, PARTIAL, NA = Rating.MET, Rating.PARTIAL, Rating.NOT_APPLICABLE
INITIAL, ADVANCED, OPTIMAL = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL


def make(path: Path, client: str = "Contoso Ltd", scope: tuple[str, ...] | None = None) -> Engagement:
    engagement = create_engagement(path, Properties(client=client, scope=scope))
    engagement.assess("1.1", ratings={INITIAL: MET}, comments={INITIAL: "MFA everywhere"}, target=OPTIMAL)
    engagement.assess("1.2", ratings={INITIAL: MET, ADVANCED: MET}, target=ADVANCED)
    engagement.assess("2.1", ratings={INITIAL: PARTIAL}, target=ADVANCED)
    engagement.assess("3.1", ratings={INITIAL: MET})
    engagement.save()
    return engagement


@pytest.fixture
def engagement(tmp_path: Path) -> Iterator[Engagement]:
    with make(tmp_path / "contoso.ztmm") as opened:
        yield opened


def change_three(engagement: Engagement) -> None:
    engagement.assess("1.1", ratings={ADVANCED: MET})  # Initial → Advanced
    engagement.assess("1.2", ratings={ADVANCED: PARTIAL})  # Advanced → Initial
    engagement.assess("2.1", override=(INITIAL, "pilot seen in the workshop"))  # Traditional → Initial (override)


def test_compare_with_a_baseline_after_changing_three_functions_lists_exactly_those_three(
    engagement: Engagement,
) -> None:
    baselines.freeze_baseline(engagement, "Initial assessment 2026-11", by="Tester")
    change_three(engagement)
    comparison = baselines.compare_with_baseline(engagement, "Initial assessment 2026-11")
    assert [f.function.code for f in comparison.changed] == ["1.1", "1.2", "2.1"]
    assert [f.describe() for f in comparison.changed] == [
        "1.1 Authentication: Initial → Advanced (target Optimal)",
        "1.2 Identity Stores: Advanced → Initial (target Advanced)",
        "2.1 Policy Enforcement & Compliance Monitoring: Traditional → Initial (override) (target Advanced)",
    ]
    by_code = {f.function.code: f for f in comparison.functions}
    assert len(by_code) == 40  # every function in scope, changed or not
    assert (by_code["1.1"].movement, by_code["1.1"].steps) == (Movement.IMPROVED, 1)
    assert (by_code["1.2"].movement, by_code["1.2"].steps) == (Movement.REGRESSED, -1)
    assert by_code["2.1"].changes == ("stage", "override")
    assert by_code["3.1"].movement is Movement.UNCHANGED and not by_code["3.1"].changed
    assert (comparison.count(Movement.IMPROVED), comparison.count(Movement.REGRESSED)) == (2, 1)
    assert comparison.count(Movement.UNCHANGED) == 37
    identity = next(p for p in comparison.pillars if p.key == "identity")
    assert (identity.then.score, identity.now.score) == (1.5, 1.5)  # one up, one down
    devices = next(p for p in comparison.pillars if p.key == "devices")
    assert (devices.then.score, devices.now.score) == (0.0, 1.0)
    assert comparison.summary() == (
        "3 functions changed: 2 improved, 1 regressed; 37 unchanged; overall 1.0 (Initial) → 1.3 (Initial)"
    )


def test_a_baseline_is_a_frozen_copy_that_survives_save_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "contoso.ztmm"
    with make(path) as engagement:
        engagement.assess("4.1", override=(ADVANCED, "seen in production"), target=OPTIMAL)
        changes = baselines.freeze_baseline(engagement, "  Initial assessment 2026-11 ", by="Tester")
        assert changes.metadata
        engagement.assess("1.1", comments={INITIAL: "rewritten"}, clear_target=True)
        engagement.assess("4.1", clear_override=True)
        engagement.save()
    with open_engagement(path, readonly=True) as again:
        [baseline] = baselines.list_baselines(again)
        assert (baseline.name, baseline.created_by, baseline.functions) == ("Initial assessment 2026-11", "Tester", 40)
        assert baseline.score_text == "1.2 (Initial)"
        _, then = baselines.baseline_states(again, "initial assessment 2026-11")  # case does not matter
        assert then["identity.authentication"].rating(INITIAL) == StageRating(MET, "MFA everywhere")
        assert then["identity.authentication"].target is OPTIMAL
        app_access = then["applications_and_workloads.application_access"].result
        assert (app_access.current, app_access.derived, app_access.overridden) == (ADVANCED, Stage.TRADITIONAL, True)
        assert app_access.override_reason == "seen in production"
        comparison = baselines.compare_with_baseline(again, "Initial assessment 2026-11")
        assert [(f.function.code, f.changes) for f in comparison.changed] == [
            ("1.1", ("target", "comments")),
            ("4.1", ("stage", "override")),
        ]
        assert comparison.changed[0].describe() == (
            "1.1 Authentication: Initial → Initial (target Optimal → none; comments changed)"
        )
        entries = [(e.entity, e.key, e.field) for e in again.audit_log() if e.entity == "baseline"]
        assert entries == [("baseline", "Initial assessment 2026-11", "frozen")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "a baseline needs a name"),
        ("   ", "a baseline needs a name"),
        ("initial ASSESSMENT 2026-11", "a baseline named 'Initial assessment 2026-11' already exists"),
        ("two\nlines", "one line of text"),
        ("x" * 501, "the limit is 500"),
    ],
)
def test_bad_baseline_names_are_refused_and_nothing_changes(engagement: Engagement, name: str, message: str) -> None:
    baselines.freeze_baseline(engagement, "Initial assessment 2026-11")
    before = (baselines.list_baselines(engagement), engagement.audit_log())
    with pytest.raises(BadInput, match=message):
        baselines.freeze_baseline(engagement, name)
    assert (baselines.list_baselines(engagement), engagement.audit_log()) == before


def test_an_unknown_baseline_names_the_ones_that_exist(engagement: Engagement) -> None:
    with pytest.raises(BadInput, match=r"no baseline named 'Q1' in contoso.ztmm; it has none yet"):
        baselines.compare_with_baseline(engagement, "Q1")
    baselines.freeze_baseline(engagement, "Initial")
    baselines.freeze_baseline(engagement, "Mid-term")
    with pytest.raises(
        BadInput, match=r"no baseline named 'Q1' in contoso.ztmm; the baselines are: 'Initial', 'Mid-term'$"
    ):
        baselines.compare_with_baseline(engagement, "Q1")
    with pytest.raises(BadInput, match="no baseline named 'Q1'"):
        baselines.delete_baseline(engagement, "Q1")
    assert [b.name for b in baselines.list_baselines(engagement)] == ["Initial", "Mid-term"]


def test_deleting_a_baseline_removes_it_and_its_functions_only(engagement: Engagement) -> None:
    baselines.freeze_baseline(engagement, "Initial")
    baselines.freeze_baseline(engagement, "Mid-term")
    assessments = engagement.assessments()
    baselines.delete_baseline(engagement, "initial", by="Tester")
    assert [b.name for b in baselines.list_baselines(engagement)] == ["Mid-term"]
    assert engagement.assessments() == assessments
    conn = sqlite3.connect(engagement.document.working)
    assert conn.execute("SELECT COUNT(*) FROM baseline_function").fetchone()[0] == 40
    conn.close()
    baselines.freeze_baseline(engagement, "Initial")  # the name is free again


def test_a_read_only_engagement_cannot_freeze(tmp_path: Path) -> None:
    path = tmp_path / "contoso.ztmm"
    make(path).close()
    with open_engagement(path, readonly=True) as viewer:
        with pytest.raises(EngagementFileError, match="opened read-only; nothing was changed"):
            baselines.freeze_baseline(viewer, "Initial")
        assert baselines.list_baselines(viewer) == []


def test_a_damaged_baseline_is_reported_in_one_line(engagement: Engagement) -> None:
    baselines.freeze_baseline(engagement, "Initial")
    conn = sqlite3.connect(engagement.document.working)
    conn.execute("UPDATE baseline_function SET ratings = '[1, 2' WHERE function_id = 'identity.authentication'")
    conn.commit()
    conn.close()
    with pytest.raises(EngagementFileError, match=r"^contoso.ztmm: baseline 'Initial' is damaged$"):
        baselines.compare_with_baseline(engagement, "Initial")


# -- another file of the same client ---------------------------------------------


def test_compare_with_an_earlier_file_of_the_same_client(tmp_path: Path) -> None:
    earlier = tmp_path / "contoso-2025.ztmm"
    make(earlier, client="Contoso Ltd").close()
    earlier_bytes = earlier.read_bytes()
    with make(tmp_path / "contoso-2026.ztmm", client="  contoso   LTD ") as engagement:
        change_three(engagement)
        comparison = baselines.compare_with_file(engagement, earlier)
        assert [f.function.code for f in comparison.changed] == ["1.1", "1.2", "2.1"]
        assert comparison.then_label.startswith("contoso-2025.ztmm (Contoso Ltd, created ")
    assert earlier.read_bytes() == earlier_bytes
    assert not lock_path_for(earlier).exists()
    assert orphaned_working_copies() == []


def test_a_copy_of_the_same_engagement_compares_even_after_the_client_was_renamed(tmp_path: Path) -> None:
    path = tmp_path / "contoso.ztmm"
    make(path).close()
    copy = tmp_path / "contoso-before-workshop.ztmm"
    shutil.copy(path, copy)
    with open_engagement(path) as engagement:
        engagement.update_properties(Properties(client="Contoso Group"))
        engagement.assess("3.1", ratings={ADVANCED: MET})
        assert [f.function.code for f in baselines.compare_with_file(engagement, copy).changed] == ["3.1"]


def test_another_clients_file_is_refused_unless_forced(tmp_path: Path) -> None:
    other = tmp_path / "fabrikam.ztmm"
    make(other, client="Fabrikam").close()
    with make(tmp_path / "contoso.ztmm") as engagement:
        with pytest.raises(
            BadInput, match=r"fabrikam.ztmm is an engagement of another client \('Fabrikam', not 'Contoso Ltd'\)"
        ):
            baselines.compare_with_file(engagement, other)
        assert baselines.compare_with_file(engagement, other, force=True).changed == ()


def test_the_file_itself_a_newer_schema_and_a_corrupt_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "contoso.ztmm"
    make(path).close()
    newer = tmp_path / "newer.ztmm"
    shutil.copy(path, newer)
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    corrupt = tmp_path / "corrupt.ztmm"
    corrupt.write_bytes(path.read_bytes()[:60])
    link = tmp_path / "alias.ztmm"
    link.symlink_to(path)
    cases = [
        (path, BadInput, "contoso.ztmm is the engagement itself"),
        (link, BadInput, "alias.ztmm is the engagement itself"),
        (newer, EngagementFileError, r"newer version of ZTMM Workbench \(file schema 99"),
        (corrupt, EngagementFileError, "truncated"),
        (tmp_path / "missing.ztmm", EngagementFileError, "no such file"),
    ]
    before = {p: p.read_bytes() for p in (path, newer, corrupt)}
    with open_engagement(path, readonly=True) as engagement:
        for other, error, message in cases:
            with pytest.raises(error, match=message):
                baselines.compare_with_file(engagement, other)
    assert {p: p.read_bytes() for p in before} == before
    assert orphaned_working_copies() == []


# -- the pure comparison --------------------------------------------------------


def test_not_applicable_and_missing_functions_are_not_comparable(engagement: Engagement) -> None:
    identity: Pillar = engagement.catalog.pillar("identity")
    now = {
        f.id: FunctionState.of(FunctionAssessment(f.id, ratings={INITIAL: StageRating(MET)}))
        for f in identity.functions
    }
    all_na = {s: StageRating(NA) for s in (INITIAL, ADVANCED, OPTIMAL)}
    first, second, *_ = identity.functions
    then = {first.id: FunctionState.of(FunctionAssessment(first.id, ratings=all_na))}  # the rest: not in then
    comparison = compare([identity], then, now, then_label="then", now_label="now")
    assert comparison.count(Movement.NOT_COMPARABLE) == 7
    assert comparison.functions[0].describe() == f"{first.code} {first.name}: Not applicable → Initial"
    assert comparison.functions[1].describe() == f"{second.code} {second.name}: not assessed then → Initial"
    assert (comparison.overall.then.score, comparison.overall.now.score) == (None, 1.0)
    assert comparison.summary().endswith("7 not comparable; 0 unchanged; overall not assessed → 1.0 (Initial)")


# -- the command ----------------------------------------------------------------


def assert_refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and message in line, line


def test_cli_baseline_then_compare_text_and_json(tmp_path: Path) -> None:
    path = tmp_path / "contoso.ztmm"
    make(path, scope=("identity", "devices")).close()
    result = run_cli("baseline", path, "Initial assessment 2026-11", "--by", "Tester")
    assert result.returncode == 0, result.stderr
    assert "froze baseline 'Initial assessment 2026-11'" in result.stdout
    with open_engagement(path) as engagement:
        change_three(engagement)
        engagement.save()
    result = run_cli("compare", path, "--baseline", "Initial assessment 2026-11")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Contoso Ltd: baseline 'Initial assessment 2026-11' (")
    assert lines[1] == "1.1 Authentication: Initial → Advanced (target Optimal)"
    assert [line.split(" ")[0] for line in lines[1:-1]] == ["1.1", "1.2", "2.1"]
    assert (
        lines[-1] == "3 functions changed: 2 improved, 1 regressed; 11 unchanged; overall 1.0 (Initial) → 1.3 (Initial)"
    )
    assert run_cli("compare", path).stdout == result.stdout  # the latest baseline by default

    data = json.loads(run_cli("compare", path, "--json").stdout)
    assert len(data["functions"]) == 14  # every function in scope (identity and devices)
    authentication = data["functions"][0]
    assert (authentication["code"], authentication["then"]["current"], authentication["now"]["current"]) == (
        "1.1",
        "initial",
        "advanced",
    )
    assert authentication["then"]["ratings"]["initial"] == {"rating": "met", "comment": "MFA everywhere"}
    assert authentication["movement"] == "improved" and authentication["now"]["target"] == "optimal"
    assert data["summary"] == {
        "functions": 14,
        "changed": 3,
        "improved": 2,
        "regressed": 1,
        "same_stage": 0,
        "not_comparable": 0,
        "unchanged": 11,
    }
    assert [p["id"] for p in data["pillars"]] == ["identity", "devices"]
    assert data["engagement"]["client"] == "Contoso Ltd"

    listed = run_cli("baseline", path, "--list")
    assert listed.stdout.startswith("Initial assessment 2026-11  (frozen ")
    assert json.loads(run_cli("baseline", path, "--list", "--json").stdout)[0]["created_by"] == "Tester"


def test_cli_refuses_bad_input_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "contoso.ztmm"
    make(path).close()
    other = tmp_path / "fabrikam.ztmm"
    make(other, client="Fabrikam").close()
    assert_refused(run_cli("compare", path), "contoso.ztmm has no baseline; freeze one with 'ztmm baseline FILE NAME'")
    assert run_cli("baseline", path, "Initial", "--by", "Tester").returncode == 0
    before = path.read_bytes()
    assert_refused(run_cli("baseline", path, ""), "a baseline needs a name")
    assert_refused(run_cli("baseline", path, "INITIAL"), "a baseline named 'Initial' already exists")
    assert_refused(run_cli("baseline", path), "give one of: a NAME to freeze, --list, or --delete NAME")
    assert_refused(
        run_cli("baseline", path, "--delete", "Q1"),
        "no baseline named 'Q1' in contoso.ztmm; the baselines are: 'Initial'",
    )
    assert_refused(run_cli("compare", path, "--baseline", "Q1"), "the baselines are: 'Initial'")
    assert_refused(run_cli("compare", path, "--with", path), "contoso.ztmm is the engagement itself")
    assert_refused(run_cli("compare", path, "--with", other), "refused (compare with --force if that is intended)")
    assert_refused(run_cli("compare", path, "--force"), "--force goes with --with")
    assert_refused(run_cli("compare", path, "--baseline", "Initial", "--with", other), "not allowed with argument")
    assert path.read_bytes() == before and not lock_path_for(path).exists()
    forced = run_cli("compare", path, "--with", other, "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.splitlines()[0].startswith("Contoso Ltd: fabrikam.ztmm (Fabrikam, created ")
    deleted = run_cli("baseline", path, "--delete", "Initial")
    assert deleted.returncode == 0, deleted.stderr
    assert run_cli("baseline", path, "--list").stdout == "no baselines\n"
