"""Evidence: files that support a rating, kept inside the engagement file.

Attach streams a file into the file's blob store (SHA-256, chunked, bounded
memory) and records who captured what, when, and which functions, stages and
findings it supports. The same bytes are stored once; attaching them again
makes a second record (its own title and links) over the same blob. Extract
writes a file back under a safe name; verify recomputes every hash; an
evidence pack hands everything to a client or an auditor with a manifest.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import mimetypes
import os
import re
import sqlite3
import stat
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..core.errors import BadInput
from ..core.progress import CancelToken, Progress, no_progress
from ..core.stages import Stage
from ..core.validate import EVIDENCE_KINDS
from ..store import blobs
from .output import Inputs, written
from .records import MAX_NAME, MAX_TEXT, Changes, Records, check_text, raw_connection

if TYPE_CHECKING:  # the ORM is loaded by what edits: listing and verifying read with plain sqlite3
    from .engagement import Engagement

KINDS = EVIDENCE_KINDS
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
        # what is opened is checked, not only what was looked at: the name may have been swapped
        # for a link or a FIFO in between (which must neither be followed nor block the app)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise BadInput(f"{path}: cannot be read ({err.strerror or err})") from None
    handle = os.fdopen(fd, "rb")
    with handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode):
            raise BadInput(f"{path}: is not a regular file (it was replaced while being attached)")
        size = opened.st_size
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


def list_evidence(engagement: Records) -> list[Evidence]:
    with engagement.reading() as conn:
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


def get(engagement: Records, evidence_id: str) -> Evidence:
    """One record by its id, or by a unique prefix of at least 6 characters."""
    with engagement.reading() as conn:
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
#: Characters no file name gets: path and shell specials, controls (C0 and C1), lone surrogates
#: (not text; no filesystem stores them) and bidirectional overrides (they disguise an extension).
_UNSAFE = re.compile('[<>:"/\\\\|?*\x00-\x1f\x7f-\x9f\ud800-\udfff\u200e\u200f\u202a-\u202e\u2066-\u2069]')
MAX_FILENAME = 180
#: Longest name in UTF-8 bytes: filesystems take 255, and " (2)" or a temp suffix must still fit.
MAX_FILENAME_BYTES = 200


def _fit(text: str, limit: int) -> str:
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


def safe_filename(name: str) -> str:
    """A name that is safe to create on Windows, macOS and Linux, inside the target folder."""
    base = re.split(r"[\\/]", name)[-1]
    base = _UNSAFE.sub("_", base).strip().rstrip(". ")
    base = base.lstrip(".") or "evidence"
    if _RESERVED.match(base):
        base = "_" + base
    if len(base) > MAX_FILENAME or len(base.encode("utf-8")) > MAX_FILENAME_BYTES:
        stem, dot, suffix = base.rpartition(".")
        if dot and len(suffix) < 12:
            keep = min(MAX_FILENAME - len(suffix) - 1, len(stem))
            base = _fit(stem[:keep], MAX_FILENAME_BYTES - len(suffix.encode("utf-8")) - 1) + dot + suffix
        else:
            base = _fit(base[:MAX_FILENAME], MAX_FILENAME_BYTES)
    return base


def _free_path(folder: Path, name: str) -> Path:
    candidate = folder / name
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    number = 2
    while os.path.lexists(candidate):  # a dangling link counts: it is not ours to replace
        candidate = folder / (f"{stem} ({number}).{suffix}" if suffix else f"{stem} ({number})")
        number += 1
    return candidate


def extract(engagement: Records, evidence_id: str, out_dir: Path) -> Path:
    """Write one evidence file into ``out_dir`` under a safe name; returns its path.

    The bytes are checked against their SHA-256 while they are written to a temp
    file (``output.written``); altered bytes are refused and never reach the target.
    """
    evidence = get(engagement, evidence_id)
    if not out_dir.is_dir():
        raise BadInput(f"{out_dir}: no such folder")
    target = _free_path(out_dir, safe_filename(evidence.original_name))
    if Path(os.path.realpath(target)).parent != Path(os.path.realpath(out_dir)):
        raise BadInput(f"{_shown(evidence.original_name)} would be written outside {out_dir}")
    with (
        written(target, inputs=(("the engagement file", engagement.path),)) as temp,
        engagement.reading() as conn,
        temp.open("wb") as handle,
    ):
        for data in _verified(conn, evidence):
            handle.write(data)
    return target


def _shown(name: str) -> str:
    """A name from a file as a message quotes it: short, escaped, one line."""
    return repr(name if len(name) <= 60 else name[:59] + "…")


def _verified(conn: sqlite3.Connection, evidence: Evidence, step: blobs.Step | None = None) -> Iterator[bytes]:
    """The evidence's bytes, checked against its SHA-256 and size as they stream (SECURITY.md item 23)."""
    try:
        done = 0
        for data in blobs.verified_chunks(conn, evidence.sha256, step):
            done += len(data)
            yield data
        if done != evidence.size:
            raise blobs.BlobDamaged(f"bytes changed ({done:,} stored, {evidence.size:,} recorded)")
    except blobs.BlobDamaged as err:
        raise EvidenceDamaged(
            f"evidence {evidence.id[:8]} {_shown(evidence.title)}: {err}; nothing was written; verify the evidence to find every changed file"
        ) from None


