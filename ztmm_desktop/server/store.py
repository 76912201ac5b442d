"""An engagement's records and evidence between a file (sqlite3) and its schema on the server (psycopg).

The server keeps each engagement in a schema of its own, ``e_<id>``, with exactly the
file's tables (``ztmm.create_engagement`` makes them from the frozen DDL), so copying is
table by table, column by column, by the file's own column names. Rows stream (``COPY``
to the server, a server-side cursor back), and evidence bytes go chunk by chunk (back by
binary ``COPY … TO STDOUT``), hashed while they stream: one chunk in memory at a time, and
bytes that are not what their SHA-256 names stop the copy before anything is committed or
written.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors, sql
from sqlalchemy import Boolean
from sqlmodel import SQLModel

from ..store import blobs
from ..store import schema as _file_tables  # noqa: F401  (declares the file's tables in SQLModel.metadata)
from .connect import ServerError, reason, use_engagement
from .url import ServerUrl

BLOB_TABLE = "blob"
CHUNK_TABLE = "blob_chunk"
#: The file's tables, parents before children; the evidence bytes are copied apart.
TABLES = tuple(t.name for t in SQLModel.metadata.sorted_tables if t.name != CHUNK_TABLE)
#: Per table, the columns SQLite holds as 0/1 and PostgreSQL as boolean (sent as bool, not as a number).
BOOLEAN_COLUMNS = {
    t.name: frozenset(c.name for c in t.columns if isinstance(c.type, Boolean)) for t in SQLModel.metadata.sorted_tables
}
#: The tables a live session edits field by field (``server.live``): a window editing live leaves
#: them out of its Save, and its Save's check that nobody else saved meanwhile leaves them out too.
LIVE_TABLES = ("function_assessment", "stage_rating", "finding", "action")
#: The audit rows of those edits (their ``entity``): the server writes its own, authored by the login.
LIVE_ENTITIES = ("function", "stage", "finding", "action")
#: What a window editing live writes on Save (and checks nobody else saved): all but the live tables
#: and the audit trail (appended to by everyone's live edits; a Save appends its own rows to it).
SAVED_WHEN_LIVE = tuple(t for t in TABLES if t not in LIVE_TABLES and t != "audit")

Step = Callable[[int], None]


@dataclass(frozen=True)
class Listed:
    """One engagement as ``ztmm engagements`` shows it."""

    id: str
    client: str
    title: str
    start_date: str | None
    end_date: str | None
    progress: float
    role: str


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(row[1]) for row in conn.execute(f'PRAGMA main.table_info("{table}")')]


def _file_table_names(conn: sqlite3.Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def registry_fields(conn: sqlite3.Connection) -> tuple[str, str, str, str | None, str | None]:
    """The file's id, client, title and dates, as the registry lists them."""
    row = conn.execute("SELECT id, client, title, start_date, end_date FROM engagement").fetchone()
    if row is None:
        raise ServerError("the engagement file has no engagement record")
    return str(row[0]), str(row[1]), str(row[2]), row[3], row[4]


def create(pg: psycopg.Connection[Any], url: ServerUrl, src: sqlite3.Connection, format_version: int) -> None:
    """Make the engagement ``url`` names on the server (its schema, roles, registry row); the caller becomes its lead."""
    engagement = url.require_engagement("publishing")
    file_id, client, title, start, end = registry_fields(src)
    try:
        with pg.transaction():
            pg.execute(
                "SELECT ztmm.create_engagement(%s, %s, %s, %s, %s, %s, %s)",
                (engagement, file_id, client, title, start, end, format_version),
            )
    except errors.DuplicateObject:
        raise ServerError(
            f"{url.display}: engagement {engagement} already exists on the server "
            "(bring a copy's work into it with ztmm merge URL FILE)"
        ) from None
    except errors.InsufficientPrivilege:
        raise ServerError(
            f"{url.display}: you may not create engagements here; ask the DBA to grant you ztmm_user"
        ) from None
    except errors.FeatureNotSupported:
        raise ServerError(
            f"{url.display}: the server does not know file format {format_version}; the DBA upgrades it with ztmm server init"
        ) from None


