"""Hostile engagement files, made on the spot from a real one (for the file gate's tests).

``base_file`` builds a realistic engagement through the services (the demo, plus
evidence of three sizes and a logo); each entry of ``KINDS`` copies it and does
one thing an attacker (or a broken tool) would do with plain SQLite: foreign
schema objects, values out of their domain, damaged structure. Every kind must
be refused by the file gate with one line; ``DAMAGED_RECORDS`` are the kinds
whose schema and structure are sound, so that the window can offer to open the
rest read-only.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ztmm_desktop.services import evidence, logo
from ztmm_desktop.services.demo import build_demo
from ztmm_desktop.services.evidence import EvidenceLink
from ztmm_desktop.store.migrations import APPLICATION_ID, SCHEMA_VERSION

#: Bytes of the base file's evidence: two files of one size, one of another.
EVIDENCE = (b"A" * 100, b"B" * 100, b"C" * 3000)


def base_file(path: Path) -> Path:
    """The demo engagement with three evidence files and a client logo, saved at ``path``."""
    from PIL import Image

    engagement = build_demo(path)
    try:
        function_id = next(iter(engagement.catalog.functions())).id
        for number, data in enumerate(EVIDENCE, start=1):
            evidence.attach_stream(
                engagement,
                io.BytesIO(data),
                original_name=f"export-{number}.txt",
                expected_size=len(data),
                links=[EvidenceLink(function_id=function_id)],
                by="Base",
            )
        image = io.BytesIO()
        Image.new("RGB", (4, 4), (200, 30, 30)).save(image, format="PNG")
        logo.set_logo(engagement, logo.check_logo(image.getvalue(), "logo.png"), by="Base")
        engagement.save()
    finally:
        engagement.close()
    return path


# -- plain SQLite, as an attacker has it ----------------------------------------------


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _sql(*statements: str) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        conn = _connect(path)
        try:
            for statement in statements:
                conn.execute(statement)
        finally:
            conn.close()

    return change


def _rewrite_schema(path: Path, change: Callable[[sqlite3.Connection], None]) -> None:
    """Edit ``sqlite_master`` directly (as only a hand-made file would), then bump the schema cookie."""
    conn = _connect(path)
    try:
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        conn.execute("PRAGMA writable_schema = ON")
        change(conn)
        conn.execute(f"PRAGMA schema_version = {version + 1}")
        conn.execute("PRAGMA writable_schema = OFF")
    finally:
        conn.close()


def _forced(table: str, column: str, value_sql: str) -> Callable[[Path], None]:
    """Store a value its column's NOT NULL forbids (the schema text is put back afterwards)."""

    def change(path: Path) -> None:
        conn = _connect(path)
        (original,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        conn.close()
        loose = original.replace(f"{column} VARCHAR NOT NULL", f"{column} VARCHAR")
        assert loose != original, (table, column)
        _rewrite_schema(path, lambda c: c.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (loose, table)))
        _sql(f"UPDATE {table} SET {column} = {value_sql} WHERE rowid = (SELECT min(rowid) FROM {table})")(path)
        _rewrite_schema(path, lambda c: c.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (original, table)))

    return change


def _foreign_tables(path: Path) -> None:
    path.unlink()
    conn = _connect(path)
    try:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('not an engagement')")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    finally:
        conn.close()


def _duplicate_ids(path: Path) -> None:
    """Two findings with one id: the table and its indexes are swapped for copies without the key."""
    _sql(
        "CREATE TABLE dup AS SELECT * FROM finding",
        "INSERT INTO dup SELECT * FROM finding ORDER BY rowid LIMIT 1",
        "CREATE INDEX dup_id ON dup (id)",
        "CREATE INDEX dup_function ON dup (function_id)",
    )(path)
    pairs = (("finding", "dup"), ("sqlite_autoindex_finding_1", "dup_id"), ("ix_finding_function_id", "dup_function"))

    def swap(conn: sqlite3.Connection) -> None:
        for ours, theirs in pairs:
            a = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (ours,)).fetchone()[0]
            b = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (theirs,)).fetchone()[0]
            conn.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = ?", (b, ours))
            conn.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = ?", (a, theirs))

    _rewrite_schema(path, swap)
    _sql("DROP TABLE dup")(path)  # frees the old pages properly


def _view_with_attach(path: Path) -> None:
    _rewrite_schema(
        path,
        lambda c: c.execute(
            "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql)"
            " VALUES ('view', 'leak', 'leak', 0, 'CREATE VIEW leak AS SELECT * FROM aux.secrets')"
        ),
    )


def _utf16(path: Path) -> None:
    """The same engagement in a database whose text is UTF-16."""
    source = _connect(path)
    rows = {t: source.execute(f'SELECT * FROM "{t}"').fetchall() for t in ("engagement",)}
    source.close()
    path.unlink()
    from ztmm_desktop.store.migrations import create_baseline

    conn = _connect(path)
    try:
        conn.execute("PRAGMA encoding = 'UTF-16le'")
        create_baseline(conn)
        for table, values in rows.items():
            marks = ", ".join("?" for _ in values[0])
            conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', values)
    finally:
        conn.close()


