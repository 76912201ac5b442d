"""What an engagement file records, as one digest: equal digests, equal engagements (but for the bytes).

Every table but the evidence bytes (``blob_chunk``) is read in a fixed order of columns and rows,
so a working copy and the document saved from it give the same digest, and a copy of a document
taken at any moment gives the digest of a state that was saved — or a torn copy shows.
The bytes are checked apart: :func:`chunk_problems` (their layout, without reading them) and
``evidence.verify`` (their SHA-256).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

BYTES_TABLE = "blob_chunk"


def _connect(path: Path) -> sqlite3.Connection:
    # read-only and immutable for a document (nothing written, not even a WAL index); a working
    # copy in WAL mode is read through an ordinary connection (it needs its -shm)
    with path.open("rb") as handle:
        head = handle.read(20)
    if len(head) == 20 and head[18] == 2:  # the file format's write version: 2 is WAL
        return sqlite3.connect(path)
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True)


def records_digest(path: Path) -> str:
    """SHA-256 over every record of every table but the evidence bytes."""
    conn = _connect(path)
    try:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        digest = hashlib.sha256()
        for table in tables:
            if table == BYTES_TABLE:
                continue
            columns = ", ".join(f'"{row[1]}"' for row in sorted(conn.execute(f'PRAGMA table_info("{table}")')))
            digest.update(f"{table}({columns})\n".encode())
            for row in conn.execute(f'SELECT {columns} FROM "{table}" ORDER BY {columns}'):
                digest.update(repr(row).encode() + b"\n")
        return digest.hexdigest()
    finally:
        conn.close()


def chunk_problems(path: Path) -> list[str]:
    """Blobs of a document whose chunks are not all there, or not of the recorded size (the
    lengths come from the records' headers: the bytes themselves are not read)."""
    conn = _connect(path)
    try:
        return [
            f"{sha[:12]}: {found} chunks of {total} bytes, recorded {chunks} of {size}"
            for sha, chunks, size, found, total in conn.execute(
                f"SELECT b.sha256, b.chunks, b.size, count(c.seq), coalesce(sum(length(c.data)), 0) "
                f"FROM blob AS b LEFT JOIN {BYTES_TABLE} AS c ON c.chunk_key = b.chunk_key "
                "GROUP BY b.sha256 HAVING count(c.seq) != b.chunks OR coalesce(sum(length(c.data)), 0) != b.size"
            )
        ]
    finally:
        conn.close()