def copy_to_server(
    src: sqlite3.Connection, pg: psycopg.Connection[Any], engagement: str, share: float, step: Step | None = None
) -> None:
    """Every row and every evidence byte of the file into the engagement's (empty) schema; the caller commits."""
    use_engagement(pg, engagement)
    tables = _file_table_names(src)
    with pg.cursor() as cur:
        _copy_blobs_to_server(src, cur, step)  # first: evidence rows refer to their bytes
        for table in TABLES:
            if table == BLOB_TABLE or table not in tables:
                continue
            columns = _columns(src, table)
            names = ", ".join(f'"{c}"' for c in columns)
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cur.copy(statement) as copy:
                for row in src.execute(f'SELECT {names} FROM main."{table}"'):
                    copy.write_row(row)
        _reset_sequences(cur)
    update_registry(pg, engagement, share)


def update_registry(pg: psycopg.Connection[Any], engagement: str, share: float) -> None:
    """The registry's summary from the engagement's own row (the connection points at its schema)."""
    pg.execute(
        "SELECT ztmm.update_registry(%s::text, e.client, e.title, e.start_date, e.end_date, %s::real) FROM engagement e",
        (engagement, share),
    )


def _copy_blobs_to_server(
    src: sqlite3.Connection, cur: psycopg.Cursor[Any], step: Step | None, only: set[str] | None = None
) -> None:
    """The blobs of the file (``only`` these hashes) with their bytes, each checked while it streams."""
    listed = src.execute("SELECT sha256, size, chunks, chunk_key, created_at FROM blob ORDER BY sha256").fetchall()
    done = 0
    for sha256, size, count, key, created_at in listed:
        if only is not None and sha256 not in only:
            continue
        cur.execute(
            "INSERT INTO blob (sha256, size, chunks, chunk_key, created_at) VALUES (%s, %s, %s, %s, %s)",
            (sha256, size, count, key, created_at),
        )
        with cur.copy("COPY blob_chunk (chunk_key, seq, data) FROM STDIN") as copy:
            try:
                for seq, data in enumerate(blobs.verified_chunks(src, sha256)):
                    copy.write_row((key, seq, data))
                    done += len(data)
                    if step is not None:
                        step(done)
            except blobs.BlobDamaged as err:
                raise ServerError(f"evidence {sha256[:12]}… cannot be sent to the server: {err}") from None


# -- changes made in a copy, written back ------------------------------------------------

#: Per table, each row's primary key and a digest of the whole row, as the copy was made.
Snapshot = dict[str, dict[tuple[Any, ...], bytes]]


def _primary_key(conn: sqlite3.Connection, table: str) -> list[str]:
    found = [(int(r[5]), str(r[1])) for r in conn.execute(f'PRAGMA main.table_info("{table}")') if int(r[5]) > 0]
    return [name for _, name in sorted(found)]


def _rows(conn: sqlite3.Connection, table: str) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(primary key, whole row) of every row of ``table``, in the file's column order."""
    columns = _columns(conn, table)
    at = [columns.index(name) for name in _primary_key(conn, table)]
    names = ", ".join(f'"{c}"' for c in columns)
    for row in conn.execute(f'SELECT {names} FROM main."{table}"'):
        yield tuple(row[i] for i in at), tuple(row)


def _digest(row: tuple[Any, ...]) -> bytes:
    return hashlib.sha256(repr(row).encode("utf-8", "surrogatepass")).digest()


def snapshot(conn: sqlite3.Connection) -> Snapshot:
    """What a copy holds when it is made (the records; a blob's bytes are named by its hash)."""
    return {table: {key: _digest(row) for key, row in _rows(conn, table)} for table in TABLES}


