"""Create, open, assess and summarise an engagement.

``Engagement`` is the one way the UI and the CLI read and change an
engagement file. Each edit is one transaction on the private working copy,
with an audit row per changed field, and returns a ``Changes`` value naming
what changed so views refresh only that.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlmodel import Session, col, select

from .. import __version__
from ..core import validate
from ..core.catalog import Catalog, Function
from ..core.errors import BadInput, EngagementFileError
from ..core.register import FINDING_STATUSES
from ..core.scoring import (
    FunctionAssessment,
    FunctionResult,
    RoadmapItem,
    Rollup,
    StageRating,
    evaluate,
    pillar_rollups,
    roadmap,
    rollup,
)
from ..core.stages import RATED_STAGES, Rating, Stage
from ..core.wording import CISA, WORDINGS, apply_wording
from ..store.connect import Key
from ..store.document import WRITE_OPTION, EngagementDocument, Orphan, storage_error
from ..store.gate import DamagedRecords as DamagedRecords  # the window offers to leave them out
from ..store.gate import Problem as Problem
from ..store.gate import Vocabulary
from ..store.migrations import create_baseline
from ..store.schema import AuditRow, EngagementRow, FindingRow, FunctionRow, StageRatingRow, WorkshopRow
from . import passphrase
from .catalogs import Library, default_library
from .identity import resolve_assessor

#: Longest comment, note or reason accepted (characters). Longer text is refused,
#: not cut: evidence files are the place for logs and exports. What a user may enter
#: is what a file may hold (``core.validate``).
MAX_TEXT = validate.MAX_TEXT
#: Longest short field (client, title, owner, names, marking).
MAX_NAME = validate.MAX_NAME

CONFIDENCE = validate.CONFIDENCE
PRIORITY = validate.PRIORITY
STATUS = validate.STATUS
SEVERITY = validate.SEVERITY
PROPERTY_COLUMNS = validate.PROPERTY_COLUMNS
DEFAULT_MARKING = "CONFIDENTIAL – Client use only"


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def check_text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    if len(value) > limit:
        raise BadInput(f"{what} is {len(value):,} characters long; the limit is {limit:,}")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise BadInput(f"{what} is not valid Unicode text")
    if "\x00" in value:
        raise BadInput(f"{what} contains a NUL character")
    return value


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    word = "-".join(value.strip().lower().split())
    if word not in allowed:
        names = ", ".join(a for a in allowed if a)
        raise BadInput(f"unknown {what} {value!r} (expected one of: {names})")
    return word


def _parse_date(value: str | None, what: str) -> str | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise BadInput(f"{what} {value!r} is not a date like 2026-11-30") from None


@dataclass(frozen=True)
class EngagementMeta:
    id: str
    client: str
    title: str
    scope: tuple[str, ...]
    assessors: tuple[str, ...]
    start_date: str | None
    end_date: str | None
    marking: str
    wording: str
    catalog_id: str
    catalog_version: str
    guidance_packs: tuple[str, ...]
    created_at: str
    created_with: str


@dataclass(frozen=True)
class Finding:
    id: str
    function_id: str
    stage: Stage | None
    title: str
    observation: str
    risk: str
    recommendation: str
    severity: str
    created_at: str
    created_by: str
    owner: str = ""
    due_date: str | None = None  # YYYY-MM-DD
    status: str = "open"  # core.register.FINDING_STATUSES
    likelihood: int | None = None  # 1-5
    impact: int | None = None  # 1-5

    def draft(self) -> FindingDraft:
        return FindingDraft(
            self.title,
            self.stage,
            self.observation,
            self.risk,
            self.recommendation,
            self.severity,
            owner=self.owner,
            due_date=self.due_date,
            status=self.status,
            likelihood=self.likelihood,
            impact=self.impact,
        )


@dataclass(frozen=True)
class AuditEntry:
    at: str
    by: str
    entity: str
    key: str
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Changes:
    """What an edit changed, so a view can refresh exactly that."""

    functions: frozenset[str] = frozenset()
    findings: frozenset[str] = frozenset()
    metadata: bool = False  # engagement properties, sections, document control, logos
    workshops: bool = False  # a workshop was added, changed, started or stopped
    actions: frozenset[str] = frozenset()  # roadmap actions added, changed or removed

    def __bool__(self) -> bool:
        return bool(self.functions or self.findings or self.metadata or self.workshops or self.actions)


@dataclass
class _Audit:
    by: str
    at: str = field(default_factory=now)
    rows: list[AuditRow] = field(default_factory=list)
    #: The workshop running when the edit began (schema 5): every row is tagged with it.
    workshop_id: int | None = None

    def record(self, entity: str, key: str, name: str, old: object, new: object) -> bool:
        if old == new:
            return False
        self.rows.append(
            AuditRow(
                at=self.at,
                by=self.by,
                entity=entity,
                key=key,
                field=name,
                old=None if old is None else str(old),
                new=None if new is None else str(new),
                workshop_id=self.workshop_id,
            )
        )
        return True


def _stage_or_none(value: str | None) -> Stage | None:
    return Stage.parse(value) if value else None


class Engagement:
    """An open engagement file with the catalog it was assessed against."""

    def __init__(self, document: EngagementDocument, library: Library) -> None:
        self.document = document
        self.library = library
        self.catalog = library.catalog
        self._meta: EngagementMeta | None = None
        self._forget()
        meta = self.meta()
        if meta.catalog_id != self.catalog.id:
            document.close()
            raise EngagementFileError(
                f"{document.document.name}: assessed against catalog {meta.catalog_id!r}, "
                f"which this version does not have"
            )

    # -- lifecycle -----------------------------------------------------------

    @property
    def path(self) -> Path:
        return self.document.document

    @property
    def readonly(self) -> bool:
        return self.document.readonly

    def save(self, *, force: bool = False) -> None:
        self.document.save(force=force)

    def save_as(self, target: Path) -> None:
        self.document.save_as(target)

    def close(self) -> None:
        self.document.close()

    def __enter__(self) -> Engagement:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A session on the working copy, for services in this package (read-only unless ``write``)."""
        bind = self.document.engine.execution_options(**{WRITE_OPTION: True}) if write else self.document.engine
        with Session(bind, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def edit(self, by: str | None, *, only: frozenset[str] | None = None) -> Iterator[tuple[Session, _Audit]]:
        """One write transaction with its audit rows; every change to the file goes through here.

        ``only``: the edit changes nothing but the assessments of these functions
        (ratings, comments, fields), so the other cached reads stay exact and only
        those functions are read again; otherwise every cached read is dropped.
        """
        if self.readonly:
            raise EngagementFileError(f"{self.path.name}: opened read-only; nothing was changed")
        audit = _Audit(by=check_text(resolve_assessor(by), "--by", MAX_NAME))
        committed = False
        try:
            with self.session(write=True) as session:
                audit.workshop_id = session.exec(select(WorkshopRow.id).where(WorkshopRow.status == "running")).first()
                yield session, audit
                for row in audit.rows:
                    session.add(row)
                session.commit()
                committed = True
        except Exception as err:  # the write rolled back: a full disk is one line, not a crash
            failure = storage_error(err, f"{self.path.name}: nothing was changed")
            if failure is not None:
                raise failure from None
            raise
        finally:
            if committed and only is not None:
                self._forget_assessments(only)
            else:
                self._forget()

    def _forget(self) -> None:
        """Drop what was read: the working copy is private to this process and every
        write goes through ``edit``, so the caches are exact until the next edit."""
        self._meta = None
        self._assessments: dict[str, FunctionAssessment] | None = None
        self._results: dict[str, FunctionResult] | None = None
        self._findings: list[Finding] | None = None
        self._stale: set[str] = set()

    def _forget_assessments(self, function_ids: frozenset[str]) -> None:
        """Read these functions' assessments again when next asked; keep every other cached read.

        Typing in a comment or the notes commits every pause: re-reading every
        function and finding each time would stall the window. (Read when asked, not
        right after the commit: an edit on the server then costs no extra round trips.)
        """
        if self._assessments is None:
            self._results = None
            return
        self._stale |= function_ids

    def _refresh_stale(self) -> None:
        if not self._stale or self._assessments is None:
            return
        fresh = self._read_assessments(frozenset(self._stale))
        self._stale = set()
        self._assessments.update(fresh)
        if self._results is not None:
            self._results.update({fid: evaluate(assessment) for fid, assessment in fresh.items()})

    # -- reading -------------------------------------------------------------

    def meta(self) -> EngagementMeta:
        if self._meta is None:
            self._meta = self._read_meta()
        return self._meta

    def _read_meta(self) -> EngagementMeta:
        with self.session() as session:
            row = session.exec(select(EngagementRow)).one()
        return EngagementMeta(
            id=row.id,
            client=row.client,
            title=row.title,
            scope=tuple(json.loads(row.scope)),
            assessors=tuple(json.loads(row.assessors)),
            start_date=row.start_date,
            end_date=row.end_date,
            marking=row.marking,
            wording=row.wording,
            catalog_id=row.catalog_id,
            catalog_version=row.catalog_version,
            guidance_packs=tuple(json.loads(row.guidance_packs)),
            created_at=row.created_at,
            created_with=row.created_with,
        )

    def functions_in_scope(self) -> list[Function]:
        scope = set(self.meta().scope)
        return [f for p in self.catalog.pillars if p.id in scope for f in p.functions]

    def stage_text(self, function: Function, stage: Stage) -> str:
        """A stage text in the engagement's chosen wording."""
        return apply_wording(function.stages[stage], self.meta().wording)

    def assessments(self) -> dict[str, FunctionAssessment]:
        """What the assessor recorded, per function (read once until the next edit)."""
        if self._assessments is None:
            self._assessments = self._read_assessments()
            self._stale = set()
        self._refresh_stale()
        return dict(self._assessments)

    def _read_assessments(self, only: frozenset[str] | None = None) -> dict[str, FunctionAssessment]:
        """Every function's assessment, or ``only`` those functions'."""
        functions = select(FunctionRow)
        stages = select(StageRatingRow)
        if only is not None:
            functions = functions.where(col(FunctionRow.function_id).in_(only))
            stages = stages.where(col(StageRatingRow.function_id).in_(only))
        with self.session() as session:
            function_rows = {r.function_id: r for r in session.exec(functions)}
            ratings: dict[str, dict[Stage, StageRating]] = {}
            for r in session.exec(stages):
                ratings.setdefault(r.function_id, {})[Stage.parse(r.stage)] = StageRating(Rating(r.rating), r.comment)
        out = {}
        for function in self.catalog.functions():
            if only is not None and function.id not in only:
                continue
            row = function_rows.get(function.id)
            out[function.id] = FunctionAssessment(
                function_id=function.id,
                ratings=ratings.get(function.id, {}),
                override_stage=_stage_or_none(row.override_stage) if row else None,
                override_reason=row.override_reason if row else "",
                target=_stage_or_none(row.target) if row else None,
                confidence=row.confidence if row else "",
                priority=row.priority if row else "",
                owner=row.owner if row else "",
                status=row.status if row else "",
                notes=row.notes if row else "",
            )
        return out

    def assessment(self, function_key: str) -> FunctionAssessment:
        return self.assessments()[self.catalog.function(function_key).id]

    def results(self) -> dict[str, FunctionResult]:
        self._refresh_stale()
        if self._results is None:
            self._results = {fid: evaluate(a) for fid, a in self.assessments().items()}
        return dict(self._results)

    def rollups(self) -> tuple[list[Rollup], Rollup]:
        """Roll-ups per pillar in scope, and overall (each function weighs the same)."""
        results = self.results()
        scope = self.meta().scope
        pillars = pillar_rollups(self.catalog, results, scope)
        overall = rollup("overall", "Overall", (results[f.id] for f in self.functions_in_scope()))
        return pillars, overall

    def roadmap(self) -> list[RoadmapItem]:
        return roadmap(self.functions_in_scope(), self.results(), self.library.packs)

    def findings(self, function_key: str | None = None) -> list[Finding]:
        if self._findings is None:
            self._findings = self._read_findings()
        if function_key is None:
            return list(self._findings)
        function_id = self.catalog.function(function_key).id
        return [f for f in self._findings if f.function_id == function_id]

    def _read_findings(self) -> list[Finding]:
        with self.session() as session:
            rows = list(session.exec(select(FindingRow).order_by(FindingRow.created_at, FindingRow.id)))
        return [
            Finding(
                id=r.id,
                function_id=r.function_id,
                stage=_stage_or_none(r.stage),
                title=r.title,
                observation=r.observation,
                risk=r.risk,
                recommendation=r.recommendation,
                severity=r.severity,
                created_at=r.created_at,
                created_by=r.created_by,
                owner=r.owner,
                due_date=r.due_date,
                status=r.status,
                likelihood=r.likelihood,
                impact=r.impact,
            )
            for r in rows
        ]

    def audit_log(self) -> list[AuditEntry]:
        with self.session() as session:
            rows = list(session.exec(select(AuditRow).order_by(AuditRow.id)))  # type: ignore[arg-type]
        return [AuditEntry(r.at, r.by, r.entity, r.key, r.field, r.old, r.new) for r in rows]

    def properties(self) -> Properties:
        meta = self.meta()
        return Properties(
            client=meta.client,
            title=meta.title,
            assessors=meta.assessors,
            scope=meta.scope,
            start_date=meta.start_date,
            end_date=meta.end_date,
            marking=meta.marking,
            wording=meta.wording,
        )

    # -- editing -------------------------------------------------------------

    def update_properties(self, properties: Properties, *, by: str | None = None) -> Changes:
        """Change client, title, assessors, scope, dates, marking or wording."""
        columns = _property_columns(properties, self.catalog)
        with self.edit(by) as (session, audit):
            row = session.exec(select(EngagementRow)).one()
            changed = False
            for name in PROPERTY_COLUMNS:
                changed |= audit.record("engagement", row.id, name, getattr(row, name), columns[name])
                setattr(row, name, columns[name])
            if not changed:
                session.rollback()
        return Changes(metadata=True) if changed else Changes()

    def assess(
        self,
        function_key: str,
        *,
        ratings: Mapping[Stage, Rating] | None = None,
        comments: Mapping[Stage, str] | None = None,
        override: tuple[Stage, str] | None = None,
        clear_override: bool = False,
        target: Stage | None = None,
        clear_target: bool = False,
        note: str | None = None,
        confidence: str | None = None,
        priority: str | None = None,
        owner: str | None = None,
        status: str | None = None,
        by: str | None = None,
    ) -> Changes:
        """Record ratings, comments, an override, a target or notes for one function."""
        function = self.catalog.function(function_key)
        ratings = dict(ratings or {})
        comments = dict(comments or {})
        for stage in (*ratings, *comments):
            if stage not in RATED_STAGES:
                raise BadInput(f"{stage.label} is the floor of the model and is not rated")
        for stage, text in comments.items():
            check_text(text, f"comment for {function.code} {stage.label}")
        if target is not None and clear_target:
            raise BadInput("give either a target or clear it, not both")
        if override is not None:
            if clear_override:
                raise BadInput("give either an override or clear it, not both")
            if not override[1].strip():
                raise BadInput(f"an override of the current stage of {function.code} needs a reason")
            check_text(override[1], "override reason")
        if note is not None:
            check_text(note, f"notes of {function.code}")
        fields = {
            "confidence": None if confidence is None else _choice(confidence, CONFIDENCE, "confidence"),
            "priority": None if priority is None else _choice(priority, PRIORITY, "priority"),
            "status": None if status is None else _choice(status, STATUS, "status"),
            "owner": None if owner is None else check_text(owner.strip(), "owner", MAX_NAME),
        }
        changed = False
        with self.edit(by, only=frozenset({function.id})) as (session, audit):
            row = session.get(FunctionRow, function.id)
            if row is None:
                row = FunctionRow(function_id=function.id)
                session.add(row)
                session.flush()
            key = function.id
            if target is not None:
                changed |= audit.record("function", key, "target", row.target, target.key)
                row.target = target.key
            if clear_target:
                changed |= audit.record("function", key, "target", row.target, None)
                row.target = None
            if override is not None:
                changed |= audit.record("function", key, "override", row.override_stage, override[0].key)
                changed |= audit.record("function", key, "override_reason", row.override_reason, override[1])
                row.override_stage, row.override_reason = override[0].key, override[1]
            if clear_override:
                changed |= audit.record("function", key, "override", row.override_stage, None)
                row.override_stage, row.override_reason = None, ""
            if note is not None:
                changed |= audit.record("function", key, "notes", row.notes, note)
                row.notes = note
            for name, value in fields.items():
                if value is not None:
                    changed |= audit.record("function", key, name, getattr(row, name), value)
                    setattr(row, name, value)
            for stage in RATED_STAGES:
                if stage not in ratings and stage not in comments:
                    continue
                stage_row = session.get(StageRatingRow, (function.id, stage.key))
                if stage_row is None:
                    stage_row = StageRatingRow(function_id=function.id, stage=stage.key)
                    session.add(stage_row)
                stage_key = f"{function.id}/{stage.key}"
                if stage in ratings:
                    changed |= audit.record("stage", stage_key, "rating", stage_row.rating, ratings[stage].value)
                    stage_row.rating = ratings[stage].value
                if stage in comments:
                    changed |= audit.record("stage", stage_key, "comment", stage_row.comment, comments[stage])
                    stage_row.comment = comments[stage]
                stage_row.updated_at, stage_row.updated_by = audit.at, audit.by
            if changed:
                row.updated_at, row.updated_by = audit.at, audit.by
            else:
                session.rollback()
                audit.rows.clear()
        return Changes(functions=frozenset({function.id})) if changed else Changes()

    def add_finding(
        self,
        function_key: str,
        title: str,
        *,
        stage: Stage | None = None,
        observation: str = "",
        risk: str = "",
        recommendation: str = "",
        severity: str = "medium",
        owner: str = "",
        due_date: str | None = None,
        status: str = "open",
        likelihood: int | None = None,
        impact: int | None = None,
        by: str | None = None,
        finding_id: str | None = None,
    ) -> tuple[str, Changes]:
        """Record a finding on a function; ``finding_id`` lets redo re-create the same finding."""
        draft = FindingDraft(
            title,
            stage,
            observation,
            risk,
            recommendation,
            severity,
            owner=owner,
            due_date=due_date,
            status=status,
            likelihood=likelihood,
            impact=impact,
        )
        return self.restore_finding(function_key, draft, finding_id=finding_id or uuid.uuid4().hex, by=by)

    def restore_finding(
        self, function_key: str, draft: FindingDraft, *, finding_id: str, by: str | None = None
    ) -> tuple[str, Changes]:
        """Insert a finding with a given id (new, or put back by undo)."""
        function = self.catalog.function(function_key)
        values = _finding_values(draft)
        with self.edit(by) as (session, audit):
            if session.get(FindingRow, finding_id) is not None:
                raise BadInput(f"finding {finding_id} already exists")
            session.add(
                FindingRow(
                    id=finding_id,
                    function_id=function.id,
                    **values,
                    created_at=audit.at,
                    created_by=audit.by,
                    updated_at=audit.at,
                )
            )
            audit.record("finding", finding_id, "created", None, values["title"])
        return finding_id, Changes(findings=frozenset({finding_id}), functions=frozenset({function.id}))

    def update_finding(self, finding_id: str, draft: FindingDraft, *, by: str | None = None) -> Changes:
        values = _finding_values(draft)
        with self.edit(by) as (session, audit):
            row = session.get(FindingRow, finding_id)
            if row is None:
                raise BadInput(f"no finding {finding_id}")
            changed = False
            for name, value in values.items():
                changed |= audit.record("finding", finding_id, name, getattr(row, name), value)
                setattr(row, name, value)
            if changed:
                row.updated_at = audit.at
            else:
                session.rollback()
            function_id = row.function_id
        if not changed:
            return Changes()
        return Changes(findings=frozenset({finding_id}), functions=frozenset({function_id}))

    def remove_finding(self, finding_id: str, *, by: str | None = None) -> tuple[Finding, Changes]:
        """Delete a finding; returns it so that undo can put it back."""
        found = next((f for f in self.findings() if f.id == finding_id), None)
        if found is None:
            raise BadInput(f"no finding {finding_id}")
        with self.edit(by) as (session, audit):
            row = session.get(FindingRow, finding_id)
            session.delete(row)
            audit.record("finding", finding_id, "removed", found.title, None)
        return found, Changes(findings=frozenset({finding_id}), functions=frozenset({found.function_id}))


@dataclass(frozen=True)
class FindingDraft:
    """The fields of a finding a consultant writes (the finding dialog's contents)."""

    title: str
    stage: Stage | None = None
    observation: str = ""
    risk: str = ""
    recommendation: str = ""
    severity: str = "medium"
    owner: str = ""  # who at the client tracks it
    due_date: str | None = None  # YYYY-MM-DD
    status: str = "open"  # core.register.FINDING_STATUSES
    likelihood: int | None = None  # 1 (rare) to 5 (almost certain)
    impact: int | None = None  # 1 (minimal) to 5 (severe)


def check_scale(value: object, what: str) -> int | None:
    """A likelihood or impact: a whole number 1-5, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadInput(f"{what} {value!r} is not a number from 1 to 5")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise BadInput(f"{what} {value!r} is not a number from 1 to 5") from None
    if not 1 <= number <= 5:
        raise BadInput(f"{what} {value!r} is not a number from 1 to 5")
    return number


def _finding_values(draft: FindingDraft) -> dict[str, Any]:
    if not draft.title.strip():
        raise BadInput("a finding needs a title")
    check_text(draft.title, "finding title", MAX_NAME)
    for text, what in (
        (draft.observation, "observation"),
        (draft.risk, "risk"),
        (draft.recommendation, "recommendation"),
    ):
        check_text(text, f"finding {what}")
    return {
        "stage": draft.stage.key if draft.stage is not None else None,
        "title": draft.title.strip(),
        "observation": draft.observation,
        "risk": draft.risk,
        "recommendation": draft.recommendation,
        "severity": _choice(draft.severity, SEVERITY, "severity"),
        "owner": check_text(draft.owner.strip(), "finding owner", MAX_NAME),
        "due_date": _parse_date(draft.due_date, "due date"),
        "status": _choice(draft.status or "open", FINDING_STATUSES, "finding status"),
        "likelihood": check_scale(draft.likelihood, "likelihood"),
        "impact": check_scale(draft.impact, "impact"),
    }


# -- creating and opening -------------------------------------------------------


def _initialiser(row: EngagementRow) -> object:
    def initialise(conn: sqlite3.Connection) -> None:
        create_baseline(conn)
        columns = row.model_dump()
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        conn.execute(f"INSERT INTO engagement ({names}) VALUES ({marks})", tuple(columns.values()))

    return initialise


def raw_connection(session: Session) -> sqlite3.Connection:
    """The sqlite3 connection under a session, for services that stream blobs or read many rows at once."""
    raw = session.connection().connection.driver_connection
    assert raw is not None  # sqlite3's, or sqlcipher3's twin of it for an encrypted engagement
    return raw  # type: ignore[no-any-return]


@contextmanager
def reading(engagement: Engagement) -> Iterator[sqlite3.Connection]:
    """A read-only sqlite3 connection to the engagement's working copy, for the duration of the block."""
    with engagement.session() as session:
        yield raw_connection(session)


@dataclass(frozen=True)
class Properties:
    """What the consultant sets about an engagement (the properties dialog, ``ztmm new``/``set``)."""

    client: str
    title: str = ""
    assessors: tuple[str, ...] = ()
    scope: tuple[str, ...] | None = None  # pillar ids, codes or names; None: every pillar
    start_date: str | None = None
    end_date: str | None = None
    marking: str = DEFAULT_MARKING
    wording: str = CISA


def _property_columns(props: Properties, catalog: Catalog) -> dict[str, str | None]:
    """Validate ``props`` and return the engagement columns they set, normalised."""
    if not props.client.strip():
        raise BadInput("an engagement needs a client name")
    for value, what in ((props.client, "client"), (props.title, "title"), (props.marking, "marking")):
        check_text(value, what, MAX_NAME)
    names = [check_text(a.strip(), "assessor", MAX_NAME) for a in props.assessors if a.strip()]
    wanted = {catalog.pillar(p).id for p in props.scope} if props.scope is not None else None
    scope = [p.id for p in catalog.pillars if wanted is None or p.id in wanted]
    if not scope:
        raise BadInput("the scope names no pillar")
    if props.wording not in WORDINGS:
        raise BadInput(f"unknown wording {props.wording!r} (expected one of: {', '.join(WORDINGS)})")
    start, end = _parse_date(props.start_date, "start date"), _parse_date(props.end_date, "end date")
    if start and end and end < start:
        raise BadInput("the end date is before the start date")
    return {
        "client": props.client.strip(),
        "title": props.title.strip(),
        "assessors": json.dumps(names, ensure_ascii=False),
        "scope": json.dumps(scope),
        "start_date": start,
        "end_date": end,
        "marking": props.marking.strip(),
        "wording": props.wording,
    }


def create_engagement(
    path: Path, properties: Properties, *, library: Library | None = None, key: Key | None = None
) -> Engagement:
    """Make a new engagement file at ``path`` and open it for editing; encrypted when ``key`` is given."""
    library = library or default_library()
    catalog = library.catalog
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        **_property_columns(properties, catalog),
        "catalog_id": catalog.id,
        "catalog_version": catalog.version,
        "guidance_packs": json.dumps([f"{p.id}@{p.version}" for p in library.packs]),
        "created_at": now(),
        "created_with": f"ZTMM Workbench {__version__}",
    }
    row = EngagementRow(**values)
    document = EngagementDocument.create(path, _initialiser(row), key=key)  # type: ignore[arg-type]
    if key is not None:
        passphrase.learn(key)
    return Engagement(document, library)


