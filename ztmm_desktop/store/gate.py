"""The file gate: every engagement file passes it before anything reads it.

An engagement file travels (mail, USB sticks, synced folders) and comes back
from colleagues and clients, so its contents are untrusted input. Opening one
(in the window, by every ``ztmm`` command, as merge's other file, as
``compare --with``, or a recovered working copy) checks it here before any
other statement runs on it: a plain document of the current schema where it
lies, through a read-only connection bound to the file's identity; anything
copied whole (older schema, encrypted, damaged records to leave out) as *the
copy* (``store.document``):

1. the schema -- every table, column, type and index, and no view or trigger
   we did not create -- is exactly the one the file's ``user_version``
   declares, built from the frozen migration steps (``expected_schema``);
   nothing else reads a table before this passes, so a foreign trigger or
   view is never run;
2. ``PRAGMA integrity_check`` passes (``quick_check`` plus the unique and
   index checks, so duplicate ids are found) and so does the foreign key check;
3. every stored value is in its domain (``TABLES``: one predicate per column,
   evaluated by SQLite in one scan of each table; text is read back once so
   that invalid UTF-8 is found with its row and column).

A file that fails is refused with one line naming the first problem
(``GateError``); ``DamagedRecords`` says that the schema is sound and only some
records are out of their domain, which the window offers to leave out of a
read-only copy (``salvage``).

Every connection to an engagement file is set up by ``harden``. See
docs/SECURITY.md, "The file gate".
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ..core import register
from ..core.errors import EngagementFileError
from ..core.responses import Answer
from ..core.stages import RATED_STAGES, Rating, Stage
from ..core.wording import WORDINGS
from . import migrations
from .blobs import CHUNK_SIZE

# -- connections ------------------------------------------------------------------------

#: SQLite virtual machine instructions between two calls of the watchdog.
WATCHDOG_TICK = 20_000
#: Instructions one statement may run (the app's own stay far below: reading the large
#: engagement whole takes about 2 million); about two seconds of work at most.
STATEMENT_STEPS = 100_000_000
#: The gate's own scans are linear in the file; a hostile file of many rows is still bounded.
GATE_STEPS = 1_000_000_000
#: Largest string or BLOB any statement may produce (SQLITE_LIMIT_LENGTH); the largest the
#: app stores are evidence chunks (1 MiB) and logos (5 MB).
MAX_VALUE_BYTES = 32 * 1024 * 1024


class Watchdog:
    """A progress handler that interrupts a statement after ``limit`` instructions.

    Python's ``sqlite3`` does not tell a handler when a statement starts, so the
    count is reset by the engine before every statement and every transaction
    (``store.document``), and by the gate before each of its own.
    """

    __slots__ = ("fired", "limit", "ticks")

    def __init__(self, steps: int | None = None) -> None:
        self.ticks = 0
        self.limit = max(1, (STATEMENT_STEPS if steps is None else steps) // WATCHDOG_TICK)
        self.fired = False

    def __call__(self) -> int:
        self.ticks += 1
        if self.ticks > self.limit:
            self.fired = True
            return 1  # SQLite stops the statement: OperationalError "interrupted"
        return 0

    def reset(self, steps: int | None = None) -> None:
        self.ticks = 0
        if steps is not None:
            self.limit = max(1, steps // WATCHDOG_TICK)


#: True when this Python can switch SQLite's defensive mode on (3.12+).
DEFENSIVE_AVAILABLE = hasattr(sqlite3.Connection, "setconfig") and hasattr(sqlite3, "SQLITE_DBCONFIG_DEFENSIVE")

#: The DB-API modules whose connections reach the gate: ``sqlite3``, and ``sqlcipher3`` (its twin for
#: encrypted engagements) once ``store.connect`` has loaded it. Their exception classes are unrelated.
_BINDINGS: list[ModuleType] = [sqlite3]


def add_binding(module: ModuleType) -> None:
    """Let the gate (and ``errors``) know a second SQLite binding (``store.connect`` adds ``sqlcipher3``)."""
    if module not in _BINDINGS:
        _BINDINGS.append(module)


def errors(name: str = "DatabaseError") -> tuple[type[Exception], ...]:
    """The exception class ``name`` (``Error``, ``DatabaseError``, ``DataError``, …) of every loaded binding."""
    return tuple(getattr(module, name) for module in _BINDINGS)


def harden(conn: sqlite3.Connection, steps: int | None = None, *, watchdog: Watchdog | None = None) -> Watchdog:
    """Set up a connection to an engagement file so that its contents cannot run code or hang us.

    ``trusted_schema=OFF`` (no unsafe function from a schema object),
    ``cell_size_check=ON`` (a corrupt cell is an error, not a crash), defensive mode
    where the Python build exposes it (no writes to the schema or shadow tables),
    a bound on the size of a value (where the binding exposes ``setlimit``: not
    sqlcipher3's), and a watchdog on every statement (``watchdog``: the caller's own).
    """
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute("PRAGMA cell_size_check = ON")
    setconfig = getattr(conn, "setconfig", None)  # (sqlcipher3's connections have neither method)
    if DEFENSIVE_AVAILABLE and setconfig is not None:  # pragma: no cover - Python 3.12+
        setconfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE, True)  # type: ignore[attr-defined]
    setlimit = getattr(conn, "setlimit", None)
    if setlimit is not None:
        setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    watchdog = Watchdog(steps) if watchdog is None else watchdog
    if steps is not None:
        watchdog.reset(steps)
    conn.set_progress_handler(watchdog, WATCHDOG_TICK)
    return watchdog


# -- errors -----------------------------------------------------------------------------


class GateError(EngagementFileError):
    """The file is not an engagement file this version can safely read; nothing was changed."""


@dataclass(frozen=True)
class Problem:
    """One record out of its domain."""

    table: str
    rowid: int
    key: str  # the record's key as a user would name it
    column: str
    reason: str

    def describe(self) -> str:
        where = f"{self.table} record {self.key}" if self.key else f"{self.table} record"
        return f"{where}, {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"


class DamagedRecords(GateError):
    """The schema is sound but some records are out of their domain (``problems``; the first is the message)."""

    def __init__(self, name: str, problems: Sequence[Problem], more: bool) -> None:
        self.problems = tuple(problems)
        self.more = more
        super().__init__(f"{name}: damaged record: {problems[0].describe()}")


# -- the schema ------------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
_AROUND = re.compile(r"\s*([(),=])\s*")


def _normalise(sql: object) -> object:
    if not isinstance(sql, str):
        return sql
    return _AROUND.sub(r"\1", _SPACE.sub(" ", sql.strip()))


SchemaEntry = tuple[str, str, str, object]  # type, name, table, SQL as stored


def _schema_of(conn: sqlite3.Connection) -> dict[str, SchemaEntry]:
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {str(name): (str(kind), str(name), str(table), sql) for kind, name, table, sql in rows}


def _same(found: SchemaEntry, expected: SchemaEntry) -> bool:
    """The same object; its SQL as stored, or differing in white space only."""
    if found == expected:
        return True
    return found[:3] == expected[:3] and _normalise(found[3]) == _normalise(expected[3])


@dataclass(frozen=True)
class Schema:
    """What a schema version declares: every object in ``sqlite_master`` and each table's columns."""

    entries: dict[str, SchemaEntry]
    columns: dict[str, tuple[str, ...]]