def changed_since(conn: sqlite3.Connection, base: Snapshot, tables: Iterable[str]) -> bool:
    """Whether any row of ``tables`` differs from ``base`` (added, changed or removed)."""
    for table in tables:
        before = base.get(table, {})
        seen = 0
        for key, row in _rows(conn, table):
            seen += 1
            if before.get(key) != _digest(row):
                return True
        if seen != len(before):
            return True
    return False


def push_changes(
    conn: sqlite3.Connection,
    pg: psycopg.Connection[Any],
    engagement: str,
    base: Snapshot,
    *,
    edit_id: str | None = None,
    live: bool = False,
    share: float | None = None,
) -> int:
    """Write to the server every row the copy changed, added or removed since ``base`` (the server's
    state when the copy was made, in the caller's transaction); returns the rows written. New evidence
    bytes go chunk by chunk, checked against their SHA-256; the audit trail is only appended to.

    When anything was written the push is recorded in ``ztmm.edit`` under ``edit_id`` (a new one when
    None; its author the login) and the engagement's listeners are told on commit that anything may
    have changed: ``[seq, "*", engagement, "*"]`` (``server.live`` and ``server.watch`` re-read all).

    ``live``: the copy's window sends its edits of :data:`LIVE_TABLES` live, as it makes them: those
    tables and their audit rows are left out, and the other audit rows are numbered by the server
    (everyone's live edits append to its audit trail meanwhile). ``share``: the copy's progress
    (``Records.assessed_share``), which the registry then lists."""
    use_engagement(pg, engagement)
    written = 0
    upserts: dict[str, list[tuple[Any, ...]]] = {}
    entity = _columns(conn, "audit").index("entity")
    for table in TABLES:
        seen: set[tuple[Any, ...]] = set()
        before = base.get(table, {})
        changed: list[tuple[Any, ...]] = []
        if live and table in LIVE_TABLES:
            upserts[table], upserts[f"-{table}"] = [], []
            continue
        for key, row in _rows(conn, table):
            seen.add(key)
            if live and table == "audit" and row[entity] in LIVE_ENTITIES:
                continue  # the server wrote its own when the edit was sent live
            if before.get(key) != _digest(row):
                if table in ("audit", BLOB_TABLE) and key in before:  # appended to / named by their bytes only
                    raise ServerError(f"the copy's {table} rows were rewritten; nothing was sent to the server")
                changed.append(row)
        upserts[table] = changed
        gone = [key for key in before if key not in seen]
        if gone and table == "audit":
            raise ServerError("the copy's audit trail lost rows; nothing was sent to the server")
        upserts[f"-{table}"] = gone
    with pg.cursor() as cur:
        for table in reversed(TABLES):  # children first
            keys = _primary_key(conn, table)
            for key in upserts[f"-{table}"]:
                if table == BLOB_TABLE:
                    cur.execute(
                        "DELETE FROM blob_chunk WHERE chunk_key = (SELECT chunk_key FROM blob WHERE sha256 = %s)", key
                    )
                cur.execute(
                    sql.SQL("DELETE FROM {} WHERE {}").format(
                        sql.Identifier(table),
                        sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in keys),
                    ),
                    key,
                )
                written += 1
        for table in TABLES:  # parents first
            rows = upserts[table]
            if not rows:
                continue
            written += len(rows)
            if table == BLOB_TABLE:  # content-addressed: a hash names its bytes, so only new ones go
                _copy_blobs_to_server(conn, cur, None, only={str(r[0]) for r in rows})
                continue
            columns, keys = _columns(conn, table), _primary_key(conn, table)
            if live and table == "audit":  # numbered by the server: others' live edits took the copy's numbers
                at = [i for i, c in enumerate(columns) if c not in keys]
                rows = [tuple(r[i] for i in at) for r in rows]
                columns = [columns[i] for i in at]
            rest = [c for c in columns if c not in keys]
            insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            )
            if table != "audit":
                update = (
                    sql.SQL("DO UPDATE SET ")
                    + sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in rest)
                    if rest
                    else sql.SQL("DO NOTHING")
                )
                insert = (
                    insert
                    + sql.SQL(" ON CONFLICT ({}) ").format(sql.SQL(", ").join(map(sql.Identifier, keys)))
                    + update
                )
            flags = [i for i, c in enumerate(columns) if c in BOOLEAN_COLUMNS.get(table, ())]
            if flags:
                rows = [tuple(bool(v) if i in flags and v is not None else v for i, v in enumerate(r)) for r in rows]
            cur.executemany(insert, rows)
        if written:
            _reset_sequences(cur)
            if share is not None:
                update_registry(pg, engagement, share)
            # live sessions and watching windows re-read everything when this commits (table "*")
            cur.execute(
                "WITH e AS (INSERT INTO ztmm.edit (engagement, edit_id, entity, key, field) "
                "VALUES (%(e)s, %(id)s, '*', %(e)s, '*') RETURNING seq) "
                "SELECT pg_notify(%(c)s, json_build_array(seq, '*', %(e)s, '*')::text) FROM e",
                {"e": engagement, "id": edit_id or uuid.uuid4().hex, "c": f"ztmm_{engagement}"},
            )
    return written


