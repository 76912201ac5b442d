"""Evidence: files that support a rating, kept inside the engagement file.

Attach streams a file into the file's blob store (SHA-256, chunked, bounded
memory) and records who captured what, when, and which functions, stages and
findings it supports. The same bytes are stored once; attaching them again
makes a second record (its own title and links) over the same blob. Extract
writes a file back under a safe name; verify recomputes every hash; an
evidence pack hands everything to a client or an auditor with a manifest.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import mimetypes
import os
import re
import sqlite3
import stat
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..core.errors import BadInput, ZtmmError
from ..core.progress import CancelToken, Progress, no_progress
from ..core.stages import Stage
from ..store import blobs
from .engagement import MAX_NAME, MAX_TEXT, Changes, Engagement, check_text, raw_connection, reading
from .output import written

KINDS = ("document", "screenshot", "configuration-export", "interview-note", "other")
DEFAULT_MEDIA_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class EvidenceLink:
    """What a piece of evidence supports: a function, optionally one of its stages, or a finding."""

    function_id: str | None = None
    stage: Stage | None = None
    finding_id: str | None = None

    def describe(self) -> str:
        if self.finding_id is not None:
            return f"finding {self.finding_id}"
        if self.stage is not None:
            return f"{self.function_id}/{self.stage.key}"
        return str(self.function_id)


@dataclass(frozen=True)
class Evidence:
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
    created_at: str
    links: tuple[EvidenceLink, ...]


@dataclass(frozen=True)
class Attached:
    evidence: Evidence
    new_bytes: bool  # False: the same bytes were already in the file (stored once)


@dataclass(frozen=True)
class EvidenceProblem:
    evidence: Evidence
    problem: str


def parse_link(engagement: Engagement, text: str) -> EvidenceLink:
    """``FUNCTION`` or ``FUNCTION/STAGE`` (id or code; any case) as a link."""
    function_part, _, stage_part = text.strip().partition("/")
    function = engagement.catalog.function(function_part)
    stage = Stage.parse(stage_part) if stage_part.strip() else None
    return EvidenceLink(function_id=function.id, stage=stage)


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def _check_links(engagement: Engagement, links: list[EvidenceLink]) -> None:
    if not links:
        raise BadInput("say what the evidence supports: a function, a stage or a finding")
    wanted = {link.finding_id for link in links if link.finding_id is not None}
    findings = {f.id for f in engagement.findings()} if wanted else set()
    for link in links:
        if link.function_id is not None:
            engagement.catalog.function(link.function_id)
        if link.finding_id is not None and link.finding_id not in findings:
            raise BadInput(f"no finding {link.finding_id}")


def attach(
    engagement: Engagement,
    path: Path,
    links: list[EvidenceLink],
    *,
    title: str | None = None,
    kind: str = "document",
    description: str = "",
    by: str | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> Attached:
    """Store the file at ``path`` as evidence for ``links``; all or nothing."""
    name = path.name
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except OSError as err:
        raise BadInput(f"{path}: cannot be read ({err.strerror or err})") from None
    if stat.S_ISLNK(info.st_mode):
        raise BadInput(f"{path}: is a symbolic link; attach the file it points to")
    if stat.S_ISDIR(info.st_mode):
        raise BadInput(f"{path}: is a folder; attach the files in it")
    if not stat.S_ISREG(info.st_mode):
        raise BadInput(f"{path}: is not a regular file")
    try:
        handle = path.open("rb")
    except OSError as err:
        raise BadInput(f"{path}: cannot be read ({err.strerror or err})") from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        media_type = mimetypes.guess_type(name)[0] or DEFAULT_MEDIA_TYPE
        return attach_stream(
            engagement,
            handle,
            original_name=name,
            expected_size=size,
            links=links,
            title=title,
            kind=kind,
            description=description,
            media_type=media_type,
            captured_at=_iso(info.st_mtime),
            by=by,
            progress=progress,
            cancel=cancel,
        )


def attach_stream(
    engagement: Engagement,
    stream: BinaryIO,
    *,
    original_name: str,
    expected_size: int | None,
    links: list[EvidenceLink],
    title: str | None = None,
    kind: str = "document",
    description: str = "",
    media_type: str = DEFAULT_MEDIA_TYPE,
    captured_at: str | None = None,
    by: str | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> Attached:
    """Store bytes from ``stream`` (a file, a pasted screenshot) as evidence."""
    _check_links(engagement, links)
    if kind not in KINDS:
        raise BadInput(f"unknown kind {kind!r} (expected one of: {', '.join(KINDS)})")
    shown_name = check_text(original_name or "evidence", "file name", MAX_NAME)
    shown_title = check_text((title or shown_name).strip() or shown_name, "title", MAX_NAME)
    check_text(description, "description", MAX_TEXT)
    total = expected_size or 0

    def step(done: int) -> None:
        if cancel is not None:
            cancel.check()
        progress(done, total, f"Storing {shown_name}")

    evidence_id = uuid.uuid4().hex
    with engagement.edit(by) as (session, audit):
        conn = raw_connection(session)
        stored = blobs.ingest(conn, stream, audit.at, step)
        if expected_size is not None and stored.size != expected_size:
            raise BadInput(
                f"{shown_name}: changed while being read ({stored.size:,} bytes read, {expected_size:,} expected);"
                " nothing was stored"
            )
        conn.execute(
            "INSERT INTO evidence (id, sha256, title, description, original_name, media_type, size, kind,"
            " captured_at, captured_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (evidence_id, stored.sha256, shown_title, description, shown_name, media_type, stored.size, kind,
             captured_at or audit.at, audit.by, audit.at),
        )  # fmt: skip
        _insert_links(conn, evidence_id, links)
        audit.record("evidence", evidence_id, "attached", None, f"{shown_name} sha256:{stored.sha256}")
    evidence = get(engagement, evidence_id)
    return Attached(evidence, stored.new)


def _links(conn: sqlite3.Connection) -> dict[str, list[EvidenceLink]]:
    out: dict[str, list[EvidenceLink]] = {}
    for evidence_id, function_id, stage, finding_id in conn.execute(
        "SELECT evidence_id, function_id, stage, finding_id FROM evidence_link ORDER BY id"
    ):
        out.setdefault(evidence_id, []).append(
            EvidenceLink(function_id, Stage.parse(stage) if stage else None, finding_id)
        )
    return out


_COLUMNS = (
    "SELECT id, title, description, original_name, media_type, size, sha256, kind, captured_at,"
    " captured_by, created_at FROM evidence"
)


def list_evidence(engagement: Engagement) -> list[Evidence]:
    with reading(engagement) as conn:
        links = _links(conn)
        rows = conn.execute(_COLUMNS + " ORDER BY created_at, rowid").fetchall()
    return _records(rows, links)


def _records(rows: list[Any], links: dict[str, list[EvidenceLink]]) -> list[Evidence]:
    return [
        Evidence(
            id=row[0],
            title=row[1],
            description=row[2],
            original_name=row[3],
            media_type=row[4],
            size=int(row[5]),
            sha256=row[6],
            kind=row[7],
            captured_at=row[8],
            captured_by=row[9],
            created_at=row[10],
            links=tuple(links.get(row[0], ())),
        )
        for row in rows
    ]


def get(engagement: Engagement, evidence_id: str) -> Evidence:
    """One record by its id, or by a unique prefix of at least 6 characters."""
    with reading(engagement) as conn:
        rows = conn.execute(_COLUMNS + " WHERE id = ?", (evidence_id,)).fetchall()
        if not rows and len(evidence_id) >= 6 and all(c in "0123456789abcdef" for c in evidence_id):
            rows = conn.execute(_COLUMNS + " WHERE id LIKE ? LIMIT 2", (evidence_id + "%",)).fetchall()
        if len(rows) != 1:
            raise BadInput(f"no evidence {evidence_id!r} in this engagement (see 'ztmm evidence FILE')")
        found = str(rows[0][0])
        links = [
            EvidenceLink(function_id, Stage.parse(stage) if stage else None, finding_id)
            for function_id, stage, finding_id in conn.execute(
                "SELECT function_id, stage, finding_id FROM evidence_link WHERE evidence_id = ? ORDER BY id", (found,)
            )
        ]
    return _records(rows, {found: links})[0]


# -- writing files out ---------------------------------------------------------------

_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
MAX_FILENAME = 180


def safe_filename(name: str) -> str:
    """A name that is safe to create on Windows, macOS and Linux, inside the target folder."""
    base = re.split(r"[\\/]", name)[-1]
    base = _UNSAFE.sub("_", base).strip().rstrip(". ")
    base = base.lstrip(".") or "evidence"
    if _RESERVED.match(base):
        base = "_" + base
    if len(base) > MAX_FILENAME:
        stem, dot, suffix = base.rpartition(".")
        base = (
            (stem[: MAX_FILENAME - len(suffix) - 1] + dot + suffix) if dot and len(suffix) < 12 else base[:MAX_FILENAME]
        )
    return base


def _free_path(folder: Path, name: str) -> Path:
    candidate = folder / name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    number = 2
    while candidate.exists():
        candidate = folder / (f"{stem} ({number}).{suffix}" if suffix else f"{stem} ({number})")
        number += 1
    return candidate


def extract(engagement: Engagement, evidence_id: str, out_dir: Path) -> Path:
    """Write one evidence file into ``out_dir`` under a safe name; returns its path."""
    evidence = get(engagement, evidence_id)
    if not out_dir.is_dir():
        raise BadInput(f"{out_dir}: no such folder")
    target = _free_path(out_dir, safe_filename(evidence.original_name))
    if target.resolve().parent != out_dir.resolve():
        raise BadInput(f"{evidence.original_name!r} would be written outside {out_dir}")
    temp = out_dir / f".{uuid.uuid4().hex}.part"
    try:
        with reading(engagement) as conn, temp.open("xb") as handle:
            written = 0
            for data in blobs.chunks(conn, evidence.sha256):
                handle.write(data)
                written += len(data)
            handle.flush()
            os.fsync(handle.fileno())
        if written != evidence.size:
            raise ZtmmError(f"evidence {evidence.id}: its stored bytes are incomplete; run 'ztmm verify'")
        os.replace(temp, target)
    except OSError as err:
        raise BadInput(f"cannot write into {out_dir} ({err.strerror or err})") from None
    finally:
        temp.unlink(missing_ok=True)
    return target


def verify(
    engagement: Engagement, progress: Progress = no_progress, cancel: CancelToken | None = None
) -> list[EvidenceProblem]:
    """Recompute every stored hash; the evidence whose bytes changed or are missing."""
    items = list_evidence(engagement)
    total = sum(e.size for e in {e.sha256: e for e in items}.values())
    done = 0
    results: dict[str, blobs.BlobCheck] = {}
    with reading(engagement) as conn:
        for evidence in items:
            if evidence.sha256 in results:
                continue

            def step(n: int, base: int = done, title: str = evidence.title) -> None:
                if cancel is not None:
                    cancel.check()
                progress(base + n, total, f"Checking {title}")

            results[evidence.sha256] = blobs.check(conn, evidence.sha256, step)
            done += evidence.size
    return [EvidenceProblem(e, results[e.sha256].problem) for e in items if not results[e.sha256].ok]


def _cell(value: str) -> str:
    """Keep a spreadsheet from reading a manifest cell as a formula (SECURITY.md item 10)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else value


