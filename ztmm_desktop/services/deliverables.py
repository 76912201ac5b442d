"""Build the snapshot every deliverable renders (workbook, report)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import select

from .. import __version__
from ..core.comments import FindingComment, by_finding
from ..core.deliverable import (
    SEVERITY_ORDER,
    ClientAnswer,
    DeliverableMeta,
    EvidenceLine,
    FindingLine,
    FunctionSheet,
    PillarSheet,
    Snapshot,
    StageLine,
    WorkshopLine,
)
from ..core.register import ActionLine, numbers
from ..core.responses import Answer
from ..core.scoring import StageRating
from ..core.stages import Rating, Stage
from ..store.schema import ResponseRow
from .actions import action_lines
from .engagement import Engagement, Finding, now
from .evidence import Evidence, list_evidence
from .identity import assessor_organisation, given_assessor
from .progress import progress_since as progress_since
from .register import read_control, read_report_options, read_sections
from .workshops import Workshop, list_workshops


def build_snapshot(
    engagement: Engagement,
    *,
    generated_at: str | None = None,
    baseline_name: str | None = None,
    prepared_by: str | None = None,
    review_comments: Iterable[FindingComment] = (),
) -> Snapshot:
    """Everything the workbook and the report show, read once from ``engagement``.

    Progress is measured from ``baseline_name`` (an unknown name is refused), by
    default from the latest baseline; without any baseline there is none. Who
    prepares it is ``prepared_by``, else ``ZTMM_ASSESSOR``, else the assessor
    preference; never the login name (left empty when no name was given).
    ``review_comments`` (read from the team server, ``services.comments``) are printed under their
    findings; none unless given.
    """
    progress, baseline = progress_since(engagement, baseline_name)
    meta = engagement.meta()
    catalog = engagement.catalog
    assessments = engagement.assessments()
    results = engagement.results()
    pillar_rollups, overall = engagement.rollups()
    rollup_by_pillar = {r.key: r for r in pillar_rollups}

    findings = [_finding_line(engagement, f) for f in engagement.findings()]
    findings_by_function: dict[str, list[FindingLine]] = {}
    for finding in findings:
        findings_by_function.setdefault(finding.function_id, []).append(finding)
    finding_titles = {f.id: f.title for f in findings}
    finding_function = {f.id: f.function_id for f in findings}
    records = list_evidence(engagement)
    evidence = [_evidence_line(engagement, e, finding_titles) for e in records]
    evidence_by_function: dict[str, list[EvidenceLine]] = {}
    for record, line in zip(records, evidence, strict=True):
        owners: list[str] = []
        for link in record.links:
            owner = link.function_id or finding_function.get(link.finding_id or "")
            if owner and owner not in owners:
                owners.append(owner)
        for owner in owners:
            evidence_by_function.setdefault(owner, []).append(line)

    answers = _answers(engagement)
    actions = action_lines(engagement)
    actions_by_function: dict[str, list[ActionLine]] = {}
    for action in actions:
        actions_by_function.setdefault(action.function_id, []).append(action)

    pillars = []
    for pillar in catalog.pillars:
        if pillar.id not in meta.scope:
            continue
        sheets = []
        for function in pillar.functions:
            assessment = assessments[function.id]
            stages = tuple(
                StageLine(
                    stage=stage,
                    text=engagement.stage_text(function, stage),
                    rating=assessment.ratings.get(stage, StageRating()).rating,
                    comment=assessment.ratings.get(stage, StageRating()).comment,
                )
                for stage in Stage
            )
            sheets.append(
                FunctionSheet(
                    function=function,
                    stages=stages,
                    assessment=assessment,
                    result=results[function.id],
                    findings=tuple(findings_by_function.get(function.id, ())),
                    evidence=tuple(evidence_by_function.get(function.id, ())),
                    answers=tuple(
                        _client_answer(
                            response, assessment.ratings.get(Stage.parse(response.stage), StageRating()).rating
                        )
                        for response in answers.get(function.id, ())
                    ),
                    actions=tuple(actions_by_function.get(function.id, ())),
                )
            )
        pillars.append(PillarSheet(pillar=pillar, rollup=rollup_by_pillar[pillar.id], functions=tuple(sheets)))

    in_scope = {f.function.id for p in pillars for f in p.functions}
    ordered = sorted((f for f in findings if f.function_id in in_scope), key=_register_key)
    options = read_report_options(engagement)
    in_scope_findings = {f.id for f in ordered}
    return Snapshot(
        meta=DeliverableMeta(
            engagement_id=meta.id,
            client=meta.client,
            title=meta.title,
            assessors=meta.assessors,
            start_date=meta.start_date,
            end_date=meta.end_date,
            marking=meta.marking,
            wording=meta.wording,
            generated_at=generated_at or now(),
            generated_with=f"ZTMM Workbench {__version__}",
            prepared_by=given_assessor(prepared_by),
            prepared_by_organisation=assessor_organisation(),
            paper=options.paper,
            vendor_neutral=options.vendor_neutral,
        ),
        catalog=catalog,
        packs=engagement.library.packs,
        pillars=tuple(pillars),
        overall=overall,
        findings=tuple(ordered),
        roadmap=tuple(engagement.roadmap()),
        evidence=tuple(evidence),
        progress=progress,
        baseline=baseline,
        workshops=tuple(_workshop_line(engagement, w) for w in list_workshops(engagement)),
        sections=read_sections(engagement),
        control=read_control(engagement),
        actions=tuple(actions),
        review_comments={k: v for k, v in by_finding(review_comments).items() if k in in_scope_findings},
    )


def _register_key(line: FindingLine) -> tuple[int, tuple[int, ...], str]:
    """The findings register's order: most severe first, then function code, then oldest first."""
    return (SEVERITY_ORDER.get(line.severity, 9), _code_key(line.function_code), line.created_at)


