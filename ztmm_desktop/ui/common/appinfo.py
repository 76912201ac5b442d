"""The application's name and icon, shared by the entry point, the window and the About box."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from ...paths import resources_dir

APP_NAME = "ZTMM Workbench"
#: The icon name and desktop file id (``ztmm-workbench.desktop``) on Linux.
ICON_NAME = "ztmm-workbench"


def app_icon() -> QIcon:
    """The application icon from ``resources/icons`` (each PNG size, then the SVG); empty when none is shipped."""
    folder = resources_dir() / "icons"
    icon = QIcon()
    for png in sorted((folder / "hicolor").glob(f"*/apps/{ICON_NAME}.png")):
        icon.addFile(str(png))
    svg = folder / f"{ICON_NAME}.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    return icon


__all__ = ["APP_NAME", "ICON_NAME", "app_icon"]
