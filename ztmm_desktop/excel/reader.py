"""Reading a workbook from outside the app without trusting it (SECURITY.md items 6–9).

A filled questionnaire comes back from a client: it may be anything with an
``.xlsx`` name, re-saved by another program, damaged or hostile. Before
openpyxl sees a byte:

* the file is read once into memory (at most ``MAX_FILE_BYTES``) and hashed, so
  every later step sees the same bytes;
* its type is sniffed from its first bytes, and anything that is not an Excel
  workbook is named (.xls, password-protected, .ods, PDF, CSV or text, empty,
  damaged);
* the zip directory is checked (member count, each member's and the total
  uncompressed size, compression ratio, encrypted members) and then every
  member is decompressed once as a bounded stream: a member that is larger
  than it declares, or fails its checksum, is refused as damaged; an XML
  document type declaration (the entity-bomb vehicle) is refused; merged cell
  ranges are collected on the way, because openpyxl's read-only mode drops them.

Then openpyxl loads it in read-only mode (bounded memory; XML parsed with
defusedxml, which must be installed), each sheet's declared dimension is
ignored (``reset_dimensions``), and only the first ``MAX_COLUMNS`` columns and
``MAX_ROWS`` rows of a sheet are ever read.

The reader knows the app's marking (``layout.py``) but nothing of engagements:
it returns the marked sheets' rows by header, and the problems it saw with
sheet and cell. Every failure is a ``BadInput`` with one line for the user.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml  # type: ignore[import-untyped]

from ..core.errors import BadInput, ZtmmError
from ..core.progress import CancelToken, Progress, no_progress
from . import layout

#: Largest workbook file read at all (a questionnaire is about 50 KB, a deliverable a few MB).
MAX_FILE_BYTES = 32 * 1024 * 1024
#: Zip directory limits.
MAX_MEMBERS = 2_000
MAX_MEMBER_BYTES = 48 * 1024 * 1024
MAX_TOTAL_BYTES = 128 * 1024 * 1024
#: Uncompressed / compressed, for members above ``RATIO_FLOOR_BYTES`` (sheet XML compresses 5–30×).
MAX_RATIO = 150
RATIO_FLOOR_BYTES = 1024 * 1024
#: How much of a sheet is read.
MAX_ROWS = 10_000
MAX_COLUMNS = 100
HEADER_SEARCH_ROWS = 40
CHUNK = 1024 * 1024

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
_MERGE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']([A-Za-z]{1,3}[0-9]{1,7}(?::[A-Za-z]{1,3}[0-9]{1,7})?)[\"']"
)
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_OVERLAP = 512

CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None


def header_key(text: object) -> str:
    """A header as the importer compares it: case and runs of spaces ignored."""
    return " ".join(str(text).split()).casefold() if text is not None else ""


@dataclass(frozen=True)
class Cell:
    ref: str  # "G7"
    value: CellValue
    formula: bool = False

    @property
    def blank(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())

    def text(self) -> str:
        """The value as text (numbers and dates as a person would read them)."""
        value = self.value
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat()
        return str(value)


@dataclass(frozen=True)
class MarkedRow:
    """One data row of a marked sheet: header key → cell (only columns with a header)."""

    sheet: str
    row: int
    cells: dict[str, Cell]

    def get(self, header: str) -> Cell | None:
        return self.cells.get(header_key(header))


@dataclass
class MarkedSheet:
    title: str
    header_row: int
    columns: dict[str, int]  # header key → 1-based column
    rows: list[MarkedRow] = field(default_factory=list)


@dataclass
class WorkbookContents:
    """What was read from a workbook the app marked, with the problems seen on the way."""

    sha256: str
    meta: dict[str, str]
    names: dict[str, str]  # defined name → text of the cell it names
    sheets: list[MarkedSheet]
    problems: list[str]

    @property
    def kind(self) -> str:
        return self.meta.get("kind", "")


def check_defused() -> None:
    """openpyxl parses XML with defusedxml only when it is installed (SECURITY.md item 6)."""
    # openpyxl is imported where a workbook is read, not when the app starts: it takes 0.2 s.
    import openpyxl  # type: ignore[import-untyped]

    if not openpyxl.DEFUSEDXML:
        raise BadInput("refusing to read workbooks: the defusedxml package is missing from this installation")


# -- step 1: the bytes and what they are -------------------------------------------------


def read_bytes(path: Path, smaller: str = "a questionnaire is far smaller") -> bytes:
    """The file's bytes, read once, never more than ``MAX_FILE_BYTES`` (``smaller`` ends the refusal)."""
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_FILE_BYTES:
                raise BadInput(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MiB; {smaller}")
            chunks, size = [], 0
            while chunk := handle.read(CHUNK):  # bounded even if the file grows while read
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    break
            data = b"".join(chunks)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path} is a folder, not a workbook") from None
    except OSError as err:
        raise BadInput(f"cannot read {path} ({err.strerror or err})") from None
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MiB; {smaller}")
    return data


