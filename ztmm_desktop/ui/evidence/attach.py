"""Attaching evidence as the consultant does it: by file dialog, by drop, by paste, from anywhere.

Every way in ends here with files (or a pasted image) and the place they are for
(a function, and the stage in view). First the bytes already in the engagement are
asked about — attach again, link the existing item, or cancel — so no second
record is made silently; then one small dialog proposes a title, the kind guessed
from the type and the stage, and Enter attaches; then the files are stored off the
UI thread, as one undo step.

The flow receives what it needs (the task runner, the open engagement, callbacks
for a link request and for stored evidence), never the main window.
"""

from __future__ import annotations

import hashlib
import io
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow, QMessageBox

from ...core.errors import BadInput, ZtmmError
from ...core.progress import CancelToken
from ...core.words import plural
from ...services import evidence as ev
from ...services.engagement import Engagement
from ...services.evidence import Attached, Evidence, EvidenceLink
from ..common.tasks import TaskRunner, show_failure
from .dialogs import (
    AttachAnswer,
    AttachDialog,
    AttachRow,
    SameBytes,
    ask_same_bytes,
    proposed_title,
    short_links,
)
from .pane import human_size

#: A file to store: its path, title (None: its name) and kind.
Planned = tuple[Path, str | None, str]


def refused_paths(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The regular files among ``paths``, and why each other one cannot be attached."""
    accepted: list[Path] = []
    refused: list[str] = []
    for path in dict.fromkeys(Path(os.path.abspath(p)) for p in paths):
        name = path.name or str(path)
        if path.is_symlink():
            refused.append(f"“{name}” is a shortcut (symbolic link); attach the file it points to")
        elif path.is_dir():
            refused.append(f"“{name}” is a folder; attach the files in it")
        elif not path.exists():
            refused.append(f"“{name}” no longer exists")
        elif not path.is_file():
            refused.append(f"“{name}” is not a regular file")
        else:
            accepted.append(path)
    return accepted, refused


class AttachFlow(QObject):
    """Ask about the same bytes, ask title, kind and stage, then store."""

    def __init__(
        self,
        window: QMainWindow,
        tasks: TaskRunner,
        engagement: Callable[[], Engagement | None],
        link_existing: Callable[[str, tuple[EvidenceLink, ...]], None],
        attached: Callable[[list[Attached]], None],
    ) -> None:
        super().__init__(window)
        self.window = window
        self.tasks = tasks
        self.engagement = engagement
        self.link_existing = link_existing
        self.attached = attached

    def _tell(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)

    def _writable(self) -> Engagement | None:
        engagement = self.engagement()
        if engagement is None:
            return None
        if engagement.readonly:
            self._tell("This engagement is open read-only; nothing was attached.")
            return None
        if self.tasks.busy:
            self._tell("Wait until the current operation finishes; nothing was attached.")
            return None
        return engagement

    # -- files -----------------------------------------------------------------------------

    def files(self, paths: Sequence[Path], link: EvidenceLink) -> None:
        """Ask, then attach files to ``link``'s function (the dialog proposes its stage)."""
        engagement = self._writable()
        if engagement is None:
            return
        accepted, refused = refused_paths(paths)
        if refused:
            shown = refused[:3] + ([f"and {len(refused) - 3} more"] if len(refused) > 3 else [])
            QMessageBox.warning(self.window, "Not attached", "Not attached: " + "; ".join(shown) + ".")
        if not accepted:
            return

        def check(_progress: Callable[[int, int, str], None], cancel: CancelToken) -> list[ev.FileCheck]:
            return ev.check_new_files(engagement, accepted, cancel)

        def failed(err: BaseException) -> None:
            show_failure(self.window, err, "Not attached", "Attaching cancelled; nothing was attached.")

        self.tasks.run(
            f"Checking {plural(len(accepted), 'file')}…",
            check,
            lambda checks: self._checked(engagement, checks, link),
            failed,
        )

    def _checked(self, engagement: Engagement, checks: list[ev.FileCheck], link: EvidenceLink) -> None:
        if engagement is not self.engagement():
            return  # closed in the meantime
        wanted: list[Path] = []
        notes: list[str] = []
        for check in checks:
            if check.same_as is not None:
                notes.append(f"“{check.path.name}” holds the same bytes as “{check.same_as.name}”: attached once")
                continue
            if check.existing:
                answer = self._ask_same(engagement, f"“{check.path.name}”", check.existing, link, len(checks) > 1)
                if answer is not SameBytes.ATTACH_AGAIN:
                    continue
            wanted.append(check.path)
        if notes:
            self._tell("; ".join(notes) + ".")
        if not wanted:
            return
        rows = []
        for path in wanted:
            try:
                size = human_size(path.stat().st_size)
            except OSError:
                size = "size unknown"
            rows.append(AttachRow(path.name, size, proposed_title(path.name), ev.guess_kind(path.name)))
        answer = self._ask_details(engagement, rows, link)
        if answer is None:
            return
        target = EvidenceLink(function_id=link.function_id, stage=answer.stage)
        self.store(
            [(path, title, kind) for path, title, kind in zip(wanted, answer.titles, answer.kinds, strict=True)],
            target,
        )

    def store(self, planned: Sequence[Planned], link: EvidenceLink) -> None:
        """Store files off the UI thread without asking; one undo step for all of them."""
        engagement = self._writable()
        if engagement is None or not planned:
            return
        done: list[Attached] = []

        def work(progress: Callable[[int, int, str], None], cancel: CancelToken) -> list[Attached]:
            for path, title, kind in planned:
                done.append(
                    ev.attach(engagement, path, [link], title=title, kind=kind, progress=progress, cancel=cancel)
                )
            return done

        def failed(err: BaseException) -> None:
            self.attached(done)
            show_failure(self.window, err, "Not attached", "Attaching cancelled; the file being stored was not kept.")

        self.tasks.run(f"Attaching {plural(len(planned), 'file')}…", work, lambda _result: self.attached(done), failed)

    # -- a pasted image ----------------------------------------------------------------------

    def image(self, png: bytes, link: EvidenceLink) -> None:
        """Ask, then attach a pasted screenshot (PNG bytes) to ``link``'s function."""
        engagement = self._writable()
        if engagement is None:
            return
        existing = ev.same_bytes(engagement, hashlib.sha256(png).hexdigest())
        if existing and self._ask_same(engagement, "This image", existing, link) is not SameBytes.ATTACH_AGAIN:
            return
        name = time.strftime("Screenshot %Y-%m-%d %H.%M.%S.png")
        row = AttachRow(name, human_size(len(png)), proposed_title(name), "screenshot")
        answer = self._ask_details(engagement, [row], link)
        if answer is None:
            return
        try:
            attached = ev.attach_stream(
                engagement, io.BytesIO(png), original_name=name, expected_size=len(png),
                links=[EvidenceLink(function_id=link.function_id, stage=answer.stage)],
                title=answer.titles[0], kind=answer.kinds[0], media_type="image/png",
            )  # fmt: skip
        except ZtmmError as err:
            show_failure(self.window, err, "Not attached", "")
            return
        self.attached([attached])

    # -- the questions ---------------------------------------------------------------------

    def _ask_details(self, engagement: Engagement, rows: list[AttachRow], link: EvidenceLink) -> AttachAnswer | None:
        try:
            label = engagement.catalog.function(link.function_id or "").label
        except BadInput:
            label = "this function"
        return AttachDialog.ask(self.window, rows, function_label=label, stage=link.stage)

    def _ask_same(
        self,
        engagement: Engagement,
        what: str,
        existing: Sequence[Evidence],
        link: EvidenceLink,
        in_batch: bool = False,
    ) -> SameBytes:
        """Ask about bytes already attached; carries out "link the existing item" itself."""
        first = existing[0]
        titles = {f.id: f.title for f in engagement.findings()}
        can_link = link not in first.links
        answer = ask_same_bytes(
            self.window,
            what=what,
            title=first.title,
            where=short_links(engagement.catalog, first.links, titles),
            target=short_links(engagement.catalog, [link]),
            can_link=can_link,
            others=len(existing) - 1,
            in_batch=in_batch,
        )
        if answer is SameBytes.LINK_EXISTING:
            self.link_existing(first.id, (*first.links, link))
        return answer