def evidence_pack(
    engagement: Engagement,
    out: Path,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    *,
    passphrase: str | None = None,
) -> Path:
    """A zip of every evidence file plus manifest.csv; written to a temp file, then renamed.

    With a ``passphrase`` it is an AES-256 zip whose files are named by evidence id (a zip
    does not hide names); their original names are in the encrypted manifest.
    """

    if passphrase is not None and out.suffix.lower() != ".zip":
        raise BadInput(f"{out.name}: an encrypted evidence pack is a zip; name it {out.name}.zip")
    items = list_evidence(engagement)
    total = sum(e.size for e in items)
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(["id", "title", "original_name", "file_in_pack", "size", "sha256", "links"])
    done = 0
    with (
        _pack_archive(out, passphrase) as archive,
        reading(engagement) as conn,
    ):
        used: set[str] = set()
        for evidence in items:
            name = f"files/{evidence.id[:8]}-{safe_filename(evidence.original_name)}"
            if passphrase is not None:
                name = f"files/{evidence.id}{Path(safe_filename(evidence.original_name)).suffix[:16]}"
            while name in used:
                name = f"files/{uuid.uuid4().hex[:8]}-{safe_filename(evidence.original_name)}"
            used.add(name)
            info = getattr(archive, "zipinfo_cls", zipfile.ZipInfo)  # pyzipper's own for an AES zip
            entry = info(name, date_time=dt.datetime.now().timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w", force_zip64=True) as member:
                for data in blobs.chunks(conn, evidence.sha256):
                    if cancel is not None:
                        cancel.check()
                    member.write(data)
                    done += len(data)
                    progress(done, total, f"Packing {evidence.title}")
            links = "; ".join(link.describe() for link in evidence.links)
            writer.writerow([_cell(v) for v in (evidence.id, evidence.title, evidence.original_name, name,
                                                 str(evidence.size), evidence.sha256, links)])  # fmt: skip
        archive.writestr("manifest.csv", manifest.getvalue())
    return out


@contextmanager
def _pack_archive(out: Path, passphrase: str | None) -> Iterator[Any]:
    if passphrase is not None:
        from . import sealed

        with sealed.archive(out, passphrase) as zipped:
            yield zipped
        return
    with written(out) as temp, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        yield archive


def describe_changes(attached: Attached) -> Changes:
    return _changes(attached.evidence)


# -- changing evidence records (each undoable by its inverse) ---------------------------


@dataclass(frozen=True)
class EvidenceDetails:
    """The fields of a record a consultant may edit."""

    title: str
    description: str
    kind: str


def update_details(
    engagement: Engagement, evidence_id: str, details: EvidenceDetails, *, by: str | None = None
) -> Changes:
    item = get(engagement, evidence_id)
    if details.kind not in KINDS:
        raise BadInput(f"unknown kind {details.kind!r} (expected one of: {', '.join(KINDS)})")
    if not details.title.strip():
        raise BadInput("evidence needs a title")
    check_text(details.title, "title", MAX_NAME)
    check_text(details.description, "description", MAX_TEXT)
    with engagement.edit(by) as (session, audit):
        conn = raw_connection(session)
        changed = False
        for name, old, new in (
            ("title", item.title, details.title.strip()),
            ("description", item.description, details.description),
            ("kind", item.kind, details.kind),
        ):
            if audit.record("evidence", item.id, name, old, new):
                conn.execute(f"UPDATE evidence SET {name} = ? WHERE id = ?", (new, item.id))
                changed = True
    return _changes(item) if changed else Changes()


def set_links(engagement: Engagement, evidence_id: str, links: list[EvidenceLink], *, by: str | None = None) -> Changes:
    """Replace what a piece of evidence supports (at least one link)."""
    item = get(engagement, evidence_id)
    _check_links(engagement, links)
    if tuple(links) == item.links:
        return Changes()
    with engagement.edit(by) as (session, audit):
        conn = raw_connection(session)
        conn.execute("DELETE FROM evidence_link WHERE evidence_id = ?", (item.id,))
        _insert_links(conn, item.id, links)
        audit.record(
            "evidence", item.id, "links",
            "; ".join(link.describe() for link in item.links), "; ".join(link.describe() for link in links),
        )  # fmt: skip
    return Changes(functions=_functions(item.links) | _functions(tuple(links)))


def remove(engagement: Engagement, evidence_id: str, *, by: str | None = None) -> tuple[Evidence, Changes]:
    """Delete a record; its bytes stay in the file while any record or undo may need them.

    Returns the record so that ``restore`` can put it back (undo). Bytes no record
    refers to are dropped by ``compact`` (after the undo history is gone).
    """
    item = get(engagement, evidence_id)
    with engagement.edit(by) as (session, audit):
        conn = raw_connection(session)
        conn.execute("DELETE FROM evidence_link WHERE evidence_id = ?", (item.id,))
        conn.execute("DELETE FROM evidence WHERE id = ?", (item.id,))
        audit.record("evidence", item.id, "removed", item.title, None)
    return item, _changes(item)


def restore(engagement: Engagement, item: Evidence, *, by: str | None = None) -> Changes:
    """Put a removed record back, over bytes still in the file."""
    with engagement.edit(by) as (session, audit):
        conn = raw_connection(session)
        if conn.execute("SELECT 1 FROM blob WHERE sha256 = ?", (item.sha256,)).fetchone() is None:
            raise BadInput(f"the bytes of {item.title!r} are no longer in the file")
        conn.execute(
            "INSERT INTO evidence (id, sha256, title, description, original_name, media_type, size, kind,"
            " captured_at, captured_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (item.id, item.sha256, item.title, item.description, item.original_name, item.media_type, item.size,
             item.kind, item.captured_at, item.captured_by, item.created_at),
        )  # fmt: skip
        _insert_links(conn, item.id, list(item.links))
        audit.record("evidence", item.id, "restored", None, item.title)
    return _changes(item)