def finding_numbers(engagement: Engagement) -> dict[str, str]:
    """``F-01``… of the findings in scope, exactly as the deliverables number them."""
    scope = {f.id for f in engagement.functions_in_scope()}
    lines = [_finding_line(engagement, f) for f in engagement.findings() if f.function_id in scope]
    return numbers((line.id for line in sorted(lines, key=_register_key)), "F")


def _answers(engagement: Engagement) -> dict[str, list[ResponseRow]]:
    """Questionnaire answers per function, by stage then respondent."""
    with engagement.session() as session:
        rows = list(session.exec(select(ResponseRow)))
    rows.sort(key=lambda r: (Stage.parse(r.stage), r.respondent.casefold(), r.respondent))
    out: dict[str, list[ResponseRow]] = {}
    for row in rows:
        out.setdefault(row.function_id, []).append(row)
    return out


def _client_answer(row: ResponseRow, rating: Rating) -> ClientAnswer:
    answer = Answer(row.answer) if row.answer else None
    agrees = None
    if answer is not None and answer.rating is not None and rating is not Rating.NOT_ASSESSED:
        agrees = answer.rating is rating
    return ClientAnswer(
        stage=Stage.parse(row.stage),
        respondent=row.respondent,
        role=row.role,
        answer=answer.label if answer is not None else "",
        comment=row.comment,
        agrees=agrees,
    )


def _workshop_line(engagement: Engagement, workshop: Workshop) -> WorkshopLine:
    """A workshop with its pillars and functions by name (an id the model no longer has is shown as it is)."""
    catalog = engagement.catalog
    pillars = {p.id: p.name for p in catalog.pillars}
    functions = {f.id: f"{f.code} {f.name}" for f in catalog.functions()}
    return WorkshopLine(
        date=workshop.date,
        title=workshop.title,
        status=workshop.status,
        attendees=tuple((a.name, a.role, a.organisation) for a in workshop.attendees),
        pillars=tuple(pillars.get(key, key) for key in workshop.pillars),
        functions=tuple(functions.get(key, key) for key in workshop.functions),
        notes=workshop.notes,
    )


def _code_key(code: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in code.split("."))


def _finding_line(engagement: Engagement, finding: Finding) -> FindingLine:
    function = engagement.catalog.function(finding.function_id)
    return FindingLine(
        id=finding.id,
        function_id=function.id,
        function_code=function.code,
        function_name=function.name,
        stage=finding.stage,
        title=finding.title,
        observation=finding.observation,
        risk=finding.risk,
        recommendation=finding.recommendation,
        severity=finding.severity,
        created_at=finding.created_at,
        created_by=finding.created_by,
        owner=finding.owner,
        due_date=finding.due_date,
        status=finding.status,
        likelihood=finding.likelihood,
        impact=finding.impact,
    )


def _evidence_line(engagement: Engagement, record: Evidence, finding_titles: dict[str, str]) -> EvidenceLine:
    links = []
    for link in record.links:
        if link.finding_id is not None:
            links.append(f"Finding: {finding_titles.get(link.finding_id, link.finding_id)}")
            continue
        function = engagement.catalog.function(link.function_id or "")
        where = f"{function.code} {function.name}"
        links.append(f"{where} – {link.stage.label}" if link.stage is not None else where)
    return EvidenceLine(
        id=record.id,
        title=record.title,
        description=record.description,
        original_name=record.original_name,
        media_type=record.media_type,
        size=record.size,
        sha256=record.sha256,
        kind=record.kind,
        captured_at=record.captured_at,
        captured_by=record.captured_by,
        links=tuple(links),
    )