class EvidenceDamaged(BadInput):
    """Stored evidence bytes are not the ones recorded; nothing was handed out."""


def verify(
    engagement: Records,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    *,
    items: list[Evidence] | None = None,
) -> list[EvidenceProblem]:
    """Recompute every stored hash; the evidence whose bytes changed or are missing, or whose
    hash is not the one the audit trail recorded when it was attached.

    ``items``: the evidence as ``list_evidence`` returned it, when the caller has it already (it is not
    read again).
    """
    items = list_evidence(engagement) if items is None else items
    total = sum(e.size for e in {e.sha256: e for e in items}.values())
    done = 0
    results: dict[str, blobs.BlobCheck] = {}
    with engagement.reading() as conn:
        recorded = _attached_hashes(conn)
        for evidence in items:
            if evidence.sha256 in results:
                continue

            def step(n: int, base: int = done, title: str = evidence.title) -> None:
                if cancel is not None:
                    cancel.check()
                progress(base + n, total, f"Checking {title}")

            results[evidence.sha256] = blobs.check(conn, evidence.sha256, step)
            done += evidence.size
    problems = []
    for e in items:
        if not results[e.sha256].ok:
            problems.append(EvidenceProblem(e, results[e.sha256].problem))
        elif recorded.get(e.id, e.sha256) != e.sha256:
            problems.append(
                EvidenceProblem(
                    e, f"bytes replaced (attached as sha256:{recorded[e.id][:16]}…, now sha256:{e.sha256[:16]}…)"
                )
            )
    return problems


_ATTACHED_SHA = re.compile(r"sha256:([0-9a-f]{64})$")


def _attached_hashes(conn: sqlite3.Connection) -> dict[str, str]:
    """The SHA-256 the audit trail recorded for each evidence record when it was attached (or merged in)."""
    out: dict[str, str] = {}
    for key, new in conn.execute(
        "SELECT key, new FROM audit WHERE entity = 'evidence' AND field = 'attached' ORDER BY id"
    ):
        found = _ATTACHED_SHA.search(new) if isinstance(new, str) else None
        if found is not None and isinstance(key, str):
            out.setdefault(key, found.group(1))
    return out


