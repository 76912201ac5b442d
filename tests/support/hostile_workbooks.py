"""Hostile and foreign files with an .xlsx name, made on the spot (for tests and the import benchmark).

Each builder writes one file and returns its path. ``questionnaire`` is a real
questionnaire exported by the app, which several builders take apart.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

GIB = 1024**3

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>'
)


def raw_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip of raw deflate streams: (name, deflated bytes, crc32, declared uncompressed size) each."""
    out = io.BytesIO()
    central = []
    for name, data, crc, size in members:
        encoded = name.encode()
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0))
        out.write(encoded)
        out.write(data)
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start, start, 0))
    path.write_bytes(out.getvalue())
    return path


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def zip_bomb(path: Path, size: int = GIB) -> Path:
    """About 3 MB on disk, one sheet of ``size`` bytes (1 GiB) of rows when unpacked.

    The 1 MiB block is deflated once with a full flush (no reference to earlier
    data), so repeating its bytes is a valid stream of the block repeated.
    """
    row = b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
    block = row * (1024 * 1024 // len(row))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    flushed = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    count = size // len(block)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    sheet = flushed * count + b"\x03\x00"  # an empty final fixed-Huffman block ends the stream
    members = [
        ("[Content_Types].xml", _deflate(_CONTENT_TYPES), zlib.crc32(_CONTENT_TYPES), len(_CONTENT_TYPES)),
        ("xl/workbook.xml", _deflate(_WORKBOOK), zlib.crc32(_WORKBOOK), len(_WORKBOOK)),
        ("xl/worksheets/sheet1.xml", sheet, crc, len(block) * count),
    ]
    return raw_zip(path, members)


def rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """Copy a workbook, passing every part through ``change(name, data)``."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info)))
    return target


def first_sheet_part(source: Path) -> str:
    """The part name of the first pillar sheet (sheet2: sheet1 is the instructions)."""
    return "xl/worksheets/sheet2.xml"


def lying_size(source: Path, target: Path) -> Path:
    """A questionnaire whose first pillar sheet declares fewer bytes than it unpacks to."""
    part = first_sheet_part(source)
    with zipfile.ZipFile(source) as zin:
        members = []
        for info in zin.infolist():
            data = zin.read(info)
            declared = 1000 if info.filename == part else len(data)
            members.append((info.filename, _deflate(data), zlib.crc32(data), declared))
    return raw_zip(target, members)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10) for n in range(1, 10)
    )
    + b"]>\n"
    + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    + b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
)


def entity_bomb(source: Path, target: Path) -> Path:
    """A questionnaire whose shared strings and first pillar sheet are billion-laughs documents."""
    part = first_sheet_part(source)

    def change(name: str, data: bytes) -> bytes:
        return BILLION_LAUGHS if name in (part, "xl/sharedStrings.xml") else data

    return rewrite(source, target, change)


def huge_dimension(source: Path, target: Path) -> Path:
    """A questionnaire whose every sheet declares the largest dimension Excel allows (the content is unchanged)."""
    import re

    def change(name: str, data: bytes) -> bytes:
        if name.startswith("xl/worksheets/sheet"):
            return re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', data)
        return data

    return rewrite(source, target, change)


def far_cell(source: Path, target: Path) -> Path:
    """A questionnaire with one extra cell at XFD1048576 of its first pillar sheet (a million rows to read)."""
    part = first_sheet_part(source)

    def change(name: str, data: bytes) -> bytes:
        if name == part:
            return data.replace(
                b"</sheetData>",
                b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
            )
        return data

    return rewrite(source, target, change)


def xls_like(path: Path) -> Path:
    """An OLE2 compound file header with a ``Workbook`` stream entry (what every .xls starts with)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + struct.pack("<HH", 0x3E, 3) + b"\xfe\xff"
    header = header.ljust(512, b"\x00")
    directory = "Root Entry".encode("utf-16-le").ljust(128, b"\x00") + "Workbook".encode("utf-16-le").ljust(
        128, b"\x00"
    )
    path.write_bytes(header + directory.ljust(512, b"\x00") + b"\x09\x08" + b"\x00" * 1000)
    return path


def ods_like(path: Path) -> Path:
    """An OpenDocument spreadsheet: ``mimetype`` stored first, then its content."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>', zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", "<manifest/>", zipfile.ZIP_DEFLATED)
    return path


def csv_file(path: Path) -> Path:
    path.write_text("function,stage,answer\n1.1,initial,Met\n1.1,advanced,Partially met\n", encoding="utf-8")
    return path


def pdf_file(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Questionnaire answers")
    page.save()
    path.write_bytes(buffer.getvalue())
    return path


def password_protected(source: Path, target: Path, password: str = "client-secret") -> Path:
    """The questionnaire encrypted as Excel does when a password is set to open it."""
    from msoffcrypto.format.ooxml import OOXMLFile

    with source.open("rb") as plain, target.open("wb") as encrypted:
        OOXMLFile(plain).encrypt(password, encrypted)
    return target


def truncated(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path
