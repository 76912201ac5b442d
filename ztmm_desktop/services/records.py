"""An engagement's records as every reader reads them, with plain sqlite3 (no ORM).

:class:`Records` is what a view, a deliverable or a command reads of an engagement: its
properties, each function's assessment and result, the roll-ups, the findings, and (as
functions of it) the report's sections, document control and options. It reads through
``reading()``, a sqlite3 connection, and keeps what it read until the next edit. There are two:

* ``services.engagement.Engagement``, an open engagement (its working copy, or a document read
  in place), whose ``reading()`` is the connection under an SQLAlchemy session;
* :class:`PlainReader`, for the read-only commands (``ztmm info``, ``evidence``, ``verify``):
  a document of the current schema (plain, or encrypted with its key) read in place through one
  connection, after the same header check and file gate a read-only open applies
  (``store.document``), so that those commands never import SQLAlchemy or SQLModel
  (docs/storage.md, "Reading without the ORM"). :func:`open_for_reading` picks it, or falls back
  to ``open_engagement`` for what only that opens (an older schema: migrated in a whole copy).

Nothing in this module imports the ORM: keep it that way (``tests/test_plain_reads.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from ..core import validate
from ..core.catalog import Catalog, Function
from ..core.errors import BadInput, EngagementFileError
from ..core.register import PAPER_SIZES, SECTION_KEYS, DocumentControl, Recipient, Sections, VersionLine
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
from ..core.stages import Rating, Stage
from ..core.wording import apply_wording
from ..store.gate import Vocabulary, Watchdog
from .catalogs import Library, default_catalog, default_library

if TYPE_CHECKING:
    from sqlmodel import Session

#: Longest comment, note or reason accepted (characters). Longer text is refused,
#: not cut: evidence files are the place for logs and exports. What a user may enter
#: is what a file may hold (``core.validate``).
MAX_TEXT = validate.MAX_TEXT
#: Longest short field (client, title, owner, names, marking).
MAX_NAME = validate.MAX_NAME


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


@dataclass(frozen=True)
class ReportOptions:
    """How the deliverables are laid out: paper size and whether vendor guidance is left out."""

    paper: str = "A4"
    vendor_neutral: bool = False


def stage_or_none(value: str | None) -> Stage | None:
    return Stage.parse(value) if value else None


def raw_connection(session: Session) -> sqlite3.Connection:
    """The sqlite3 connection under a session, for services that stream blobs or read many rows at once."""
    raw = session.connection().connection.driver_connection
    assert raw is not None  # sqlite3's, or sqlcipher3's twin of it for an encrypted engagement
    return raw  # type: ignore[no-any-return]


class Records:
    """An engagement's records with the catalog it was assessed against (see the module's text).

    A subclass provides ``path``, ``encrypted`` and ``reading()``; the reads are kept until
    ``_forget`` (an editing subclass calls it after every edit).
    """

    def __init__(self, catalog: Catalog, library: Library | None = None) -> None:
        """Refuses (and closes) an engagement assessed against a catalog this version does not have;
        a subclass sets up what ``reading()`` and ``close()`` need first. ``library``: the catalog
        with its guidance packs, loaded when first needed if not given (``catalog`` is then the
        default library's)."""
        self.catalog = catalog
        self._library = library
        self._forget()
        try:
            meta = self.meta()
            if meta.catalog_id != self.catalog.id:
                raise EngagementFileError(
                    f"{self.path.name}: assessed against catalog {meta.catalog_id!r}, which this version does not have"
                )
        except BaseException:
            self.close()
            raise

    @property
    def library(self) -> Library:
        if self._library is None:
            self._library = default_library()
        return self._library

    @property
    def path(self) -> Path:
        raise NotImplementedError

    @property
    def encrypted(self) -> bool:
        raise NotImplementedError

    def reading(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read-only sqlite3 connection for the duration of the block."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _forget(self) -> None:
        """Drop what was read (every write of an editing session goes through one place, which calls this)."""
        self._meta: EngagementMeta | None = None
        self._assessments: dict[str, FunctionAssessment] | None = None
        self._results: dict[str, FunctionResult] | None = None
        self._findings: list[Finding] | None = None
        self._stale: set[str] = set()  # functions whose cached assessment is read again when next asked

    # -- the engagement's properties -------------------------------------------------------

    def meta(self) -> EngagementMeta:
        if self._meta is None:
            self._meta = self._read_meta()
        return self._meta

    def _read_meta(self) -> EngagementMeta:
        with self.reading() as conn:
            row = conn.execute(
                "SELECT id, client, title, scope, assessors, start_date, end_date, marking, wording, catalog_id,"
                " catalog_version, guidance_packs, created_at, created_with FROM engagement"
            ).fetchone()
        if row is None:
            raise EngagementFileError(f"{self.path.name}: the engagement file is damaged (no engagement record)")
        return EngagementMeta(
            id=row[0],
            client=row[1],
            title=row[2],
            scope=tuple(json.loads(row[3])),
            assessors=tuple(json.loads(row[4])),
            start_date=row[5],
            end_date=row[6],
            marking=row[7],
            wording=row[8],
            catalog_id=row[9],
            catalog_version=row[10],
            guidance_packs=tuple(json.loads(row[11])),
            created_at=row[12],
            created_with=row[13],
        )

    def functions_in_scope(self) -> list[Function]:
        scope = set(self.meta().scope)
        return [f for p in self.catalog.pillars if p.id in scope for f in p.functions]

    def stage_text(self, function: Function, stage: Stage) -> str:
        """A stage text in the engagement's chosen wording."""
        return apply_wording(function.stages[stage], self.meta().wording)

    # -- assessments and results -------------------------------------------------------------

    def assessments(self) -> dict[str, FunctionAssessment]:
        """What the assessor recorded, per function (read once until the next edit)."""
        if self._assessments is None:
            self._assessments = self._read_assessments()
            self._stale = set()
        self._refresh_stale()
        return dict(self._assessments)

    def _refresh_stale(self) -> None:
        if not self._stale or self._assessments is None:
            return
        fresh = self._read_assessments(frozenset(self._stale))
        self._stale = set()
        self._assessments.update(fresh)
        if self._results is not None:
            self._results.update({fid: evaluate(assessment) for fid, assessment in fresh.items()})

    def _read_assessments(self, only: frozenset[str] | None = None) -> dict[str, FunctionAssessment]:
        """Every function's assessment, or ``only`` those functions'."""
        functions = (
            "SELECT function_id, override_stage, override_reason, target, confidence, priority, owner, status, notes"
            " FROM function_assessment"
        )
        stages = "SELECT function_id, stage, rating, comment FROM stage_rating"
        wanted: tuple[str, ...] = ()
        with self.reading() as conn:
            if only is not None:
                wanted = tuple(sorted(only))
                # a file's connection (sqlite3, sqlcipher3) takes ?, the team server's (psycopg) %s
                mark = "%s" if type(conn).__module__.startswith("psycopg") else "?"
                marks = ", ".join(mark for _ in wanted)
                functions += f" WHERE function_id IN ({marks})"
                stages += f" WHERE function_id IN ({marks})"
            function_rows = {r[0]: r for r in conn.execute(functions, wanted)}
            ratings: dict[str, dict[Stage, StageRating]] = {}
            for function_id, stage, rating, comment in conn.execute(stages, wanted):
                ratings.setdefault(function_id, {})[Stage.parse(stage)] = StageRating(Rating(rating), comment)
        out = {}
        for function in self.catalog.functions():
            if only is not None and function.id not in only:
                continue
            row = function_rows.get(function.id)
            out[function.id] = FunctionAssessment(
                function_id=function.id,
                ratings=ratings.get(function.id, {}),
                override_stage=stage_or_none(row[1]) if row else None,
                override_reason=row[2] if row else "",
                target=stage_or_none(row[3]) if row else None,
                confidence=row[4] if row else "",
                priority=row[5] if row else "",
                owner=row[6] if row else "",
                status=row[7] if row else "",
                notes=row[8] if row else "",
            )
        return out

    def assessment(self, function_key: str) -> FunctionAssessment:
        return self.assessments()[self.catalog.function(function_key).id]

    def results(self) -> dict[str, FunctionResult]:
        self._refresh_stale()
        if self._results is None:
            self._results = {fid: evaluate(a) for fid, a in self.assessments().items()}
        return dict(self._results)

    def assessed_share(self) -> float:
        """The share of the functions in scope that are assessed (not applicable ones included): the
        dashboard's "N of M functions assessed" as a fraction, which the team server's registry lists as
        the engagement's progress."""
        overall = self.rollups()[1]
        return overall.assessed / overall.functions if overall.functions else 0.0

    def rollups(self) -> tuple[list[Rollup], Rollup]:
        """Roll-ups per pillar in scope, and overall (each function weighs the same)."""
        results = self.results()
        scope = self.meta().scope
        pillars = pillar_rollups(self.catalog, results, scope)
        overall = rollup("overall", "Overall", (results[f.id] for f in self.functions_in_scope()))
        return pillars, overall

    def roadmap(self) -> list[RoadmapItem]:
        return roadmap(self.functions_in_scope(), self.results(), self.library.packs)

    # -- findings --------------------------------------------------------------------------

    def findings(self, function_key: str | None = None) -> list[Finding]:
        if self._findings is None:
            self._findings = self._read_findings()
        if function_key is None:
            return list(self._findings)
        function_id = self.catalog.function(function_key).id
        return [f for f in self._findings if f.function_id == function_id]

    def _read_findings(self) -> list[Finding]:
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT id, function_id, stage, title, observation, risk, recommendation, severity, created_at,"
                " created_by, owner, due_date, status, likelihood, impact FROM finding ORDER BY created_at, id"
            ).fetchall()
        return [
            Finding(
                id=r[0],
                function_id=r[1],
                stage=stage_or_none(r[2]),
                title=r[3],
                observation=r[4],
                risk=r[5],
                recommendation=r[6],
                severity=r[7],
                created_at=r[8],
                created_by=r[9],
                owner=r[10],
                due_date=r[11],
                status=r[12],
                likelihood=r[13],
                impact=r[14],
            )
            for r in rows
        ]


# -- the report's own words and layout (written by ``services.register``) ---------------------------


def read_sections(engagement: Records) -> Sections:
    with engagement.reading() as conn:
        rows = dict(conn.execute("SELECT key, text FROM engagement_section").fetchall())
    return Sections(**{key: rows.get(key, "") for key in SECTION_KEYS})


def read_control(engagement: Records) -> DocumentControl:
    with engagement.reading() as conn:
        row = conn.execute(
            "SELECT consultancy, report_version, reviewer, reviewed_on, approver, approved_on FROM engagement"
        ).fetchone()
        history = tuple(
            VersionLine(*r)
            for r in conn.execute("SELECT version, date, author, change FROM report_version ORDER BY position")
        )
        distribution = tuple(
            Recipient(*r) for r in conn.execute("SELECT name, organisation, role FROM distribution ORDER BY position")
        )
    return DocumentControl(
        consultancy=row[0],
        report_version=row[1],
        history=history,
        distribution=distribution,
        reviewer=row[2],
        reviewed_on=row[3],
        approver=row[4],
        approved_on=row[5],
    )


def read_report_options(engagement: Records) -> ReportOptions:
    with engagement.reading() as conn:
        paper, vendor_neutral = conn.execute("SELECT paper, vendor_neutral FROM engagement").fetchone()
    return ReportOptions(paper=paper if paper in PAPER_SIZES else "A4", vendor_neutral=bool(vendor_neutral))


#: The tables of the two logos (``services.logo``): the client's and the consultancy's.
CLIENT_LOGO, CONSULTANCY_LOGO = "engagement_logo", "consultancy_logo"
LOGO_TABLES = frozenset({CLIENT_LOGO, CONSULTANCY_LOGO})


def read_logo_row(engagement: Records, table: str) -> tuple[str, bytes] | None:
    """The name and bytes of the logo kept in ``table`` (one of :data:`LOGO_TABLES`), if any."""
    if table not in LOGO_TABLES:
        raise ValueError(f"not a logo table: {table}")
    with engagement.reading() as conn:
        row = conn.execute(f"SELECT name, data FROM {table} WHERE id = 1").fetchone()
    return (row[0], row[1]) if row is not None else None


def count_actions(engagement: Records) -> int:
    """How many roadmap actions the engagement has (``services.actions`` lists them)."""
    with engagement.reading() as conn:
        return int(conn.execute('SELECT count(*) FROM "action"').fetchone()[0])


# -- reading a document in place without the ORM ------------------------------------------------


class PlainReader(Records):
    """A document of the current schema, read in place through one sqlite3 connection (sqlcipher3's
    twin of it, with the key, for an encrypted one): read-only, immutable, refused unless it is the
    file that passed the gate."""

    def __init__(
        self, path: Path, conn: sqlite3.Connection, watchdog: Watchdog, catalog: Catalog, *, encrypted: bool = False
    ) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = conn
        self._watchdog = watchdog
        self._encrypted = encrypted
        super().__init__(catalog)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def encrypted(self) -> bool:
        return self._encrypted

    @property
    def readonly(self) -> bool:
        return True

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        if self._conn is None:
            raise EngagementFileError(f"{self._path.name}: closed")
        self._watchdog.reset()  # the budget counts from the start of each block, as a session's from BEGIN
        yield self._conn

    def reading(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._reading()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def read_in_place(path: Path) -> PlainReader | None:
    """The engagement at ``path`` read in place without the ORM, after the checks of a read-only
    open (header, file gate, the file's identity; an encrypted one with the key ``services.passphrase``
    finds, as ``open_engagement`` finds it); None for an older schema, which only ``open_engagement``
    opens (migrated in a whole copy). Bad input is refused with the same one line."""
    from ..store import document
    from ..store.connect import encrypted_salt
    from . import passphrase

    catalog = default_catalog()  # the guidance packs are loaded only if something needs them
    key = passphrase.key_for(path)  # None for a plain file; asked or found as open_engagement does
    path = document.real_path(path)
    document.refuse_missing_or_special(path)
    if encrypted_salt(path) is None:
        key = None
    identity = document.file_identity(path)  # before the check: a file swapped after it is refused
    if not document.checked_in_place(path, identity, vocabulary(catalog), key):
        return None
    conn, watchdog = document.connect_checked(path, identity, key)
    return PlainReader(path, conn, watchdog, catalog, encrypted=key is not None)


def vocabulary(catalog: Catalog) -> Vocabulary:
    """What the file gate lets a file name: the catalog's own id, functions and pillars."""
    return Vocabulary(
        catalog_id=catalog.id,
        function_ids=frozenset(f.id for f in catalog.functions()),
        pillar_ids=frozenset(p.id for p in catalog.pillars),
    )


def open_for_reading(path: Path) -> Records:
    """A read-only engagement: read in place without the ORM when it can be, else opened as
    ``open_engagement(readonly=True)`` opens it (an older schema). Either
    is a :class:`Records` and a context manager that closes it."""
    reader = read_in_place(path)
    if reader is not None:
        return reader
    from .engagement import open_engagement

    return open_engagement(path, readonly=True)