def _reset_sequences(cur: psycopg.Cursor[Any]) -> None:
    """Numbered tables go on from the highest number copied (what SQLite does by itself)."""
    found = cur.execute(
        "SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' "
        "AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL"
    ).fetchall()
    for table, column in found:
        cur.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({t}, {c}), coalesce(max({col}), 0) + 1, false) FROM {tab}"
            ).format(t=sql.Literal(table), c=sql.Literal(column), col=sql.Identifier(column), tab=sql.Identifier(table))
        )


def copy_from_server(
    pg: psycopg.Connection[Any], dst: sqlite3.Connection, step: Step | None = None, *, evidence_bytes: bool = True
) -> None:
    """Every row and evidence byte of the engagement the connection points at into ``dst`` (its
    tables made, empty, in the caller's transaction); evidence is checked against its SHA-256.

    Without ``evidence_bytes``, the evidence's records (``blob`` rows: hash, size) are copied but not
    its bytes: the copy of a command that reads no evidence bytes costs what the records cost, not
    what the evidence weighs. Such a copy is never a file handed to anyone (``services.team``)."""
    listed = pg.execute("SELECT sha256, size, chunks, chunk_key, created_at FROM blob ORDER BY sha256").fetchall()
    done = 0
    for sha256, size, count, key, created_at in listed:
        dst.execute(
            "INSERT INTO blob (sha256, size, chunks, chunk_key, created_at) VALUES (?, ?, ?, ?, ?)",
            (sha256, size, count, key, created_at),
        )
        if not evidence_bytes:
            continue
        for seq, data in enumerate(server_chunks(pg, sha256, size, count, key)):
            dst.execute("INSERT INTO blob_chunk (chunk_key, seq, data) VALUES (?, ?, ?)", (key, seq, data))
            done += len(data)
            if step is not None:
                step(done)
    for table in TABLES:
        if table == BLOB_TABLE:
            continue
        columns = _columns(dst, table)
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        with pg.cursor(name=f"ztmm_{table}") as cur:
            cur.itersize = 2000
            cur.execute(
                sql.SQL("SELECT {} FROM {}").format(
                    sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
                )
            )
            insert = f'INSERT INTO main."{table}" ({names}) VALUES ({marks})'
            while batch := cur.fetchmany(2000):
                dst.executemany(insert, batch)