def sniff(name: str, data: bytes) -> None:
    """Refuse, naming what it is, anything that is not a zip archive."""
    if not data:
        raise BadInput(f"{name} is empty (0 bytes), not a workbook")
    if data.startswith(OLE2_MAGIC):
        if any(stream in data for stream in _ENCRYPTED_STREAMS):
            raise BadInput(f"{name} is a password-protected workbook; remove the password in Excel and import again")
        raise BadInput(f"{name} is an old-style Excel .xls workbook (or another Office 97–2003 file); save it as .xlsx")
    if data.startswith(b"%PDF"):
        raise BadInput(f"{name} is a PDF document, not an Excel workbook")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return
    head = data[:4096]
    if b"\x00" not in head.lstrip(b"\xff\xfe\xef\xbb\xbf"):
        try:
            head.decode("utf-8")
            text = True
        except UnicodeDecodeError as err:
            text = err.start > len(head) - 4  # a character cut at the end of the sample
        if text:
            if head.lstrip().startswith(b"<"):
                raise BadInput(f"{name} is an XML or HTML file, not an Excel workbook; save it as .xlsx")
            raise BadInput(f"{name} is a text or CSV file, not an Excel workbook; save it as .xlsx")
    raise BadInput(f"{name} is not an Excel workbook (unknown file type)")


# -- step 2: the zip archive ---------------------------------------------------------------


def open_zip(name: str, data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        raise BadInput(f"{name} is damaged or truncated (not a complete zip archive)") from None
    return archive


def check_directory(name: str, archive: zipfile.ZipFile) -> None:
    """Refuse before decompressing anything: not a workbook, encrypted, too many or too large members."""
    members = archive.infolist()
    names = {m.filename for m in members}
    if "mimetype" in names:
        mimetype = _read_bounded(name, archive, archive.getinfo("mimetype"), 200)
        if mimetype.strip().startswith(ODS_MIMETYPE):
            raise BadInput(f"{name} is an OpenDocument spreadsheet (.ods); save it as .xlsx (Excel 2007–365)")
        raise BadInput(f"{name} is an OpenDocument file, not an Excel workbook")
    if "xl/workbook.xml" not in names and not any(n.lower().endswith("workbook.xml") for n in names):
        if "word/document.xml" in names:
            raise BadInput(f"{name} is a Word document, not an Excel workbook")
        if "ppt/presentation.xml" in names:
            raise BadInput(f"{name} is a PowerPoint presentation, not an Excel workbook")
        raise BadInput(f"{name} is a zip archive but not an Excel workbook")
    check_limits(name, archive, "a workbook from this app has a few dozen")


def check_limits(name: str, archive: zipfile.ZipFile, typical: str) -> None:
    """The limits of any Office file from outside (a workbook, a Word template): before decompressing anything,
    member count, encrypted members, compression methods, each member's and the total size, compression ratio.
    ``typical`` says how many parts such a file has."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise BadInput(f"{name} has {len(members):,} parts; {typical} (refused)")
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise BadInput(f"{name} has encrypted parts ({member.filename}); remove the password and try again")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BadInput(f"{name}: part {member.filename} uses an unsupported compression method")
        if member.file_size > MAX_MEMBER_BYTES:
            raise BadInput(
                f"{name}: part {member.filename} unpacks to {member.file_size:,} bytes "
                f"(limit {MAX_MEMBER_BYTES:,}); refused as a possible zip bomb"
            )
        if member.file_size > RATIO_FLOOR_BYTES and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise BadInput(
                f"{name}: part {member.filename} unpacks {member.file_size // max(member.compress_size, 1):,} times "
                f"its packed size; refused as a possible zip bomb"
            )
        total += member.file_size
    if total > MAX_TOTAL_BYTES:
        raise BadInput(f"{name} unpacks to {total:,} bytes (limit {MAX_TOTAL_BYTES:,}); refused as a possible zip bomb")


def _stream(name: str, archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> Iterator[bytes]:
    """The member's bytes in chunks, never more than ``limit`` in all; damage is a ``BadInput``."""
    seen = 0
    try:
        with archive.open(member) as handle:
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                seen += len(chunk)
                if seen > limit or seen > member.file_size:
                    raise BadInput(f"{name}: part {member.filename} is larger than it declares; the file is damaged")
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError):
        raise BadInput(
            f"{name}: part {member.filename} is damaged (its size or checksum does not match; a truncated file?)"
        ) from None
    if seen != member.file_size:
        raise BadInput(f"{name}: part {member.filename} is shorter than it declares; the file is damaged")


