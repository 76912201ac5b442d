"""Team mode in the window: the start page's server list, and an engagement on the server opened, saved,
merged and published (``services.server_copy``, ``services.team``; docs/server.md).

An engagement on the server is worked on as a copy read once (``ServerCopy``): the window edits it as
it edits any engagement, and Save writes the rows it changed back in one transaction, refused when
someone else saved meanwhile, with the existing three-way merge offered to bring their work in. The
window's title and status bar show the address (never the password) and the consultant's role; a
reviewer's copy is read-only.

An assessor or a lead edits live (``live.py``, ``services.live_mirror``): a live session is opened on
the engagement beside the copy, each edit of a live field (ratings, comments, a function's fields,
findings, actions) is sent as it is made, others' edits come in as they are committed, conflicts are
shown on a bar to resolve, and offline edits wait in the session's queue on disk. Save then writes
only the rest (properties, evidence, workshops, baselines, the register's contents, logos), and the
window saves that by itself a second after the last such edit (merging with a colleague's Save when
nothing conflicts); a colleague's Save of it is brought into the copy in place
(``server_copy.read_shared`` off the UI thread, ``take_shared`` on it), keeping the cursor and typing.

While a server engagement is open the window watches it (``server.watch``: LISTEN on its channel, on
a thread of its own, each event handed to the UI thread by a queued signal). When someone else
commits a change, a window not editing live and without unsaved work re-reads the engagement (off the UI thread, like the
open) and shows it again where the consultant was (function, tab, scroll); a window with unsaved work
keeps it and says in the status bar who changed what on the server: Save merges.

Everything that talks to the server runs off the UI thread; a password is asked on it when the
server asks (``connecting.py``), kept in memory for the session, never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QMessageBox

from ...core.errors import ZtmmError
from ...core.words import plural
from ...server.url import ServerUrl, parse
from ...server.watch import COMMENT_TABLE
from ..common.host import WindowHost
from ..common.tasks import Call
from .comments import ReviewComments
from .connecting import (
    AskCancelled,
    NeedPassword,
    Passwords,
    need_password,
    with_password,
    wrong_password,
)
from .dialogs import ask_address, suggested_id
from .start_section import ServerSection

if TYPE_CHECKING:
    from PySide6.QtWidgets import QAbstractScrollArea, QTabWidget

    from ...server.watch import Remote, Watch
    from ...services.engagement import Engagement
    from ...services.merge import MergePlan
    from ...services.records import Changes
    from ...services.server_copy import Rebase, ServerCopy
    from .live import LiveLink

#: How the consultant's role reads in the status bar and the title.
ROLE_TEXT = {"lead": "lead", "assessor": "assessor", "reviewer": "reviewer (read-only)"}
#: How long after the last edit of what Save writes a live window saves it by itself (ms): short, as
#: such edits come whole (a dialog's OK, an attached file, a workshop started) or, typed, at a pause
#: in the typing already; long enough to take a burst of them (several files attached) in one save.
AUTOSAVE_MS = 250
REVIEWER_NOTE = "You are a reviewer of this engagement on the team server: leads and assessors change it, you read it."


class _Page(Protocol):
    @property
    def current_function_id(self) -> str | None: ...

    @property
    def scroll_area(self) -> QAbstractScrollArea: ...


class _Panel(Protocol):
    @property
    def tree(self) -> QAbstractScrollArea: ...


class _Workbench(Protocol):
    """What the team controller reads of the workbench to show a re-read engagement where the consultant was."""

    @property
    def page(self) -> _Page: ...

    @property
    def panel(self) -> _Panel: ...

    @property
    def tabs(self) -> QTabWidget: ...

    def select_function(self, function_id: str) -> None: ...


class TeamHost(WindowHost, Protocol):
    """What the team controller asks of the main window besides the deliverables' interface."""

    @property
    def workbench(self) -> _Workbench | None: ...

    @property
    def modified(self) -> bool: ...

    def maybe_close_engagement(self) -> bool: ...

    def show_engagement(self, engagement: Engagement | None, *, read_only_reason: str = "") -> None: ...

    def refresh_state(self) -> None: ...

    def save_now(self) -> bool: ...

    def show_brought_in(self, changes: Changes) -> None: ...


