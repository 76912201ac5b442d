"""The logos on the report's cover, the client's and the consultancy's: checked once, stored inside the
engagement file (one row each, in tables of the same shape).

A logo must be a PNG or JPEG of at most ``MAX_LOGO_BYTES`` and ``MAX_LOGO_SIDE``
pixels a side that decodes completely. It is checked when it is set (so the
report never meets a bad one) and again when the report is built.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import BadInput
from ..core.validate import MAX_LOGO_BYTES, MAX_LOGO_SIDE
from .records import CLIENT_LOGO, CONSULTANCY_LOGO, Changes, Records, read_logo_row

if TYPE_CHECKING:  # the ORM is loaded only to change a logo: ``ztmm info`` reads them with plain sqlite3
    from .engagement import Engagement

LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass(frozen=True)
class Logo:
    name: str
    media_type: str
    data: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def check_logo(data: bytes, name: str) -> Logo:
    """``data`` as a logo, or ``BadInput`` saying in one line why it cannot be one."""
    from PIL import Image, UnidentifiedImageError  # only here: commands that never check a logo skip Pillow

    if len(data) > MAX_LOGO_BYTES:
        raise BadInput(f"logo {name} is {len(data):,} bytes; the limit is {MAX_LOGO_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                kind = image.format or ""
                width, height = image.size
                if kind not in LOGO_FORMATS:
                    raise BadInput(f"logo {name} is a {kind} image; use a PNG or JPEG")
                if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
                    raise BadInput(
                        f"logo {name} is {width:,} × {height:,} pixels; "
                        f"the limit is {MAX_LOGO_SIDE:,} × {MAX_LOGO_SIDE:,}"
                    )
                image.load()  # decode it all now: a damaged image is refused before anything uses it
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise BadInput(f"logo {name} is not a PNG or JPEG image") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise BadInput(f"logo {name} is a damaged image ({err})") from None
    if width < 1 or height < 1:
        raise BadInput(f"logo {name} is an empty image")
    return Logo(name=name, media_type=LOGO_FORMATS[kind], data=data, width=width, height=height)


def load_logo(path: Path) -> Logo:
    """Read and check a logo file (never more than the size limit is read)."""
    try:
        if not path.is_file():
            raise BadInput(f"logo {path}: no such file")
        size = path.stat().st_size
        if size > MAX_LOGO_BYTES:
            raise BadInput(f"logo {path.name} is {size:,} bytes; the limit is {MAX_LOGO_BYTES // (1024 * 1024)} MB")
        data = path.read_bytes()
    except OSError as err:
        raise BadInput(f"logo {path}: cannot read it ({err.strerror or err})") from None
    return check_logo(data, path.name)


def _read(engagement: Records, table: str) -> Logo | None:
    row = read_logo_row(engagement, table)
    return check_logo(row[1], row[0]) if row is not None else None


def _set(engagement: Engagement, name: str, field: str, logo: Logo | None, by: str | None) -> Changes:
    from ..store.schema import ConsultancyLogoRow, LogoRow

    table: type[LogoRow] | type[ConsultancyLogoRow] = LogoRow if name == CLIENT_LOGO else ConsultancyLogoRow
    if logo is not None:
        logo = check_logo(logo.data, logo.name)
    key = engagement.meta().id
    with engagement.edit(by) as (session, audit):
        row = session.get(LogoRow, 1) if table is LogoRow else session.get(ConsultancyLogoRow, 1)
        old = f"{row.name} ({hashlib.sha256(row.data).hexdigest()[:12]})" if row is not None else None
        new = f"{logo.name} ({logo.sha256[:12]})" if logo is not None else None
        if not audit.record("engagement", key, field, old, new):
            session.rollback()
            return Changes()
        if logo is None:
            assert row is not None
            session.delete(row)
        elif row is None:
            session.add(table(id=1, name=logo.name, media_type=logo.media_type, data=logo.data))
        else:
            row.name, row.media_type, row.data = logo.name, logo.media_type, logo.data
    return Changes(metadata=True)


def read_logo(engagement: Records) -> Logo | None:
    """The client's logo, if the engagement keeps one."""
    return _read(engagement, CLIENT_LOGO)


def set_logo(engagement: Engagement, logo: Logo | None, *, by: str | None = None) -> Changes:
    """Put the client's ``logo`` on the report's cover (None removes it)."""
    return _set(engagement, CLIENT_LOGO, "logo", logo, by)


def read_consultancy_logo(engagement: Records) -> Logo | None:
    """The consultancy's logo, if the engagement keeps one."""
    return _read(engagement, CONSULTANCY_LOGO)


def set_consultancy_logo(engagement: Engagement, logo: Logo | None, *, by: str | None = None) -> Changes:
    """Put the consultancy's ``logo`` beside the client's (None removes it); checked like the client's."""
    return _set(engagement, CONSULTANCY_LOGO, "consultancy_logo", logo, by)
