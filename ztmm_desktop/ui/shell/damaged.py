"""A file with some damaged records: offer to open the rest read-only, and say what was left out."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QMessageBox, QWidget

from ...services.engagement import DamagedRecords, Problem

#: Records named in the read-only banner; the rest are counted.
NAMED = 3


def ask_open_without_damaged(parent: QWidget | None, err: DamagedRecords) -> bool:
    """The file's schema is sound but some records are not: open the rest read-only?"""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Damaged records")
    box.setText(str(err))
    box.setInformativeText(
        "The rest of the engagement is sound. You can open it read-only without the damaged records "
        "(the file itself is not changed) and save a repaired copy with File → Save As."
    )
    read_only = box.addButton("Open the rest read-only", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is read_only


def left_out_text(problems: Sequence[Problem]) -> str:
    """One sentence for the read-only banner: how many records were left out, and the first few."""
    count = len(problems)
    named = "; ".join(p.describe() for p in problems[:NAMED])
    rest = f"; and {count - NAMED} more" if count > NAMED else ""
    records = "record was" if count == 1 else "records were"
    return f"{count} damaged {records} left out ({named}{rest})."