@functools.cache
def expected_schema(version: int) -> Schema:
    """The schema a file of ``version`` has: the frozen baseline and steps applied to an empty database."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrations._run(conn, migrations.BASELINE_DDL)
        for step in range(1, version):
            migrations.MIGRATIONS[step](conn)
        entries = _schema_of(conn)
        columns = {
            name: tuple(str(row[1]) for row in conn.execute(f'PRAGMA table_info("{name}")'))
            for name, entry in entries.items()
            if entry[0] == "table"
        }
        return Schema(entries, columns)
    finally:
        conn.close()


def _compare_schema(found: dict[str, SchemaEntry], version: int) -> str | None:
    """The first way ``found`` differs from what ``version`` declares, or None."""
    expected = expected_schema(version).entries
    for name, (kind, _, table, _sql) in sorted(found.items()):
        if name not in expected:
            on = f" on {_plain(table)}" if kind in ("trigger", "index") and table != name else ""
            return f"it holds {_article(kind)} {_plain(kind)} {_show(name)}{on} that ZTMM Workbench did not create"
    for name, entry in expected.items():
        if name in found and not _same(found[name], entry):
            kind, theirs = entry[0], found[name][0]
            if theirs != kind:
                return f"{_show(name)} is {_article(theirs)} {_plain(theirs)} where schema {version} has a {kind}"
            return f"the {kind} {name!r} is not as schema {version} defines it"
    for name, (kind, _, _, _) in expected.items():
        if name not in found:
            return f"the {kind} {name!r} of schema {version} is missing"
    return None


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")


def _plain(name: str) -> str:
    """A name from the file as it is when it is a plain identifier, else quoted and escaped."""
    return name if _IDENTIFIER.fullmatch(name) else _show(name)


# -- value domains ----------------------------------------------------------------------------
#
# A domain is an SQL predicate over one column (``{c}``), true (1) when the value is
# in the domain and never NULL, and the words that say what the value should be.
# CASE guards keep each test to values of the right type (SQLite's AND may evaluate
# both sides), so a JSON function never sees text that is not JSON.

#: Longest short field (names, titles, owners) and longest long text (comments, notes);
#: twice what the services accept (services.engagement.MAX_NAME, MAX_TEXT), so a file
#: written by an older or newer version within reason still opens.
SHORT = 1_000
LONG = 200_000
#: An audit row's old or new value holds one field's value (or a short summary).
AUDIT_VALUE = 1_000_000
MAX_LOGO_BYTES = 5 * 1024 * 1024  # services.logo.MAX_LOGO_BYTES
MAX_BLOB_BYTES = 1 << 50

#: Words the services accept (their own constants; tests/store/test_gate.py checks they agree).
CONFIDENCE = ("", "low", "medium", "high")
PRIORITY = ("", "low", "medium", "high", "critical")
STATUS = ("", "not-started", "in-progress", "done", "not-applicable")
SEVERITY = ("low", "medium", "high", "critical")
EVIDENCE_KINDS = ("document", "screenshot", "configuration-export", "interview-note", "other")
LOGO_TYPES = ("image/png", "image/jpeg")
WORKSHOP_STATUSES = ("planned", "running", "held")


@dataclass(frozen=True)
class Domain:
    sql: str
    says: str
    text: bool = False  # the value is free text a reader decodes (read back to check it is UTF-8)
    json: bool = False  # the value is JSON whose strings are checked as UTF-8 too


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(_quote(v) for v in values) + ")"


def _nullable(domain: Domain) -> Domain:
    return Domain(
        f"CASE WHEN {{c}} IS NULL THEN 1 ELSE ({domain.sql}) END", domain.says + " or empty", domain.text, domain.json
    )


def _text_sql(limit: int) -> str:
    # (NUL characters and UTF-8 are checked on the text read back, see ``_check_table``.)
    return f"CASE WHEN typeof({{c}}) = 'text' THEN length({{c}}) <= {limit} ELSE 0 END"


def text(limit: int = SHORT, *, null: bool = False) -> Domain:
    domain = Domain(_text_sql(limit), f"text of at most {limit:,} characters", text=True)
    return _nullable(domain) if null else domain


def choice(values: Iterable[str], *, null: bool = False, what: str = "") -> Domain:
    values = tuple(values)
    names = ", ".join(v or "''" for v in values)
    domain = Domain(  # (a word of the list is plain ASCII: no need to read it back)
        f"CASE WHEN typeof({{c}}) = 'text' THEN {{c}} IN {_in(values)} ELSE 0 END",
        f"{what or 'one of'} {names}".strip(),
    )
    return _nullable(domain) if null else domain


def integer(low: int, high: int, *, null: bool = False) -> Domain:
    domain = Domain(
        f"CASE WHEN typeof({{c}}) = 'integer' THEN {{c}} BETWEEN {low} AND {high} ELSE 0 END",
        f"a whole number from {low:,} to {high:,}",
    )
    return _nullable(domain) if null else domain


def blob(limit: int) -> Domain:
    return Domain(
        f"CASE WHEN typeof({{c}}) = 'blob' THEN length({{c}}) BETWEEN 1 AND {limit} ELSE 0 END",
        f"bytes (at most {limit:,})",
    )


BOOLEAN = Domain("CASE WHEN typeof({c}) = 'integer' THEN {c} IN (0, 1) ELSE 0 END", "0 or 1")
DATE = Domain(
    "CASE WHEN typeof({c}) = 'text' AND length({c}) = 10"
    " THEN {c} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' AND {c} >= '0001'"
    " AND date({c}, '+0 days') IS {c} ELSE 0 END",
    "a date like 2026-11-30",
)
#: (Readers show a timestamp that is no date as it is; its date part they parse.)
_TIMESTAMP_SQL = (
    "CASE WHEN typeof({c}) = 'text' AND length({c}) BETWEEN 10 AND 40"
    " THEN {c} GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]*' ELSE 0 END"
)
TIMESTAMP = Domain(_TIMESTAMP_SQL, "a date and time like 2026-11-30T09:00:00+00:00", text=True)
#: Some timestamps start empty (a function row made before its first edit).
TIMESTAMP_OR_EMPTY = Domain(
    f"CASE WHEN {{c}} IS '' THEN 1 ELSE ({_TIMESTAMP_SQL}) END", TIMESTAMP.says + " or ''", True
)
SHA256 = Domain(
    "CASE WHEN typeof({c}) = 'text' AND length({c}) = 64 THEN {c} NOT GLOB '*[^0-9a-f]*' ELSE 0 END",
    "a SHA-256 (64 lowercase hex digits)",
)
SHA256_OR_EMPTY = Domain(f"CASE WHEN {{c}} IS '' THEN 1 ELSE ({SHA256.sql}) END", SHA256.says + " or ''")
#: Record ids: uuids (with or without dashes) and the like.
IDENT = Domain(
    "CASE WHEN typeof({c}) = 'text' THEN length({c}) BETWEEN 1 AND 100 ELSE 0 END",
    "an id of 1 to 100 characters",
    text=True,
)
#: Catalog ids (slugs like identity.authentication); ``Vocabulary`` narrows them to the catalog's.
SLUG = Domain(
    "CASE WHEN typeof({c}) = 'text' AND length({c}) BETWEEN 1 AND 100 THEN {c} NOT GLOB '*[^a-z0-9_.]*' ELSE 0 END",
    "an id of lowercase letters, digits, '_' or '.'",
)
#: Catalog and guidance pack ids (cisa-ztmm).
CATALOG_ID = Domain(
    "CASE WHEN typeof({c}) = 'text' AND length({c}) BETWEEN 1 AND 100 THEN {c} NOT GLOB '*[^a-z0-9_.-]*' ELSE 0 END",
    "an id of lowercase letters, digits, '-', '_' or '.'",
)
ANY_STAGE = choice((s.key for s in Stage), what="a stage:")
RATED_STAGE = choice((s.key for s in RATED_STAGES), what="a rated stage:")
RATING = choice((r.value for r in Rating), what="a rating:")


def _json_sql(shape: str, limit: int, *, nested: bool = False) -> str:
    """Valid JSON of ``shape``; ``nested``: of any shape, so its depth is bounded (Python's
    json module recurses). The strings inside are read back as UTF-8 with the rest of the
    text (``_texts``)."""
    depth = (
        " AND NOT EXISTS (SELECT 1 FROM json_tree({c}) AS t"
        " WHERE length(t.fullkey) - length(replace(replace(t.fullkey, '.', ''), '[', '')) > 8)"
        if nested
        else ""
    )
    return (
        f"CASE WHEN typeof({{c}}) = 'text' AND length({{c}}) <= {limit} AND json_valid({{c}})"
        f" THEN ({shape}){depth} ELSE 0 END"
    )


def json_list(limit: int = LONG, item: int = SHORT) -> Domain:
    """A JSON array of strings (assessors, scope, pillars, functions)."""
    shape = (
        "json_type({c}) = 'array' AND NOT EXISTS (SELECT 1 FROM json_each({c}) AS e"
        f" WHERE e.type <> 'text' OR length(e.value) > {item})"
    )
    return Domain(_json_sql(shape, limit), "a JSON list of texts", text=True, json=True)


#: A baseline's frozen ratings: {"initial": {"rating": "met", "comment": "..."}, ...}.
BASELINE_RATINGS = Domain(
    _json_sql(
        "json_type({c}) = 'object' AND NOT EXISTS (SELECT 1 FROM json_each({c}) AS e"
        f" WHERE e.key NOT IN {_in(s.key for s in RATED_STAGES)} OR e.type <> 'object'"
        " OR EXISTS (SELECT 1 FROM json_each(e.value) AS f WHERE f.type <> 'text'"
        f" OR f.key NOT IN ('rating', 'comment') OR (f.key = 'rating' AND f.value NOT IN {_in(r.value for r in Rating)})))",
        4 * LONG,
    ),
    "a JSON object of stage ratings",
    text=True,
    json=True,
)
#: A baseline's roll-ups ({"pillars": [...], "overall": {...}}); readers take what they can use.
ROLLUPS = Domain(
    _json_sql("json_type({c}) = 'object'", LONG, nested=True), "a JSON object of roll-ups", text=True, json=True
)


@dataclass(frozen=True)
class TableRule:
    """The domains of one table's columns, how a user names a row, and checks across rows."""

    key: tuple[str, ...]
    columns: dict[str, Domain]
    #: Extra predicates over the row (``{t}`` is the table), each with the column it blames.
    checks: tuple[tuple[str, str, str], ...] = ()  # (column, sql, reason)


