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
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from .. import __version__
from ..core import validate
from ..core.catalog import Catalog
from ..core.errors import BadInput, EngagementFileError
from ..core.register import FINDING_STATUSES
from ..core.stages import RATED_STAGES, Rating, Stage
from ..core.wording import CISA, WORDINGS
from ..store.connect import Key
from ..store.document import WRITE_OPTION, EngagementDocument, Orphan, storage_error
from ..store.gate import DamagedRecords as DamagedRecords  # the window offers to leave them out
from ..store.gate import Problem as Problem
from ..store.migrations import create_baseline
from ..store.schema import AuditRow, EngagementRow, FindingRow, FunctionRow, StageRatingRow, WorkshopRow
from . import passphrase
from .catalogs import Library, default_library
from .identity import resolve_assessor
from .records import MAX_NAME as MAX_NAME
from .records import MAX_TEXT as MAX_TEXT
from .records import Changes as Changes
from .records import EngagementMeta as EngagementMeta
from .records import Finding as Finding
from .records import FindingDraft as FindingDraft
from .records import Records
from .records import check_text as check_text
from .records import now as now
from .records import raw_connection as raw_connection
from .records import vocabulary as vocabulary

CONFIDENCE = validate.CONFIDENCE
PRIORITY = validate.PRIORITY
STATUS = validate.STATUS
SEVERITY = validate.SEVERITY
PROPERTY_COLUMNS = validate.PROPERTY_COLUMNS
DEFAULT_MARKING = "CONFIDENTIAL – Client use only"


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
class AuditEntry:
    at: str
    by: str
    entity: str
    key: str
    field: str
    old: str | None
    new: str | None


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


class Engagement(Records):
    """An open engagement file with the catalog it was assessed against (its reads: ``Records``)."""

    def __init__(self, document: EngagementDocument, library: Library) -> None:
        self.document = document
        super().__init__(library.catalog, library)

    # -- lifecycle -----------------------------------------------------------

    @property
    def path(self) -> Path:
        return self.document.document

    @property
    def readonly(self) -> bool:
        return self.document.readonly

    @property
    def encrypted(self) -> bool:
        return self.document.key is not None

    def save(self, *, force: bool = False) -> None:
        self.document.save(force=force)

    def save_as(self, target: Path) -> None:
        self.document.save_as(target)

    def close(self) -> None:
        self.document.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self.session() as session:
            yield raw_connection(session)

    def reading(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read-only sqlite3 connection to the working copy (or the document read in place)."""
        return self._reading()

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

    # -- reading (the rest: ``Records``) --------------------------------------

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


def reading(engagement: Engagement) -> AbstractContextManager[sqlite3.Connection]:
    """A read-only sqlite3 connection to the engagement's working copy, for the duration of the block."""
    return engagement.reading()


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
