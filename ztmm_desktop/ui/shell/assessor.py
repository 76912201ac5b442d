"""Who the assessor is: the name and organization written in the audit trail and on the deliverables.

Asked once at first start (when no name is set and ``ZTMM_ASSESSOR`` gives none) and
editable later (*Edit → Your name and organization…*). Stored by
``services/identity.py`` in the app's settings folder, where the ``ztmm`` command
reads it too; ``--by`` and ``ZTMM_ASSESSOR`` still win over it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ...core.errors import ZtmmError
from ...services.identity import AssessorPreference, read_preference, write_preference
from ..common.dialogs import error_label


class AssessorDialog(QDialog):
    """Name (required) and organization; OK stores them."""

    def __init__(self, parent: QWidget | None = None, *, first_start: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("assessorDialog")
        self.setWindowTitle("Your name and organization")
        current = read_preference()
        self.name = QLineEdit(current.name)
        self.name.setObjectName("assessorName")
        self.name.setPlaceholderText("Your full name, as reports should show it")
        self.organisation = QLineEdit(current.organisation)
        self.organisation.setObjectName("assessorOrganization")
        self.organisation.setPlaceholderText("Your firm")
        intro = QLabel(
            ("Welcome to ZTMM Workbench. " if first_start else "")
            + "Your name is recorded with every change you make and printed as the author of the report "
            "and the workbook. Without it, your computer's login name is used."
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("&Organization", self.organisation)
        self.error = error_label()
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        if first_start:
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Later")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._update_ok)
        self._update_ok()
        self.resize(480, self.sizeHint().height())

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.name.text().strip()))

    def _accept(self) -> None:
        try:
            write_preference(AssessorPreference(self.name.text(), self.organisation.text()))
        except ZtmmError as err:
            self.error.setText(str(err))
            self.error.show()
            return
        self.accept()
