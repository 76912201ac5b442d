"""``ztmm-desktop [FILE] [--demo] [--self-test]``: the application's entry point."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QFileOpenEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from .. import __version__
from .common.appinfo import APP_NAME, ICON_NAME, app_icon

if TYPE_CHECKING:
    from .shell.main_window import MainWindow


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ztmm-desktop", description=APP_NAME)
    parser.add_argument(
        "file", nargs="?", help="an engagement file (.ztmm), or a team server address postgresql://…?engagement=ID"
    )
    parser.add_argument("--demo", action="store_true", help="open the demo engagement when no file is given")
    parser.add_argument("--version", action="version", version=f"ztmm-desktop {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="open the window on the demo (offscreen unless QT_QPA_PLATFORM is set), export the workbook and"
        " the report, check them, exit 0 when all is well (1 and a reason otherwise)",
    )
    parser.add_argument(
        "--self-test-output",
        type=Path,
        metavar="DIR",
        help="with --self-test: write the exported workbook and report into DIR and keep them",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, qt_args = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.self_test_output is not None and not args.self_test:
        parser.error("--self-test-output needs --self-test")
    scratch: Path | None = None
    if args.self_test:
        from .shell.selftest import prepare

        scratch = prepare()  # offscreen and a private data folder, before Qt starts
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0], *qt_args])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(ICON_NAME)
    icon = app_icon()
    if not icon.isNull():
        app.setWindowIcon(icon)
    if scratch is not None:
        from .shell.selftest import run_self_test

        return run_self_test(scratch, output=args.self_test_output)
    from .shell.main_window import start

    opener = FileOpenHandler(app)  # macOS: Finder hands a double-clicked .ztmm over as an event
    window = start([args.file] if args.file else [], demo=args.demo)
    opener.window = window
    code = app.exec()
    del window
    return code


class FileOpenHandler(QObject):
    """Open the files the desktop hands over as ``QFileOpenEvent`` (Finder on macOS).

    A double-clicked document reaches a macOS app as an event, not on its command
    line, possibly before the window exists; such a file is opened once it does
    (``start`` then opens no demo).
    """

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._window: MainWindow | None = None
        self._pending: list[Path] = []
        app.installEventFilter(self)

    @property
    def window(self) -> MainWindow | None:
        return self._window

    @window.setter
    def window(self, window: MainWindow) -> None:
        self._window = window
        pending, self._pending = self._pending, []
        for path in pending[-1:]:  # one engagement at a time: the last one handed over
            QTimer.singleShot(0, window, lambda path=path: window.open_path(path))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.FileOpen or not isinstance(event, QFileOpenEvent):
            return False
        path = Path(event.file())
        if self._window is None:
            self._pending.append(path)
        else:
            self._window.open_path(path)
        return True


if __name__ == "__main__":
    sys.exit(main())
