"""Evidence bytes inside the engagement file: content-addressed, chunked, streamed.

A blob is stored once per SHA-256 (deduplicated) as rows of ``CHUNK_SIZE``
bytes, so no file is limited by SQLite's ~1 GB BLOB cap and memory stays
bounded whatever the size. Ingest streams a file into chunks under a fresh
chunk key while hashing it, inside the caller's write transaction; at the end
the blob row maps the hash to that key, or the chunks are dropped when the
bytes were already stored (rows are never rewritten: renaming 1 GiB of chunk
rows to their hash cost as much as storing them). A rolled-back transaction
(error, cancel) leaves nothing behind.

Bytes handed out (extract, evidence pack, open, merge) come through
:func:`verified_chunks`, which hashes them while they stream and raises
:class:`BlobDamaged` instead of finishing when they are not the bytes their
SHA-256 names: the consumer writes to a temp file and keeps it only when the
stream ended cleanly, so altered bytes never reach the target.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from ..core.errors import ZtmmError

CHUNK_SIZE = 1024 * 1024
#: The document's bytes, as a working copy's connections see them (``store.document``).
DOCUMENT_SCHEMA = "doc"

#: Called with bytes done so far; may raise to stop (cancel).
Step = Callable[[int], None]


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    new: bool  # False when the same bytes were already in the file


def ingest(conn: sqlite3.Connection, stream: BinaryIO, created_at: str, step: Step | None = None) -> StoredBlob:
    """Store ``stream``'s bytes; the caller holds the write transaction.

    From the second chunk on, each chunk is hashed on a worker thread while it is inserted
    (``hashlib`` and SQLite both let go of the GIL on large buffers), so the attach costs about
    the larger of the two instead of their sum; at most two chunks are in memory. The log the
    chunks go to is flushed to disk in the background as it grows (``_EarlyWriteback``), so the
    sync at commit, which makes the attach durable, finds little left to write. In a working
    copy that reads its older bytes from the document, the bytes stay in the write-ahead log
    (committed and synced there) instead of being written a second time by a checkpoint: the
    next save copies them into the document and drops them (``store.document``).
    """
    defer_checkpoint(conn)
    key = uuid.uuid4().hex
    digest = hashlib.sha256()
    size = seq = 0
    with contextlib.ExitStack() as stack:
        pool: ThreadPoolExecutor | None = None
        writeback: _EarlyWriteback | None = None
        hashing: Future[None] | None = None
        while True:
            chunk = stream.read(CHUNK_SIZE)
            if not chunk:
                break
            if hashing is not None:
                hashing.result()
            if seq == 0:  # one chunk (most evidence) is hashed here: no thread for it
                digest.update(chunk)
            else:
                if pool is None:
                    pool = stack.enter_context(ThreadPoolExecutor(2, thread_name_prefix="ztmm-ingest"))
                    writeback = stack.enter_context(_EarlyWriteback(conn, pool))
                hashing = pool.submit(digest.update, chunk)
            conn.execute("INSERT INTO blob_chunk (chunk_key, seq, data) VALUES (?, ?, ?)", (key, seq, chunk))
            seq += 1
            size += len(chunk)
            if writeback is not None:
                writeback.wrote(len(chunk))
            if step is not None:
                step(size)
        if hashing is not None:
            hashing.result()
    sha = digest.hexdigest()
    if conn.execute("SELECT 1 FROM blob WHERE sha256 = ?", (sha,)).fetchone():
        # the same bytes stay stored: overwriting this copy with zeros first would only write it again
        secure = int(conn.execute("PRAGMA secure_delete").fetchone()[0])
        conn.execute("PRAGMA secure_delete = OFF")
        try:
            conn.execute("DELETE FROM blob_chunk WHERE chunk_key = ?", (key,))
        finally:
            conn.execute(f"PRAGMA secure_delete = {secure}")
        return StoredBlob(sha, size, new=False)
    conn.execute(
        "INSERT INTO blob (sha256, size, chunks, chunk_key, created_at) VALUES (?, ?, ?, ?, ?)",
        (sha, size, seq, key, created_at),
    )
    return StoredBlob(sha, size, new=True)


def defer_checkpoint(conn: sqlite3.Connection) -> None:
    """In a working copy that attaches the document (``DOCUMENT_SCHEMA``), keep this connection's
    commits from checkpointing the write-ahead log while it holds evidence bytes not yet saved."""
    if any(str(row[1]) == DOCUMENT_SCHEMA for row in conn.execute("PRAGMA database_list")):
        conn.execute("PRAGMA wal_autocheckpoint = 0")


class _EarlyWriteback:
    """Flush the write-ahead log a large ingest is filling to disk on a worker while it fills.

    Only an early start for the sync SQLite makes at commit (which alone makes the attach
    durable): the disk writes while the CPU hashes and inserts, instead of after. Where the
    platform cannot (no ``fdatasync``, no log file: another journal mode) it does nothing, and
    a failure is left for SQLite's own sync to meet.
    """

    EVERY = 16 * CHUNK_SIZE

    def __init__(self, conn: sqlite3.Connection, pool: ThreadPoolExecutor) -> None:
        self._pool = pool
        self._pending = 0
        self._syncing: Future[None] | None = None
        self._fd: int | None = None
        sync = getattr(os, "fdatasync", None)
        mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        path = next((str(row[2]) for row in conn.execute("PRAGMA database_list") if row[1] == "main"), "")
        if sync is not None and mode == "wal" and path:
            with contextlib.suppress(OSError):
                self._fd = os.open(path + "-wal", os.O_RDONLY)
        self._sync = sync

    def wrote(self, count: int) -> None:
        self._pending += count
        if self._fd is None or self._pending < self.EVERY or (self._syncing and not self._syncing.done()):
            return
        self._pending = 0
        self._syncing = self._pool.submit(self._flush)

    def _flush(self) -> None:
        with contextlib.suppress(OSError):
            assert self._fd is not None and self._sync is not None
            self._sync(self._fd)

    def __enter__(self) -> _EarlyWriteback:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._syncing is not None:
            self._syncing.result()
        if self._fd is not None:
            os.close(self._fd)


def chunks(conn: sqlite3.Connection, sha256: str) -> Iterator[bytes]:
    """The stored bytes of one blob, chunk by chunk, in order (one chunk in memory at a time).

    One statement reads the chunks in key order. A working copy holds only the bytes attached
    since the document was opened; the others are read from the document, attached as ``doc``.
    Stops early at a missing chunk (the caller compares the count and the hash).
    """
    row = conn.execute("SELECT chunks, chunk_key FROM blob WHERE sha256 = ?", (sha256,)).fetchone()
    if row is None:
        return
    count, key = int(row[0]), str(row[1])
    schema = _schema_holding(conn, key)
    cursor = conn.execute(
        f"SELECT seq, data FROM {schema}.blob_chunk WHERE chunk_key = ? AND seq < ? ORDER BY seq", (key, count)
    )
    try:
        for expected, (seq, data) in enumerate(cursor):
            if seq != expected:
                return
            yield bytes(data)
    finally:
        cursor.close()


def _schema_holding(conn: sqlite3.Connection, key: str) -> str:
    if conn.execute("SELECT 1 FROM main.blob_chunk WHERE chunk_key = ? LIMIT 1", (key,)).fetchone():
        return "main"
    attached = {str(row[1]) for row in conn.execute("PRAGMA database_list")}
    return DOCUMENT_SCHEMA if DOCUMENT_SCHEMA in attached else "main"


class BlobDamaged(ZtmmError):
    """Stored bytes are not the bytes their SHA-256 names (altered, missing, or borrowed)."""


def verified_chunks(conn: sqlite3.Connection, sha256: str, step: Step | None = None) -> Iterator[bytes]:
    """The bytes of one blob, chunk by chunk, hashed as they stream; raises :class:`BlobDamaged`
    (at the first bad chunk, or after the last) when they are not the bytes ``sha256`` names.

    One statement reads the chunks in key order (large sequential reads, no statement per chunk).
    Hashing on a thread of its own while the next chunk is read was measured and left out: reading
    a chunk costs a fraction of hashing it, so the overlap gained less than the hand-over cost."""
    row = conn.execute("SELECT size, chunks, chunk_key FROM blob WHERE sha256 = ?", (sha256,)).fetchone()
    if row is None:
        raise BlobDamaged("bytes missing")
    size, count, key = row
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (size, count)) or not isinstance(
        key, str
    ):
        raise BlobDamaged("bytes described wrongly in the file")
    if conn.execute("SELECT count(*) FROM blob WHERE chunk_key = ?", (key,)).fetchone()[0] != 1:
        raise BlobDamaged("bytes shared with other stored bytes (chunks point at another blob)")
    schema = _schema_holding(conn, key)  # a working copy reads older bytes from the document
    cursor = conn.execute(
        "SELECT seq, CASE WHEN typeof(data) = 'blob' AND length(data) <= ? THEN data END"
        f" FROM {schema}.blob_chunk WHERE chunk_key = ? AND seq >= 0 AND seq < ? ORDER BY seq",
        (CHUNK_SIZE, key, count),
    )
    digest = hashlib.sha256()
    try:
        done = seq = 0
        for found_seq, data in cursor:
            if found_seq != seq:  # the rows come in order: chunk ``seq`` is not there
                break
            if not isinstance(data, bytes):
                raise BlobDamaged(f"bytes damaged (chunk {seq + 1} of {count} is not stored bytes of at most 1 MiB)")
            done += len(data)
            if done > size:
                raise BlobDamaged("bytes changed (more bytes stored than recorded)")
            digest.update(data)
            seq += 1
            yield data
            if step is not None:
                step(done)
        if seq < count:
            raise BlobDamaged(f"bytes missing ({seq} of {count} chunks stored)")
        if done != size or digest.hexdigest() != sha256:
            raise BlobDamaged("bytes changed (SHA-256 does not match)")
    finally:
        cursor.close()


@dataclass(frozen=True)
class BlobCheck:
    sha256: str
    ok: bool
    problem: str  # "" when ok


def check(conn: sqlite3.Connection, sha256: str, step: Step | None = None) -> BlobCheck:
    """Recompute a blob's hash from its stored chunks (the checks of :func:`verified_chunks`)."""
    try:
        for _data in verified_chunks(conn, sha256, step):
            pass
    except BlobDamaged as err:
        return BlobCheck(sha256, False, str(err))
    return BlobCheck(sha256, True, "")


def remove_unused(conn: sqlite3.Connection) -> int:
    """Drop blobs no evidence refers to any more; returns how many."""
    unused = conn.execute(
        "SELECT sha256, chunk_key FROM blob WHERE sha256 NOT IN (SELECT sha256 FROM evidence)"
    ).fetchall()
    for sha, key in unused:
        conn.execute("DELETE FROM blob_chunk WHERE chunk_key = ?", (key,))
        conn.execute("DELETE FROM blob WHERE sha256 = ?", (sha,))
    return len(unused)
