"""What a deliverable shows: one read-only snapshot of an engagement.

The workbook (``excel/``) and the report (``report/``) both render a
:class:`Snapshot`; neither reads the engagement file. The service layer builds it
(``services/deliverables.py``), so both deliverables always agree on every
figure, and a test can build one by hand.

Stage texts are already in the engagement's wording; user text is raw (each
renderer escapes it its own way).
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Catalog, Function, GuidancePack, Pillar
from .scoring import FunctionAssessment, FunctionResult, RoadmapItem, Rollup
from .stages import Rating, Stage


@dataclass(frozen=True)
class DeliverableMeta:
    engagement_id: str
    client: str
    title: str
    assessors: tuple[str, ...]
    start_date: str | None
    end_date: str | None
    marking: str
    wording: str
    generated_at: str  # ISO 8601, UTC
    generated_with: str  # "ZTMM Workbench 0.1.0"


@dataclass(frozen=True)
class StageLine:
    stage: Stage
    text: str  # the standard's text, in the engagement's wording
    rating: Rating  # Traditional is never rated: always NOT_ASSESSED
    comment: str


@dataclass(frozen=True)
class FindingLine:
    id: str
    function_id: str
    function_code: str
    function_name: str
    stage: Stage | None
    title: str
    observation: str
    risk: str
    recommendation: str
    severity: str  # low, medium, high, critical
    created_at: str
    created_by: str


@dataclass(frozen=True)
class EvidenceLine:
    id: str
    title: str
    description: str
    original_name: str
    media_type: str
    size: int
    sha256: str
    kind: str
    captured_at: str
    captured_by: str
    links: tuple[str, ...]  # readable: "1.2 Authentication – Advanced", "Finding: <title>"


@dataclass(frozen=True)
class FunctionSheet:
    function: Function
    stages: tuple[StageLine, ...]  # Traditional, Initial, Advanced, Optimal
    assessment: FunctionAssessment
    result: FunctionResult
    findings: tuple[FindingLine, ...]
    evidence: tuple[EvidenceLine, ...]  # linked to the function, a stage, or a finding of it


@dataclass(frozen=True)
class PillarSheet:
    pillar: Pillar
    rollup: Rollup
    functions: tuple[FunctionSheet, ...]


@dataclass(frozen=True)
class Snapshot:
    meta: DeliverableMeta
    catalog: Catalog
    packs: tuple[GuidancePack, ...]
    pillars: tuple[PillarSheet, ...]  # in scope, catalog order
    overall: Rollup
    findings: tuple[FindingLine, ...]  # most severe first, then by function code
    roadmap: tuple[RoadmapItem, ...]
    evidence: tuple[EvidenceLine, ...]

    @property
    def assessed(self) -> bool:
        """Whether anything at all has been assessed (else a deliverable says so)."""
        return self.overall.assessed > 0

    def functions(self) -> list[FunctionSheet]:
        return [f for p in self.pillars for f in p.functions]


SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