def _corrupt_page(path: Path) -> None:
    """Garbage over the middle of the file (a torn copy, a bad sector)."""
    data = bytearray(path.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page
    data[middle + 8 : middle + 200] = b"\xff" * 192
    path.write_bytes(bytes(data))


def _chunks_of_another_blob(path: Path) -> None:
    """The 3,000-byte blob's chunk list points at a 100-byte blob's chunks and the other way round."""
    conn = _connect(path)
    try:
        small, large = (
            conn.execute("SELECT sha256, chunk_key FROM blob WHERE size = ? LIMIT 1", (size,)).fetchone()
            for size in (100, 3000)
        )
        conn.execute("UPDATE blob SET chunk_key = 'swap' WHERE sha256 = ?", (small[0],))
        conn.execute("UPDATE blob SET chunk_key = ? WHERE sha256 = ?", (small[1], large[0]))
        conn.execute("UPDATE blob SET chunk_key = ? WHERE sha256 = ?", (large[1], small[0]))
    finally:
        conn.close()


def _deep_json(path: Path) -> None:
    conn = _connect(path)
    try:
        conn.execute("UPDATE engagement SET assessors = ?", ("[" * 1500 + "]" * 1500,))
    finally:
        conn.close()


def _huge_text(path: Path) -> None:
    conn = _connect(path)
    try:
        conn.execute(
            "UPDATE stage_rating SET comment = ? WHERE rowid = (SELECT min(rowid) FROM stage_rating)",
            ("x" * 100_000_000,),
        )
    finally:
        conn.close()


_FIRST = "WHERE rowid = (SELECT min(rowid) FROM {t})"


def _first(table: str, assignment: str) -> Callable[[Path], None]:
    return _sql(f"UPDATE {table} SET {assignment} " + _FIRST.format(t=table))


#: Every kind of hostile file: name -> what is done to a copy of the base file.
KINDS: dict[str, Callable[[Path], None]] = {
    # the file is not ours, or not whole
    "foreign-tables-with-our-id": _foreign_tables,
    "engagement-row-missing": _sql("DELETE FROM engagement"),
    "two-engagement-rows": _sql(
        "INSERT INTO engagement SELECT 'x' || id, client, title, scope, assessors, start_date, end_date, marking,"
        " wording, catalog_id, catalog_version, guidance_packs, created_at, created_with, consultancy,"
        " report_version, reviewer, reviewed_on, approver, approved_on, paper, vendor_neutral FROM engagement"
    ),
    "missing-table": _sql("DROP TABLE finding"),
    "extra-column": _sql("ALTER TABLE finding ADD COLUMN payload VARCHAR"),
    "utf16-text": _utf16,
    "corrupt-page": _corrupt_page,
    "duplicate-ids": _duplicate_ids,
    # foreign views and triggers (never to be run)
    "recursive-view-replacing-a-table": _sql(
        "DROP TABLE audit",
        "CREATE VIEW audit AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)"
        " SELECT n AS id, '' AS at, '' AS by, '' AS entity, '' AS key, '' AS field, NULL AS old, NULL AS new,"
        " NULL AS workshop_id FROM r",
    ),
    "view-expanding-the-audit-trail": _sql(
        "ALTER TABLE audit RENAME TO audit_rows",
        "CREATE VIEW audit AS SELECT a.* FROM audit_rows AS a, audit_rows AS b, audit_rows AS c, audit_rows AS d",
    ),
    "view-with-attach": _view_with_attach,
    "trigger-forging-ratings": _sql(
        "CREATE TRIGGER forge AFTER UPDATE ON stage_rating BEGIN"
        " UPDATE stage_rating SET rating = 'met', comment = 'forged' WHERE function_id = NEW.function_id;"
        " UPDATE function_assessment SET target = 'traditional' WHERE function_id = NEW.function_id; END"
    ),
    "trigger-wiping-the-audit-trail": _sql(
        "CREATE TRIGGER wipe AFTER INSERT ON audit BEGIN DELETE FROM audit WHERE id < NEW.id; END"
    ),
    "trigger-planting-a-finding": _sql(
        "CREATE TRIGGER plant AFTER INSERT ON audit BEGIN INSERT INTO finding (id, function_id, title,"
        " observation, risk, recommendation, severity, created_at, created_by, updated_at)"
        " VALUES (hex(randomblob(16)), 'identity.authentication', 'Planted', '', '', '', 'critical', '', '', '');"
        " END"
    ),
    "trigger-deleting-evidence-bytes": _sql(
        "CREATE TRIGGER shred AFTER INSERT ON evidence BEGIN"
        " DELETE FROM blob_chunk WHERE chunk_key = (SELECT chunk_key FROM blob WHERE sha256 = NEW.sha256); END"
    ),
    "trigger-growing-the-file": _sql(
        "CREATE TRIGGER grow AFTER INSERT ON audit BEGIN"
        " INSERT INTO blob_chunk (chunk_key, seq, data) VALUES (hex(randomblob(16)), 0, zeroblob(900000000)); END"
    ),
    "trigger-instead-of-on-a-view": _sql(
        "CREATE VIEW ratings AS SELECT * FROM stage_rating",
        "CREATE TRIGGER redirect INSTEAD OF INSERT ON ratings BEGIN DELETE FROM stage_rating; END",
    ),
    "index-we-did-not-create": _sql("CREATE INDEX spy ON finding (title)"),
    "trigger-named-with-terminal-escapes": _sql(
        'CREATE TRIGGER "x\x1b[2J\x1b]0;pwned\x07\nerror: all fine" AFTER INSERT ON audit BEGIN SELECT 1; END'
    ),
    # values out of their domain
    "null-where-the-code-assumes-a-value": _forced("finding", "title", "NULL"),
    "assessors-null": _forced("engagement", "assessors", "NULL"),
    "comment-null": _forced("stage_rating", "comment", "NULL"),
    "rating-excellent": _first("stage_rating", "rating = 'excellent'"),
    "finding-stage-bogus": _first("finding", "stage = 'bogus'"),
    "scope-not-json": _sql("UPDATE engagement SET scope = 'identity, devices'"),
    "deeply-nested-json": _deep_json,
    "lone-surrogate-in-json": _sql("UPDATE engagement SET assessors = '[\"\\ud800\"]'"),
    "comment-not-utf8": _first("stage_rating", "comment = CAST(x'48e9e96c6c6f' AS TEXT)"),
    "evidence-name-not-utf8": _first("evidence", "original_name = CAST(x'657870ff2e747874' AS TEXT)"),
    "nul-in-a-title": _first("finding", "title = 'a' || char(0) || 'b'"),
    "evidence-size-big": _first("evidence", "size = 'big'"),
    "evidence-size-negative": _first("evidence", "size = -5"),
    "evidence-size-2-63": _first("evidence", "size = 9223372036854775808"),
    "blob-size-negative": _first("blob", "size = -1"),
    "blob-where-text-belongs": _first("finding", "title = x'00ff10'"),
    "client-blob": _sql("UPDATE engagement SET client = x'deadbeef'"),
    "evidence-kind-bogus": _first("evidence", "kind = 'malware'"),
    "evidence-link-to-nothing": _first("evidence_link", "evidence_id = 'nowhere'"),
    "finding-of-an-unknown-function": _first("finding", "function_id = 'nowhere.function'"),
    "baseline-ratings-bogus": _first("baseline_function", 'ratings = \'{"initial": {"rating": "excellent"}}\''),
    "workshop-pillars-not-a-list": _first("workshop", "pillars = '{}'"),
    "likelihood-out-of-range": _first("finding", "likelihood = 9"),
    "date-not-a-date": _sql("UPDATE engagement SET start_date = '2026-02-30'"),
    "logo-not-an-image": _sql("UPDATE engagement_logo SET data = x'4d5a900003'"),
    "huge-text-value": _huge_text,
}

#: Damaged evidence bytes: the file itself is sound (it opens); ``verify`` names the evidence
#: (exit 1) and every read of the bytes checks their hash.
EVIDENCE_BYTES_KINDS: dict[str, Callable[[Path], None]] = {
    "chunks-of-another-blob": _chunks_of_another_blob,
    "chunk-missing": _sql("DELETE FROM blob_chunk WHERE rowid = (SELECT max(rowid) FROM blob_chunk)"),
}

#: Kinds whose schema and structure are sound and whose damage is in records other than
#: the engagement's own: the window offers to open the rest read-only.
DAMAGED_RECORDS = frozenset(
    {
        "null-where-the-code-assumes-a-value",
        "comment-null",
        "rating-excellent",
        "finding-stage-bogus",
        "comment-not-utf8",
        "evidence-name-not-utf8",
        "nul-in-a-title",
        "evidence-size-big",
        "evidence-size-negative",
        "evidence-size-2-63",
        "blob-size-negative",
        "blob-where-text-belongs",
        "evidence-kind-bogus",
        "evidence-link-to-nothing",
        "finding-of-an-unknown-function",
        "baseline-ratings-bogus",
        "workshop-pillars-not-a-list",
        "likelihood-out-of-range",
        "logo-not-an-image",
        "huge-text-value",
    }
)


def make(kind: str, base: Path, target: Path) -> Path:
    """A hostile file of ``kind`` at ``target``, made from a copy of ``base``."""
    shutil.copyfile(base, target)
    {**KINDS, **EVIDENCE_BYTES_KINDS}[kind](target)
    return target
