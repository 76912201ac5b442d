"""Build the snapshot every deliverable renders (workbook, report)."""

from __future__ import annotations

from .. import __version__
from ..core.deliverable import (
    SEVERITY_ORDER,
    BaselineRef,
    DeliverableMeta,
    EvidenceLine,
    FindingLine,
    FunctionSheet,
    PillarSheet,
    Snapshot,
    StageLine,
    WorkshopLine,
)
from ..core.progress_compare import Comparison
from ..core.scoring import StageRating
from ..core.stages import Stage
from .baselines import compare_with_baseline, list_baselines
from .engagement import Engagement, Finding, now
from .evidence import Evidence, list_evidence
from .workshops import Workshop, list_workshops


def build_snapshot(
    engagement: Engagement, *, generated_at: str | None = None, baseline_name: str | None = None
) -> Snapshot:
    """Everything the workbook and the report show, read once from ``engagement``.

    Progress is measured from ``baseline_name`` (an unknown name is refused), by
    default from the latest baseline; without any baseline there is none.
    """
    progress, baseline = _progress(engagement, baseline_name)
    meta = engagement.meta()
    catalog = engagement.catalog
    assessments = engagement.assessments()
    results = engagement.results()
    pillar_rollups, overall = engagement.rollups()
    rollup_by_pillar = {r.key: r for r in pillar_rollups}

    findings = [_finding_line(engagement, f) for f in engagement.findings()]
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
                    findings=tuple(f for f in findings if f.function_id == function.id),
                    evidence=tuple(evidence_by_function.get(function.id, ())),
                )
            )
        pillars.append(PillarSheet(pillar=pillar, rollup=rollup_by_pillar[pillar.id], functions=tuple(sheets)))

    in_scope = {f.function.id for p in pillars for f in p.functions}
    ordered = sorted(
        (f for f in findings if f.function_id in in_scope),
        key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), _code_key(f.function_code), f.created_at),
    )
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
    )


def _progress(engagement: Engagement, name: str | None) -> tuple[Comparison | None, BaselineRef | None]:
    """The comparison with baseline ``name`` (default: the latest frozen), and which baseline it is."""
    listed = list_baselines(engagement)
    if name is None:
        if not listed:
            return None, None
        name = max(enumerate(listed), key=lambda pair: (pair[1].created_at, pair[0]))[1].name
    comparison = compare_with_baseline(engagement, name)  # refuses an unknown name
    wanted = name.strip()
    chosen = next((b for b in listed if b.name == wanted), None) or next(
        b for b in listed if b.name.casefold() == wanted.casefold()
    )
    return comparison, BaselineRef(name=chosen.name, created_at=chosen.created_at, created_by=chosen.created_by)


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


def progress_since(engagement: Engagement, name: str | None = None) -> tuple[Comparison | None, BaselineRef | None]:
    """The progress the deliverables show (baseline ``name``, default the latest); ``ztmm info`` shows it too."""
    return _progress(engagement, name)
