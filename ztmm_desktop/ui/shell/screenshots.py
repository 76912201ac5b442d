"""Render the window's main views offscreen to PNG files (``make screenshots``, tests).

python -m ztmm_desktop.ui.shell.screenshots docs/screenshots
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

SIZE = QSize(1440, 900)
NAMES = ("start-page.png", "function-page.png", "dashboard.png", "progress.png")


def render(folder: Path) -> list[Path]:
    """Write the start page, a function page (2.4 on the demo), the dashboard and the progress tab into ``folder``."""
    from .main_window import MainWindow

    folder.mkdir(parents=True, exist_ok=True)
    window = MainWindow()
    window.resize(SIZE)
    window.show()
    QApplication.processEvents()
    written = [folder / name for name in NAMES]
    try:
        window.grab().save(str(written[0]))
        window.open_demo()
        assert window.workbench is not None
        window.workbench.select_function("devices.device_threat_protection")
        QApplication.processEvents()
        window.grab().save(str(written[1]))
        window.show_tab(2)
        QApplication.processEvents()
        window.grab().save(str(written[2]))
        window.show_tab(3)
        QApplication.processEvents()
        window.grab().save(str(written[3]))
    finally:
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
