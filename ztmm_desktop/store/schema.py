"""SQLModel tables of an engagement file (schema version 7).

Text columns hold plain text; lists are JSON arrays; timestamps are ISO 8601
UTC; stages and ratings are their lowercase keys. The DDL that creates these
tables lives in ``migrations.py`` (frozen per version); a test checks the two
agree.
"""

from __future__ import annotations

import uuid

from sqlmodel import Field, SQLModel


class EngagementRow(SQLModel, table=True):
    __tablename__ = "engagement"

    id: str = Field(primary_key=True)
    client: str
    title: str = ""
    scope: str = "[]"
    assessors: str = "[]"
    start_date: str | None = None
    end_date: str | None = None
    marking: str = ""
    wording: str = "cisa"
    catalog_id: str
    catalog_version: str
    guidance_packs: str = "[]"
    created_at: str
    created_with: str = ""
    # schema 7: document control
    consultancy: str = ""
    report_version: str = ""
    reviewer: str = ""
    reviewed_on: str | None = None
    approver: str = ""
    approved_on: str | None = None
    paper: str = "A4"
    vendor_neutral: bool = False


class FunctionRow(SQLModel, table=True):
    __tablename__ = "function_assessment"

    function_id: str = Field(primary_key=True)
    target: str | None = None
    override_stage: str | None = None
    override_reason: str = ""
    confidence: str = ""
    priority: str = ""
    owner: str = ""
    status: str = ""
    notes: str = ""
    updated_at: str = ""
    updated_by: str = ""


class StageRatingRow(SQLModel, table=True):
    __tablename__ = "stage_rating"

    function_id: str = Field(primary_key=True, foreign_key="function_assessment.function_id")
    stage: str = Field(primary_key=True)
    rating: str = "unassessed"
    comment: str = ""
    updated_at: str = ""
    updated_by: str = ""


class FindingRow(SQLModel, table=True):
    __tablename__ = "finding"

    id: str = Field(primary_key=True)
    function_id: str = Field(index=True)
    stage: str | None = None
    title: str
    observation: str = ""
    risk: str = ""
    recommendation: str = ""
    severity: str = "medium"
    created_at: str = ""
    created_by: str = ""
    updated_at: str = ""
    # schema 7: the finding register
    owner: str = ""
    due_date: str | None = None
    status: str = "open"
    likelihood: int | None = None
    impact: int | None = None


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    at: str
    by: str
    entity: str
    key: str
    field: str
    old: str | None = None
    new: str | None = None
    workshop_id: int | None = None  # schema 5: the workshop running when the change was made


class BlobRow(SQLModel, table=True):
    __tablename__ = "blob"

    sha256: str = Field(primary_key=True)
    size: int
    chunks: int
    chunk_key: str = Field(unique=True)
    created_at: str


class BlobChunkRow(SQLModel, table=True):
    __tablename__ = "blob_chunk"

    chunk_key: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    data: bytes


class EvidenceRow(SQLModel, table=True):
    __tablename__ = "evidence"

    id: str = Field(primary_key=True)
    sha256: str = Field(foreign_key="blob.sha256", index=True)
    title: str
    description: str = ""
    original_name: str
    media_type: str
    size: int
    kind: str
    captured_at: str
    captured_by: str
    created_at: str


class EvidenceLinkRow(SQLModel, table=True):
    __tablename__ = "evidence_link"

    id: int | None = Field(default=None, primary_key=True)
    evidence_id: str = Field(foreign_key="evidence.id", index=True)
    function_id: str | None = None
    stage: str | None = None
    finding_id: str | None = None


class ResponseRow(SQLModel, table=True):
    """A questionnaire respondent's answer to one stage (schema 3); ``answer`` '' is a comment only."""

    __tablename__ = "response"

    function_id: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    respondent: str = Field(primary_key=True)
    role: str = ""
    answer: str = ""
    comment: str = ""
    source_name: str = ""
    source_sha256: str = ""
    imported_at: str = ""
    imported_by: str = ""


class LogoRow(SQLModel, table=True):
    """The client's logo for the report's cover (schema 3); at most one row, id 1."""

    __tablename__ = "engagement_logo"

    id: int = Field(default=1, primary_key=True)
    name: str
    media_type: str
    data: bytes


class BaselineRow(SQLModel, table=True):
    """A named, frozen copy of the assessment (schema 4); ``rollups`` is JSON of the roll-ups then."""

    __tablename__ = "baseline"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    created_at: str
    created_by: str
    catalog_version: str
    scope: str = "[]"
    rollups: str = "{}"


class BaselineFunctionRow(SQLModel, table=True):
    """One function as it stood when its baseline was frozen (schema 4); ``ratings`` is JSON."""

    __tablename__ = "baseline_function"

    baseline_id: int = Field(primary_key=True, foreign_key="baseline.id")
    function_id: str = Field(primary_key=True)
    current: str
    derived: str
    overridden: bool = False
    override_reason: str = ""
    target: str | None = None
    ratings: str = "{}"


class WorkshopRow(SQLModel, table=True):
    """A workshop with the client (schema 5); ``pillars`` and ``functions`` are JSON arrays of ids.

    ``status`` is planned, running or held; at most one row is running. ``uid`` (schema 6)
    names the workshop alike in every copy of the file; ``id`` is this file's own.
    """

    __tablename__ = "workshop"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default_factory=lambda: str(uuid.uuid4()), unique=True)
    date: str
    title: str
    pillars: str = "[]"
    functions: str = "[]"
    notes: str = ""
    status: str = "planned"
    started_at: str | None = None
    ended_at: str | None = None


class WorkshopAttendeeRow(SQLModel, table=True):
    """One attendee of a workshop (schema 5), in the order listed."""

    __tablename__ = "workshop_attendee"

    workshop_id: int = Field(primary_key=True, foreign_key="workshop.id")
    position: int = Field(primary_key=True)
    name: str
    role: str = ""
    organisation: str = ""


class SectionRow(SQLModel, table=True):
    """One of the consultant's report sections (schema 7), keyed by ``core.register.SECTION_KEYS``."""

    __tablename__ = "engagement_section"

    key: str = Field(primary_key=True)
    text: str = ""


class ReportVersionRow(SQLModel, table=True):
    """One line of the report's version history (schema 7), in the order listed."""

    __tablename__ = "report_version"

    position: int = Field(primary_key=True)
    version: str
    date: str
    author: str = ""
    change: str = ""


class DistributionRow(SQLModel, table=True):
    """One recipient of the report (schema 7), in the order listed."""

    __tablename__ = "distribution"

    position: int = Field(primary_key=True)
    name: str
    organisation: str = ""
    role: str = ""


class ConsultancyLogoRow(SQLModel, table=True):
    """The consultancy's logo beside the client's (schema 7); at most one row, id 1."""

    __tablename__ = "consultancy_logo"

    id: int = Field(default=1, primary_key=True)
    name: str
    media_type: str
    data: bytes


class ActionRow(SQLModel, table=True):
    """One action of the consultant's roadmap (schema 7); ``after_id`` names the action it follows."""

    __tablename__ = "action"

    id: str = Field(primary_key=True)
    function_id: str = Field(index=True)
    stage: str | None = None
    text: str
    phase: str = "next"
    effort: str = "M"
    cost: str = ""
    owner: str = ""
    after_id: str | None = None
    created_at: str = ""
    created_by: str = ""
    updated_at: str = ""
