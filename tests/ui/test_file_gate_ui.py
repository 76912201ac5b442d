"""Opening a hostile engagement file in the window: a dialog with one line, nothing changed.

Where only some records are damaged, the window offers to open the rest read-only
and says what it left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from tests.support import hostile_files
from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.store.lock import lock_path_for
from ztmm_desktop.ui.shell.main_window import MainWindow

REFUSED = sorted(set(hostile_files.KINDS) - hostile_files.DAMAGED_RECORDS)
DAMAGED = sorted(hostile_files.DAMAGED_RECORDS)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def text_of(dialog: QWidget) -> str:
    return dialog.text()  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("kind", REFUSED)
def test_a_hostile_file_is_refused_with_a_one_line_dialog(
    kind: str, hostile: Callable[[str], Path], window: MainWindow, dialogs: DialogAnswerer, data_dir: Path
) -> None:
    path = hostile(kind)
    before = digest(path)
    shown: list[tuple[str, str]] = []
    dialogs.then(lambda d: shown.append((d.windowTitle(), text_of(d)))).click("OK")

    assert window.open_path(path) is False

    ((title, text),) = shown
    assert title == "Cannot open engagement"
    assert text.startswith(f"{path.name}: ") and "\n" not in text
    assert window.engagement is None
    assert digest(path) == before and not lock_path_for(path).exists()
    assert files_under(data_dir) == []


@pytest.mark.parametrize("kind", DAMAGED)
def test_damaged_records_offer_the_rest_read_only_and_cancel_changes_nothing(
    kind: str, hostile: Callable[[str], Path], window: MainWindow, dialogs: DialogAnswerer, data_dir: Path
) -> None:
    path = hostile(kind)
    before = digest(path)
    shown: list[str] = []
    dialogs.then(lambda d: shown.append(text_of(d))).click("Cancel")

    assert window.open_path(path) is False

    assert shown[0].startswith(f"{path.name}: damaged record: ") and "\n" not in shown[0]
    assert window.engagement is None
    assert digest(path) == before and not lock_path_for(path).exists()
    assert files_under(data_dir) == []


def test_the_rest_opens_read_only_and_the_window_says_what_was_left_out(
    hostile: Callable[[str], Path], window: MainWindow, dialogs: DialogAnswerer, data_dir: Path
) -> None:
    path = hostile("rating-excellent")
    before = digest(path)
    dialogs.click("Open the rest read-only")

    assert window.open_path(path) is True

    engagement = window.engagement
    assert engagement is not None and engagement.readonly
    assert window.workbench is not None
    banner = window.workbench.banner
    assert banner.isVisible()
    assert "1 damaged record was left out (stage_rating record identity.authentication/initial, rating:" in (
        banner.text()
    )
    assert window.close_engagement()
    assert digest(path) == before
    assert files_under(data_dir / "working") == []