def server_chunks(pg: psycopg.Connection[Any], sha256: str, size: int, count: int, key: str) -> Iterator[bytes]:
    """One blob's bytes from the server, in order, hashed while they stream; ``ServerError`` when they
    are not the bytes ``sha256`` names (missing, out of order, altered).

    ``COPY … TO STDOUT`` in binary: the bytes come as they are stored (a cursor's rows would come as
    hex text, twice the bytes, decoded here), in one stream without a round trip per few chunks; one
    chunk is in memory at a time."""
    digest = hashlib.sha256()
    done = 0
    expected = 0
    with (
        pg.cursor() as cur,
        cur.copy(
            "COPY (SELECT seq, data FROM blob_chunk WHERE chunk_key = %s ORDER BY seq) TO STDOUT (FORMAT BINARY)",
            (key,),
        ) as copy,
    ):
        copy.set_types(["int8", "bytea"])
        for seq, data in copy.rows():
            if seq != expected or expected >= count or len(data) > blobs.CHUNK_SIZE:
                raise ServerError(f"evidence {sha256[:12]}… on the server is damaged (chunk {seq})")
            digest.update(data)
            done += len(data)
            expected += 1
            yield data
    if expected != count or done != size or digest.hexdigest() != sha256:
        raise ServerError(f"evidence {sha256[:12]}… on the server is damaged (SHA-256 does not match)")


def find(pg: psycopg.Connection[Any], url: ServerUrl, what: str) -> int:
    """Point the connection at the engagement ``url`` names, if the user may see it; its file format."""
    engagement = url.require_engagement(what)
    row = pg.execute("SELECT format_version FROM ztmm.engagement WHERE id = %s", (engagement,)).fetchone()
    if row is None:  # absent or not visible: the same answer, so ids of others are not confirmed
        raise ServerError(f"{url.display}: no engagement {engagement} that you may open on this server")
    use_engagement(pg, engagement)
    return int(row[0])


def listing(pg: psycopg.Connection[Any]) -> list[Listed]:
    """The engagements the user is a member of (row-level security hides the others)."""
    rows = pg.execute(
        "SELECT e.id, e.client, e.title, e.start_date, e.end_date, e.progress, m.role "
        "FROM ztmm.engagement e LEFT JOIN ztmm.member m ON m.engagement = e.id AND m.role_name = session_user "
        "ORDER BY e.client, e.title, e.id"
    ).fetchall()
    return [Listed(r[0], r[1], r[2], r[3], r[4], float(r[5]), r[6] or "") for r in rows]


def role(pg: psycopg.Connection[Any], engagement: str) -> str:
    """The user's role in the engagement (``lead``, ``assessor``, ``reviewer``)."""
    row = pg.execute(
        "SELECT role FROM ztmm.member WHERE engagement = %s AND role_name = session_user", (engagement,)
    ).fetchone()
    return str(row[0]) if row is not None else ""


def fingerprint(pg: psycopg.Connection[Any], tables: Sequence[str] = TABLES) -> str:
    """A digest of every row of the engagement the connection points at (evidence by its blob rows,
    which name their bytes): two calls agree exactly when nobody changed a row in between.
    ``tables``: only those (a window editing live checks :data:`SAVED_WHEN_LIVE`)."""
    parts = sql.SQL(" UNION ALL ").join(
        sql.SQL(
            "SELECT {name}, count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') FROM {table} t"
        ).format(name=sql.Literal(table), table=sql.Identifier(table))
        for table in tables
    )
    digest = hashlib.sha256()
    for name, count, rows in pg.execute(parts).fetchall():
        digest.update(f"{name}:{count}:{rows}\n".encode())
    return digest.hexdigest()


def members(pg: psycopg.Connection[Any], engagement: str) -> list[tuple[str, str]]:
    rows = pg.execute(
        "SELECT role_name, role FROM ztmm.member WHERE engagement = %s ORDER BY role, role_name", (engagement,)
    ).fetchall()
    return [(str(a), str(b)) for a, b in rows]


def set_member(pg: psycopg.Connection[Any], url: ServerUrl, login: str, role: str | None) -> None:
    """Add ``login`` as ``role`` or change its role (None: remove it); a lead's action, checked by the server."""
    engagement = url.require_engagement("managing members")
    try:
        with pg.transaction():
            if role is None:
                pg.execute("SELECT ztmm.remove_member(%s, %s)", (engagement, login))
            else:
                pg.execute("SELECT ztmm.set_member(%s, %s, %s)", (engagement, login, role))
    except (errors.InsufficientPrivilege, errors.UndefinedObject, errors.InvalidParameterValue) as err:
        raise ServerError(f"{url.display}: {reason(err, url.password)}") from None