def vocabulary(catalog: Catalog) -> Vocabulary:
    """What the file gate lets a file name: the catalog's own id, functions and pillars."""
    return Vocabulary(
        catalog_id=catalog.id,
        function_ids=frozenset(f.id for f in catalog.functions()),
        pillar_ids=frozenset(p.id for p in catalog.pillars),
    )


def open_engagement(
    path: Path,
    *,
    readonly: bool = False,
    recover: Orphan | None = None,
    library: Library | None = None,
    leave_out_damaged: bool = False,
    key: Key | None = None,
    frequent_saves: bool = False,
) -> Engagement:
    """Open an engagement file (for editing unless ``readonly``) once it has passed the file gate.

    A file that fails is refused (``GateError``; ``DamagedRecords`` when only some
    records are damaged, which ``leave_out_damaged`` -- read-only -- leaves out).
    An encrypted one is opened with ``key``, else with the passphrase ``services/passphrase``
    finds; its copy passes the same gate.

    ``frequent_saves``: a long session that saves often (the window) keeps a clone of the
    document ready in the background, so a save writes only what changed.
    """
    library = library or default_library()
    if key is None:
        key = passphrase.key_for(path)  # None for a plain file (or none at all: opening says so)
    document = EngagementDocument.open(
        path,
        readonly=readonly,
        recover=recover,
        vocabulary=vocabulary(library.catalog),
        leave_out_damaged=leave_out_damaged,
        key=key,
    )
    engagement = Engagement(document, library)
    if frequent_saves:
        document.prepare_saves()
    return engagement
