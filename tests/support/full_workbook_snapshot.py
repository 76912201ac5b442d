"""A snapshot with every field the consultant's registers add, filled by hand for workbook tests.

The services that fill sections, document control, the register fields, roadmap actions and
client answers are written elsewhere; until then a test takes a real snapshot (the demo, or a
small engagement) and fills the new fields here with ``dataclasses.replace``.
"""

from __future__ import annotations

import dataclasses

from ztmm_desktop.core.deliverable import ClientAnswer, Snapshot
from ztmm_desktop.core.register import ActionLine, DocumentControl, Recipient, Sections, VersionLine
from ztmm_desktop.core.stages import Stage

SECTIONS = Sections(
    executive_summary=(
        "The organization has a sound identity foundation but a flat network.\n\n"
        "Three actions in the next quarter would close the largest gaps:\n"
        "- Enforce phishing-resistant MFA for administrators\n"
        "- Segment the data center network\n"
        "  by business function\n"
        "- Inventory every device that reaches corporate data"
    ),
    key_messages="- Identity is ahead of the rest\n- Networks are the weakest pillar",
    scope="All six pillars, for the head office and two regional sites. Operational technology is excluded.",
    approach="Interviews, a questionnaire to twelve staff, and a review of configuration evidence.",
    limitations="",  # left empty: the workbook leaves it out
    disclaimer="This assessment reflects what was observed during the engagement.",
)

CONTROL = DocumentControl(
    consultancy="Northwind Advisory",
    report_version="1.1",
    history=(
        VersionLine("0.9", "2026-03-02", "Lead assessor", "Draft for review"),
        VersionLine("1.0", "2026-03-09", "Lead assessor", "Issued"),
        VersionLine("1.1", "2026-03-16", "Lead assessor", "Client comments addressed"),
    ),
    distribution=(Recipient("Chief Information Security Officer", "Contoso Ltd", "Sponsor"), Recipient("Archive")),
    reviewer="Quality reviewer",
    reviewed_on="2026-03-12",
    approver="Engagement partner",
    approved_on="2026-03-15",
)


def full_snapshot(snapshot: Snapshot, *, text: str | None = None) -> Snapshot:
    """``snapshot`` with sections, document control, register fields, actions and answers filled.

    ``text``, when given, goes into every new user-text field instead (hostile-text tests).
    """
    functions = snapshot.functions()
    first, second = functions[0], functions[min(1, len(functions) - 1)]

    def t(value: str) -> str:
        return value if text is None else text

    statuses = ("open", "in-progress", "resolved", "risk-accepted")
    findings = tuple(
        dataclasses.replace(
            f,
            owner=t(f"Owner {n}"),
            due_date=f"2026-0{n % 9 + 1}-15" if n % 3 else None,
            status=statuses[n % len(statuses)],
            likelihood=(n % 5) + 1,
            impact=5 - (n % 5),
        )
        for n, f in enumerate(snapshot.findings)
    )
    actions = (
        ActionLine(
            id="act-1",
            function_id=first.function.id,
            function_code=first.function.code,
            function_name=first.function.name,
            stage=Stage.ADVANCED,
            text=t("Enforce phishing-resistant MFA for every administrator account, then for all staff."),
            phase="now",
            effort="M",
            cost=t("$10k–50k"),
            owner=t("Identity team"),
            priority="high",
            gap=2,
        ),
        ActionLine(
            id="act-2",
            function_id=second.function.id,
            function_code=second.function.code,
            function_name=second.function.name,
            stage=None,
            text=t("Consolidate the identity stores into one directory. " * 6).strip(),
            phase="next",
            effort="L",
            owner="",
            after="act-1",
            priority="medium",
            gap=1,
        ),
    )
    answers = (
        ClientAnswer(Stage.INITIAL, t("Pat Example"), t("IT manager"), "Met", t("MFA is on for everyone"), True),
        ClientAnswer(Stage.ADVANCED, t("Pat Example"), t("IT manager"), "Met", "", False),
        ClientAnswer(Stage.OPTIMAL, t("Sam Example"), "", "Don't know", "", None),
    )
    pillars = []
    for pillar in snapshot.pillars:
        sheets = []
        for f in pillar.functions:
            replace: dict[str, object] = {
                "findings": tuple(x for x in findings if x.function_id == f.function.id),
                "actions": tuple(a for a in actions if a.function_id == f.function.id),
            }
            if f.function.id == first.function.id:
                replace["answers"] = answers
            sheets.append(dataclasses.replace(f, **replace))  # type: ignore[arg-type]
        pillars.append(dataclasses.replace(pillar, functions=tuple(sheets)))
    sections = SECTIONS if text is None else Sections(**{key: text for key in dataclasses.asdict(SECTIONS)})
    control = CONTROL
    if text is not None:
        control = DocumentControl(
            consultancy=text,
            report_version=text,
            history=(VersionLine("1.0", "2026-03-09", text, text),),
            distribution=(Recipient(text, text, text),),
            reviewer=text,
            reviewed_on="2026-03-12",
            approver=text,
            approved_on="2026-03-15",
        )
    meta = dataclasses.replace(
        snapshot.meta,
        prepared_by=t("Lead assessor"),
        prepared_by_organisation=t("Northwind Advisory"),
        paper="Letter",
    )
    return dataclasses.replace(
        snapshot,
        meta=meta,
        findings=findings,
        pillars=tuple(pillars),
        sections=sections,
        control=control,
        actions=actions,
    )
