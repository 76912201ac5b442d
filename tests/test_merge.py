"""Merge from a colleague: two copies of one engagement edited apart, brought back together."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_cli import assert_refused
from ztmm_desktop.core import merge as core
from ztmm_desktop.core.errors import BadInput, EngagementFileError
from ztmm_desktop.core.responses import Answer, Response
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import baselines, evidence, questionnaire, workshops
from ztmm_desktop.services.engagement import Engagement, FindingDraft, Properties, create_engagement, open_engagement
from ztmm_desktop.services.evidence import EvidenceLink
from ztmm_desktop.services.merge import apply_merge, plan_merge, undo_merge
from ztmm_desktop.services.workshops import WorkshopDraft
from ztmm_desktop.store.document import orphaned_working_copies

MET, PARTIAL = Rating.MET, Rating.PARTIAL
INITIAL, ADVANCED, OPTIMAL = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL
RATING_KEY = "stage:identity.authentication/initial:rating"


def attach(engagement: Engagement, data: bytes, function: str, name: str) -> str:
    link = EvidenceLink(function_id=engagement.catalog.function(function).id)
    done = evidence.attach_stream(
        engagement, io.BytesIO(data), original_name=name, expected_size=len(data), links=[link], by="Lead assessor"
    )
    return done.evidence.id


def blob_count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM blob").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """Mine and theirs: one file copied, then edited apart (the issue's scenario)."""
    mine, theirs = tmp_path / "contoso.ztmm", tmp_path / "contoso-colleague.ztmm"
    with create_engagement(mine, Properties(client="Contoso Ltd")) as base:
        base.assess("1.1", ratings={INITIAL: PARTIAL}, target=OPTIMAL, by="Lead assessor")
        shared, _ = base.add_finding("1.1", "Legacy protocols enabled", severity="high", by="Lead assessor")
        base.save()
    shutil.copy(mine, theirs)
    ids = {"shared": shared}
    with open_engagement(mine) as engagement:
        engagement.assess("1.1", ratings={INITIAL: MET}, by="Lead assessor")  # the conflict
        engagement.assess("2.1", ratings={INITIAL: MET}, by="Lead assessor")  # one-sided, mine
        ids["mine_finding"], _ = engagement.add_finding("2.1", "No device inventory", by="Lead assessor")
        ids["mine_evidence"] = attach(engagement, b"the same screenshot", "1.1", "mfa.png")
        engagement.save()
    with open_engagement(theirs) as engagement:
        engagement.assess("1.1", ratings={INITIAL: Rating.NOT_MET}, by="Second assessor")  # the conflict
        engagement.assess(
            "3.1", note="Flat network in the plant", owner="Network team", by="Second assessor"
        )  # one-sided
        engagement.update_finding(
            ids["shared"], FindingDraft("Legacy protocols enabled", severity="critical"), by="Second assessor"
        )
        ids["their_finding"], _ = engagement.add_finding("3.1", "No segmentation", by="Second assessor")
        attach(engagement, b"the same screenshot", "1.1", "mfa.png")  # same bytes, same link
        ids["their_evidence"] = attach(engagement, b"a config export", "3.1", "fw.txt")
        engagement.save()
    return mine, theirs, ids


def test_merge_applies_one_sided_edits_reports_the_one_conflict_and_keeps_one_blob(
    copies: tuple[Path, Path, dict[str, str]],
) -> None:
    mine, theirs, ids = copies
    theirs_bytes = theirs.read_bytes()
    with open_engagement(mine) as engagement:
        plan = plan_merge(engagement, theirs)
        assert [c.key for c in plan.conflicts] == [RATING_KEY]
        conflict = plan.conflicts[0]
        assert (conflict.label, conflict.mine_text, conflict.theirs_text) == ("1.1 Initial rating", "Met", "Not met")
        assert sorted(i.key for i in plan.one_sided) == sorted(
            [
                f"evidence:{ids['their_evidence']}:*",
                f"finding:{ids['shared']}:severity",
                f"finding:{ids['their_finding']}:*",
                "function:networks.network_segmentation:notes",
                "function:networks.network_segmentation:owner",
            ]
        )
        assert [i.ref[1] for i in plan.findings_to_add] == [ids["their_finding"]]
        assert [i.ref[1] for i in plan.evidence_to_copy] == [ids["their_evidence"]]
        assert len(plan.duplicates) == 1
        result = apply_merge(engagement, plan, by="Lead assessor")
        assert result.kept == plan.conflicts
        assert engagement.assessment("1.1").rating(INITIAL).rating is MET  # kept mine
        assert engagement.assessment("2.1").rating(INITIAL).rating is MET  # mine untouched
        assert engagement.assessment("3.1").notes == "Flat network in the plant"
        assert engagement.assessment("3.1").owner == "Network team"
        findings = {f.id: f for f in engagement.findings()}
        assert set(findings) == {ids["shared"], ids["mine_finding"], ids["their_finding"]}
        assert findings[ids["shared"]].severity == "critical"
        records = evidence.list_evidence(engagement)
        assert sorted(e.original_name for e in records) == ["fw.txt", "mfa.png"]
        assert evidence.verify(engagement) == []
        assert plan_merge(engagement, theirs).conflicts == ()  # resolved: not reported again
        engagement.save()
    assert blob_count(mine) == 2  # the shared screenshot once, the config export
    assert theirs.read_bytes() == theirs_bytes

    # the same copy merged again: nothing to do, nothing written
    before = mine.read_bytes()
    with open_engagement(mine) as engagement:
        again = plan_merge(engagement, theirs)
        assert not again and again.one_sided == () and again.conflicts == ()
        assert apply_merge(engagement, again) == apply_merge(engagement, again)
    assert mine.read_bytes() == before


def test_the_colleague_merging_back_finds_only_what_is_new_to_them(copies: tuple[Path, Path, dict[str, str]]) -> None:
    mine, theirs, ids = copies
    with open_engagement(mine) as engagement:
        apply_merge(engagement, plan_merge(engagement, theirs))
        engagement.save()
    with open_engagement(theirs) as engagement:
        plan = plan_merge(engagement, mine)
        assert [c.key for c in plan.conflicts] == [RATING_KEY]
        keys = {i.key for i in plan.one_sided}
        assert keys == {
            "stage:devices.policy_enforcement_and_compliance_monitoring/initial:rating",
            f"finding:{ids['mine_finding']}:*",
        }
        apply_merge(engagement, plan, {RATING_KEY: "mine"})
        assert not plan_merge(engagement, mine)


def test_taking_theirs_then_undo_puts_everything_back(copies: tuple[Path, Path, dict[str, str]]) -> None:
    mine, theirs, ids = copies
    with open_engagement(mine) as engagement:
        before = (engagement.assessments(), engagement.findings(), evidence.list_evidence(engagement))
        plan = plan_merge(engagement, theirs)
        with pytest.raises(BadInput, match="no conflict 'nope'"):
            apply_merge(engagement, plan, {"nope": "theirs"})
        result = apply_merge(engagement, plan, {RATING_KEY: "theirs"})
        assert result.taken == plan.conflicts
        assert engagement.assessment("1.1").rating(INITIAL).rating is Rating.NOT_MET
        assert "identity.authentication" in result.functions and ids["their_finding"] in result.findings
        assert not plan_merge(engagement, theirs)
        undo_merge(engagement, result)
        after = (engagement.assessments(), engagement.findings(), evidence.list_evidence(engagement))
        assert after == before
        # undone: the merge is proposed again, the same as the first time
        again = plan_merge(engagement, theirs)
        assert ([c.key for c in again.conflicts], {i.key for i in again.one_sided}) == (
            [c.key for c in plan.conflicts],
            {i.key for i in plan.one_sided},
        )


def test_a_plan_is_refused_after_this_copy_changed(copies: tuple[Path, Path, dict[str, str]]) -> None:
    mine, theirs, _ = copies
    with open_engagement(mine) as engagement:
        plan = plan_merge(engagement, theirs)
        engagement.assess("4.1", ratings={INITIAL: MET})
        audit = len(engagement.audit_log())
        with pytest.raises(BadInput, match="changed since the merge was planned"):
            apply_merge(engagement, plan)
        assert len(engagement.audit_log()) == audit


def test_removed_finding_and_edited_evidence_merge_one_sided(copies: tuple[Path, Path, dict[str, str]]) -> None:
    mine, theirs, ids = copies
    with open_engagement(theirs) as engagement:
        engagement.remove_finding(ids["their_finding"])
        engagement.remove_finding(ids["shared"])
        engagement.save()
    with open_engagement(mine) as engagement:
        plan = plan_merge(engagement, theirs)
        removed = [i for i in plan.one_sided if i.ref == ("finding", ids["shared"])]
        assert [(i.field, i.theirs_text) for i in removed] == [("*", "(not here)")]
        assert all(i.ref[1] != ids["their_finding"] for i in (*plan.one_sided, *plan.conflicts))
        apply_merge(engagement, plan)
        assert {f.id for f in engagement.findings()} == {ids["mine_finding"]}


# -- the command line -----------------------------------------------------------------------


def test_cli_dry_run_changes_nothing_then_merge_then_again_is_a_no_op(
    copies: tuple[Path, Path, dict[str, str]],
) -> None:
    mine, theirs, _ = copies
    before, theirs_before = mine.read_bytes(), theirs.read_bytes()
    dry = run_cli("merge", mine, theirs, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert "conflict 1.1 Initial rating: mine Met, theirs Not met — would keep mine  [" + RATING_KEY + "]" in lines
    assert "would apply 3.1 notes: (none) → Flat network in the plant" in lines
    assert lines[-1] == "contoso-colleague.ztmm: 5 changes, 1 conflict; dry run, nothing changed"
    assert mine.read_bytes() == before

    done = run_cli("merge", mine, theirs, "--theirs", RATING_KEY, "--by", "Lead assessor")
    assert done.returncode == 0, done.stderr
    assert f"conflict 1.1 Initial rating: mine Met, theirs Not met — took theirs  [{RATING_KEY}]" in done.stdout
    assert "applied 3.1 notes: (none) → Flat network in the plant" in done.stdout
    assert done.stdout.splitlines()[-1].endswith(f"1 conflict; merged into {mine}")
    merged = mine.read_bytes()

    again = run_cli("merge", mine, theirs)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "contoso-colleague.ztmm: 0 changes, 0 conflicts; nothing to merge\n"
    assert mine.read_bytes() == merged
    assert theirs.read_bytes() == theirs_before


def test_cli_refuses_another_engagement_a_newer_schema_a_corrupt_file_and_itself(
    copies: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    mine, theirs, _ = copies
    stranger = tmp_path / "fabrikam.ztmm"
    create_engagement(stranger, Properties(client="Fabrikam")).close()
    newer = tmp_path / "newer.ztmm"
    shutil.copy(theirs, newer)
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    corrupt = tmp_path / "corrupt.ztmm"
    corrupt.write_bytes(theirs.read_bytes()[:4096] + b"\xff" * 4096)
    before = {p: p.read_bytes() for p in (mine, theirs, stranger, newer, corrupt)}
    assert_refused(run_cli("merge", mine, stranger), "fabrikam.ztmm is another engagement ('Fabrikam'")
    assert_refused(run_cli("merge", mine, newer), "newer version of ZTMM Workbench (file schema 99")
    assert_refused(run_cli("merge", mine, corrupt), "corrupt.ztmm")
    assert_refused(run_cli("merge", mine, mine), "contoso.ztmm is the engagement itself")
    assert_refused(run_cli("merge", mine, theirs, "--theirs", "nope"), "no conflict 'nope' in this merge")
    assert {p: p.read_bytes() for p in before} == before
    forced = run_cli("merge", mine, stranger, "--force", "--dry-run")
    assert forced.returncode == 0, forced.stderr
    assert orphaned_working_copies() == []


def test_service_refusals_change_nothing(copies: tuple[Path, Path, dict[str, str]], tmp_path: Path) -> None:
    mine, _, _ = copies
    with open_engagement(mine) as engagement:
        audit = engagement.audit_log()
        with pytest.raises(BadInput, match="is the engagement itself"):
            plan_merge(engagement, mine)
        with pytest.raises(EngagementFileError, match="no such file"):
            plan_merge(engagement, tmp_path / "missing.ztmm")
        assert engagement.audit_log() == audit


# -- the pure rules ------------------------------------------------------------------------------


def row(id: int, entity: str, key: str, field: str, new: str | None = "x", by: str = "a") -> core.AuditRecord:
    return core.AuditRecord(id, "2026-01-01T00:00:00+00:00", by, entity, key, field, None, new)


def test_the_copies_diverge_at_the_first_differing_row() -> None:
    shared = [row(1, "stage", "f/initial", "rating"), row(2, "function", "f", "notes")]
    mine = [*shared, row(3, "stage", "f/initial", "comment")]
    theirs = [*shared, row(3, "stage", "f/initial", "comment", by="b")]
    assert core.common_prefix(mine, theirs) == 2
    assert core.common_prefix(shared, mine) == 2
    assert core.common_prefix([], theirs) == 0


def test_decide_one_sided_same_value_and_conflict() -> None:
    ref = ("function", "f")
    mine, theirs = {"notes": "a", "owner": "x"}, {"notes": "b", "owner": "y"}
    assert core.decide(ref, set(), {"notes"}, mine, theirs) == [core.Decision(ref, "notes", conflict=False)]
    assert core.decide(ref, {"notes"}, {"notes"}, mine, theirs) == [core.Decision(ref, "notes", conflict=True)]
    assert core.decide(ref, {"owner"}, {"notes"}, mine, theirs) == [core.Decision(ref, "notes", conflict=False)]
    assert core.decide(ref, {"notes"}, {"notes"}, mine, {"notes": "a", "owner": "x"}) == []
    assert core.decide(ref, {"title"}, {"*"}, mine, None) == [core.Decision(ref, "*", conflict=True)]
    assert core.decide(ref, set(), {"*"}, None, theirs) == [core.Decision(ref, "*", conflict=False)]


def test_a_merge_marker_moves_the_base_and_an_undo_cancels_it() -> None:
    theirs = core.read_trail([row(1, "function", "f", "notes"), row(2, "function", "f", "owner")])
    marker = json.dumps({"upto": 2, "digest": core.digest(theirs.rows), "rows": 1})
    mine_rows = [
        row(1, "function", "f", "notes"),
        row(5, "merge", "e", "merged", marker),
        row(6, "function", "f", "owner"),
    ]
    mine = core.read_trail(mine_rows)
    assert core.merged_upto(mine, theirs) == 2
    assert core.changed_since(mine, 1) == {}  # the merge's own row is not a change of mine
    undone = core.read_trail(
        [*mine_rows, row(7, "merge", "5", "undone", '{"marker": 5, "rows": 1}'), row(8, "function", "f", "owner")]
    )
    assert core.merged_upto(undone, theirs) == 0
    assert core.changed_since(undone, 1) == {}
    hostile = core.read_trail(
        [row(1, "merge", "e", "merged", "not json"), row(2, "merge", "e", "merged", '{"rows": -3}')]
    )
    assert hostile.merged == () and core.merged_upto(hostile, theirs) == 0


def test_properties_baselines_and_responses_merge_as_whole_records(copies: tuple[Path, Path, dict[str, str]]) -> None:
    mine, theirs, _ = copies
    with open_engagement(theirs) as engagement:
        engagement.update_properties(Properties(client="Contoso Group", title="ZT 2026"), by="Second assessor")
        baselines.freeze_baseline(engagement, "Workshop 1", by="Second assessor")
        answer = Response(
            "identity.authentication", INITIAL, "Client CISO", "CISO", Answer.PARTIAL, "pilot only", "q.xlsx",
            "ab" * 32, "2026-11-01T00:00:00+00:00", "Second assessor",
        )  # fmt: skip
        questionnaire.restore_responses(
            engagement, [questionnaire.PriorResponse("identity.authentication", INITIAL, "Client CISO", answer)]
        )
        engagement.save()
    with open_engagement(mine) as engagement:
        plan = plan_merge(engagement, theirs)
        keys = {i.key for i in plan.one_sided}
        assert {"engagement::client", "engagement::title", "baseline:Workshop 1:*"} <= keys
        assert "response:identity.authentication/initial/Client CISO:*" in keys
        result = apply_merge(engagement, plan)
        assert result.metadata
        assert engagement.meta().client == "Contoso Group"
        assert [b.name for b in baselines.list_baselines(engagement)] == ["Workshop 1"]
        stored = questionnaire.responses(engagement, "1.1")
        assert [(r.respondent, r.answer, r.comment) for r in stored] == [("Client CISO", Answer.PARTIAL, "pilot only")]
        assert not plan_merge(engagement, theirs)
        undo_merge(engagement, result)
        assert engagement.meta().client == "Contoso Ltd"
        assert baselines.list_baselines(engagement) == []
        assert questionnaire.responses(engagement, "1.1") == []


# -- workshops ----------------------------------------------------------------------------------


def day(engagement: Engagement, title: str, date: str, *people: str) -> workshops.Workshop:
    attendees = tuple(workshops.Attendee(name, "Team lead", "Contoso Ltd") for name in people)
    return workshops.create_workshop(engagement, WorkshopDraft(date, title, attendees=attendees), by="Lead assessor")


@pytest.fixture
def workshop_copies(tmp_path: Path) -> tuple[Path, Path]:
    """Both consultants ran a workshop of their own after copying; the file numbered both 2."""
    mine, theirs = tmp_path / "contoso.ztmm", tmp_path / "contoso-colleague.ztmm"
    with create_engagement(mine, Properties(client="Contoso Ltd")) as base:
        day(base, "Kick-off", "2026-11-30", "Sponsor")
        base.save()
    shutil.copy(mine, theirs)
    with open_engagement(mine) as engagement:
        identity = day(engagement, "Identity day", "2026-12-01", "Identity team lead")
        workshops.start(engagement, identity.id, by="Lead assessor")
        engagement.assess("1.1", ratings={INITIAL: MET}, comments={INITIAL: "MFA everywhere"}, by="Lead assessor")
        workshops.stop(engagement, by="Lead assessor")
        engagement.save()
    with open_engagement(theirs) as engagement:
        [kickoff] = workshops.list_workshops(engagement)
        networks = day(engagement, "Network day", "2026-12-02", "Network team lead", "Plant engineer")
        assert networks.id == identity.id == 2
        workshops.update_workshop(
            engagement, kickoff.id, replace(kickoff.draft(), notes="Scope agreed"), by="Second assessor"
        )
        workshops.start(engagement, networks.id, by="Second assessor")
        engagement.assess("3.1", ratings={INITIAL: PARTIAL}, by="Second assessor")
        engagement.add_finding("3.1", "Flat plant network", by="Second assessor")
        engagement.save()  # left running on the colleague's laptop
    return mine, theirs


def test_a_colleagues_workshops_and_the_tags_of_their_changes_are_merged(
    workshop_copies: tuple[Path, Path],
) -> None:
    mine, theirs = workshop_copies
    with open_engagement(mine) as engagement:
        identity = next(w for w in workshops.list_workshops(engagement) if w.title == "Identity day")
        workshops.start(engagement, identity.id, by="Lead assessor")  # running here while merging
        plan = plan_merge(engagement, theirs)
        assert plan.conflicts == ()
        labels = sorted(i.describe() for i in plan.one_sided if i.ref[0] == "workshop")
        assert labels == [
            "workshop 'Kick-off (2026-11-30)' notes: (none) → Scope agreed",
            "workshop 'Network day (2026-12-02)': (not here) → Network day (2026-12-02, held)",
        ]
        apply_merge(engagement, plan, by="Lead assessor")
        by_title = {w.title: w for w in workshops.list_workshops(engagement)}
        assert sorted(by_title) == ["Identity day", "Kick-off", "Network day"]
        networks = by_title["Network day"]
        assert networks.id == 3 and networks.status == "held"  # only the colleague's copy runs it
        assert [a.name for a in networks.attendees] == ["Network team lead", "Plant engineer"]
        assert by_title["Kick-off"].notes == "Scope agreed"
        assert workshops.running(engagement) == by_title["Identity day"]
        # each change keeps the workshop it was made in, not the one running here
        [finding] = engagement.findings("3.1")
        tags = workshops.tags(engagement, "3.1")
        assert {key: tag.title for key, tag in tags.items()} == {
            ("initial", "rating"): "Network day",
            ("finding", finding.id): "Network day",
        }
        assert {tag.title for tag in workshops.tags(engagement, "1.1").values()} == {"Identity day"}
        assert not plan_merge(engagement, theirs)  # merged: nothing the second time
        workshops.stop(engagement, by="Lead assessor")
        engagement.save()
    # the colleague merges back: Identity day arrives once, Network day is not copied back
    with open_engagement(theirs) as engagement:
        plan = plan_merge(engagement, mine)
        assert [i.label for i in plan.one_sided if i.ref[0] == "workshop"] == ["workshop 'Identity day (2026-12-01)'"]
        apply_merge(engagement, plan, by="Second assessor")
        titles = sorted(w.title for w in workshops.list_workshops(engagement))
        assert titles == ["Identity day", "Kick-off", "Network day"]
        assert {tag.title for tag in workshops.tags(engagement, "1.1").values()} == {"Identity day"}
        assert workshops.running(engagement).title == "Network day"  # type: ignore[union-attr]


def test_a_workshop_edited_on_both_sides_is_a_conflict_and_undo_removes_merged_workshops(
    workshop_copies: tuple[Path, Path],
) -> None:
    mine, theirs = workshop_copies
    with open_engagement(mine) as engagement:
        kickoff = next(w for w in workshops.list_workshops(engagement) if w.title == "Kick-off")
        workshops.update_workshop(engagement, kickoff.id, replace(kickoff.draft(), notes="Scope: all pillars"))
        before = workshops.list_workshops(engagement)
        plan = plan_merge(engagement, theirs)
        [conflict] = plan.conflicts
        assert (conflict.label, conflict.mine_text, conflict.theirs_text) == (
            "workshop 'Kick-off (2026-11-30)' notes",
            "Scope: all pillars",
            "Scope agreed",
        )
        result = apply_merge(engagement, plan, {conflict.key: "theirs"}, by="Lead assessor")
        assert {w.title: w.notes for w in workshops.list_workshops(engagement)}["Kick-off"] == "Scope agreed"
        undo_merge(engagement, result, by="Lead assessor")
        assert workshops.list_workshops(engagement) == before
        assert workshops.tags(engagement, "3.1") == {}
        # the merged workshop's row id is not handed out again: its old tags must not name a new workshop
        later = day(engagement, "Data day", "2026-12-03")
        assert later.id == 4


def test_merge_brings_the_registers_field_by_field(tmp_path: Path) -> None:
    """Schema 7: sections, document control, the finding register's fields and actions merge like the
    other fields: one-sided changes arrive, both-sided ones are conflicts, nothing is dropped or corrupted."""
    from ztmm_desktop.core.register import Recipient, VersionLine
    from ztmm_desktop.services import actions, register

    mine, theirs = tmp_path / "contoso.ztmm", tmp_path / "contoso-colleague.ztmm"
    with create_engagement(mine, Properties(client="Contoso Ltd")) as base:
        shared, _ = base.add_finding("1.1", "MFA not enforced", severity="high", by="Lead assessor")
        first, _ = actions.add_action(base, "1.1", actions.ActionDraft("Enforce MFA", "now", "M"), by="Lead assessor")
        base.save()
    shutil.copy(mine, theirs)
    with open_engagement(mine) as engagement:
        register.set_sections(engagement, {"scope": "Identity only (mine)."}, by="Lead assessor")
        register.update_control(engagement, report_version="0.9", by="Lead assessor")
        mine_action, _ = actions.add_action(
            engagement, "2.1", actions.ActionDraft("Device inventory", "next", "L", after=first), by="Lead assessor"
        )
        engagement.save()
    with open_engagement(theirs) as engagement:
        register.set_sections(
            engagement,
            {"scope": "Identity and devices.", "limitations": "Two depots sampled."},
            by="Identity team lead",
        )
        register.update_control(
            engagement,
            consultancy="Northwind Advisory",
            report_version="1.0",
            history=[VersionLine("1.0", "2026-11-28", "Identity team lead", "Issued")],
            distribution=[Recipient("Chief Information Security Officer", "Contoso Ltd", "Sponsor")],
            approved_on="2026-11-28",
            paper="Letter",
            vendor_neutral=True,
            by="Identity team lead",
        )
        engagement.update_finding(
            shared,
            FindingDraft(
                "MFA not enforced", severity="high", owner="IAM lead", due_date="2027-03-31", likelihood=4, impact=3
            ),
            by="Identity team lead",
        )
        their_action, _ = actions.add_action(
            engagement,
            "1.2",
            actions.ActionDraft("Retire LDAP stores", "later", "S", cost="$5k", owner="IAM lead", after=first),
            by="Identity team lead",
        )
        actions.update_action(engagement, first, actions.ActionDraft("Enforce MFA everywhere", "now", "M"))
        engagement.save()

    with open_engagement(mine) as engagement:
        plan = plan_merge(engagement, theirs)
        assert {c.key for c in plan.conflicts} == {"engagement::section:scope", "engagement::report_version"}
        one_sided = {i.key for i in plan.one_sided}
        assert {
            "engagement::section:limitations",
            "engagement::consultancy",
            "engagement::history",
            "engagement::distribution",
            "engagement::paper",
            "engagement::vendor_neutral",
            "engagement::approved_on",
            f"finding:{shared}:owner",
            f"finding:{shared}:likelihood",
            f"action:{their_action}:*",
            f"action:{first}:text",
        } <= one_sided
        result = apply_merge(engagement, plan, {"engagement::report_version": "theirs"}, by="Lead assessor")
        assert result.metadata and their_action in result.actions
        engagement.save()
        sections = register.read_sections(engagement)
        control = register.read_control(engagement)
        options = register.read_report_options(engagement)
        [finding] = engagement.findings()
        merged = {a.id: a for a in actions.list_actions(engagement)}

    assert (sections.scope, sections.limitations) == ("Identity only (mine).", "Two depots sampled.")
    assert (control.consultancy, control.report_version, control.approved_on) == (
        "Northwind Advisory",
        "1.0",
        "2026-11-28",
    )
    assert [v.version for v in control.history] == ["1.0"] and control.distribution[0].role == "Sponsor"
    assert options == register.ReportOptions("Letter", True)
    assert (finding.owner, finding.due_date, finding.status, finding.likelihood, finding.impact) == (
        "IAM lead",
        "2027-03-31",
        "open",
        4,
        3,
    )
    assert set(merged) == {first, mine_action, their_action}
    assert merged[first].text == "Enforce MFA everywhere"
    assert (merged[their_action].after, merged[their_action].cost, merged[mine_action].after) == (first, "$5k", first)

    with open_engagement(mine) as engagement:  # the same copy merged again is a no-op
        assert not plan_merge(engagement, theirs)


def test_a_merged_action_is_checked_like_one_written_here(tmp_path: Path) -> None:
    from ztmm_desktop.services import actions

    mine, theirs = tmp_path / "contoso.ztmm", tmp_path / "contoso-colleague.ztmm"
    with create_engagement(mine, Properties(client="Contoso Ltd")) as base:
        base.save()
    shutil.copy(mine, theirs)
    with open_engagement(theirs) as engagement:
        key, _ = actions.add_action(
            engagement, "1.1", actions.ActionDraft("Enforce MFA", "now", "M"), by="Lead assessor"
        )
        engagement.save()
    conn = sqlite3.connect(theirs)
    conn.execute("UPDATE action SET phase = 'someday' WHERE id = ?", (key,))
    conn.commit()
    conn.close()
    with open_engagement(mine) as engagement:
        with pytest.raises(BadInput, match=r"the other copy's action \w{8}: phase 'someday' is not one of"):
            plan_merge(engagement, theirs)  # refused when planned: a dry run says so too
        assert actions.list_actions(engagement) == []