class TeamActions(QObject):
    """File → Open from server…, Publish to server…, Merge from server…, Merge into server…, and the start page's list."""

    #: a change committed on the server (a ``server.watch.Remote``), emitted on the watch's thread
    remoteChanged = Signal(object)

    def __init__(self, window: TeamHost) -> None:
        super().__init__(window)
        self.window = window
        self.passwords = Passwords()
        self.copy: ServerCopy | None = None
        self.section: ServerSection | None = None
        self._loading: Call | None = None
        self._pending: tuple[str, bool] | None = None  # a list asked for while another loads
        self._snapshots: list[Path] = []  # server engagements merged into the open file (their undo re-reads them)
        self.open_action = window.add_action("Open from ser&ver…", self.open_dialog)
        self.publish_action = window.add_action("P&ublish to server…", self.publish)
        self.merge_from_action = window.add_action("Merge from server…", self.merge_from_server)
        self.merge_into_action = window.add_action("Merge into server…", self.merge_into_server)
        self.server_label = QLabel()
        self.server_label.setObjectName("serverStatus")
        self.server_label.hide()
        window.statusBar().addPermanentWidget(self.server_label)
        #: "Offline — N edits kept on this computer…" while a live engagement's server cannot be reached
        self.live_label = QLabel()
        self.live_label.setObjectName("liveStatus")
        self.live_label.hide()
        window.statusBar().addPermanentWidget(self.live_label)
        self._watch: Watch | None = None
        self._rereading: Call | None = None
        self._reread_again: str | None = None  # another change's author, come while the engagement was being re-read
        #: open a live session beside the copy for an assessor or a lead (False: the copy saved whole, as before)
        self.live_enabled = True
        self.link: LiveLink | None = None
        #: live, what Save writes is saved by itself this long after the last edit that left some
        self.autosave_ms = AUTOSAVE_MS
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.timeout.connect(self._autosave_now)
        self._saving = False  # a Save (the consultant's or the autosave's) is under way: never two at once
        self._edits = 0  # edits made in the window, to tell whether any was made while the server was asked
        #: the autosave found a conflict with someone else's Save: the consultant chooses, with Save
        self._to_choose = False
        self._background: set[Call] = set()  # autosaves and reads under way
        self._bringing: Call | None = None  # a colleague's Save being read from the server
        self._bring_again: str | None = None  # another one's author, come meanwhile
        self.remoteChanged.connect(self._remote_changed, Qt.ConnectionType.QueuedConnection)
        self.comments = ReviewComments(window, self.passwords)  # reviewers' comments on the page's findings

    # -- menus and state -------------------------------------------------------------

    def add_to(self, menu: QMenu, open_after: QAction, merge_after: QAction) -> None:
        actions = menu.actions()
        at = actions.index(open_after) + 1
        menu.insertAction(actions[at] if at < len(actions) else None, self.open_action)
        actions = menu.actions()
        at = actions.index(merge_after) + 1
        before = actions[at] if at < len(actions) else None
        for action in (self.merge_from_action, self.merge_into_action, self.publish_action):
            menu.insertAction(before, action)

    def update(self) -> None:
        engagement = self.window.engagement
        has = engagement is not None
        writable = has and engagement is not None and not engagement.readonly
        on_server = self.copy is not None
        self.merge_from_action.setEnabled(writable)
        self.merge_into_action.setEnabled(has and not on_server)
        self.publish_action.setEnabled(has and not on_server)
        self.comments.follow(self.copy)
        if self.copy is None:
            self.server_label.hide()
        else:
            url = self.copy.url
            # short: the status bar's messages share its width (the title and the tip name the server)
            self.server_label.setText(f"{url.engagement} · {ROLE_TEXT.get(self.copy.role, self.copy.role)}")
            how = (
                "your edits reach it as you make them; Save writes the rest (properties, evidence, workshops…)"
                if self.link is not None
                else "Save writes your changes to it"
            )
            self.server_label.setToolTip(f"{url.display}\nThe engagement lives on this team server; {how}.")
            self.server_label.show()

    def title(self, client: str) -> str | None:
        """The window's title for an engagement on the server (None: not one)."""
        if self.copy is None:
            return None
        role = ROLE_TEXT.get(self.copy.role, self.copy.role)
        live = ", live" if self.link is not None else ""
        return f"{self.copy.url.display}[*] — {role}{live} — {client} — ZTMM Workbench"

    @property
    def name(self) -> str | None:
        return self.copy.url.display if self.copy is not None else None

    def edited(self) -> None:
        """The window changed the open engagement (an edit, an undo, a redo): live, what changed is sent."""
        self._edits += 1
        if self.link is not None:
            self.link.mirror.local_changed()
            # after the undo stack has taken the command (its first redo reports the change before the push
            # moves the stack's index)
            QTimer.singleShot(0, self._settle)

    def _settle(self) -> None:
        """A window editing live is unsaved only while Save has something to write (what is not edited
        live) or edits wait on this computer for the server: its live edits are on the server as they
        are made, so they leave the window saved (no asterisk, no close prompt for them, and another
        consultant's Save is brought in rather than announced)."""
        from ...services import server_copy

        copy, link = self.copy, self.link
        if copy is None or link is None:
            return
        if server_copy.pending(copy):
            self._schedule_autosave()
        elif not link.mirror.kept:
            self.window.undo_stack.setClean()

    # -- autosave of what is not edited live ---------------------------------------------

    def _schedule_autosave(self) -> None:
        """Save what Save writes by itself after a pause (restarted by each edit), while live."""
        if self.link is not None and self.copy is not None and not self.copy.reviewer and not self._to_choose:
            self._autosave.start(self.autosave_ms)

    def _autosave_now(self) -> None:
        from ...services import server_copy

        copy, link = self.copy, self.link
        if copy is None or link is None or self._to_choose:
            return
        if self._saving or self._bringing is not None or QApplication.activeModalWidget() is not None:
            self._autosave.start(self.autosave_ms)  # after the other save, the read or the dialog
            return
        if not link.mirror.online:
            return  # the link says when the server is back (``_settle``), and it is saved then
        if not server_copy.pending(copy):
            self._settle()
            return
        edits = self._edits
        bar = self.window.statusBar()
        bar.showMessage(f"Saving to {copy.url.display}…")
        self._saving = True

        def saved(result: object, err: object) -> None:
            self._saving = False
            if self.copy is not copy:
                return  # closed or replaced meanwhile
            if isinstance(err, server_copy.ServerChanged):
                self._autorebase(copy, edits)
                return
            if err is not None:
                why = str(err) if isinstance(err, ZtmmError) else "the server could not be reached"
                bar.showMessage(f"Not saved to the server: {' '.join(why.split())}; your changes are kept here.")
                return
            bar.showMessage("Saved.", 4000)  # short: the status bar shares its line with the server's address
            self._after_save()

        self._call(lambda: server_copy.save(copy, prompt=None), saved)

    def _call(self, fn: Callable[[], Any], done: Callable[[object, object], None]) -> Call:
        """``fn`` off the UI thread; ``done(result, error)`` on it after."""
        call = Call(fn)
        self._background.add(call)

        def finished(result: object, err: object) -> None:
            call.wait()
            call.deleteLater()
            self._background.discard(call)
            done(result, err)

        call.finishedWith.connect(finished)
        call.start()
        return call

    def _after_save(self) -> None:
        """A save ended: what was edited meanwhile is saved next; a colleague's Save heard meanwhile is brought in."""
        self.window.refresh_state()
        self._settle()
        again, self._bring_again = self._bring_again, None
        if again is not None and self.copy is not None:
            self._bring_in(again)

    def _autorebase(self, copy: ServerCopy, edits: int) -> None:
        """The autosave was refused because someone else saved: bring their work and this window's together
        when nothing conflicts (no dialog); otherwise keep the work and leave the choice to Save."""
        from ...server.store import LIVE_ENTITIES
        from ...services import server_copy

        bar = self.window.statusBar()
        self._saving = True

        def planned(result: object, err: object) -> None:
            rebase: Rebase | None = result  # type: ignore[assignment]
            if err is not None or rebase is None or self.copy is not copy:
                self._saving = False
                if rebase is not None:
                    rebase.copy.close()
                if err is not None:
                    why = str(err) if isinstance(err, ZtmmError) else "the server could not be read"
                    bar.showMessage(f"Not saved to the server: {' '.join(why.split())}; your changes are kept here.")
                return
            # live fields are sent as they are made (a value being typed may differ): not this Save's to weigh
            conflicts = [c for c in rebase.plan.conflicts if c.ref[0] not in LIVE_ENTITIES]
            if conflicts:
                self._saving = False
                rebase.copy.close()
                self._to_choose = True
                what = conflicts[0].label + (
                    f" (and {plural(len(conflicts) - 1, 'more')})" if len(conflicts) > 1 else ""
                )
                bar.showMessage(f"{what[:1].upper()}{what[1:]} changed on the server too; Save to choose.")
                return
            self._call(lambda: self._rebase_and_read(rebase, copy), rebased)

        def rebased(result: object, err: object) -> None:
            self._saving = False
            if self.copy is not copy:
                if isinstance(result, server_copy.Shared):
                    result.discard()
                return
            if isinstance(err, server_copy.ServerChanged):  # saved again meanwhile: again, from the top
                self._schedule_autosave()
                return
            if err is not None or not isinstance(result, server_copy.Shared):
                why = str(err) if isinstance(err, ZtmmError) else "the server could not be reached"
                bar.showMessage(f"Not saved to the server: {' '.join(why.split())}; your changes are kept here.")
                return
            if self._edits != edits:  # edited meanwhile: saved (and merged) again rather than overwritten
                result.discard()
                self._schedule_autosave()
                return
            self._take(copy, result)
            bar.showMessage("Someone else saved meanwhile: their change and yours are both on the server.", 8000)
            self._after_save()

        self._call(lambda: server_copy.plan_rebase(copy, prompt=None), planned)

    @staticmethod
    def _rebase_and_read(rebase: Rebase, copy: ServerCopy) -> object:
        """Off the UI thread: the merged copy saved, then what is now on the server read for ``copy``
        (this window's, which then takes it in place: nothing is rebuilt, nothing typed is lost)."""
        from ...services import server_copy

        try:
            server_copy.rebase(rebase, {})
        finally:
            rebase.copy.close()
        return server_copy.read_shared(copy, prompt=None)

    def _wait_quietly(self) -> None:
        """Until the autosave or a read of a colleague's Save under way ends (the consultant pressed Save)."""
        from PySide6.QtCore import QEventLoop

        while self._saving or self._bringing is not None:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def close_note(self) -> str:
        """What the close prompt adds for a live engagement ("" otherwise): live edits are on the server
        already, or, offline, kept on this computer until the next session sends them."""
        if self.link is None:
            return ""
        kept = self.link.mirror.kept
        if kept:
            return (
                f"\n\nThe team server cannot be reached: {plural(kept, 'edit')} made here "
                f"{'is' if kept == 1 else 'are'} kept on this computer and sent the next time this engagement "
                "is opened while the server is reachable."
            )
        return (
            "\n\nYour ratings, comments, fields, findings and actions are on the server already; "
            "Save writes the rest (properties, evidence, workshops…)."
        )

    def _stop_live(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            link.close()
            link.deleteLater()

    def _start_live(self, copy: ServerCopy, session: object) -> None:
        from ...server.live import LiveSession
        from .live import LiveLink

        if not isinstance(session, LiveSession):
            return
        copy.live = True
        self.link = LiveLink(
            self.window.statusBar(),
            self.live_label,
            session,
            copy.engagement,
            workbench=lambda: self.window.workbench,  # type: ignore[arg-type,return-value]
            refreshed=self.window.refresh_state,
            settled=self._settle,
            hidden_offline=self.server_label,
            parent=self,
        )
        self.link.attach()
        self.window.refresh_state()

    def closed(self) -> None:
        """The window closed the engagement: its copy goes (what it held is on the server, or was given up)."""
        self._stop_watching()
        self._stop_live()
        copy, self.copy = self.copy, None
        if copy is not None:
            copy.close()

    def detached(self) -> None:
        """The engagement was saved as a file (taken offline): the window now works on that file."""
        if self.copy is not None:
            import shutil

            self._stop_watching()
            self._stop_live()
            shutil.rmtree(self.copy.folder, ignore_errors=True)
            self.copy = None

    def shutdown(self) -> None:
        from ...services.server_copy import discard_snapshot

        self._stop_watching()
        self.comments.wait()
        self._stop_live()
        if self._loading is not None:
            self._loading.wait(15_000)
        for path in self._snapshots:
            discard_snapshot(path)
        self._snapshots.clear()

    def _remember_server(self, url: ServerUrl) -> str:
        address = url.with_engagement(None).address
        servers = self.window.settings.team_servers()
        if address not in servers:
            self.window.settings.set_team_servers([address, *servers])
        self._show_servers(address)
        return address

    def _known(self) -> list[str]:
        return self.window.settings.team_servers()

    def _run(self, message: str, url: ServerUrl, work: Callable[[ServerUrl], Any]) -> tuple[Any, ServerUrl]:
        """``work(url)`` off the UI thread with a wait cursor and a status line, asking for the password if needed."""
        from PySide6.QtCore import Qt

        bar = self.window.statusBar()
        bar.showMessage(message)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return with_password(self.window, self.passwords, url, work)
        finally:
            QApplication.restoreOverrideCursor()
            bar.clearMessage()

    def _attempt(
        self, message: str, url: ServerUrl, work: Callable[[ServerUrl], Any], refused: str, *, critical: bool = False
    ) -> tuple[Any, ServerUrl] | None:
        """``_run``, its refusal shown in a message box titled ``refused``; None when refused or cancelled."""
        try:
            return self._run(message, url, work)
        except AskCancelled:
            return None
        except ZtmmError as err:
            (QMessageBox.critical if critical else QMessageBox.warning)(self.window, refused, str(err))
            return None

    # -- the start page --------------------------------------------------------------

    def attach(self, section: ServerSection) -> None:
        self.section = section
        section.addRequested.connect(self.add_server)
        section.removeRequested.connect(self.remove_server)
        section.refreshRequested.connect(lambda address: self.load(address, interactive=True))
        section.engagementActivated.connect(self._activated)
        servers = self._known()
        self._show_servers(servers[0] if servers else "")
        if servers:  # after the first frame: the list never holds up the window's start
            QTimer.singleShot(0, lambda: self.load(servers[0], interactive=False))

    def _show_servers(self, current: str) -> None:
        if self.section is not None:
            self.section.set_servers(self._known(), current)

    def add_server(self) -> None:
        answer = ask_address(
            self.window,
            "Add team server",
            "The address of your firm's ZTMM server, as your DBA gave it. A password is never stored: "
            "it is asked when the server needs it.",
            [],
            action="Add",
        )
        if answer is None:
            return
        url, notice = answer
        self.passwords.remember(url)  # a password typed into the address: this session only
        address = self._remember_server(url)
        if notice:
            self.window.statusBar().showMessage(notice, 10000)
        self.load(address, interactive=True)

    def remove_server(self, address: str) -> None:
        self.window.settings.set_team_servers([a for a in self._known() if a != address])
        servers = self._known()
        self._show_servers(servers[0] if servers else "")
        if servers:
            self.load(servers[0], interactive=False)

    def load(self, address: str, *, interactive: bool) -> None:
        """List the engagements on ``address`` off the UI thread; ``interactive``: ask for a password if needed."""
        from ...services.server_copy import listing

        section = self.section
        if section is None or not address:
            return
        if self._loading is not None:  # one at a time: this one once the running one ends
            self._pending = (address, interactive)
            section.show_loading()
            return
        try:
            url = self.passwords.with_known(parse(address))
        except ZtmmError as err:
            section.show_failure(str(err))
            return
        section.show_loading()
        call = Call(lambda: listing(url, prompt=need_password))
        self._loading = call

        def finished(result: object, err: object) -> None:
            self._loading = None
            call.wait()
            call.deleteLater()
            pending, self._pending = self._pending, None
            if pending is not None:
                self.load(pending[0], interactive=pending[1])
            if section.current() != address or pending is not None:
                return  # another list was asked for meanwhile
            if err is None:
                self.passwords.remember(url)
                section.show_listing(result)
                return
            if isinstance(err, NeedPassword) or (isinstance(err, ZtmmError) and wrong_password(err) and url.password):
                self.passwords.forget(url)
                if interactive:
                    self._ask_and_load(address, url, wrong=not isinstance(err, NeedPassword))
                    return
                section.show_failure(f"{url.display} asks for a password: press Refresh to give it")
                return
            if isinstance(err, ZtmmError):
                section.show_failure(str(err))
                return
            raise err

        call.finishedWith.connect(finished)
        call.start()

    def _ask_and_load(self, address: str, url: ServerUrl, *, wrong: bool) -> None:
        from dataclasses import replace

        from .connecting import ask_password

        password = ask_password(self.window, url, wrong=wrong)
        if password is None:
            if self.section is not None:
                self.section.show_failure(f"{url.display} asks for a password: press Refresh to give it")
            return
        self.passwords.remember(replace(url, password=password))
        self.load(address, interactive=True)

    def wait(self) -> None:
        """Block until the list has loaded (closing the window, tests)."""
        if self._loading is not None:
            self._loading.wait(15_000)

    def _activated(self, address: str, engagement: str) -> None:
        try:
            url = parse(address).with_engagement(engagement)
        except ZtmmError as err:
            QMessageBox.warning(self.window, "Cannot open engagement", str(err))
            return
        self.open_url(url)

    # -- opening and saving ----------------------------------------------------------

    def open_dialog(self) -> None:
        answer = ask_address(
            self.window,
            "Open from server",
            "The team server's address and the engagement's id on it (ztmm engagements lists them).",
            self._known(),
            engagement="",
            action="Open",
        )
        if answer is not None:
            url, notice = answer
            if notice:
                self.window.statusBar().showMessage(notice, 10000)
            self.open_url(url)

    def open_url(self, url: ServerUrl) -> bool:
        """Open the engagement ``url`` names in the window (a copy read off the UI thread). True when open."""

        if not self.window.maybe_close_engagement():
            return False
        live = self.live_enabled
        opened = self._attempt(
            f"Opening {url.display}…", url, lambda u: _open(u, live=live), "Cannot open engagement", critical=True
        )
        if opened is None:
            return False
        (copy, session), url = opened
        self.copy = copy
        self._remember_server(url)
        self.window.show_engagement(copy.engagement, read_only_reason=REVIEWER_NOTE if copy.reviewer else "")
        self._start_live(copy, session)
        self._start_watching(copy.url)
        how = (
            "your edits reach the server as you make them"
            if self.link is not None
            else "Save writes your changes there"
        )
        self.window.statusBar().showMessage(
            f"Opened {url.engagement} from the team server as {copy.role}; {how}.", 8000
        )
        return True

    def save(self) -> bool:
        """Write the copy's changes to the server; on a refusal because someone else saved, offer the merge."""
        from ...services import server_copy

        copy = self.copy
        if copy is None:
            return False
        if self._saving or self._bringing is not None:  # the autosave's, or a colleague's Save being read
            self._wait_quietly()
            if self.copy is not copy:
                return self.save()
        self._autosave.stop()
        index = self.window.undo_stack.index()
        self._saving = True
        try:
            written, _url = self._run(
                f"Saving to {copy.url.display}…",
                copy.url,
                lambda u: server_copy.save(copy, url=u, prompt=need_password),
            )
        except AskCancelled:
            return False
        except server_copy.ServerChanged as err:
            self._saving = False
            return self._offer_merge(str(err))
        except ZtmmError as err:
            QMessageBox.warning(self.window, "Not saved", str(err))
            return False
        finally:
            self._saving = False
        self._to_choose = False
        if self.window.undo_stack.index() == index:
            self.window.undo_stack.setClean()
        self.window.refresh_state()
        self.window.statusBar().showMessage(
            f"Saved to {copy.url.display} ({plural(written, 'row')} written)." if written else "Saved.", 6000
        )
        return True

    def _offer_merge(self, why: str) -> bool:
        answer = QMessageBox.warning(
            self.window,
            "Not saved",
            f"{why[:1].upper()}{why[1:]}.\n\nMerge their changes with yours? You choose for each conflict; "
            "nothing is overwritten without your choice.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Yes,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        return self._merge_and_save()

    def _merge_and_save(self) -> bool:
        self._autosave.stop()
        self._saving = True  # no autosave while the consultant merges
        try:
            done = self._merge_and_save_now()
        finally:
            self._saving = False
        if done:
            self._to_choose = False
            self._settle()
        return done

    def _merge_and_save_now(self) -> bool:
        from ...services import server_copy
        from ..deliverables.merge import MergeDialog

        copy = self.copy
        if copy is None:
            return False
        planned = self._attempt(
            f"Reading {copy.url.display}…",
            copy.url,
            lambda u: server_copy.plan_rebase(copy, url=u, prompt=need_password),
            "Not merged",
        )
        if planned is None:
            return False
        rebase: Rebase = planned[0]
        resolutions: dict[str, str] = {}
        if rebase.plan.conflicts:
            dialog = MergeDialog(
                rebase.plan,
                self.window,
                mine="On the server",
                theirs="Yours",
                prefer_theirs=True,
                title="Merge with the changes on the server",
                summary=(
                    f"{plural(len(rebase.plan.one_sided), 'change')} of yours will be written to the server; "
                    f"{plural(len(rebase.plan.conflicts), 'conflict')} — you and someone else changed the same thing "
                    "— keep yours unless you choose the server's."
                ),
            )
            accepted = dialog.exec()
            resolutions = dialog.resolutions()
            dialog.deleteLater()
            if not accepted:
                rebase.copy.close()
                self.window.statusBar().showMessage("Not saved; your changes are still here, unsaved.", 8000)
                return False
        try:
            result, _url = self._run(
                f"Saving to {copy.url.display}…",
                copy.url,
                lambda u: server_copy.rebase(rebase, resolutions, prompt=need_password),
            )
        except server_copy.ServerChanged as err:
            rebase.copy.close()
            return self._offer_merge(str(err))  # someone saved again meanwhile: the same offer, from the top
        except ZtmmError as err:
            rebase.copy.close()
            QMessageBox.warning(self.window, "Not saved", str(err))
            return False
        old, self.copy = copy, rebase.copy
        self.window.show_engagement(rebase.copy.engagement)
        if self.link is not None:  # what the merge brought in from this window's work goes live
            self.link.mirror.rebind(rebase.copy.engagement, rebase.values)
            self.link.attach()
        old.close()
        taken = len(result.kept) if result is not None else 0
        self.window.statusBar().showMessage(
            f"Saved to {rebase.copy.url.display} with the changes made there merged in"
            + (f" ({plural(taken, 'conflict')} kept as the server had it)." if taken else "."),
            10000,
        )
        return True

    # -- others' changes, as they are committed -----------------------------------------

    def _start_watching(self, url: ServerUrl) -> None:
        from ...server.watch import Watch

        self._stop_watching()
        self._watch = Watch(url, self.remoteChanged.emit)

    def _stop_watching(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()
        if self._rereading is not None:
            self._rereading.wait(30_000)
        self._autosave.stop()
        for call in list(self._background):  # an autosave or a read under way ends before the copy goes
            call.wait(30_000)

    @property
    def watching(self) -> bool:
        """True once the open server engagement is watched (a change committed from now on is brought in)."""
        return self._watch is not None and self._watch.listening.is_set()

    def _remote_changed(self, remote: Remote) -> None:
        """On the UI thread: someone committed a change to the open engagement on the server."""
        copy = self.copy
        if copy is not None and remote.table == COMMENT_TABLE:  # a comment: only the comments are read again
            self.comments.reload()
            return
        if copy is None or self._watch is None or remote.edit_id in copy.sent:
            return  # closed meanwhile, or this window's own save
        if self.link is not None and remote.table != "*":
            return  # a live edit: the mirror brings it in, field by field
        if self.link is not None:
            self._bring_in(remote.author)
            return
        if self._rereading is not None:
            self._reread_again = remote.author
            return
        if self.window.modified:
            self._keep_local(remote.author)
            return
        self._reread(remote.author)

    def _bring_in(self, author: str) -> None:
        """Live: a colleague's Save is brought into the open copy in place (``server_copy.read_shared`` off
        the UI thread, ``take_shared`` on it), the window keeping the function, the scroll, the cursor and
        any typing. When the copy has unsaved work of what Save writes, the autosave brings the two together."""
        from ...services import server_copy

        copy = self.copy
        if copy is None:
            return
        if self._saving or self._bringing is not None:
            self._bring_again = author  # after the save (or the read) under way
            return
        if server_copy.pending(copy):
            self._schedule_autosave()  # refused as someone else saved, then merged (``_autorebase``)
            return
        edits = self._edits

        def read(result: object, err: object) -> None:
            self._bringing = None
            shared: server_copy.Shared | None = result  # type: ignore[assignment]
            again, self._bring_again = self._bring_again, None
            if err is not None or shared is None:
                message = str(err) if isinstance(err, ZtmmError) else "the server could not be read"
                self.window.statusBar().showMessage(f"Changed on the server; not brought in: {message}", 10000)
            elif self.copy is not copy:
                shared.discard()
                return
            elif self._edits != edits and server_copy.pending(copy):
                shared.discard()  # the consultant began an edit meanwhile: the autosave merges the two
                self._schedule_autosave()
            elif shared.fingerprint == copy.shared_fingerprint:
                shared.discard()  # nothing of what Save writes changed
            else:
                self._take(copy, shared)
                who = f"{author}'s" if author else "a"
                self.window.statusBar().showMessage(f"Brought in {who} Save.", 8000)
            if again is not None:
                self._bring_in(again)

        self._bringing = self._call(lambda: server_copy.read_shared(copy, prompt=None), read)

    def _take(self, copy: ServerCopy, shared: object) -> None:
        """Write what was read of the server into the open copy and show it in place."""
        from ...services import server_copy

        assert isinstance(shared, server_copy.Shared)
        self.window.tasks.wait()
        try:
            changes = server_copy.take_shared(copy, shared)
        except ZtmmError as err:
            self.window.statusBar().showMessage(f"Changed on the server; not brought in: {err}", 10000)
            return
        self.window.show_brought_in(changes)
        self._settle()

    def _keep_local(self, author: str) -> None:
        who = f" by {author}" if author else ""
        self.window.statusBar().showMessage(f"Changed on the server{who}; Save to merge their changes with yours.")

    def _reread(self, author: str) -> None:
        """Read the engagement as the server has it now into a new copy, off the UI thread, then show it."""
        from ...services import server_copy

        copy = self.copy
        if copy is None:
            return
        call = Call(lambda: server_copy.open_copy(copy.url, prompt=None))
        self._rereading = call

        def finished(result: object, err: object) -> None:
            call.wait()
            call.deleteLater()
            self._rereading = None
            again, self._reread_again = self._reread_again, None
            fresh: ServerCopy | None = result  # type: ignore[assignment]
            if err is not None or fresh is None:
                message = str(err) if isinstance(err, ZtmmError) else "the server could not be read"
                self.window.statusBar().showMessage(f"Changed on the server; not brought in: {message}", 10000)
                return
            if self.copy is not copy or self._watch is None:  # closed, reverted or rebased meanwhile
                fresh.close()
                if again is not None and self.copy is not None and self._watch is not None:
                    self._reread(again)  # a change to the copy opened since
                return
            if self.window.modified:  # the consultant began an edit meanwhile: it is kept
                fresh.close()
                self._keep_local(author)
                return
            fresh.sent = copy.sent
            self._show_fresh(fresh)
            who = f" by {author}" if author else ""
            self.window.statusBar().showMessage(f"Brought in the changes made on the server{who}.", 8000)
            if again is not None:
                self._reread(again)

        call.finishedWith.connect(finished)
        call.start()

    def _show_fresh(self, fresh: ServerCopy) -> None:
        """Show ``fresh`` in place of the open copy, where the consultant was: function, tab, scroll."""
        old = self.copy
        bench = self.window.workbench
        function = tab = scroll = tree_scroll = None
        if bench is not None:
            function = bench.page.current_function_id
            tab = bench.tabs.currentIndex()
            scroll = bench.page.scroll_area.verticalScrollBar().value()
            tree_scroll = bench.panel.tree.verticalScrollBar().value()
        self.window.tasks.wait()
        self.copy = fresh
        self.window.show_engagement(fresh.engagement, read_only_reason=REVIEWER_NOTE if fresh.reviewer else "")
        if self.link is not None:
            fresh.live = True
            self.link.mirror.rebind(fresh.engagement)
            self.link.attach()
        if old is not None:
            old.close()
        bench = self.window.workbench
        if bench is None:
            return
        if function is not None:
            bench.select_function(function)
        if tab is not None:
            bench.tabs.setCurrentIndex(tab)
        if scroll is not None:
            bench.page.scroll_area.verticalScrollBar().setValue(scroll)
        if tree_scroll is not None:
            bench.panel.tree.verticalScrollBar().setValue(tree_scroll)

    # -- merge, publish ----------------------------------------------------------------

    def _ask_engagement(self, title: str, intro: str, action: str, engagement: str = "") -> ServerUrl | None:
        answer = ask_address(
            self.window,
            title,
            intro,
            self._known(),
            engagement=engagement,
            action=action,
        )
        if answer is None:
            return None
        url, notice = answer
        if notice:
            self.window.statusBar().showMessage(notice, 10000)
        return url

    def merge_from_server(self) -> None:
        """Bring a server engagement's work into the open engagement (the merge dialog, one undo step)."""
        from ...services import server_copy
        from ..deliverables.merge import merge_from

        engagement = self.window.engagement
        if engagement is None or engagement.readonly:
            return
        url = self._ask_engagement(
            "Merge from server",
            "Bring the work in an engagement on the team server into the one open here.",
            "Merge",
        )
        if url is None:
            return
        read = self._attempt(
            f"Reading {url.display}…", url, lambda u: server_copy.snapshot_file(u, prompt=need_password), "Not merged"
        )
        if read is None:
            return
        path, url = read
        self._remember_server(url)
        self._snapshots.append(path)
        merge_from(self.window, path)

    def _saved_file(self, doing: str) -> Path | None:
        """The open engagement's file, saved first when it has changes (asked)."""
        engagement = self.window.engagement
        if engagement is None or self.copy is not None:
            return None
        if self.window.modified and not engagement.readonly:
            answer = QMessageBox.question(
                self.window,
                doing,
                f"Save the changes to {engagement.path.name} first? {doing} takes the file as it is saved.",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save,
            )
            if answer != QMessageBox.StandardButton.Save or not self.window.save_now():
                return None
        return engagement.path

    def merge_into_server(self) -> None:
        """Bring the open file's work into an engagement on the server (the merge dialog first)."""
        from ...services import server_copy
        from ..deliverables.merge import THEIRS, MergeDialog

        path = self._saved_file("Merge into server")
        if path is None:
            return
        url = self._ask_engagement(
            "Merge into server",
            f"Bring the work in {path.name} into an engagement on the team server (the file is only read).",
            "Compare",
        )
        if url is None:
            return
        compared = self._attempt(
            f"Comparing with {url.display}…",
            url,
            lambda u: server_copy.merge_into_server(u, path, dry_run=True, prompt=need_password),
            "Not merged",
        )
        if compared is None:
            return
        planned, url = compared
        self._remember_server(url)
        plan: MergePlan = planned.plan
        if not plan:
            QMessageBox.information(
                self.window,
                "Nothing to merge",
                f"{path.name} holds nothing the server's engagement lacks.",
            )
            return
        dialog = MergeDialog(
            plan,
            self.window,
            mine="On the server",
            theirs="This file",
            title=f"Merge {path.name} into {url.engagement}",
            summary=(
                f"{plural(len(plan.one_sided), 'change')} made only in {path.name} will be written to the server; "
                f"{plural(len(plan.conflicts), 'conflict')} — both changed the same thing differently — keep the "
                "server's value unless you choose this file's."
            ),
        )
        accepted = dialog.exec()
        theirs = [key for key, choice in dialog.resolutions().items() if choice == THEIRS]
        dialog.deleteLater()
        if not accepted:
            return
        merged = self._attempt(
            f"Merging into {url.display}…",
            url,
            lambda u: server_copy.merge_into_server(u, path, theirs=theirs, prompt=need_password),
            "Not merged",
        )
        if merged is None:
            return
        done, url = merged
        self.window.statusBar().showMessage(
            f"Merged {plural(len(done.plan.one_sided), 'change')} from {path.name} into {url.display}; "
            f"{plural(len(theirs), 'conflict')} taken from the file.",
            10000,
        )
        self.load(url.with_engagement(None).address, interactive=False)

    def publish(self) -> None:
        """Copy the open engagement file to a new engagement on the server (the consultant becomes its lead)."""
        from ...services import server_copy

        path = self._saved_file("Publish to server")
        engagement = self.window.engagement
        if path is None or engagement is None:
            return
        url = self._ask_engagement(
            "Publish to server",
            f"Copy {path.name} — everything in it, evidence included — to a new engagement on the team server; "
            "you become its lead. Choose a neutral id (other users of the server can see ids, never the content).",
            "Publish",
            suggested_id(engagement.meta().client),
        )
        if url is None:
            return
        sent = self._attempt(
            f"Publishing to {url.display}…",
            url,
            lambda u: server_copy.publish(path, u, prompt=need_password),
            "Not published",
        )
        if sent is None:
            return
        published, url = sent
        address = self._remember_server(url)
        self.window.statusBar().showMessage(
            f"Published {path.name} to {url.display}; open it with File → Open from server.", 10000
        )
        self.load(address, interactive=False)
        del published  # its figures are the CLI's to print


def _open(url: ServerUrl, *, live: bool) -> tuple[ServerCopy, object]:
    """Off the UI thread: the copy, and for an assessor or a lead a live session beside it (None when
    the server refuses one: the window then saves the copy whole, as before)."""
    from ...server.connect import ServerError
    from ...server.live import LiveSession
    from ...services import server_copy

    copy = server_copy.open_copy(url, prompt=need_password)
    if not live or copy.reviewer:
        return copy, None
    try:
        return copy, LiveSession.open(url, prompt=None)
    except ServerError:
        return copy, None