def _read_bounded(name: str, archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    if member.file_size > limit:
        return b""
    return b"".join(_stream(name, archive, member, limit))


def scan_members(
    name: str, archive: zipfile.ZipFile, cancel: CancelToken | None, kind: str = "a workbook"
) -> dict[str, list[str]]:
    """Decompress every member once, bounded; refuse DTDs; return merged ranges per worksheet part."""
    merges: dict[str, list[str]] = {}
    for member in archive.infolist():
        if member.is_dir():
            continue
        lower = member.filename.lower()
        xml = lower.endswith((".xml", ".rels", ".vml"))
        worksheet = xml and "worksheets/" in lower
        found: set[bytes] = set()
        tail = b""
        for chunk in _stream(name, archive, member, MAX_MEMBER_BYTES):
            if cancel is not None:
                cancel.check()
            if not xml:
                continue
            window = tail + chunk
            if _DTD.search(window):
                raise BadInput(
                    f"{name}: part {member.filename} declares an XML document type or entities; "
                    f"refused ({kind} has none; this is how entity bombs work)"
                )
            if worksheet:
                found.update(m.group(1) for m in _MERGE.finditer(window))
            tail = window[-_OVERLAP:]
        if found:
            merges[member.filename] = sorted(ref.decode("ascii").upper() for ref in found)
    return merges


# -- step 3: the workbook --------------------------------------------------------------------


def _forbidden_xml(err: BaseException | None) -> bool:
    """Whether defusedxml refused the XML (openpyxl wraps the error it raised in its own)."""
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, defusedxml.DefusedXmlException):
            return True
        err, seen = err.__cause__ or err.__context__, seen + 1
    return False


def _load(name: str, data: bytes) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except ZtmmError:
        raise
    except Exception as err:  # openpyxl raises many kinds on malformed parts; each means "cannot read"
        kind = type(err).__name__
        if _forbidden_xml(err):
            raise BadInput(f"{name} declares XML entities; refused (this is how entity bombs work)") from None
        raise BadInput(f"{name} cannot be read as an Excel workbook ({kind}: {str(err)[:120]})") from None


def _cell_value(cell: Any) -> tuple[CellValue, bool]:
    value = getattr(cell, "value", None)
    formula = getattr(cell, "data_type", None) == "f"
    return value, formula


def _read_meta(name: str, workbook: Any) -> dict[str, str]:
    if layout.META_SHEET not in workbook.sheetnames:
        raise BadInput(
            f"{name} is not a workbook exported by ZTMM Workbench (it has no {layout.META_SHEET} sheet); "
            "import a questionnaire made with 'ztmm export --questionnaire'"
        )
    sheet = workbook[layout.META_SHEET]
    sheet.reset_dimensions()
    meta: dict[str, str] = {}
    for index, row in enumerate(sheet.iter_rows(min_row=1, max_row=50, max_col=2, values_only=True)):
        if index >= 50:
            break
        key, value = (*row, None, None)[:2]
        if key is not None:
            meta[str(key).strip().lower()] = "" if value is None else str(value).strip()
    if meta.get("format") != layout.FORMAT:
        raise BadInput(
            f"{name} is not a workbook exported by ZTMM Workbench (its {layout.META_SHEET} sheet is not ours)"
        )
    if meta.get("version") != layout.LAYOUT_VERSION:
        raise BadInput(
            f"{name} was made by a version of ZTMM Workbench with another workbook layout "
            f"({meta.get('version') or 'none'}); export it again with this version"
        )
    return meta


def _read_names(workbook: Any, wanted: Collection[str]) -> dict[str, str]:
    from openpyxl.utils.cell import range_boundaries  # type: ignore[import-untyped]

    out: dict[str, str] = {}
    for wanted_name in wanted:
        defined = workbook.defined_names.get(wanted_name)
        if defined is None:
            continue
        try:
            destinations = list(defined.destinations)
        except Exception:  # a name that is not a plain reference (a formula, #REF!)
            continue
        for title, ref in destinations:
            if title not in workbook.sheetnames:
                continue
            coordinate = ref.replace("$", "").split(":")[0]
            try:
                min_col, min_row, _, _ = range_boundaries(coordinate)
            except (ValueError, TypeError):
                continue
            if min_row is None or min_col is None or min_row > HEADER_SEARCH_ROWS * 2 or min_col > MAX_COLUMNS:
                continue
            sheet = workbook[title]
            sheet.reset_dimensions()
            for row in sheet.iter_rows(min_row=min_row, max_row=min_row, min_col=min_col, max_col=min_col):
                value, formula = _cell_value(row[0])
                out[wanted_name] = "" if value is None or formula else " ".join(str(value).split())
            break
    return out