def _cell(value: str) -> str:
    """Keep a spreadsheet from reading a manifest cell as a formula (SECURITY.md item 10)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else value


def evidence_pack(
    engagement: Records,
    out: Path,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    *,
    items: list[Evidence] | None = None,
    passphrase: str | None = None,
) -> Path:
    """A zip of every evidence file plus manifest.csv; written to a temp file, then renamed.

    ``items``: the evidence as ``list_evidence`` returned it, when the caller has it already.
    With a ``passphrase`` it is an AES-256 zip whose files are named by evidence id (a zip
    does not hide names); their original names are in the encrypted manifest.
    """

    if passphrase is not None and out.suffix.lower() != ".zip":
        raise BadInput(f"{out.name}: an encrypted evidence pack is a zip; name it {out.name}.zip")
    items = list_evidence(engagement) if items is None else items
    total = sum(e.size for e in items)
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(["id", "title", "original_name", "file_in_pack", "size", "sha256", "links"])
    done = 0
    with (
        _pack_archive(out, passphrase, inputs=(("the engagement file", engagement.path),)) as archive,
        engagement.reading() as conn,
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
                for data in _verified(conn, evidence):
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
def _pack_archive(out: Path, passphrase: str | None, *, inputs: Inputs) -> Iterator[Any]:
    """The pack's zip, written through ``output.written(out, inputs=…)``: plain, or AES-256 sealed."""
    if passphrase is not None:
        from . import sealed

        with sealed.archive(out, passphrase, inputs=inputs) as zipped:
            yield zipped
        return
    with (
        written(out, inputs=inputs) as temp,
        zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
    ):
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


def read_bytes(engagement: Records, evidence_id: str, limit: int) -> bytes:
    """At most ``limit`` bytes from the start of an evidence file (previews, thumbnails).

    A file that fits within ``limit`` is read whole and checked against its SHA-256
    (``EvidenceDamaged`` when it differs); the head of a larger one is shown unchecked
    (a preview, never handed out: opening or saving it checks it all).
    """
    item = get(engagement, evidence_id)
    out = bytearray()
    with engagement.reading() as conn:
        if item.size <= limit:
            for data in _verified(conn, item):
                out += data
            return bytes(out[:limit])
        for data in blobs.chunks(conn, item.sha256):
            out += data[: limit - len(out)]
            if len(out) >= limit:
                break
    return bytes(out)


def for_function(engagement: Records, function_id: str, stage: Stage | None = None) -> list[Evidence]:
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


# -- before attaching: what kind of file it is, and whether its bytes are already here ---------

_SCREENSHOT = ".png .jpg .jpeg .gif .bmp .webp .tif .tiff .heic"
_DOCUMENT = ".pdf .doc .docx .odt .rtf .txt .md .ppt .pptx .odp .eml .msg .htm .html"
_EXPORT = ".csv .tsv .xlsx .xls .ods .json .jsonl .xml .yaml .yml .toml .ini .conf .cfg .log .reg .pem .properties"
_KIND_SUFFIXES: dict[str, frozenset[str]] = {
    "screenshot": frozenset(_SCREENSHOT.split()),
    "document": frozenset(_DOCUMENT.split()),
    "configuration-export": frozenset(_EXPORT.split()),
}


def guess_kind(name: str, media_type: str = "") -> str:
    """The kind a file most likely is, from its name (then its media type): a guess the consultant may change.

    Pictures are screenshots; PDFs, Word files and notes are documents; spreadsheets,
    CSV, JSON and other settings files are configuration exports; anything else is other.
    """
    suffix = Path(name.replace("\\", "/").rsplit("/", 1)[-1]).suffix.lower()
    for kind, suffixes in _KIND_SUFFIXES.items():
        if suffix in suffixes:
            return kind
    media_type = media_type or mimetypes.guess_type(name)[0] or ""
    if media_type.startswith("image/"):
        return "screenshot"
    if media_type == "application/pdf" or media_type.startswith("text/"):
        return "document"
    return "other"


def sha256_of(stream: BinaryIO, cancel: CancelToken | None = None) -> str:
    """The SHA-256 of everything ``stream`` holds (read in chunks: bounded memory)."""
    digest = hashlib.sha256()
    while data := stream.read(1024 * 1024):
        if cancel is not None:
            cancel.check()
        digest.update(data)
    return digest.hexdigest()


def same_bytes(engagement: Records, sha256: str) -> list[Evidence]:
    """The records over exactly these bytes, oldest first (empty: they are new to this engagement)."""
    with engagement.reading() as conn:
        rows = conn.execute(_COLUMNS + " WHERE sha256 = ? ORDER BY created_at, rowid", (sha256,)).fetchall()
        links = _links(conn) if rows else {}
    return _records(rows, links)