def compact(engagement: Engagement, *, by: str | None = None) -> int:
    """Drop stored bytes no evidence record refers to; returns how many blobs went."""
    with engagement.edit(by) as (session, _audit):
        return blobs.remove_unused(raw_connection(session))


def read_bytes(engagement: Engagement, evidence_id: str, limit: int) -> bytes:
    """At most ``limit`` bytes from the start of an evidence file (previews, thumbnails)."""
    item = get(engagement, evidence_id)
    out = bytearray()
    with reading(engagement) as conn:
        for data in blobs.chunks(conn, item.sha256):
            out += data[: limit - len(out)]
            if len(out) >= limit:
                break
    return bytes(out)


def for_function(engagement: Engagement, function_id: str, stage: Stage | None = None) -> list[Evidence]:
    """Evidence linked to a function (any of its stages), or to one stage of it."""
    return [
        e
        for e in list_evidence(engagement)
        if any(link.function_id == function_id and (stage is None or link.stage == stage) for link in e.links)
    ]


def _insert_links(conn: sqlite3.Connection, evidence_id: str, links: list[EvidenceLink]) -> None:
    for link in links:
        conn.execute(
            "INSERT INTO evidence_link (evidence_id, function_id, stage, finding_id) VALUES (?, ?, ?, ?)",
            (evidence_id, link.function_id, link.stage.key if link.stage else None, link.finding_id),
        )


def _functions(links: tuple[EvidenceLink, ...]) -> frozenset[str]:
    return frozenset(link.function_id for link in links if link.function_id)


def _changes(item: Evidence) -> Changes:
    return Changes(functions=_functions(item.links))