def _sheet_rows(sheet: Any, cancel: CancelToken | None) -> Iterator[tuple[int, tuple[Any, ...]]]:
    sheet.reset_dimensions()  # the declared dimension may lie (SECURITY.md item 8)
    for number, row in enumerate(sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS), start=1):
        if cancel is not None and number % 200 == 0:
            cancel.check()
        yield number, row


def _read_marked_sheet(name: str, sheet: Any, cancel: CancelToken | None, problems: list[str]) -> MarkedSheet | None:
    from openpyxl.utils.cell import get_column_letter

    marker = header_key(layout.FUNCTION_ID)
    found: MarkedSheet | None = None
    for number, row in _sheet_rows(sheet, cancel):
        if found is None:
            if number > HEADER_SEARCH_ROWS:
                return None  # an extra sheet of the client's: not ours to read
            keys = [header_key(_cell_value(c)[0]) for c in row]
            if marker not in keys:
                continue
            columns: dict[str, int] = {}
            for column, key in enumerate(keys, start=1):
                if not key:
                    continue
                if key in columns:
                    problems.append(
                        f"{sheet.title}!{get_column_letter(column)}{number}: a second column headed "
                        f"{_cell_value(row[column - 1])[0]!r}"
                    )
                    continue
                columns[key] = column
            found = MarkedSheet(sheet.title, number, columns)
            continue
        if number > MAX_ROWS:
            raise BadInput(f"{name}: sheet {sheet.title!r} has more than {MAX_ROWS:,} rows; refused")
        cells: dict[str, Cell] = {}
        for key, column in found.columns.items():
            if column > len(row):
                continue
            value, formula = _cell_value(row[column - 1])
            if value is None and not formula:
                continue
            cells[key] = Cell(f"{get_column_letter(column)}{number}", value, formula)
        if cells:
            found.rows.append(MarkedRow(sheet.title, number, cells))
    return found


def _merge_problems(sheet: MarkedSheet, ranges: list[str], strict: Collection[str]) -> list[str]:
    from openpyxl.utils.cell import range_boundaries

    columns = {sheet.columns[k] for k in map(header_key, strict) if k in sheet.columns}
    out = []
    for ref in ranges:
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        except ValueError:
            continue
        if min_col is None or min_row is None or max_col is None or max_row is None:
            continue
        if max_row <= sheet.header_row or (max_row - min_row == 0 and max_col - min_col == 0):
            continue
        if any(min_col <= c <= max_col for c in columns):
            out.append(f"{sheet.title}!{ref}: merged cells where answers belong")
    return out


def read_workbook(
    path: Path,
    *,
    strict_headers: Collection[str] = (),
    names: Collection[str] = (),
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> WorkbookContents:
    """Read a workbook the app marked (``layout.py``), refusing anything else.

    ``strict_headers``: the columns where answers belong; a formula or a merged
    range there is a problem reported with its cell. ``names``: defined names
    whose cell values to return.
    """
    check_defused()
    label = path.name
    progress(0, 4, f"Reading {label}…")
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    sniff(label, data)
    archive = open_zip(label, data)
    with archive:
        check_directory(label, archive)
        progress(1, 4, "Checking the workbook's parts…")
        merges = scan_members(label, archive, cancel)
    progress(2, 4, "Reading the answers…")
    workbook = _load(label, data)
    try:
        meta = _read_meta(label, workbook)
        problems: list[str] = []
        sheets: list[MarkedSheet] = []
        for sheet in workbook.worksheets:
            if sheet.title == layout.META_SHEET:
                continue
            marked = _read_marked_sheet(label, sheet, cancel, problems)
            if marked is None:
                continue
            part = str(getattr(sheet, "_worksheet_path", "")).lstrip("/")
            problems.extend(_merge_problems(marked, merges.get(part, []), strict_headers))
            for row in marked.rows:
                for key in map(header_key, strict_headers):
                    cell = row.cells.get(key)
                    if cell is not None and cell.formula:
                        problems.append(f"{marked.title}!{cell.ref}: a formula where an answer belongs")
            sheets.append(marked)
        found_names = _read_names(workbook, names)
    except ZtmmError:
        raise
    except Exception as err:  # malformed sheet XML surfaces while iterating rows
        if _forbidden_xml(err):
            raise BadInput(f"{label} declares XML entities; refused (this is how entity bombs work)") from None
        raise BadInput(
            f"{label} cannot be read as an Excel workbook ({type(err).__name__}: {str(err)[:120]})"
        ) from None
    finally:
        workbook.close()
    progress(3, 4, "Comparing…")
    return WorkbookContents(digest, meta, found_names, sheets, problems)
