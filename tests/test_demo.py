"""The demo engagement: what a consultant shows a colleague, fresh on every open."""

from __future__ import annotations

from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.demo import open_demo


def test_the_demo_opens_fresh_each_time_from_its_description() -> None:
    first = open_demo()
    try:
        assert first.meta().client == "Northwind Logistics (fictional)"
        assert first.results()["devices.device_threat_protection"].overridden
        assert len(first.findings()) == 4
        first.assess("6.1", ratings={Stage.INITIAL: Rating.MET})  # play with it, then close unsaved
        first.save()
    finally:
        first.close()
    second = open_demo()
    try:
        assert second.assessment("6.1").rating(Stage.INITIAL).rating is Rating.NOT_ASSESSED
    finally:
        second.close()


def test_the_demo_fills_every_register_and_it_reaches_the_snapshot() -> None:
    from ztmm_desktop.core.register import SECTION_KEYS, action_numbers
    from ztmm_desktop.services.deliverables import build_snapshot

    demo = open_demo()
    try:
        snapshot = build_snapshot(demo)
    finally:
        demo.close()
    assert [key for key, _, _ in snapshot.sections.filled()] == list(SECTION_KEYS)
    control = snapshot.control
    assert control.consultancy and control.report_version == "1.0" and 2 <= len(control.history) <= 3
    assert control.distribution and control.reviewer and control.approver
    assert control.reviewed_on and control.approved_on and control.reviewed_on <= control.approved_on
    assert snapshot.meta.paper in ("A4", "Letter")
    assert snapshot.findings and all(f.owner and f.due_date and f.status and f.risk_rating for f in snapshot.findings)
    assert {f.status for f in snapshot.findings} >= {"open", "in-progress"}
    actions = snapshot.actions
    assert 8 <= len(actions) <= 15
    assert {a.phase for a in actions} == {"now", "next", "later"} and {a.effort for a in actions} == {"S", "M", "L"}
    assert all(a.cost and a.owner for a in actions)
    assert list(actions) == sorted(actions, key=lambda a: a.order())
    [dependent] = [a for a in actions if a.after]
    assert dependent.after in {a.id for a in actions}
    assert list(action_numbers(actions).values())[:2] == ["A-01", "A-02"]
    sheets = {s.function.code: s for p in snapshot.pillars for s in p.functions}
    assert sum(len(s.actions) for s in sheets.values()) == len(actions)
    answers = sheets["2.4"].answers
    assert answers and any(a.agrees is False for a in answers) and any(a.agrees is None for a in answers)
    assert [a.stage for a in answers] == sorted(a.stage for a in answers)
