"""A "full" snapshot for the deliverables' tests: the demo with every register field filled by hand.

The services that fill the consultant's sections, document control, roadmap actions,
client answers and the findings' register fields are written separately; until they
are, the deliverables are tested on a real snapshot (``build_snapshot`` of the demo)
with those fields put in with ``dataclasses.replace``:

    snapshot = full_snapshot(demo_snapshot(tmp_path))

``full_snapshot`` is deterministic: the same base gives the same snapshot.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ztmm_desktop.core.deliverable import ClientAnswer, FindingLine, FunctionSheet, Snapshot
from ztmm_desktop.core.register import ActionLine, DocumentControl, Recipient, Sections, VersionLine
from ztmm_desktop.core.stages import Rating, Stage

CONSULTANCY = "Blue Harbor Advisory"
PREPARED_BY = "Engagement lead"

SECTIONS = Sections(
    executive_summary=(
        "The organization has made real progress on identity: phishing-resistant MFA covers the workforce, "
        "and conditional access is enforced for every cloud application.\n\n"
        "Device and data controls lag behind. The priorities below close the largest gaps first."
    ),
    key_messages=(
        "- Identity is the strongest pillar and a sound base for the rest.\n"
        "- Device inventory is incomplete: about a fifth of endpoints are unmanaged.\n"
        "- Data classification exists on paper only; labels are not applied\n"
        "  or enforced.\n"
        "- Logging is centralized but nobody reviews it outside office hours."
    ),
    scope=(
        "The assessment covered the pillars and functions listed in this report for the corporate IT estate.\n\n"
        "Excluded:\n"
        "- Operational technology at the distribution centers\n"
        "- The subsidiary acquired in 2026"
    ),
    approach=(
        "We held workshops with each pillar's owners, reviewed configuration exports and policies, and rated each "
        "stage of each function against CISA's description."
    ),
    limitations=("Ratings rely on the evidence provided and on interviews; no technical testing was performed."),
    disclaimer=(
        "This report is provided for the client's internal use. It reflects the state observed during the "
        "assessment period and does not guarantee the absence of other weaknesses."
    ),
)

CONTROL = DocumentControl(
    consultancy=CONSULTANCY,
    report_version="1.0",
    history=(
        VersionLine("0.1", "2026-11-20", PREPARED_BY, "First draft for review"),
        VersionLine("0.2", "2026-11-25", PREPARED_BY, "Client comments on scope addressed"),
        VersionLine("1.0", "2026-11-30", "Engagement partner", "Approved for release"),
    ),
    distribution=(
        Recipient("Client CISO", "Northwind Logistics", "Chief Information Security Officer"),
        Recipient("Infrastructure lead", "Northwind Logistics", "Head of Infrastructure"),
        Recipient("Engagement partner", CONSULTANCY, "Engagement partner"),
    ),
    reviewer="Quality reviewer",
    reviewed_on="2026-11-27",
    approver="Engagement partner",
    approved_on="2026-11-30",
)

_STATUSES = ("open", "in-progress", "resolved", "risk-accepted")
_OWNERS = ("CISO office", "Infrastructure team", "Service desk", "")
_PHASES = ("now", "next", "later")


def _register(index: int, finding: FindingLine) -> FindingLine:
    likelihood = 1 + (index * 2) % 5
    impact = 1 + (index * 3 + 2) % 5
    return replace(
        finding,
        owner=_OWNERS[index % len(_OWNERS)],
        due_date=f"2027-0{1 + index % 9}-15" if index % 4 != 3 else None,
        status=_STATUSES[index % len(_STATUSES)],
        likelihood=likelihood if index % 5 != 4 else None,
        impact=impact if index % 5 != 4 else None,
    )


def _answers(sheet: FunctionSheet) -> tuple[ClientAnswer, ...]:
    """Two respondents for each rated stage; the second disagrees where the assessor rated it met."""
    answers = []
    for line in sheet.stages[1:]:
        if line.rating is Rating.NOT_ASSESSED:
            continue
        answers.append(ClientAnswer(line.stage, "Client CISO", "CISO", line.rating.label, "", True))
        disagrees = line.rating is Rating.MET
        answer = Rating.PARTIAL.label if disagrees else line.rating.label
        comment = "Only head office is covered." if disagrees else ""
        answers.append(
            ClientAnswer(line.stage, "Infrastructure lead", "Infrastructure", answer, comment, not disagrees)
        )
    return tuple(answers)


def _actions(snapshot: Snapshot) -> tuple[ActionLine, ...]:
    """An action for each function below its target (up to twelve), in roadmap order."""
    below = [f for f in snapshot.functions() if f.result.assessed and (f.result.gap or 0) > 0][:12]
    actions = []
    for index, sheet in enumerate(below):
        stage = Stage(int(sheet.result.current) + 1) if sheet.result.current is not Stage.OPTIMAL else None
        actions.append(
            ActionLine(
                id=f"action-{index}",
                function_id=sheet.function.id,
                function_code=sheet.function.code,
                function_name=sheet.function.name,
                stage=stage,
                text=f"Close the gap in {sheet.function.name.lower()}: agree the design, then roll it out.",
                phase=_PHASES[index % 3],
                effort="SML"[index % 3],
                cost=("$10k–50k", "$50k–150k", "")[index % 3],
                owner=_OWNERS[index % len(_OWNERS)],
                after=f"action-{index - 1}" if index % 4 == 1 else None,
                priority=sheet.assessment.priority,
                gap=sheet.result.gap,
            )
        )
    return tuple(sorted(actions, key=ActionLine.order))


def full_snapshot(base: Snapshot, *, paper: str = "A4", vendor_neutral: bool = False) -> Snapshot:
    """``base`` with sections, document control, actions, client answers and the findings' register filled."""
    findings = tuple(_register(i, f) for i, f in enumerate(base.findings))
    by_id = {f.id: f for f in findings}
    actions = _actions(base)
    pillars = tuple(
        replace(
            p,
            functions=tuple(
                replace(
                    f,
                    findings=tuple(by_id.get(x.id, x) for x in f.findings),
                    answers=_answers(f),
                    actions=tuple(a for a in actions if a.function_id == f.function.id),
                )
                for f in p.functions
            ),
        )
        for p in base.pillars
    )
    meta = replace(
        base.meta,
        prepared_by=PREPARED_BY,
        prepared_by_organisation=CONSULTANCY,
        paper=paper,
        vendor_neutral=vendor_neutral,
    )
    return replace(
        base,
        meta=meta,
        pillars=pillars,
        findings=findings,
        sections=SECTIONS,
        control=CONTROL,
        actions=actions,
    )


def demo_snapshot(folder: Path) -> Snapshot:
    """The demo engagement's snapshot, its working copy in ``folder`` (``ZTMM_DATA_DIR`` is set for the call)."""
    from ztmm_desktop.services.deliverables import build_snapshot
    from ztmm_desktop.services.demo import open_demo

    before = os.environ.get("ZTMM_DATA_DIR")
    os.environ["ZTMM_DATA_DIR"] = str(folder / "data")
    try:
        with open_demo() as engagement:
            return build_snapshot(engagement)
    finally:
        if before is None:
            del os.environ["ZTMM_DATA_DIR"]
        else:
            os.environ["ZTMM_DATA_DIR"] = before
