"""Regenerate every raster icon from the hand-written SVG sources in resources/icons/.

Sources (edit these, then run this script and commit what it writes):

- ``resources/icons/ztmm-workbench.svg``: the application icon.
- ``resources/icons/application-x-ztmm-engagement.svg``: the icon of ``.ztmm`` files.
- ``<name>-16.svg`` and ``<name>-24.svg`` beside them: the same pictures redrawn on a
  16 and 24 pixel grid, so that the smallest sizes stay sharp instead of being blurred
  scale-downs of the large drawing.

Written from them:

- ``resources/icons/hicolor/<N>x<N>/{apps,mimetypes}/<name>.png`` and
  ``resources/icons/hicolor/scalable/...`` (the freedesktop.org icon theme layout);
- ``packaging/windows/ztmm-workbench.ico`` and ``ztmm-engagement.ico``;
- ``packaging/macos/ztmm-workbench.icns`` (macOS 11 and later draw document icons
  from the application icon, so the engagement type needs no .icns of its own).

The output depends only on the sources and the Qt and Pillow versions, so running the
script twice writes the same bytes.

    python tools/make_icons.py                      # rewrite the files
    python tools/make_icons.py --preview sheet.png  # also draw every size on light and dark backgrounds
"""

from __future__ import annotations

import argparse
import io
import os
import struct
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
HICOLOR = ICONS / "hicolor"
WINDOWS = ROOT / "packaging" / "windows"
MACOS = ROOT / "packaging" / "macos"

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)  # what Pillow writes: 16 and 32 pt @2x, 128 to 512 pt @1x and @2x


@dataclass(frozen=True)
class Icon:
    name: str  # the freedesktop icon name, also the SVG source's file name
    context: str  # the icon theme folder: "apps" or "mimetypes"
    windows: str  # file name of the .ico
    macos: str | None  # file name of the .icns, if any

    def source(self, size: int) -> Path:
        """The drawing for ``size`` pixels: the hand-hinted one when there is one, else the large one."""
        hinted = ICONS / f"{self.name}-{size}.svg"
        return hinted if hinted.exists() else ICONS / f"{self.name}.svg"


APP = Icon("ztmm-workbench", "apps", "ztmm-workbench.ico", "ztmm-workbench.icns")
DOCUMENT = Icon("application-x-ztmm-engagement", "mimetypes", "ztmm-engagement.ico", None)
ICONS_TO_MAKE = (APP, DOCUMENT)


def render(svg: Path, size: int) -> Image.Image:
    """``svg`` drawn by Qt on a transparent ``size`` x ``size`` canvas."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"error: {svg.relative_to(ROOT)} is not an SVG image Qt can draw")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    return Image.frombytes("RGBA", (size, size), bytes(image.constBits()), "raw", "RGBA", image.bytesPerLine())


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def ico_bitmap(image: Image.Image) -> bytes:
    """One ICO entry as a 32-bit DIB (BGRA rows bottom-up, then the 1-bit transparency mask)."""
    width, height = image.size
    pixels = image.tobytes("raw", "BGRA", 0, -1)  # bottom row first
    mask_row = ((width + 31) // 32) * 4
    mask = bytearray(mask_row * height)
    alpha = image.getchannel("A").transpose(Image.Transpose.FLIP_TOP_BOTTOM).tobytes()
    for y in range(height):
        for x in range(width):
            if alpha[y * width + x] == 0:
                mask[y * mask_row + x // 8] |= 0x80 >> (x % 8)
    header = struct.pack("<IiiHHIIiiII", 40, width, height * 2, 1, 32, 0, len(pixels) + len(mask), 0, 0, 0, 0)
    return header + pixels + bytes(mask)


def ico_bytes(images: Iterable[Image.Image]) -> bytes:
    """A Windows .ico: bitmaps below 256 pixels (read everywhere), PNG at 256 (as Windows' own icons do)."""
    entries = [(image.width, png_bytes(image) if image.width >= 256 else ico_bitmap(image)) for image in images]
    directory = bytearray(struct.pack("<HHH", 0, 1, len(entries)))
    offset = 6 + 16 * len(entries)
    for size, data in entries:
        directory += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return bytes(directory) + b"".join(data for _, data in entries)


def icns_bytes(images: dict[int, Image.Image]) -> bytes:
    buffer = io.BytesIO()
    largest = images[max(images)]
    others = [image for size, image in sorted(images.items()) if size != largest.width]
    largest.save(buffer, format="ICNS", append_images=others)
    return buffer.getvalue()


def write(path: Path, data: bytes, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    written.append(path)


def make(icon: Icon, written: list[Path]) -> dict[int, Image.Image]:
    sizes = sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_SIZES))
    images = {size: render(icon.source(size), size) for size in sizes}
    for size in PNG_SIZES:
        write(HICOLOR / f"{size}x{size}" / icon.context / f"{icon.name}.png", png_bytes(images[size]), written)
    scalable = HICOLOR / "scalable" / icon.context / f"{icon.name}.svg"
    write(scalable, (ICONS / f"{icon.name}.svg").read_bytes(), written)
    write(WINDOWS / icon.windows, ico_bytes(images[size] for size in ICO_SIZES), written)
    if icon.macos:
        write(MACOS / icon.macos, icns_bytes({size: images[size] for size in ICNS_SIZES}), written)
    return images


def preview(rendered: list[dict[int, Image.Image]], path: Path) -> None:
    """Every size of every icon, actual size and 8x enlarged for the smallest, on light and dark grounds."""
    sizes = [size for size in PNG_SIZES if size <= 256]
    gap = 16
    row_height = max(sizes) + 2 * gap
    zoom = [16, 24]
    width = sum(sizes) + gap * (len(sizes) + 1) + sum(8 * z for z in zoom) + gap * len(zoom)
    grounds = [(255, 255, 255), (222, 226, 230), (46, 46, 46), (0, 0, 0)]
    sheet = Image.new("RGB", (width, row_height * len(grounds) * len(rendered)))
    top = 0
    for ground in grounds:
        for images in rendered:
            band = Image.new("RGB", (width, row_height), ground)
            x = gap
            for size in sizes:
                band.paste(images[size], (x, gap), images[size])
                x += size + gap
            for size in zoom:
                big = images[size].resize((8 * size, 8 * size), Image.Resampling.NEAREST)
                band.paste(big, (x, gap), big)
                x += 8 * size + gap
            sheet.paste(band, (0, top))
            top += row_height
    sheet.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--preview", type=Path, help="also write a contact sheet of every size to this PNG file")
    args = parser.parse_args(argv)
    application = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    written: list[Path] = []
    rendered = [make(icon, written) for icon in ICONS_TO_MAKE]
    if args.preview:
        preview(rendered, args.preview)
    for path in written:
        print(path.relative_to(ROOT))
    del application
    return 0


if __name__ == "__main__":
    sys.exit(main())
