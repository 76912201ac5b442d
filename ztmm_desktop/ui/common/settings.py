"""What the app remembers between runs (QSettings): recent files, geometry, workshop mode, last folder.

When ``ZTMM_DATA_DIR`` is set (tests, portable use) the settings live in an INI
file there, so a test never reads or changes the user's real settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ...paths import data_dir

MAX_RECENT = 10


class Settings:
    def __init__(self) -> None:
        if os.environ.get("ZTMM_DATA_DIR"):
            self.q = QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)
        else:
            self.q = QSettings("ZTMM Workbench", "ZTMM Workbench")

    def recent_files(self) -> list[Path]:
        value = self.q.value("recent", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [Path(v) for v in items if v]

    def add_recent(self, path: Path) -> None:
        items = [str(path)] + [str(p) for p in self.recent_files() if p != path]
        self.q.setValue("recent", items[:MAX_RECENT])

    def remove_recent(self, path: Path) -> None:
        self.q.setValue("recent", [str(p) for p in self.recent_files() if p != path])

    def last_folder(self) -> str:
        return str(self.q.value("last_folder", str(Path.home())))

    def set_last_folder(self, folder: Path) -> None:
        self.q.setValue("last_folder", str(folder))

    def workshop_mode(self) -> bool:
        return str(self.q.value("workshop_mode", "false")).lower() == "true"

    def set_workshop_mode(self, on: bool) -> None:
        self.q.setValue("workshop_mode", "true" if on else "false")

    def hidden_panes(self) -> list[str]:
        """The panes beside the centre ("tree", "guidance") the consultant hid (View menu)."""
        value = self.q.value("hidden_panes", [])
        return [value] if isinstance(value, str) and value else [str(v) for v in (value or []) if v]

    def set_hidden_panes(self, names: list[str]) -> None:
        self.q.setValue("hidden_panes", names)

    def word_template(self) -> Path | None:
        """The firm's Word report template chosen in the window; None: the default one."""
        value = str(self.q.value("word_template", "") or "")
        return Path(value) if value else None

    def set_word_template(self, path: Path | None) -> None:
        self.q.setValue("word_template", str(path) if path is not None else "")

    def team_servers(self) -> list[str]:
        """The team servers' addresses the consultant added (never with a password)."""
        value = self.q.value("team_servers", [])
        return [value] if isinstance(value, str) and value else [str(v) for v in (value or []) if v]

    def set_team_servers(self, addresses: list[str]) -> None:
        self.q.setValue("team_servers", addresses)

    def flag(self, key: str) -> bool:
        return str(self.q.value(key, "false")).lower() == "true"

    def set_flag(self, key: str, on: bool) -> None:
        self.q.setValue(key, "true" if on else "false")

    def bytes_value(self, key: str) -> QByteArray | None:
        value = self.q.value(key)
        return value if isinstance(value, QByteArray) else None

    def set_bytes(self, key: str, value: QByteArray) -> None:
        self.q.setValue(key, value)

    def sync(self) -> None:
        self.q.sync()