#: A logo's bytes are the image its media type says (readers hand them to an image decoder).
LOGO_IMAGE = (
    "data",
    "CASE WHEN typeof({t}.data) = 'blob' THEN ({t}.media_type = 'image/png' AND substr({t}.data, 1, 8) = x'89504e470d0a1a0a')"
    " OR ({t}.media_type = 'image/jpeg' AND substr({t}.data, 1, 3) = x'ffd8ff') ELSE 0 END",
    "not a PNG or JPEG image",
)

_FUNCTION = SLUG  # replaced by the catalog's ids when a ``Vocabulary`` is given

#: The domain of every column of every schema version, table by table, in the order
#: a user would look (the engagement first). A column missing here fails a test.
TABLES: dict[str, TableRule] = {
    "engagement": TableRule(
        ("id",),
        {
            "id": IDENT,
            "client": text(),
            "title": text(),
            "scope": json_list(),
            "assessors": json_list(),
            "start_date": _nullable(DATE),
            "end_date": _nullable(DATE),
            "marking": text(),
            "wording": choice(WORDINGS, what="a wording:"),
            "catalog_id": CATALOG_ID,
            "catalog_version": text(100),
            "guidance_packs": json_list(),
            "created_at": TIMESTAMP,
            "created_with": text(),
            "consultancy": text(),
            "report_version": text(),
            "reviewer": text(),
            "reviewed_on": _nullable(DATE),
            "approver": text(),
            "approved_on": _nullable(DATE),
            "paper": choice(register.PAPER_SIZES, what="a paper size:"),
            "vendor_neutral": BOOLEAN,
        },
    ),
    "function_assessment": TableRule(
        ("function_id",),
        {
            "function_id": _FUNCTION,
            "target": _nullable(ANY_STAGE),
            "override_stage": _nullable(ANY_STAGE),
            "override_reason": text(LONG),
            "confidence": choice(CONFIDENCE),
            "priority": choice(PRIORITY),
            "owner": text(),
            "status": choice(STATUS),
            "notes": text(LONG),
            "updated_at": TIMESTAMP_OR_EMPTY,
            "updated_by": text(),
        },
    ),
    "stage_rating": TableRule(
        ("function_id", "stage"),
        {
            "function_id": _FUNCTION,
            "stage": RATED_STAGE,
            "rating": RATING,
            "comment": text(LONG),
            "updated_at": TIMESTAMP_OR_EMPTY,
            "updated_by": text(),
        },
    ),
    "finding": TableRule(
        ("id",),
        {
            "id": IDENT,
            "function_id": _FUNCTION,
            "stage": _nullable(ANY_STAGE),
            "title": text(),
            "observation": text(LONG),
            "risk": text(LONG),
            "recommendation": text(LONG),
            "severity": choice(SEVERITY),
            "created_at": TIMESTAMP_OR_EMPTY,
            "created_by": text(),
            "updated_at": TIMESTAMP_OR_EMPTY,
            "owner": text(),
            "due_date": _nullable(DATE),
            "status": choice(register.FINDING_STATUSES),
            "likelihood": integer(1, 5, null=True),
            "impact": integer(1, 5, null=True),
        },
    ),
    "audit": TableRule(
        ("id",),
        {
            "id": integer(1, 2**62),
            "at": TIMESTAMP,
            "by": text(),
            "entity": text(100),
            "key": text(SHORT),
            "field": text(SHORT),
            "old": text(AUDIT_VALUE, null=True),
            "new": text(AUDIT_VALUE, null=True),
            "workshop_id": integer(1, 2**62, null=True),
        },
    ),
    "blob": TableRule(
        ("sha256",),
        {
            "sha256": SHA256,
            "size": integer(0, MAX_BLOB_BYTES),
            "chunks": integer(0, MAX_BLOB_BYTES // CHUNK_SIZE + 1),
            "chunk_key": IDENT,
            "created_at": TIMESTAMP,
        },
        # (whether the chunks hold the bytes the hash names is ``verify``'s to say, evidence by
        # evidence, and every read of the bytes checks it: damaged bytes are no reason to refuse
        # the file)
    ),
    "blob_chunk": TableRule(
        ("chunk_key", "seq"),
        {"chunk_key": IDENT, "seq": integer(0, MAX_BLOB_BYTES // CHUNK_SIZE), "data": blob(CHUNK_SIZE)},
    ),
    "evidence": TableRule(
        ("id",),
        {
            "id": IDENT,
            "sha256": SHA256,
            "title": text(),
            "description": text(LONG),
            "original_name": text(),
            "media_type": text(255),
            "size": integer(0, MAX_BLOB_BYTES),
            "kind": choice(EVIDENCE_KINDS),
            "captured_at": TIMESTAMP,
            "captured_by": text(),
            "created_at": TIMESTAMP,
        },
        checks=(
            (
                "size",
                "{t}.size IS (SELECT b.size FROM blob AS b WHERE b.sha256 = {t}.sha256)",
                "differs from its bytes' size",
            ),
        ),
    ),
    "evidence_link": TableRule(
        ("id",),
        {
            "id": integer(1, 2**62),
            "evidence_id": IDENT,
            "function_id": _nullable(_FUNCTION),
            "stage": _nullable(ANY_STAGE),
            "finding_id": _nullable(IDENT),
        },
    ),
    "response": TableRule(
        ("function_id", "stage", "respondent"),
        {
            "function_id": _FUNCTION,
            "stage": RATED_STAGE,
            "respondent": text(),
            "role": text(),
            "answer": choice(("", *(a.value for a in Answer)), what="an answer:"),
            "comment": text(LONG),
            "source_name": text(),
            "source_sha256": SHA256_OR_EMPTY,
            "imported_at": TIMESTAMP_OR_EMPTY,
            "imported_by": text(),
        },
    ),
    "engagement_logo": TableRule(
        ("id",),
        {"id": integer(1, 1), "name": text(), "media_type": choice(LOGO_TYPES), "data": blob(MAX_LOGO_BYTES)},
        checks=(LOGO_IMAGE,),
    ),
    "baseline": TableRule(
        ("name",),
        {
            "id": integer(1, 2**62),
            "name": text(),
            "created_at": TIMESTAMP,
            "created_by": text(),
            "catalog_version": text(100),
            "scope": json_list(),
            "rollups": ROLLUPS,
        },
    ),
    "baseline_function": TableRule(
        ("baseline_id", "function_id"),
        {
            "baseline_id": integer(1, 2**62),
            "function_id": SLUG,  # a baseline keeps the catalog of its day
            "current": ANY_STAGE,
            "derived": ANY_STAGE,
            "overridden": BOOLEAN,
            "override_reason": text(LONG),
            "target": _nullable(ANY_STAGE),
            "ratings": BASELINE_RATINGS,
        },
    ),
    "workshop": TableRule(
        ("id",),
        {
            "id": integer(1, 2**62),
            "uid": Domain(f"CASE WHEN {{c}} IS '' THEN 1 ELSE ({IDENT.sql}) END", IDENT.says, True),
            "date": DATE,
            "title": text(),
            "pillars": json_list(),
            "functions": json_list(),
            "notes": text(LONG),
            "status": choice(WORKSHOP_STATUSES),
            "started_at": _nullable(TIMESTAMP),
            "ended_at": _nullable(TIMESTAMP),
        },
    ),
    "workshop_attendee": TableRule(
        ("workshop_id", "position"),
        {
            "workshop_id": integer(1, 2**62),
            "position": integer(0, 1_000_000),
            "name": text(),
            "role": text(),
            "organisation": text(),
        },
    ),
    "engagement_section": TableRule(
        ("key",),
        {"key": choice(register.SECTION_KEYS, what="a report section:"), "text": text(LONG)},
    ),
    "report_version": TableRule(
        ("position",),
        {
            "position": integer(0, 1_000_000),
            "version": text(),
            "date": DATE,
            "author": text(),
            "change": text(LONG),
        },
    ),
    "distribution": TableRule(
        ("position",),
        {"position": integer(0, 1_000_000), "name": text(), "organisation": text(), "role": text()},
    ),
    "consultancy_logo": TableRule(
        ("id",),
        {"id": integer(1, 1), "name": text(), "media_type": choice(LOGO_TYPES), "data": blob(MAX_LOGO_BYTES)},
        checks=(LOGO_IMAGE,),
    ),
    "action": TableRule(
        ("id",),
        {
            "id": IDENT,
            "function_id": _FUNCTION,
            "stage": _nullable(ANY_STAGE),
            "text": text(LONG),
            "phase": choice(register.PHASES),
            "effort": choice(register.EFFORTS),
            "cost": text(),
            "owner": text(),
            "after_id": _nullable(IDENT),
            "created_at": TIMESTAMP_OR_EMPTY,
            "created_by": text(),
            "updated_at": TIMESTAMP_OR_EMPTY,
        },
    ),
}

#: Columns that name a function of the catalog (narrowed by a ``Vocabulary``): may they be NULL?
FUNCTION_COLUMNS: dict[tuple[str, str], bool] = {
    ("function_assessment", "function_id"): False,
    ("stage_rating", "function_id"): False,
    ("finding", "function_id"): False,
    ("evidence_link", "function_id"): True,
    ("response", "function_id"): False,
    ("action", "function_id"): False,
}


@dataclass(frozen=True)
class Vocabulary:
    """What the catalog the app runs with knows: a file naming anything else is refused."""

    catalog_id: str
    function_ids: frozenset[str]
    pillar_ids: frozenset[str] = field(default_factory=frozenset)


# -- checking a file --------------------------------------------------------------------------


def _show(value: object) -> str:
    """A stored value as a short, printable quotation for a one-line message."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return "text that is not valid UTF-8"
    if isinstance(value, int | float):
        return repr(value)
    shown = str(value)
    return repr(shown[:40]) + ("…" if len(shown) > 40 else "")  # (repr escapes control characters)


def error_text(err: BaseException) -> str:
    """SQLite's words for an error, as one short printable line (they may quote the file's bytes)."""
    text = " ".join(str(err).split())
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 160 else text[:160] + "…"


@dataclass
class _Check:
    conn: sqlite3.Connection
    watchdog: Watchdog
    name: str
    vocabulary: Vocabulary | None
    limit: int  # most problems to collect (1: the first only)
    problems: list[Problem] = field(default_factory=list)
    more: bool = False
    bytes_unchecked: bool = False  # no structure check of the evidence bytes' pages

    def run(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        self.watchdog.reset(GATE_STEPS)
        return self.conn.execute(sql, params).fetchall()

    def full(self) -> bool:
        return len(self.problems) >= self.limit

    def add(self, problem: Problem) -> None:
        if self.full():
            self.more = True
        else:
            self.problems.append(problem)


def _domains(table: str, rule: TableRule, columns: Sequence[str], vocabulary: Vocabulary | None) -> dict[str, Domain]:
    out = {}
    for column in columns:
        domain = rule.columns[column]
        if vocabulary is not None and (table, column) in FUNCTION_COLUMNS:
            member = f"CASE WHEN typeof({{c}}) = 'text' THEN {{c}} IN {_in(sorted(vocabulary.function_ids))} ELSE 0 END"
            domain = Domain(member, "a function of the catalog")  # (ids are ASCII: not read back)
            if FUNCTION_COLUMNS[(table, column)]:
                domain = _nullable(domain)
        out[column] = domain
    return out


def _key_of(check: _Check, table: str, rule: TableRule, rowid: int) -> str:
    columns = ", ".join(f'"{c}"' for c in rule.key)
    previous = check.conn.text_factory
    check.conn.text_factory = bytes
    try:
        row = check.run(f'SELECT {columns} FROM "{table}" WHERE rowid = ?', (rowid,))
    finally:
        check.conn.text_factory = previous
    if not row:
        return f"#{rowid}"
    parts = []
    for value in row[0]:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        parts.append(str(value))
    shown = "/".join(parts)
    if len(shown) > 80 or not all(ch.isprintable() for ch in shown):
        return f"#{rowid}"
    return shown


@dataclass(frozen=True)
class _Plan:
    """How one table of one schema version is checked (built once per process)."""

    domains: dict[str, Domain]
    tests: list[tuple[str, str, str]]  # (column, predicate, what it should be)
    first_bad: str  # the first record out of its domains (no aggregates: SQLite stops at a failing test)
    text: str  # every text column's text, one string a column
    locate: str  # the failing records, with each test's outcome


@functools.lru_cache(maxsize=256)
def _plan(table: str, columns: tuple[str, ...], vocabulary: Vocabulary | None) -> _Plan:
    rule = TABLES[table]
    domains = _domains(table, rule, columns, vocabulary)
    tests = [
        (column, domain.sql.replace("{c}", f'"{table}"."{column}"'), domain.says) for column, domain in domains.items()
    ]
    tests += [(column, sql.replace("{t}", f'"{table}"'), reason) for column, sql, reason in rule.checks]
    every = " AND ".join(f"ifnull(({sql}), 0)" for _, sql, _ in tests)
    flags = ", ".join(f"ifnull(({sql}), 0)" for _, sql, _ in tests)
    texts = ", ".join(f"group_concat({sql}, ' ')" for _, sql in _texts(table, domains))
    return _Plan(
        domains,
        tests,
        first_bad=f'SELECT rowid FROM "{table}" WHERE NOT ({every}) LIMIT 1',
        text=f'SELECT {texts} FROM "{table}"' if texts else "",
        locate=f'SELECT rowid, {flags} FROM "{table}" WHERE NOT ({every}) LIMIT ?',
    )


def _check_table(check: _Check, table: str, columns: tuple[str, ...]) -> None:
    """Two scans of ``table``: every domain's predicate, then its text read back as UTF-8.

    SQLite evaluates the predicates and stops at the first record that fails one; the
    text comes back as one string per column, which Python's strict decoder refuses
    when a value is not UTF-8, and a search finds NUL characters. Only when something
    is wrong does ``_locate`` look for the records.
    """
    plan = _plan(table, columns, check.vocabulary)
    try:
        clean = not check.run(plan.first_bad)
    except errors("DataError"):  # a value too large to read at once
        clean = False
    if clean and plan.text:
        try:
            texts = check.run(plan.text)[0]
        except errors("OperationalError") as err:  # text that is not UTF-8 (Python's decoder refused it)
            if "decode" not in str(err):
                raise
            clean = False
        except errors("DataError"):  # more text in a column than one string may hold
            clean = False
        else:
            clean = not any(isinstance(value, str) and "\x00" in value for value in texts)
    if not clean:
        _locate(check, table, TABLES[table], plan)


def _texts(table: str, domains: dict[str, Domain]) -> list[tuple[str, str]]:
    """(column, expression) of every text a reader decodes; for JSON, every string inside too."""
    out = [(column, f'"{table}"."{column}"') for column, domain in domains.items() if domain.text]
    for column, domain in domains.items():
        if domain.json:
            ref = f'"{table}"."{column}"'
            out.append(
                (
                    column,
                    f"CASE WHEN json_valid({ref}) THEN (SELECT ifnull(group_concat(CASE WHEN t.type = 'text'"
                    " THEN t.value END, ' '), '') || ' ' || ifnull(group_concat(t.key, ' '), '')"
                    f" FROM json_tree({ref}) AS t) END",
                )
            )
    return out


def _locate(check: _Check, table: str, rule: TableRule, plan: _Plan) -> None:
    """Find the records of ``table`` that the scan found wrong, and say what is wrong with each."""
    try:
        bad = check.run(plan.locate, (check.limit + 1,))
    except errors("DataError"):
        bad = _one_by_one(check, table, plan.tests)
    for row in bad:
        rowid = int(row[0])
        failed = next(i for i, ok in enumerate(row[1:]) if not ok)
        column, _, says = plan.tests[failed]
        reason = says
        if failed < len(plan.domains):
            reason = f"{_value(check, table, column, rowid)}; expected {says}"
        check.add(Problem(table, rowid, _key_of(check, table, rule, rowid), column, reason))
        if check.full():
            check.more = check.more or len(bad) > len(check.problems)
            return
    if bad:
        return  # the text is read once the values are in their domains (``salvage`` checks again)
    _locate_text(check, table, rule, plan.domains)


def _one_by_one(check: _Check, table: str, tests: list[tuple[str, str, str]]) -> list[tuple[object, ...]]:
    """The failing rows when a value is too large to read at all (each test on its own)."""
    rowids = [int(r[0]) for r in check.run(f'SELECT rowid FROM "{table}"')]
    bad = []
    for rowid in rowids:
        flags: list[object] = []
        for _, sql, _ in tests:
            try:
                flags.append(check.run(f'SELECT ifnull(({sql}), 0) FROM "{table}" WHERE rowid = ?', (rowid,))[0][0])
            except errors("DataError"):
                flags.append(0)
        if not all(flags):
            bad.append((rowid, *flags))
            if len(bad) > check.limit:
                break
    return bad


def _value(check: _Check, table: str, column: str, rowid: int) -> str:
    previous = check.conn.text_factory
    check.conn.text_factory = bytes
    try:
        row = check.run(
            f"SELECT CASE WHEN typeof(\"{column}\") IN ('text', 'blob') AND length(CAST(\"{column}\" AS BLOB)) > 4096"
            f' THEN NULL ELSE "{column}" END, typeof("{column}"), length("{column}") FROM "{table}" WHERE rowid = ?',
            (rowid,),
        )
    except errors("DataError"):
        return f"a value larger than {MAX_VALUE_BYTES // (1024 * 1024)} MiB"
    finally:
        check.conn.text_factory = previous
    value, kind_bytes, size = row[0]
    kind = kind_bytes.decode() if isinstance(kind_bytes, bytes) else str(kind_bytes)
    if kind == "blob":
        return f"{size:,} bytes"
    if value is None and kind != "null":
        return f"a text of {size:,} characters"
    if kind == "real":
        return f"the number {value!r}"
    return _show(value)


def _locate_text(check: _Check, table: str, rule: TableRule, domains: dict[str, Domain]) -> None:
    """Read the text row by row as bytes: which is not UTF-8, or holds a NUL character?"""
    texts = _texts(table, domains)
    previous = check.conn.text_factory
    check.conn.text_factory = bytes
    try:
        check.watchdog.reset(GATE_STEPS)
        cursor = check.conn.execute(f'SELECT rowid, {", ".join(sql for _, sql in texts)} FROM "{table}"')
        found = []
        for row in cursor:
            for (column, _), value in zip(texts, row[1:], strict=True):
                if not isinstance(value, bytes):
                    continue
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    found.append((int(row[0]), column, "text that is not valid UTF-8"))
                    break
                if b"\x00" in value:
                    found.append((int(row[0]), column, "text with a NUL character"))
                    break
            if len(found) > check.limit:
                break
        cursor.close()
    finally:
        check.conn.text_factory = previous
    for rowid, column, reason in found:
        check.add(Problem(table, rowid, _key_of(check, table, rule, rowid), column, reason))


def check_contents(
    conn: sqlite3.Connection,
    watchdog: Watchdog,
    name: str,
    *,
    vocabulary: Vocabulary | None = None,
    limit: int = 1,
    bytes_unchecked: bool = False,
) -> int:
    """Check an open engagement database; return its schema version or raise ``GateError``.

    ``name`` is the file name the user knows (messages start with it). With ``limit``
    above 1, up to that many damaged records are collected (``DamagedRecords.problems``).
    ``bytes_unchecked``: the structure check (step 2) covers every table and index but the
    evidence bytes (``blob_chunk``), whose pages grow with the evidence; a document read in
    place or attached for its bytes (docs/storage.md), whose bytes are checked against their
    SHA-256 whenever they are read. Their values' domains are still checked (step 3).
    """
    check = _Check(conn, watchdog, name, vocabulary, limit, bytes_unchecked=bytes_unchecked)
    try:
        return _check(check)
    except GateError:
        raise
    except errors("DatabaseError") as err:
        if watchdog.fired:
            raise GateError(f"{name}: refused: checking it took too long (is it an engagement file?)") from None
        raise GateError(f"{name}: the engagement file is damaged ({error_text(err)})") from None
    finally:
        watchdog.reset(STATEMENT_STEPS)


def _check(check: _Check) -> int:
    name, conn = check.name, check.conn
    application_id, version, encoding = check.run(  # (one statement)
        "SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version),"
        " (SELECT encoding FROM pragma_encoding)"
    )[0]
    newest = migrations.SCHEMA_VERSION
    if application_id != migrations.APPLICATION_ID:
        raise GateError(f"{name}: an SQLite database, but not a ZTMM engagement file")
    if version > newest:
        raise GateError(
            f"{name}: made by a newer version of ZTMM Workbench (file schema {version}, "
            f"this version reads up to {newest}); please update the app"
        )
    if version < 1:
        raise GateError(f"{name}: the engagement file has no schema (damaged?)")
    if encoding != "UTF-8":
        raise GateError(f"{name}: refused: the file's text is {encoding}, not UTF-8 as ZTMM Workbench writes it")
    # 1. the schema, before any statement reads a table
    difference = _compare_schema(_schema_of(conn), version)
    if difference is not None:
        raise GateError(f"{name}: refused: {difference}")
    # 2. the structure (pages, indexes, unique keys, NOT NULL); a value out of its
    # domain is named by step 3 even when SQLite's own check found it first
    rows = _structure(check)
    damage = None if rows == [("ok",)] else _damage(str(rows[0][0]) if rows else "no answer")
    # 3. the values, table by table
    try:
        _check_values(check, version)
    except errors("DatabaseError"):
        if damage is None:
            raise
    if check.problems:
        if check.problems[0].table == "engagement":
            raise GateError(f"{name}: refused: {check.problems[0].describe()}")
        raise DamagedRecords(name, check.problems, check.more)
    if damage is not None:
        raise GateError(f"{name}: the engagement file is damaged ({damage})")
    return int(version)


def _structure(check: _Check) -> list[Any]:
    """``integrity_check``: of the whole file, or table by table but the evidence bytes."""
    if not check.bytes_unchecked:
        return check.run("PRAGMA integrity_check(1)")
    tables = check.run("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    for (table,) in tables:
        if table == BYTES_TABLE:
            continue
        quoted = str(table).replace('"', '""')
        rows = check.run(f'PRAGMA integrity_check("{quoted}")')
        if rows != [("ok",)]:
            return rows
    return [("ok",)]


#: The table of evidence bytes (see ``check_contents(bytes_unchecked=...)``).
BYTES_TABLE = "blob_chunk"

_UNIQUE = re.compile(r"non-unique entry in index sqlite_autoindex_(?P<table>\w+?)_\d+")


def _damage(message: str) -> str:
    message = error_text(Exception(message))
    found = _UNIQUE.search(message)
    if found:
        return f"two {found['table']} records have the same id"
    return message


def _check_values(check: _Check, version: int) -> None:
    schema = expected_schema(version)
    tables = [t for t in TABLES if t in schema.columns]
    catalog = check.vocabulary.catalog_id if check.vocabulary is not None else None
    # one statement for what decides the rest: one engagement, its catalog, which tables hold rows
    holds = ", ".join(f'EXISTS (SELECT 1 FROM "{t}")' for t in tables)
    first = check.run(
        f"SELECT (SELECT count(*) FROM engagement), (SELECT catalog_id IS ? FROM engagement LIMIT 1), {holds}",
        (catalog,),
    )[0]
    count = int(first[0])
    if count != 1:
        held = "no engagement record" if count == 0 else f"{count} engagement records"
        raise GateError(f"{check.name}: refused: the file holds {held} (an engagement file holds one)")
    if catalog is not None and not first[1]:
        rowid = int(check.run("SELECT rowid FROM engagement")[0][0])
        found = _value(check, "engagement", "catalog_id", rowid)
        raise GateError(f"{check.name}: assessed against catalog {found}, which this version does not have")
    for table, filled in zip(tables, first[2:], strict=True):
        if filled:
            _check_table(check, table, schema.columns[table])
            if check.full():
                return
    _check_references(check)


def _check_references(check: _Check) -> None:
    columns: dict[tuple[str, int], str] = {}
    for table, rowid, parent, fkid in check.run("SELECT * FROM pragma_foreign_key_check LIMIT 1000"):
        table = str(table)
        rule = TABLES.get(table)
        if rule is None:  # pragma: no cover - every table has a rule
            raise GateError(f"{check.name}: refused: {table} refers to a missing {parent} record")
        if (table, int(fkid)) not in columns:
            for row in check.run(f'PRAGMA foreign_key_list("{table}")'):
                columns[(table, int(row[0]))] = str(row[3])
        column = columns.get((table, int(fkid)), "")
        reason = f"refers to {_article(str(parent))} {parent} record that is not in the file"
        check.add(Problem(table, int(rowid), _key_of(check, table, rule, int(rowid)), column, reason))
        if check.full():
            return


# -- leaving damaged records out ------------------------------------------------------------


def salvage(
    conn: sqlite3.Connection, watchdog: Watchdog, name: str, *, vocabulary: Vocabulary | None = None
) -> tuple[int, list[Problem]]:
    """Delete every damaged record from a private working copy; return its version and what was left out.

    Only for a copy whose schema and structure passed: records are deleted until the
    rest passes (a record that referred to a deleted one goes too).
    """
    left_out: list[Problem] = []
    for _ in range(len(TABLES) + 1):
        try:
            version = check_contents(conn, watchdog, name, vocabulary=vocabulary, limit=10_000)
            return version, left_out
        except DamagedRecords as err:
            problems = err.problems
        for problem in problems:
            watchdog.reset(GATE_STEPS)
            conn.execute(f'DELETE FROM "{problem.table}" WHERE rowid = ?', (problem.rowid,))
        left_out.extend(problems)
    raise GateError(f"{name}: refused: too many damaged records to leave out")  # pragma: no cover
