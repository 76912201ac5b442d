"""``ztmm-desktop [FILE]``: open an engagement in the window (the demo when no file is given)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from ..core.errors import ZtmmError
from ..services.demo import open_demo
from ..services.engagement import Engagement, open_engagement
from .main_window import MainWindow


def open_for_window(argv: list[str]) -> Engagement:
    if argv:
        return open_engagement(Path(argv[0]))
    return open_demo()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ZTMM Workbench")
    try:
        engagement = open_for_window(args)
    except ZtmmError as err:
        QMessageBox.critical(None, "ZTMM Workbench", str(err))
        return 2
    window = MainWindow(engagement)
    window.show()
    try:
        return app.exec()
    finally:
        engagement.close()


if __name__ == "__main__":
    sys.exit(main())