# -- the tables a live window's Save writes, read again -------------------------------------


def read_rows(pg: psycopg.Connection[Any], columns: dict[str, list[str]]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table of ``columns`` (table → the file's column names, read in that order) of
    the engagement the connection points at, in the caller's transaction; booleans as SQLite holds them."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    for table, names in columns.items():
        rows = pg.execute(
            sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(table))
        ).fetchall()
        found[table] = [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in rows]
    return found


def copy_chunks(pg: psycopg.Connection[Any], dst: sqlite3.Connection, blob_rows: Iterable[tuple[Any, ...]]) -> None:
    """The bytes of each blob of ``blob_rows`` (``sha256, size, chunks, chunk_key, …``) from the server into
    ``dst``'s ``blob_chunk``, checked against their SHA-256 while they stream (``ServerError`` otherwise)."""
    for sha256, size, count, key, *_rest in blob_rows:
        for seq, data in enumerate(server_chunks(pg, sha256, size, count, key)):
            dst.execute("INSERT INTO blob_chunk (chunk_key, seq, data) VALUES (?, ?, ?)", (key, seq, data))


def replace_rows(conn: sqlite3.Connection, rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, int]:
    """Make each table of ``rows`` hold exactly those rows (the file's column order), in the caller's
    transaction: rows gone are deleted (children first), rows new or changed written (parents first), rows
    the same left alone. Per table, the rows written or deleted. A blob deleted takes its chunks with it;
    a new blob's chunks are the caller's to write."""
    order = [t for t in TABLES if t in rows]
    wanted: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
    here: dict[str, dict[tuple[Any, ...], bytes]] = {}
    for table in order:
        columns = _columns(conn, table)
        at = [columns.index(name) for name in _primary_key(conn, table)]
        wanted[table] = {tuple(row[i] for i in at): row for row in rows[table]}
        here[table] = {key: _digest(row) for key, row in _rows(conn, table)}
    done = dict.fromkeys(order, 0)
    for table in reversed(order):  # children first
        keys = _primary_key(conn, table)
        where = " AND ".join(f'"{k}" = ?' for k in keys)
        for key in here[table]:
            if key in wanted[table]:
                continue
            if table == BLOB_TABLE:
                conn.execute(
                    "DELETE FROM main.blob_chunk WHERE chunk_key = (SELECT chunk_key FROM blob WHERE sha256 = ?)", key
                )
            conn.execute(f'DELETE FROM main."{table}" WHERE {where}', key)
            done[table] += 1
    for table in order:  # parents first
        columns, keys = _columns(conn, table), _primary_key(conn, table)
        changed = [row for key, row in wanted[table].items() if here[table].get(key) != _digest(row)]
        if not changed:
            continue
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        rest = [c for c in columns if c not in keys]
        update = "DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in rest) if rest else "DO NOTHING"
        conflict = ", ".join(f'"{k}"' for k in keys)
        conn.executemany(
            f'INSERT INTO main."{table}" ({names}) VALUES ({marks}) ON CONFLICT ({conflict}) {update}', changed
        )
        done[table] += len(changed)
    return done


def table_columns(conn: sqlite3.Connection, tables: Iterable[str]) -> dict[str, list[str]]:
    """The file's column names of each of ``tables`` (what :func:`read_rows` reads)."""
    return {table: _columns(conn, table) for table in tables}


def snapshot_of(conn: sqlite3.Connection, tables: Iterable[str]) -> Snapshot:
    """:func:`snapshot` of ``tables`` only."""
    return {table: {key: _digest(row) for key, row in _rows(conn, table)} for table in tables}
