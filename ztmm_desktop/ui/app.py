"""``ztmm-desktop [FILE] [--demo]``: the application's entry point."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtWidgets import QApplication


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ztmm-desktop", description="ZTMM Workbench")
    parser.add_argument("file", nargs="?", help="an engagement file (.ztmm) to open")
    parser.add_argument("--demo", action="store_true", help="open the demo engagement when no file is given")
    args, qt_args = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("ZTMM Workbench")
    app.setOrganizationName("ZTMM Workbench")
    from .main_window import start

    window = start([args.file] if args.file else [], demo=args.demo)
    code = app.exec()
    del window
    return code


if __name__ == "__main__":
    sys.exit(main())
