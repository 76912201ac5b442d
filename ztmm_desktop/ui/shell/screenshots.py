"""Render the window's main views offscreen to PNG files (``make screenshots``, tests).

python -m ztmm_desktop.ui.shell.screenshots docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEvent, QSize
from PySide6.QtWidgets import QApplication

SIZE = QSize(1440, 900)
#: A projector's sizes: the smallest the window is made for, and a common one for workshop mode.
SMALL_SIZE = QSize(1024, 768)
WORKSHOP_SIZE = QSize(1280, 720)
NAMES = (
    "start-page.png",
    "function-page.png",
    "dashboard.png",
    "progress.png",
    "function-page-1024x768.png",
    "workshop-mode.png",
)
SIZES = (SIZE, SIZE, SIZE, SIZE, SMALL_SIZE, WORKSHOP_SIZE)


def _settle() -> None:
    """Let every pending layout run (a resize or a font change reaches nested layouts a level per turn)."""
    for _ in range(3):
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        QApplication.processEvents()


def render(folder: Path) -> list[Path]:
    """Write the start page, a function page (2.4 on the demo), the dashboard and the progress tab into ``folder``,
    then the function page at 1024×768 and in workshop mode (F11) at 1280×720."""
    from ..common.theme import apply_workshop_mode
    from .main_window import MainWindow

    folder.mkdir(parents=True, exist_ok=True)
    window = MainWindow()
    window.resize(SIZE)
    window.show()
    _settle()
    written = [folder / name for name in NAMES]
    try:
        window.grab().save(str(written[0]))
        window.open_demo()
        assert window.workbench is not None
        window.workbench.select_function("devices.device_threat_protection")
        _settle()
        window.grab().save(str(written[1]))
        window.show_tab(2)
        _settle()
        window.grab().save(str(written[2]))
        window.show_tab(3)
        _settle()
        window.grab().save(str(written[3]))
        window.show_tab(0)
        window.resize(SMALL_SIZE)
        _settle()
        window.grab().save(str(written[4]))
        window.resize(WORKSHOP_SIZE)
        window.workshop_action.trigger()  # F11
        _settle()
        window.grab().save(str(written[5]))
    finally:
        apply_workshop_mode(False)
        if window.engagement is not None:
            window.engagement.close()
            window.engagement = None
        window.close()
    return written


def main(argv: list[str]) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A private data folder: the demo and settings of the screenshots never touch the user's own.
    os.environ["ZTMM_DATA_DIR"] = tempfile.mkdtemp(prefix="ztmm-screenshots-")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    for path in render(Path(argv[0] if argv else "docs/screenshots")):
        print(path)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