@dataclass(frozen=True)
class FileCheck:
    """What is known about a file before it is attached."""

    path: Path
    #: Records of this engagement over the same bytes, oldest first.
    existing: tuple[Evidence, ...] = ()
    #: An earlier file of the same batch with the same bytes (attached once, not twice).
    same_as: Path | None = None
    #: Computed only when another file of the same size is in the engagement or the batch.
    sha256: str | None = None


def check_new_files(engagement: Records, paths: list[Path], cancel: CancelToken | None = None) -> list[FileCheck]:
    """Which of ``paths`` hold bytes already attached to the engagement, or repeat a file of the batch.

    A file is read (hashed) only when a record or another file of the batch has its
    size, so checking new files costs one query. A file that cannot be read is passed
    on unchanged: attaching it says why it cannot be.
    """
    with engagement.reading() as conn:
        stored_sizes = {int(size) for (size,) in conn.execute("SELECT DISTINCT size FROM evidence")}
    sizes: dict[Path, int] = {}
    for path in paths:
        with contextlib.suppress(OSError):
            sizes[path] = path.stat().st_size
    batch_sizes = Counter(sizes.values())
    checks: list[FileCheck] = []
    first_of: dict[str, Path] = {}
    for path in paths:
        size = sizes.get(path)
        if size is None or (size not in stored_sizes and batch_sizes[size] < 2):
            checks.append(FileCheck(path))
            continue
        try:
            with path.open("rb") as handle:
                sha = sha256_of(handle, cancel)
        except OSError:
            checks.append(FileCheck(path))
            continue
        earlier = first_of.setdefault(sha, path)
        existing = tuple(same_bytes(engagement, sha)) if size in stored_sizes else ()
        checks.append(FileCheck(path, existing, earlier if earlier != path else None, sha))
    return checks


def linked_to_function(engagement: Records, function_id: str) -> list[Evidence]:
    """Evidence that supports a function: the function itself, one of its stages, or one of its findings."""
    with engagement.reading() as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT evidence_id FROM evidence_link WHERE function_id = ?"
                " OR finding_id IN (SELECT id FROM finding WHERE function_id = ?)",
                (function_id, function_id),
            )
        ]
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        rows = conn.execute(_COLUMNS + f" WHERE id IN ({marks}) ORDER BY created_at, rowid", ids).fetchall()
        links: dict[str, list[EvidenceLink]] = {}
        for evidence_id, link_function, stage, finding_id in conn.execute(
            f"SELECT evidence_id, function_id, stage, finding_id FROM evidence_link WHERE evidence_id IN ({marks})"
            " ORDER BY id",
            ids,
        ):
            links.setdefault(evidence_id, []).append(
                EvidenceLink(link_function, Stage.parse(stage) if stage else None, finding_id)
            )
    return _records(rows, links)


@dataclass(frozen=True)
class EvidenceCounts:
    """How many pieces of evidence support each function (directly, a stage, a finding) and each stage."""

    functions: dict[str, int]
    stages: dict[tuple[str, Stage], int]

    def of(self, function_id: str, stage: Stage | None = None) -> int:
        if stage is None:
            return self.functions.get(function_id, 0)
        return self.stages.get((function_id, stage), 0)


def counts(engagement: Records) -> EvidenceCounts:
    """Evidence per function and per stage, read in one query (the tree's marks and filter)."""
    by_function: dict[str, set[str]] = {}
    by_stage: dict[tuple[str, Stage], set[str]] = {}
    with engagement.reading() as conn:
        rows = conn.execute(
            "SELECT l.evidence_id, COALESCE(l.function_id, f.function_id), l.stage"
            " FROM evidence_link l LEFT JOIN finding f ON f.id = l.finding_id"
        ).fetchall()
    for evidence_id, function_id, stage in rows:
        if function_id is None:
            continue
        by_function.setdefault(function_id, set()).add(evidence_id)
        if stage:
            with contextlib.suppress(BadInput):
                by_stage.setdefault((function_id, Stage.parse(stage)), set()).add(evidence_id)
    return EvidenceCounts(
        {key: len(ids) for key, ids in by_function.items()}, {key: len(ids) for key, ids in by_stage.items()}
    )
