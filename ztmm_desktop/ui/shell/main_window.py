"""The main window: start page, or the workbench of one open engagement.

The workbench shows the model's tree (left), the function page and the
dashboard (centre) and the guidance pane (right). The window owns the
document life cycle (new, open, save, save as, revert, recent, close,
recovery of unsaved work) and the undo stack: views emit edit requests, the
window turns them into undoable commands, and refreshes the views from the
``Changes`` each command reports. The window never touches tables; it calls
the services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt, Signal, SignalInstance
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence, QPalette, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import BadInput, DocumentLocked, EngagementFileError, ReadOnlyLocation, ZtmmError
from ...core.stages import RATED_STAGES, Stage
from ...core.words import plural
from ...services import passphrase
from ..common.settings import Settings
from ..common.tasks import TaskRunner
from ..common.theme import apply_workshop_mode, workshop_mode_on
from ..deliverables.controller import Deliverables
from ..team.controller import TeamActions
from ..tree.model import FUNCTION_ID_ROLE, QUICK_FILTERS, STAGE_ROLE, EngagementTreeModel, TreeFilterProxy, TreeRows
from .encryption import EncryptionActions, ask_passphrase
from .start_page import StartPage

# The window paints before the services (SQLAlchemy, SQLModel) and the views over an engagement are
# imported: they load after the first frame, so each method imports what it uses.
if TYPE_CHECKING:
    from ...core.comments import FindingComment
    from ...services.engagement import Changes, Engagement
    from ...services.evidence import Attached, EvidenceLink
    from ..editing.edits import Place
    from ..editing.requests import AnyRequest
    from ..evidence.attach import AttachFlow
    from ..function.guidance import GuidanceBodies
    from ..function.page import PageData
    from .opening import OpeningPage

FILE_FILTER = "ZTMM engagements (*.ztmm);;All files (*)"
DOCUMENT_SUFFIX = ".ztmm"
#: The splitter's panes; the two beside the centre give way to it, shown or hidden from the View menu.
TREE_PANE, CENTRE_PANE, GUIDANCE_PANE = 0, 1, 2
SIDE_PANES = {TREE_PANE: "tree", GUIDANCE_PANE: "guidance"}
#: The share of the window's width each pane gets at first (tree, centre, guidance).
PANE_SHARES = (0.29, 0.49, 0.22)


@dataclass(frozen=True)
class _Prepared:
    """An engagement just opened, with what its workbench shows first, computed off the UI thread."""

    engagement: Engagement
    rows: TreeRows  # the tree's rows, with their texts and marks
    page: PageData | None  # the first function in scope, as its page shows it
    guidance: GuidanceBodies | None  # and as the guidance pane shows it

    @classmethod
    def of(cls, engagement: Engagement, palette: QPalette) -> _Prepared:
        """Read and compute on the calling thread (a worker); the engagement is closed if that fails.

        The views' modules are imported here too (the first open of a session), not on the UI thread."""
        from ..dashboard import progress, view  # noqa: F401
        from ..evidence import pane  # noqa: F401
        from ..function.guidance import GuidanceBodies
        from ..function.page import PageData

        try:
            first = next(iter(engagement.functions_in_scope()), None)
            return cls(
                engagement,
                TreeRows.of(engagement),
                PageData.read(engagement, first) if first is not None else None,
                GuidanceBodies.of(engagement, first.id, None, palette) if first is not None else None,
            )
        except BaseException:
            engagement.close()
            raise


class TreePanel(QWidget):
    """The filter box, the quick filters and the tree."""

    def __init__(self, parent: QWidget | None = None) -> None:
        from ..tree.view import EngagementTreeView

        super().__init__(parent)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("filterEdit")
        self.filter_edit.setPlaceholderText("Filter: names and stage texts (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.quick = QComboBox()
        self.quick.setObjectName("quickFilter")
        self.quick.addItem("All functions", None)
        for key in QUICK_FILTERS:
            self.quick.addItem(key.capitalize(), key)
        self.tree = EngagementTreeView()
        self.tree.setObjectName("tree")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.filter_edit, 3)
        row.addWidget(self.quick, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addLayout(row)
        layout.addWidget(self.tree, 1)


class Workbench(QWidget):
    """The views of one open engagement, wired together."""

    #: A side pane was shown, hidden or resized.
    panesChanged = Signal()

    def __init__(
        self,
        engagement: Engagement,
        parent: QWidget | None = None,
        *,
        rows: TreeRows | None = None,
        stepwise: bool = False,
    ) -> None:
        """``rows``: the tree's rows, computed beforehand (off the UI thread); ``stepwise``: the views are
        built by the caller, one short step per ``next(build_steps)`` (``tasks.in_steps``), and the
        workbench is not shown or used before they are exhausted."""
        super().__init__(parent)
        self.engagement = engagement
        self.build_steps: Iterator[str] = self._build_steps(rows)
        if not stepwise:
            for _ in self.build_steps:
                pass

    def _build_steps(self, rows: TreeRows | None) -> Iterator[str]:
        """Build the views, yielding between pieces that each take a few tens of ms at most (what is next)."""
        from ..dashboard.progress import ProgressBanner, ProgressView
        from ..dashboard.view import Dashboard
        from ..evidence.pane import EvidencePane
        from ..function.guidance import GuidancePane
        from ..function.page import FunctionPage

        engagement = self.engagement
        # The frame first, then each view built into its place in it: moving a built view into another
        # widget restyles every widget in it (a tenth of a second for the function page).
        self.banner = QLabel()
        self.banner.setObjectName("readOnlyBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "QLabel#readOnlyBanner { background: #fff4ce; color: #3b2f00; border: 1px solid #e0c060;"
            " padding: 6px 10px; }"
        )
        self.banner.setVisible(False)
        self.splitter = QSplitter()
        self.splitter.setObjectName("mainSplitter")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.panel = TreePanel()
        self.splitter.addWidget(self.panel)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centreTabs")
        self.splitter.addWidget(self.tabs)
        yield "the tree"
        self.model = EngagementTreeModel(engagement, self, rows=rows)
        self.proxy = TreeFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.panel.tree.setModel(self.proxy)
        self.panel.tree.expandToDepth(0)
        yield "the function page"
        self.page = FunctionPage(engagement, stepwise=True)
        self.page.setObjectName("functionPage")
        self.tabs.addTab(self.page, "Function")
        yield from ("the function page" for _ in self.page.build_steps)
        self.evidence = EvidencePane(engagement)
        self.evidence.setObjectName("evidencePane")
        self.tabs.addTab(self.evidence, "Evidence")
        yield "the dashboard"
        self.dashboard_tab = QWidget()  # the progress line, then the painted dashboard
        self.tabs.addTab(self.dashboard_tab, "Dashboard")
        dashboard_layout = QVBoxLayout(self.dashboard_tab)
        dashboard_layout.setContentsMargins(0, 0, 0, 0)
        self.progress_banner = ProgressBanner(engagement)
        dashboard_layout.addWidget(self.progress_banner)
        self.dashboard_scroll = QScrollArea()
        self.dashboard_scroll.setWidgetResizable(True)
        dashboard_layout.addWidget(self.dashboard_scroll, 1)
        self.dashboard = Dashboard(engagement)
        self.dashboard.setObjectName("dashboard")
        self.dashboard_scroll.setWidget(self.dashboard)
        yield "the progress"
        self.progress = ProgressView(engagement)
        self.progress.setObjectName("progressView")
        self.tabs.addTab(self.progress, "Progress")
        self.progress_banner.showRequested.connect(lambda: self.tabs.setCurrentWidget(self.progress))
        yield "the guidance"
        self.guidance = GuidancePane(engagement)
        self.guidance.setObjectName("guidancePane")
        self.splitter.addWidget(self.guidance)
        yield "the panes"
        # The centre takes most of a change of the window's width; the tree and the guidance give way
        # (drag them shut, or View → Model tree / Guidance), the centre never closes.
        self.splitter.setStretchFactor(TREE_PANE, 1)
        self.splitter.setStretchFactor(CENTRE_PANE, 3)
        self.splitter.setStretchFactor(GUIDANCE_PANE, 1)
        self.splitter.setCollapsible(CENTRE_PANE, False)
        self.fit_panes(1440)
        self._pane_widths: dict[int, int] = {}  # a hidden pane's width, for when it is shown again
        self.splitter.splitterMoved.connect(lambda _pos, _index: self._panes_moved())
        self.panel.filter_edit.textChanged.connect(self._filter_changed)
        self.panel.quick.currentIndexChanged.connect(self._filter_changed)
        self.panel.tree.selectionModel().currentChanged.connect(self._selected)
        self._dashboard_stale = self._evidence_stale = self._progress_stale = False
        self._banner_stale = True  # compared with the newest baseline when the dashboard is first shown
        self._selection: tuple[str, Stage | None] | None = None
        self.tabs.currentChanged.connect(self._refresh_shown_tab)
        self.set_read_only(engagement.readonly, "")

    @property
    def tree(self) -> QWidget:
        return self.panel.tree

    # -- the panes beside the centre -------------------------------------------------

    def fit_panes(self, width: int) -> None:
        """Share ``width`` between the panes as on a first start."""
        self.splitter.setSizes([round(width * share) for share in PANE_SHARES])

    def pane_shown(self, pane: int) -> bool:
        return not self.splitter.widget(pane).isHidden()

    def hidden_panes(self) -> list[str]:
        return [name for pane, name in SIDE_PANES.items() if not self.pane_shown(pane)]

    def show_pane(self, pane: int, shown: bool) -> None:
        """Show or hide the tree or the guidance pane; the centre takes or gives the width.

        A hidden pane is hidden, not only shut to no width: the keyboard's focus never goes into it.
        """
        widget = self.splitter.widget(pane)
        if self.pane_shown(pane) == shown:
            return
        sizes = self.splitter.sizes()
        if shown:
            width = self._pane_widths.get(pane) or round(sum(sizes) * PANE_SHARES[pane])
            sizes[CENTRE_PANE] = max(0, sizes[CENTRE_PANE] - width)
            sizes[pane] = width
            widget.show()
            self.splitter.refresh()  # the splitter takes the shown pane in now, not after these sizes
        else:
            focused = QApplication.focusWidget()
            if focused is not None and (focused is widget or widget.isAncestorOf(focused)):
                self.tabs.currentWidget().setFocus()
            if sizes[pane] > 0:
                self._pane_widths[pane] = sizes[pane]
            sizes[CENTRE_PANE] += sizes[pane]
            sizes[pane] = 0
            widget.hide()
        self.splitter.setSizes(sizes)
        self.panesChanged.emit()

    def _panes_moved(self) -> None:
        """A pane dragged shut is hidden, as from the View menu."""
        for pane, size in enumerate(self.splitter.sizes()):
            if pane in SIDE_PANES and size == 0 and self.pane_shown(pane):
                self.show_pane(pane, False)
        self.panesChanged.emit()

    def set_read_only(self, read_only: bool, reason: str) -> None:
        self.page.set_read_only(read_only)
        self.evidence.set_read_only(read_only)
        self.progress.set_read_only(read_only)
        if read_only:
            why = f" {reason}" if reason else ""
            self.banner.setText(
                f"Read-only.{why} You can look and export; to make changes, save a copy with File → Save As."
            )
        self.banner.setVisible(read_only)

    def _filter_changed(self) -> None:
        self.proxy.set_text(self.panel.filter_edit.text())
        self.proxy.set_quick_filter(self.panel.quick.currentData())
        if self.panel.filter_edit.text() or self.panel.quick.currentData():
            self.panel.tree.expandAll()

    def _selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        function_id = current.data(FUNCTION_ID_ROLE)
        if not function_id:
            return
        stage_value = current.data(STAGE_ROLE)
        stage = Stage(stage_value) if stage_value is not None else None
        if (function_id, stage) == self._selection and self.page.current_function_id == function_id:
            return  # the same row again (the tree was rebuilt and put it back): the page stays as it is
        self.page.show_function(function_id, stage, take_focus=False)  # arrows keep moving in the tree
        self.guidance.show_function(function_id, stage)
        self._selection = (function_id, stage)
        self._evidence_stale = True
        if self.tabs.currentWidget() is self.dashboard_tab:
            self.tabs.setCurrentWidget(self.page)
        self._refresh_evidence_if_shown()

    def show_first(
        self, function_id: str, page: PageData | None = None, guidance: GuidanceBodies | None = None
    ) -> Iterator[None]:
        """Show ``function_id`` on the page and in the guidance before the workbench is shown (what they
        show made beforehand: ``page``, ``guidance``), so that selecting it in the tree finds it shown.
        The guidance's text is laid out only when ``show_first_text`` is called, once the pane is on screen."""
        if page is not None:
            self.page.preread(page)
        self.page.show_function(function_id, None, take_focus=False)
        self._selection = (function_id, None)
        self._evidence_stale = True
        yield
        self.guidance.hold_html(True)
        if guidance is not None and (guidance.function_id, guidance.stage) == self._selection:
            self.guidance.show_prepared(guidance)
        else:
            self.guidance.show_function(function_id, None)

    def show_first_text(self) -> None:
        """The guidance's text of the function ``show_first`` showed."""
        self.guidance.hold_html(False)

    def select_function(self, function_id: str, stage: Stage | None = None) -> None:
        source = (
            self.model.index_for_stage(function_id, stage)
            if stage is not None
            else self.model.index_for_function(function_id)
        )
        index = self.proxy.mapFromSource(source)
        if not index.isValid():  # filtered out: show everything again
            self.panel.filter_edit.clear()
            self.panel.quick.setCurrentIndex(0)
            index = self.proxy.mapFromSource(source)
        self.panel.tree.setCurrentIndex(index)
        self.panel.tree.scrollTo(index)

    def show_place(self, place: Place) -> None:
        """Show where an edit landed: its tab, its function in the tree and on the page, its control marked."""
        from ..editing.edits import EVIDENCE_TAB, FUNCTION_TAB, PROGRESS_TAB

        if place.tab == PROGRESS_TAB:
            self.tabs.setCurrentWidget(self.progress)
            return
        if place.function_id is not None and self.page.current_function_id != place.function_id:
            self.select_function(place.function_id)
        self.tabs.setCurrentWidget(self.evidence if place.tab == EVIDENCE_TAB else self.page)
        if place.tab == FUNCTION_TAB and self.page.current_function_id == place.function_id:
            self.page.reveal(place.field, place.stage)

    def refresh(self, changes: Changes, *, typed: AnyRequest | None = None) -> None:
        """Show ``changes``; ``typed``: they are text kept at a pause in typing, already on the page.

        Typed notes and owner show nowhere but on the page; a typed comment also
        in the tree (its stage row's tip and search text) and the guidance's next steps.
        """
        from ..editing.requests import SetComment

        if typed is None:
            self.model.refresh(changes)
            self.page.refresh()
            self.guidance.refresh()
        else:
            self.page.refresh_typed()
            if isinstance(typed, SetComment):
                self.model.refresh_comments(typed.function_id)
                self.guidance.refresh()
        # The dashboard, progress and the evidence list re-read the file: only when they are on screen.
        self._dashboard_stale = self._evidence_stale = self._progress_stale = self._banner_stale = True
        self._refresh_shown_tab()

    def _refresh_shown_tab(self) -> None:
        self._refresh_dashboard_if_shown()
        self._refresh_evidence_if_shown()
        if self._progress_stale and self.tabs.currentWidget() is self.progress:
            self.progress.refresh()
            self._progress_stale = False

    def _refresh_dashboard_if_shown(self) -> None:
        if self._dashboard_stale and self.tabs.currentWidget() is self.dashboard_tab:
            self.dashboard.refresh()
            self._dashboard_stale = False
        if self._banner_stale and self.tabs.currentWidget() is self.dashboard_tab:
            self.progress_banner.refresh()
            self._banner_stale = False

    def _refresh_evidence_if_shown(self) -> None:
        if self._evidence_stale and self.tabs.currentWidget() is self.evidence and self._selection is not None:
            function_id, stage = self._selection
            if self.evidence.function_id == function_id and self.evidence.stage == stage:
                self.evidence.refresh()
            else:
                self.evidence.show_function(function_id, stage)
            self._evidence_stale = False

    def focused_stage(self) -> tuple[str, Stage] | None:
        """The stage row selected in the tree, if it is one that is rated."""
        index = self.panel.tree.currentIndex()
        stage_value = index.data(STAGE_ROLE)
        function_id = index.data(FUNCTION_ID_ROLE)
        if function_id and stage_value is not None and Stage(stage_value) in RATED_STAGES:
            return function_id, Stage(stage_value)
        return None

    def attach_target(self) -> EvidenceLink | None:
        """Where pasted evidence goes: the selected function, at the stage in view (the evidence tab: its own)."""
        from ...services.evidence import EvidenceLink

        if self.tabs.currentWidget() is self.evidence:
            return self.evidence.current_target()
        if self._selection is None:
            return None
        function_id, stage = self._selection
        if self.page.current_function_id == function_id:
            stage = self.page.stage_in_view
        return EvidenceLink(function_id=function_id, stage=stage)


class MainWindow(QMainWindow):
    """The application window."""

    engagementChanged = Signal()

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.engagement: Engagement | None = None
        self.workbench: Workbench | None = None
        self.opening: OpeningPage | None = None  # at start, until the engagement asked for is open
        self._prepared: _Prepared | None = None  # computed off the UI thread by _open, taken by _set_engagement
        self.recovered = False
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._update_title)
        self.undo_stack.indexChanged.connect(self._update_title)
        self.tasks = TaskRunner(self)
        self._attach_flow: AttachFlow | None = None  # made when first used (it needs the services)
        self.start_page = StartPage()
        self.start_page.newRequested.connect(self.new_engagement)
        self.start_page.openRequested.connect(self.open_dialog)
        self.start_page.demoRequested.connect(self.open_demo)
        self.start_page.recentActivated.connect(self.open_recent)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.setCentralWidget(self.stack)
        # The roll-up summary is the status bar's own widget, not a message: a passing message (a menu's
        # hint, "Saved") covers it for a moment and it comes back by itself, never cleared until the next edit.
        self.summary = QLabel()
        self.summary.setObjectName("rollupSummary")
        self.statusBar().addWidget(self.summary, 1)
        self.marking = QLabel()
        self.marking.setObjectName("marking")
        self.statusBar().addPermanentWidget(self.marking)
        self.workshop_indicator = QLabel()
        self.workshop_indicator.setObjectName("workshopIndicator")
        self.workshop_indicator.setStyleSheet("font-weight: 600; color: #b3261e")
        self.workshop_indicator.hide()
        self.statusBar().addPermanentWidget(self.workshop_indicator)
        self._build_menus()
        self._refresh_recent()
        self.team.attach(self.start_page.server_section)
        self._update_title()
        # An encrypted file's passphrase is asked here; a keyring that cannot keep it is one passing line.
        passphrase.set_asker(
            lambda path, wrong: ask_passphrase(self, path, wrong),
            lambda message: self.statusBar().showMessage(message[:1].upper() + message[1:] + ".", 10000),
        )
        self.resize(1440, 900)
        geometry = self.settings.bytes_value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        workshop = self.settings.workshop_mode()
        self.workshop_action.setChecked(workshop)
        if workshop or workshop_mode_on():  # the normal look needs nothing done (a tenth of the first frame)
            apply_workshop_mode(workshop)

    @property
    def attach_flow(self) -> AttachFlow:
        """Attaching evidence: files and images, asked about and stored off the UI thread."""
        if self._attach_flow is None:
            from ..editing.requests import LinkEvidence
            from ..evidence.attach import AttachFlow

            self._attach_flow = AttachFlow(
                self,
                self.tasks,
                lambda: self.engagement,
                lambda i, links: self.request(LinkEvidence(i, links)),
                self._attached,
            )
        return self._attach_flow

    # -- menus -------------------------------------------------------------------

    def _action(self, text: str, slot: object, shortcut: QKeySequence | str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    # -- the narrow interface the deliverables see (common.host.WindowHost) --------

    def add_action(self, text: str, slot: object, shortcut: QKeySequence | str | None = None) -> QAction:
        return self._action(text, slot, shortcut)

    def show_changes(self, changes: Changes) -> None:
        self._changed(changes)

    def show_edit_failure(self, err: ZtmmError) -> None:
        self._edit_failed(err)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.new_action = self._action("&New engagement…", self.new_engagement, QKeySequence.StandardKey.New)
        self.open_action = self._action("&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.demo_action = self._action("Open &demo engagement", self.open_demo)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.save_action = self._action("&Save", self.save, QKeySequence.StandardKey.Save)
        self.save_as_action = self._action("Save &as…", self.save_as, QKeySequence.StandardKey.SaveAs)
        self.revert_action = self._action("Re&vert to saved", self.revert)
        self.properties_action = self._action("Engagement &properties…", self.edit_properties)
        self.report_contents_action = self._action("Report &contents…", lambda: self.edit_report_contents())
        self.close_action = self._action("&Close engagement", self.close_engagement, QKeySequence.StandardKey.Close)
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        file_menu.insertAction(self.recent_menu.menuAction(), self.new_action)
        file_menu.insertAction(self.recent_menu.menuAction(), self.open_action)
        file_menu.insertAction(self.recent_menu.menuAction(), self.demo_action)
        file_menu.addSeparator()
        for action in (self.save_action, self.save_as_action, self.revert_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.properties_action)
        file_menu.addAction(self.report_contents_action)
        file_menu.addSeparator()
        self.encryption = EncryptionActions(self)
        self.encryption.add_to(file_menu)
        file_menu.addSeparator()
        self.deliverables = Deliverables(self)
        file_menu.addAction(self.close_action)
        self.deliverables.add_to(file_menu, self.close_action)
        file_menu.addAction(self.quit_action)
        self.team = TeamActions(self)
        self.team.add_to(file_menu, self.open_action, self.deliverables.merge_action)

        edit_menu = bar.addMenu("&Edit")
        # Not the stack's own actions: undo and redo first keep the text being typed, and then show what they did.
        self.undo_action = self._action("&Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action("&Redo", self.redo)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        # Their text names the change at hand; Help → Keyboard shortcuts reads what they do from here.
        self.undo_action.setWhatsThis("Undo the last change")
        self.redo_action.setWhatsThis("Redo the change undone")
        self._follow_stack(self.undo_action, "&Undo", self.undo_stack.canUndoChanged, self.undo_stack.undoTextChanged)
        self._follow_stack(self.redo_action, "&Redo", self.undo_stack.canRedoChanged, self.undo_stack.redoTextChanged)
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        # Ctrl+V from anywhere but a text box (which takes Ctrl+V first) attaches the clipboard's image.
        self.paste_evidence_action = self._action(
            "&Paste screenshot as evidence", self.paste_evidence, QKeySequence.StandardKey.Paste
        )
        edit_menu.addAction(self.paste_evidence_action)
        edit_menu.addSeparator()
        self.find_action = self._action("&Filter the tree", self.focus_filter, QKeySequence.StandardKey.Find)
        edit_menu.addAction(self.find_action)
        edit_menu.addSeparator()
        self.assessor_action = self._action("Your &name and organization…", lambda: self.edit_assessor())
        self.assessor_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        edit_menu.addAction(self.assessor_action)

        tools_menu = bar.addMenu("&Tools")
        self.verify_action = self._action("&Verify evidence", self.verify_evidence)
        self.pack_action = self.deliverables.pack_action
        self.freeze_action = self._action("&Freeze baseline…", self.freeze_baseline)
        tools_menu.addAction(self.freeze_action)
        self.workshops_action = self._action("&Workshops…", self.manage_workshops)
        tools_menu.addAction(self.workshops_action)
        tools_menu.addSeparator()
        tools_menu.addAction(self.verify_action)
        tools_menu.addAction(self.pack_action)

        view_menu = bar.addMenu("&View")
        self.function_view_action = self._action("&Function page", lambda: self.show_tab(0), "Ctrl+1")
        self.evidence_view_action = self._action("&Evidence", lambda: self.show_tab(1), "Ctrl+2")
        self.dashboard_action = self._action("&Dashboard", lambda: self.show_tab(2), "Ctrl+3")
        self.progress_action = self._action("&Progress since a baseline", lambda: self.show_tab(3), "Ctrl+4")
        self.workshop_action = self._action("&Workshop mode (large, high contrast)", self.toggle_workshop, "F11")
        self.workshop_action.setCheckable(True)
        self.tree_pane_action = self._action("Model &tree", lambda on: self._show_pane(TREE_PANE, on), "Ctrl+Shift+T")
        self.guidance_pane_action = self._action(
            "&Guidance", lambda on: self._show_pane(GUIDANCE_PANE, on), "Ctrl+Shift+G"
        )
        for action in (self.tree_pane_action, self.guidance_pane_action):
            action.setCheckable(True)
            action.setChecked(True)
        view_menu.addAction(self.function_view_action)
        view_menu.addAction(self.evidence_view_action)
        view_menu.addAction(self.dashboard_action)
        view_menu.addAction(self.progress_action)
        view_menu.addSeparator()
        self.next_unassessed_action = self._action("&Next function not assessed", self.next_not_assessed)
        self.next_unassessed_action.setShortcuts([QKeySequence("F8"), QKeySequence("Ctrl+J")])
        self.tree_focus_action = self._action("Go to the &tree", self.focus_tree)
        self.tree_focus_action.setShortcuts([QKeySequence("F6"), QKeySequence("Ctrl+T")])
        view_menu.addAction(self.next_unassessed_action)
        view_menu.addAction(self.tree_focus_action)
        view_menu.addAction(self.tree_pane_action)
        view_menu.addAction(self.guidance_pane_action)
        view_menu.addSeparator()
        view_menu.addAction(self.workshop_action)

        help_menu = bar.addMenu("&Help")
        self.guide_action = self._action("&User guide", self.show_user_guide, QKeySequence.StandardKey.HelpContents)
        self.shortcuts_action = self._action("&Keyboard shortcuts", self.show_shortcuts, "Ctrl+/")
        help_menu.addAction(self.guide_action)
        help_menu.addAction(self.shortcuts_action)
        help_menu.addSeparator()
        help_menu.addAction(self._action("&About ZTMM Workbench", self.about))
        self._update_actions()

    def _follow_stack(self, action: QAction, verb: str, can: SignalInstance, text: SignalInstance) -> None:
        """Enable and name ``action`` as the undo stack says ("Undo Rate 1.1 Initial: met")."""
        action.setEnabled(False)
        can.connect(action.setEnabled)
        text.connect(lambda what: action.setText(f"{verb} {what}" if what else verb))

    def _update_actions(self) -> None:
        has = self.engagement is not None
        for action in (
            self.save_action,
            self.save_as_action,
            self.revert_action,
            self.properties_action,
            self.report_contents_action,
            self.close_action,
            self.function_view_action,
            self.evidence_view_action,
            self.dashboard_action,
            self.progress_action,
            self.next_unassessed_action,
            self.tree_focus_action,
            self.tree_pane_action,
            self.guidance_pane_action,
            self.freeze_action,
            self.workshops_action,
            self.verify_action,
            self.find_action,
            self.paste_evidence_action,
        ):
            action.setEnabled(has)
        self.deliverables.update(has, has and self.engagement is not None and self.engagement.readonly)
        if has:
            assert self.engagement is not None
            self.save_action.setEnabled(not self.engagement.readonly)
            self.revert_action.setEnabled(not self.engagement.readonly)
            self.properties_action.setEnabled(not self.engagement.readonly)
            self.freeze_action.setEnabled(not self.engagement.readonly)
        self.encryption.update()
        self.team.update()
        if self.team.copy is not None:  # the server's copy is no file of the consultant's to encrypt
            for action in (
                self.encryption.encrypt_action,
                self.encryption.rekey_action,
                self.encryption.decrypt_action,
            ):
                action.setEnabled(False)

    def _refresh_recent(self) -> None:
        paths = self.settings.recent_files()
        self.start_page.set_recent(paths)
        self.recent_menu.clear()
        for path in paths:
            action = self.recent_menu.addAction(path.name)
            action.setToolTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_recent(p))
        self.recent_menu.setEnabled(bool(paths))

    # -- state -------------------------------------------------------------------

    @property
    def modified(self) -> bool:
        return self.engagement is not None and (self.recovered or not self.undo_stack.isClean())

    def _update_title(self) -> None:
        if self.engagement is None:
            self.setWindowTitle("ZTMM Workbench")
            self.setWindowModified(False)
            return
        meta = self.engagement.meta()
        suffix = " (read-only)" if self.engagement.readonly else ""
        on_server = self.team.title(meta.client)
        if on_server is not None:
            self.setWindowTitle(on_server)
            self.setWindowModified(self.modified)
            return
        self.setWindowTitle(f"{self.engagement.path.name}[*]{suffix} — {meta.client} — ZTMM Workbench")
        self.setWindowModified(self.modified)

    def _show_rollup(self) -> None:
        if self.engagement is None:
            self.summary.clear()
            self.marking.clear()
            return
        overall = self.workbench.model.overall() if self.workbench is not None else self.engagement.rollups()[1]
        self.summary.setText(
            f"Overall {overall.score_text} — {overall.assessed:,} of {plural(overall.functions, 'function')} assessed"
            f" — {overall.below_target} below target"
        )
        self.marking.setText(self.engagement.meta().marking)

    def show_engagement(self, engagement: Engagement | None, *, read_only_reason: str = "") -> None:
        """Show ``engagement`` (opened elsewhere, e.g. from the team server) in the workbench."""
        self._set_engagement(engagement, read_only_reason=read_only_reason)

    def show_brought_in(self, changes: Changes) -> None:
        """Show what was brought into the open engagement from elsewhere (a colleague's Save on the team
        server) in place: the page keeps its function, scroll, cursor and typing."""
        if self.workbench is not None:
            self.workbench.refresh(changes)
        self.refresh_state()
        self._show_workshop()

    def refresh_state(self) -> None:
        """The title, the actions and the status bar's summary, after a change made elsewhere (a save to the server)."""
        self._update_actions()
        self._update_title()
        self._show_rollup()

    def _set_engagement(self, engagement: Engagement | None, *, read_only_reason: str = "") -> None:
        """Show ``engagement``'s workbench (None: the start page).

        An engagement opened by ``_open`` comes with what was computed for it off the UI thread (the
        tree's rows, the first function's page); its workbench is built in short steps through the
        event loop (``tasks.in_steps``), the window painting in between and the status bar saying
        what is being built. Any other is built here in one piece.
        """
        from ..common.tasks import in_steps

        prepared, self._prepared = self._prepared, None
        if prepared is not None and prepared.engagement is not engagement:
            prepared = None
        if prepared is None or engagement is None:
            for _ in self._show_engagement(engagement, read_only_reason, None, lambda _what: None):
                pass
            return
        name = engagement.path.name
        steps = self._show_engagement(
            engagement,
            read_only_reason,
            prepared,
            lambda what: self.statusBar().showMessage(f"Opening {name}: {what}…"),
        )
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            in_steps(steps)
        finally:
            QApplication.restoreOverrideCursor()
            self.statusBar().clearMessage()

    def _show_engagement(
        self,
        engagement: Engagement | None,
        read_only_reason: str,
        prepared: _Prepared | None,
        say: Callable[[str], None],
    ) -> Iterator[None]:
        """Build and show the workbench, yielding between short steps; ``say`` tells what is built next."""
        from ..editing.requests import EditEvidence, FreezeBaseline, LinkEvidence, RemoveEvidence

        old = self.workbench
        self.undo_stack.clear()
        self.recovered = False
        if engagement is None:
            self.engagement = None
            self.hide_opening()
            self.workbench = None
            self.stack.setCurrentWidget(self.start_page)
        else:
            # Built out of sight while the window shows what it showed (the opening page, the start page);
            # the window takes the engagement only once its workbench is whole.
            bench = Workbench(engagement, rows=prepared.rows if prepared is not None else None, stepwise=True)
            for what in bench.build_steps:
                say(what)
                yield
            bench.dashboard.functionActivated.connect(self.open_function)
            bench.progress.functionActivated.connect(self.open_function)
            bench.progress.freezeRequested.connect(lambda name: self.request(FreezeBaseline(name)))
            bench.page.editRequested.connect(self.request)
            bench.page.evidence_section.attachRequested.connect(self.attach_flow.files)
            bench.page.evidence_section.openRequested.connect(self.open_evidence)
            bench.guidance.functionRequested.connect(self.open_function)
            bench.panel.tree.files_dropped.connect(self._files_dropped_on_tree)
            pane = bench.evidence
            pane.attachRequested.connect(self.attach_flow.files)
            pane.pasteRequested.connect(self.attach_flow.image)
            pane.detailsRequested.connect(lambda i, d: self.request(EditEvidence(i, d)))
            pane.linksRequested.connect(lambda i, links: self.request(LinkEvidence(i, tuple(links))))
            pane.removeRequested.connect(lambda i: self.request(RemoveEvidence(i)))
            pane.openRequested.connect(self.open_evidence)
            pane.extractRequested.connect(self.extract_evidence)
            bench.tree.installEventFilter(self)
            state = self.settings.bytes_value("splitter")
            if state is None or not bench.splitter.restoreState(state):
                bench.fit_panes(self.width())
            hidden = self.settings.hidden_panes()
            for pane, name in SIDE_PANES.items():
                bench.show_pane(pane, name not in hidden)
            bench.panesChanged.connect(self._panes_changed)
            bench.set_read_only(engagement.readonly, read_only_reason)
            first = next(iter(engagement.functions_in_scope()), None)
            if first is not None:
                say(first.label)
                yield
                shown = bench.show_first(
                    first.id,
                    prepared.page if prepared is not None else None,
                    prepared.guidance if prepared is not None else None,
                )
                for _ in shown:
                    yield
            say("the workbench")
            yield
            self.engagement = engagement
            self.workbench = bench
            self._update_pane_actions()
            if first is not None:
                bench.select_function(first.id)  # shown already: the tree's current row
            # The tree's rows laid out now, not in its first paint (which would then ask for a second one).
            bench.panel.tree.executeDelayedItemsLayout()
            # Shown in steps: the frame (the tree, the tabs, the guidance), then the function's page.
            bench.page.stack.setCurrentWidget(bench.page.placeholder)
            self.stack.addWidget(bench)
            self.hide_opening()  # the workbench replaces the opening page
            self.stack.setCurrentWidget(bench)
            yield  # the frame is painted; the tree's columns fitted to its width are painted again in the next
            yield
            bench.show_first_text()
            yield
            yield from bench.page.reveal_steps()
        if old is not None:
            self.stack.removeWidget(old)
            old.deleteLater()
        self._refresh_recent()
        self._update_actions()
        self._update_title()
        self._show_rollup()
        self._show_workshop()
        self.engagementChanged.emit()

    def show_opening(self, message: str) -> None:
        """Show the model's tree from the catalog and ``message`` until an engagement is open (at start)."""
        from .opening import OpeningPage, shipped_catalog

        self.hide_opening()
        self.opening = OpeningPage(message, shipped_catalog())
        self.stack.addWidget(self.opening)
        self.stack.setCurrentWidget(self.opening)

    def hide_opening(self) -> None:
        """Back to what the window showed before ``show_opening`` (the workbench replaces it when one opens)."""
        if self.opening is None:
            return
        if self.stack.currentWidget() is self.opening:
            self.stack.setCurrentWidget(self.workbench if self.workbench is not None else self.start_page)
        self.stack.removeWidget(self.opening)
        self.opening.deleteLater()
        self.opening = None

    # -- edits -------------------------------------------------------------------

    def request(self, request: AnyRequest) -> None:
        """Apply an edit request from a view as an undoable command."""
        engagement = self.engagement
        if engagement is None:
            return
        if engagement.readonly:
            self.statusBar().showMessage("This engagement is open read-only; nothing was changed.", 5000)
            return
        if self.tasks.busy:
            self.statusBar().showMessage("Wait until the current operation finishes; nothing was changed.", 5000)
            if self.workbench is not None:
                self.workbench.page.refresh()
            return
        try:
            self.apply_request(request)
        except ZtmmError as err:
            QMessageBox.warning(self, "Not changed", str(err))
            if self.workbench is not None:
                self.workbench.page.refresh()

    def apply_request(self, request: AnyRequest) -> None:
        """Apply ``request`` as one undo step; raises ``ZtmmError`` (nothing changed) when refused.

        Text kept at a pause in typing refreshes only what it can change (the
        consultant is still typing), and merges with the burst's earlier commits.
        """
        from ..editing.edits import is_typing, make_command

        engagement = self.engagement
        if engagement is None:
            return
        if engagement.readonly:
            raise EngagementFileError(f"{engagement.path.name} is open read-only; nothing was changed")
        if self.tasks.busy:
            raise BadInput("wait until the current operation finishes; nothing was changed")
        applied = (lambda changes: self._changed(changes, typed=request)) if is_typing(request) else None
        command = make_command(engagement, request, self._changed, self._edit_failed, applied=applied)
        if command is not None:
            self.undo_stack.push(command)

    def _changed(self, changes: Changes, *, typed: AnyRequest | None = None) -> None:
        self.team.edited()  # live on the team server: what changed is sent
        if self.workbench is not None:
            self.workbench.refresh(changes, typed=typed)  # the function page shows each change's workshop
        self._update_title()
        self._show_rollup()
        if changes.workshops:
            self._show_workshop()

    # -- undo and redo -------------------------------------------------------------

    def undo(self) -> None:
        """Undo the last step (text being typed is kept first, so it is that step) and show what it changed."""
        from ..common.dialogs import ask_remove_baseline
        from ..editing.edits import command_place, frozen_baseline

        self._keep_typing()
        index = self.undo_stack.index()
        if index == 0:
            return
        command = self.undo_stack.command(index - 1)
        name = frozen_baseline(command)
        if name is not None and not ask_remove_baseline(self, name):
            self.statusBar().showMessage(f"Nothing undone: the baseline “{name}” is kept.", 8000)
            return
        text = command.text()
        self.undo_stack.undo()
        if self.undo_stack.index() == index:  # refused (e.g. a task is running): nothing to show
            return
        suffix = " — the baseline was removed; Redo freezes it again" if name is not None else ""
        self._show_step(command_place(command), f"Undid: {text}{suffix}")

    def redo(self) -> None:
        from ..editing.edits import command_place

        self._keep_typing()
        index = self.undo_stack.index()
        if index >= self.undo_stack.count():
            return
        command = self.undo_stack.command(index)
        text = command.text()
        self.undo_stack.redo()
        if self.undo_stack.index() != index:
            self._show_step(command_place(command), f"Redid: {text}")

    def _keep_typing(self) -> None:
        if self.workbench is not None and not self.tasks.busy:
            self.workbench.page.commit_typing()

    def _show_step(self, place: Place | None, message: str) -> None:
        """Go to the function, tab and control an undo or redo changed, mark the control, and say what it did."""
        self.statusBar().showMessage(message, 10000)
        if self.workbench is not None and place is not None:
            self.workbench.show_place(place)

    def _edit_failed(self, err: ZtmmError) -> None:
        QMessageBox.warning(self, "Not changed", str(err))

    def eventFilter(self, watched: object, event: object) -> bool:
        if (
            self.workbench is not None
            and watched is self.workbench.tree
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
            and event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        ):
            from ..editing.edits import RATING_KEYS  # a key press, not every event the tree gets
            from ..editing.requests import SetRating

            number = event.key() - Qt.Key.Key_0
            focused = self.workbench.focused_stage()
            if number in RATING_KEYS and focused is not None:
                self.request(SetRating(focused[0], focused[1], RATING_KEYS[number]))
                return True
        return super().eventFilter(watched, event)  # type: ignore[arg-type]

    # -- evidence ----------------------------------------------------------------

    def attach_files(self, paths: list[Path], link: EvidenceLink) -> None:
        """Store files as evidence off the UI thread without asking (kinds guessed); one undo step for all."""
        from ...services import evidence

        self.attach_flow.store([(path, None, evidence.guess_kind(path.name)) for path in paths], link)

    def _files_dropped_on_tree(self, paths: list[Path], function_id: str, stage: Stage | None) -> None:
        from ...services.evidence import EvidenceLink

        self.attach_flow.files(paths, EvidenceLink(function_id=function_id, stage=stage))

    def paste_evidence(self) -> None:
        """Ctrl+V outside text boxes: attach the clipboard's image (or copied files) to the function in view."""
        from ..evidence.pane import clipboard_evidence

        bench = self.workbench
        if bench is None:
            return
        if bench.tabs.currentWidget() is bench.evidence:
            bench.evidence.paste()  # the pane says there what is wrong
            return
        target = bench.attach_target()
        if target is None:
            self.statusBar().showMessage("Select a function in the tree, then paste to attach to it.", 8000)
            return
        try:
            paths, png = clipboard_evidence()
        except ZtmmError as err:
            self.statusBar().showMessage(str(err), 8000)
            return
        if paths:
            self.attach_flow.files(paths, target)
        else:
            self.attach_flow.image(png, target)

    def _attached(self, attached: list[Attached]) -> None:
        from ...services import evidence
        from ..editing.edits import attached_command

        if not attached or self.engagement is None:
            return
        self.undo_stack.push(attached_command(self.engagement, attached, self._changed, self._edit_failed))
        for item in attached:
            self._changed(evidence.describe_changes(item))

    def open_evidence(self, evidence_id: str) -> None:
        from ..evidence.dialogs import ask_to_open
        from ..evidence.pane import open_externally

        if self.engagement is None:
            return
        try:
            open_externally(self.engagement, evidence_id, ask=ask_to_open(self))
        except ZtmmError as err:
            QMessageBox.warning(self, "Cannot open", str(err))

    def extract_evidence(self, evidence_id: str) -> None:
        from ...services import evidence

        if self.engagement is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Save a copy into", self.settings.last_folder())
        if not folder:
            return
        try:
            path = evidence.extract(self.engagement, evidence_id, Path(folder))
        except ZtmmError as err:
            QMessageBox.warning(self, "Not saved", str(err))
            return
        self.statusBar().showMessage(f"Saved {path}", 6000)

    def verify_evidence(self) -> None:
        from ...services import evidence

        engagement = self.engagement
        if engagement is None:
            return

        def done(problems: list[evidence.EvidenceProblem]) -> None:
            if self.workbench is not None:
                self.workbench.evidence.set_problems({p.evidence.id for p in problems})
            if problems:
                listed = "\n".join(f"• {p.evidence.title}: {p.problem}" for p in problems[:20])
                QMessageBox.warning(
                    self,
                    "Evidence changed",
                    f"{plural(len(problems), 'evidence file')} {'fails' if len(problems) == 1 else 'fail'}"
                    f" verification:\n{listed}",
                )
            else:
                self.statusBar().showMessage("Every evidence file matches its SHA-256.", 6000)

        def failed(err: BaseException) -> None:
            if isinstance(err, ZtmmError):
                self.statusBar().showMessage(str(err), 6000)
            else:
                raise err

        self.tasks.run("Verifying evidence…", lambda p, c: evidence.verify(engagement, p, c), done, failed)

    # -- opening -----------------------------------------------------------------

    def maybe_close_engagement(self) -> bool:
        """Ask to save unsaved changes; True when the engagement may be closed."""
        if self.engagement is None:
            return True
        note = self.team.close_note()
        if self.modified and not self.engagement.readonly:
            answer = QMessageBox.question(
                self,
                "Unsaved changes",
                f"Save the changes to {self.team.name or self.engagement.path.name} before closing it?{note}",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save,
            )
            if answer == QMessageBox.StandardButton.Cancel:
                return False
            if answer == QMessageBox.StandardButton.Save and not self.save_now():
                return False
        self.tasks.wait()
        if self.workbench is not None:
            self.settings.set_bytes("splitter", self.workbench.splitter.saveState())
        self.engagement.close()
        self.team.closed()
        passphrase.forget_all()  # the next open of an encrypted file asks again
        self._set_engagement(None)
        return True

    def close_engagement(self) -> bool:
        return self.maybe_close_engagement()

    def review_comments(self) -> list[FindingComment]:
        """The reviewers' comments of the engagement open from the team server, as last read (none for a file)."""
        if self.team.copy is None:
            return []
        return list(self.team.comments.latest or ())

    def open_address(self, address: str) -> bool:
        """Open the engagement a team server's address names (``postgresql://…?engagement=ID``, from the
        command line); a malformed address gets one line and the start page. True when open."""
        from ...core.errors import ZtmmError
        from ...server.url import parse

        try:
            url = parse(address)
            url.require_engagement("opening an engagement")
        except ZtmmError as err:
            QMessageBox.critical(self, "Cannot open engagement", str(err))
            return False
        return self.team.open_url(url)

    def open_path(
        self, path: Path, *, read_only: bool = False, reason: str = "", key: passphrase.Key | None = None
    ) -> bool:
        """Open ``path``; on a held or unwritable document offer read-only. True when open.

        An encrypted one asks for its passphrase (``ui/encryption.py``) unless its ``key`` is given.
        The work (the key from the passphrase, the file gate, the records copy) runs off the UI
        thread while the window keeps painting (``_open``); the dialogs are shown on it.
        """
        from ...services.engagement import DamagedRecords
        from ..common.dialogs import ask_open_read_only
        from .damaged import ask_open_without_damaged

        path = path.absolute()
        if self.engagement is not None and self.engagement.path == path:
            return True
        if not self.maybe_close_engagement():
            return False
        try:
            engagement = self._open(f"Opening {path.name}…", path, key, readonly=read_only, frequent_saves=True)
        except DocumentLocked as err:
            if not ask_open_read_only(self, f"{err}."):
                return False
            return self.open_path(path, read_only=True, reason=f"{path.name} is open by {err.holder}.", key=key)
        except ReadOnlyLocation as err:
            if not ask_open_read_only(self, f"{err}."):
                return False
            return self.open_path(path, read_only=True, reason="The file or its folder cannot be written.", key=key)
        except passphrase.NoPassphrase:
            return False  # the user cancelled the passphrase dialog
        except DamagedRecords as err:
            if not ask_open_without_damaged(self, err):
                return False
            return self._open_without_damaged(path, key=key)
        except ZtmmError as err:
            QMessageBox.critical(self, "Cannot open engagement", str(err))
            return False
        self.settings.add_recent(path)
        self.settings.set_last_folder(path.parent)
        self._set_engagement(engagement, read_only_reason=reason or ("Opened read-only." if read_only else ""))
        return True

    def _open_without_damaged(self, path: Path, *, key: passphrase.Key | None = None) -> bool:
        """Open a read-only copy of ``path`` that leaves its damaged records out (the file stays as it is)."""
        from .damaged import left_out_text

        try:
            engagement = self._open(
                f"Opening {path.name} without its damaged records…", path, key, readonly=True, leave_out_damaged=True
            )
        except passphrase.NoPassphrase:
            return False  # the user cancelled the passphrase dialog
        except ZtmmError as err:
            QMessageBox.critical(self, "Cannot open engagement", str(err))
            return False
        self.settings.set_last_folder(path.parent)
        self._set_engagement(engagement, read_only_reason=left_out_text(engagement.document.left_out))
        return True

    def _open(self, message: str, path: Path, key: passphrase.Key | None, **options: Any) -> Engagement:
        """``open_engagement(path, key=…, **options)`` on a worker thread, the window painting meanwhile.

        An encrypted file's passphrase is asked first, on this thread, and turned into its key off it
        (``ui/common/unlocking.py``); then the gate and the copy of the records run off it too.
        """
        from ...services.engagement import open_engagement
        from ..common.tasks import off_ui_thread
        from ..common.unlocking import unlock

        if key is None:
            key = unlock(path)  # None: a plain file

        palette = QPalette(QApplication.palette())  # the guidance's colours, for the worker
        with self._busy(message):  # a large engagement takes a moment to check
            return self._prepare(
                off_ui_thread(lambda: _Prepared.of(open_engagement(path, key=key, **options), palette))
            )

    def _prepare(self, prepared: _Prepared) -> Engagement:
        """Keep what was computed off the UI thread for ``_set_engagement``; the engagement."""
        self._prepared = prepared
        return prepared.engagement

    @contextmanager
    def _busy(self, message: str) -> Iterator[None]:
        """A wait cursor and a status line for work that must finish before the window can go on."""
        self.statusBar().showMessage(message)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            yield
        finally:
            QApplication.restoreOverrideCursor()
            self.statusBar().clearMessage()

    def open_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open engagement", self.settings.last_folder(), FILE_FILTER)
        if name:
            self.open_path(Path(name))

    def open_recent(self, path: Path) -> None:
        if not path.exists():
            QMessageBox.warning(
                self, "Engagement not found", f"{path} no longer exists; it was removed from the recent list."
            )
            self.settings.remove_recent(path)
            self._refresh_recent()
            return
        self.open_path(path)

    def open_demo(self) -> None:
        from ...services.demo import open_demo

        if not self.maybe_close_engagement():
            return
        from ..common.tasks import off_ui_thread

        try:
            with self._busy("Opening the demo engagement…"):
                palette = QPalette(QApplication.palette())
                engagement = self._prepare(off_ui_thread(lambda: _Prepared.of(open_demo(), palette)))
        except ZtmmError as err:
            QMessageBox.critical(self, "Cannot open the demo", str(err))
            return
        self._set_engagement(engagement)

    def new_engagement(self) -> None:
        from ...services.catalogs import default_library
        from ...services.engagement import create_engagement
        from ..common.dialogs import PropertiesDialog

        dialog = PropertiesDialog(default_library().catalog, None, self)
        if dialog.exec() != PropertiesDialog.DialogCode.Accepted:
            return
        properties = dialog.properties()
        suggested = str(Path(self.settings.last_folder()) / f"{properties.client.strip()}{DOCUMENT_SUFFIX}")
        name, _ = QFileDialog.getSaveFileName(self, "Create engagement file", suggested, FILE_FILTER)
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() != DOCUMENT_SUFFIX:
            path = path.with_name(path.name + DOCUMENT_SUFFIX)
        if not self.maybe_close_engagement():
            return
        try:
            engagement = create_engagement(path, properties)
        except ZtmmError as err:
            QMessageBox.critical(self, "Cannot create engagement", str(err))
            return
        self.settings.add_recent(engagement.path)
        self.settings.set_last_folder(engagement.path.parent)
        self._set_engagement(engagement)

    def edit_properties(self) -> None:
        from ...services.logo import read_logo
        from ..common.dialogs import PropertiesDialog
        from ..editing.requests import SetLogo, SetProperties

        if self.engagement is None:
            return
        engagement = self.engagement
        dialog = PropertiesDialog(
            engagement.catalog,
            engagement.properties(),
            self,
            logo=read_logo(engagement),
            folder=self.settings.last_folder(),
        )
        if dialog.exec() != PropertiesDialog.DialogCode.Accepted:
            return
        requests: list[AnyRequest] = []
        if dialog.properties() != engagement.properties():
            requests.append(SetProperties(dialog.properties()))
        if dialog.logo_field is not None and dialog.logo_field.changed:
            requests.append(SetLogo(dialog.logo_field.logo))
        if len(requests) > 1:  # one dialog, one undo step
            self.undo_stack.beginMacro("Change engagement properties")
        for request in requests:
            self.request(request)
        if len(requests) > 1:
            self.undo_stack.endMacro()

    def edit_report_contents(self, section: str | None = None) -> None:
        """The consultant's sections, document control and layout, as one undo step."""
        from ...services.logo import read_consultancy_logo
        from ..deliverables.report_contents import ReportContentsDialog
        from ..editing.edits import report_contents_of
        from ..editing.requests import SetConsultancyLogo, SetReportContents

        if self.engagement is None:
            return
        engagement = self.engagement
        current = report_contents_of(engagement)
        logo = read_consultancy_logo(engagement)
        dialog = ReportContentsDialog(
            current.sections,
            current.control,
            current.options,
            self,
            consultancy_logo=logo,
            folder=self.settings.last_folder(),
            read_only=engagement.readonly,
        )
        if section is not None:
            dialog.show_section(section)
        if dialog.exec() != ReportContentsDialog.DialogCode.Accepted or engagement.readonly:
            return
        contents = dialog.contents()
        requests: list[AnyRequest] = []
        wanted = SetReportContents(contents.sections, contents.control, contents.options)
        if wanted != current:
            requests.append(wanted)
        if dialog.logo_field.changed:
            requests.append(SetConsultancyLogo(dialog.logo_field.logo))
        if len(requests) > 1:  # one dialog, one undo step
            self.undo_stack.beginMacro("Change the report contents")
        for request in requests:
            self.request(request)
        if len(requests) > 1:
            self.undo_stack.endMacro()

    def edit_assessor(self, *, first_start: bool = False) -> bool:
        """Ask for the assessor's name and organization (stored for the window and the ``ztmm`` command)."""
        from .assessor import AssessorDialog

        dialog = AssessorDialog(self, first_start=first_start)
        accepted = dialog.exec() == AssessorDialog.DialogCode.Accepted
        if accepted:
            self.statusBar().showMessage(f"Changes are now recorded as made by {dialog.name.text().strip()}.", 5000)
        return accepted

    def tidy_up(self) -> None:
        """Remove what sessions that ended unexpectedly left in the data folder and nobody will recover
        (their server copies; their unsaved work was just offered)."""
        from ...services.copy_folders import clean_up_left_copies

        with suppress(OSError):
            clean_up_left_copies()

    def offer_recovery(self) -> None:
        """Offer to recover unsaved work left by a session that ended unexpectedly."""
        from ...services.recovery import discard_unsaved, unsaved_work
        from ..common.dialogs import RecoveryChoice, ask_recover

        for orphan in unsaved_work():
            choice = ask_recover(self, orphan)
            if choice is RecoveryChoice.DISCARD:
                discard_unsaved(orphan)
            elif choice is RecoveryChoice.RECOVER:
                if not self.maybe_close_engagement():
                    return
                try:
                    engagement = self._open(
                        f"Recovering {orphan.document.name}…",
                        orphan.document,
                        None,
                        recover=orphan,
                        frequent_saves=True,
                    )
                except ZtmmError as err:
                    QMessageBox.critical(self, "Cannot recover", str(err))
                    continue
                self._set_engagement(engagement)
                self.recovered = True
                self._update_title()
                self.statusBar().showMessage("Recovered unsaved work. Save to keep it in the file.", 10000)
                return

    # -- saving ------------------------------------------------------------------

    def save(self) -> None:
        """Save in the background (the window stays responsive); Save As when read-only."""
        engagement = self.engagement
        if engagement is None:
            return
        if engagement.readonly:
            self.save_as()
            return
        if self.team.copy is not None:  # an engagement on the team server: its changes written back there
            self._keep_typing()
            self.team.save()
            return
        index = self.undo_stack.index()

        def done(_result: object) -> None:
            self._saved(index)

        self.tasks.run(
            f"Saving {engagement.path.name}…",
            lambda progress, cancel: engagement.save(),
            done,
            self._save_failed,
            cancellable=False,
        )

    def save_now(self) -> bool:
        """Save on the UI thread (closing, quitting): True when saved."""
        if self.engagement is None:
            return True
        self.tasks.wait()
        if self.team.copy is not None:
            return self.team.save()
        try:
            self.engagement.save()
        except ZtmmError as err:
            self._save_failed(err)
            return False
        self._saved(self.undo_stack.index())
        return True

    def _saved(self, index: int) -> None:
        if self.undo_stack.index() == index:
            self.undo_stack.setClean()
        self.recovered = False
        self._update_title()
        self.statusBar().showMessage("Saved.", 4000)

    def _save_failed(self, err: BaseException) -> None:
        if not isinstance(err, ZtmmError):
            raise err
        answer = QMessageBox.warning(
            self,
            "Not saved",
            f"{err}\n\nSave under another name instead?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            self.save_as()

    def save_as(self) -> None:
        engagement = self.engagement
        if engagement is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save engagement as", str(engagement.path), FILE_FILTER)
        if not name:
            return
        target = Path(name)
        if target.suffix.lower() != DOCUMENT_SUFFIX:
            target = target.with_name(target.name + DOCUMENT_SUFFIX)
        self.save_as_path(target)

    def save_as_path(self, target: Path) -> bool:
        engagement = self.engagement
        if engagement is None:
            return False
        self.tasks.wait()
        try:
            engagement.save_as(target)
        except ZtmmError as err:
            QMessageBox.critical(self, "Not saved", str(err))
            return False
        if self.team.copy is not None:  # taken offline: the window now works on the file
            self.team.detached()
            self.statusBar().showMessage(
                f"Saved as {engagement.path.name} to work offline; bring its work back with File → Merge into server.",
                10000,
            )
        self.settings.add_recent(engagement.path)
        self.settings.set_last_folder(engagement.path.parent)
        self.undo_stack.setClean()
        self.recovered = False
        if self.workbench is not None:
            self.workbench.set_read_only(False, "")
        self._refresh_recent()
        self._update_actions()
        self._update_title()
        return True

    def revert(self) -> None:
        engagement = self.engagement
        if engagement is None or engagement.readonly:
            return
        if self.modified:
            answer = QMessageBox.question(
                self,
                "Revert to saved",
                f"Discard every change since {self.team.name or engagement.path.name} was last saved?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Discard:
                return
        self.tasks.wait()
        if self.team.copy is not None:  # the engagement as the server has it now
            url = self.team.copy.url
            engagement.close()
            self.team.closed()
            self._set_engagement(None)
            self.team.open_url(url)
            return
        path, key = engagement.path, engagement.document.key
        engagement.close()
        self._set_engagement(None)
        self.open_path(path, key=key)

    # -- view --------------------------------------------------------------------

    def open_function(self, function_id: str) -> None:
        if self.workbench is not None:
            self.workbench.select_function(function_id)
            self.workbench.tabs.setCurrentWidget(self.workbench.page)

    def next_not_assessed(self) -> None:
        """View → Next function not assessed: the next one in tree order (wrapping round), ready to rate."""
        workbench = self.workbench
        if workbench is None:
            return
        current = workbench.page.current_function_id
        left = workbench.model.not_assessed()
        if not left:
            self.statusBar().showMessage("Every function in scope is assessed.", 6000)
            return
        order = workbench.model.function_ids()
        start = order.index(current) + 1 if current in order else 0
        wanted = set(left)
        function_id = next(f for f in order[start:] + order[:start] if f in wanted)
        self.open_function(function_id)
        workbench.page.focus_stage(RATED_STAGES[0])  # the keys 1–5 rate it at once
        label = workbench.model.function_label(function_id)
        self.statusBar().showMessage(f"{label} — {plural(len(left), 'function')} not assessed", 6000)

    def focus_tree(self) -> None:
        """View → Go to the tree: the keyboard focus in the tree, on the function shown (the tree shown if hidden)."""
        workbench = self.workbench
        if workbench is None:
            return
        if not workbench.pane_shown(TREE_PANE):  # hidden from the View menu: shown again, remembered
            self._show_pane(TREE_PANE, True)
        tree = workbench.panel.tree
        if not tree.currentIndex().isValid():
            first = workbench.proxy.index(0, 0)
            if first.isValid():
                tree.setCurrentIndex(first)
        tree.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_shortcuts(self) -> None:
        from .help import ShortcutsDialog

        dialog = ShortcutsDialog(self.menuBar(), self, folder=self.settings.last_folder())
        dialog.exec()
        dialog.deleteLater()

    def show_user_guide(self) -> None:
        from .help import UserGuideDialog

        dialog = UserGuideDialog(self, folder=self.settings.last_folder())
        dialog.exec()
        dialog.deleteLater()

    def manage_workshops(self) -> None:
        """Tools → Workshops…; each change made there is one undo step."""
        from ..workshops.dialogs import WorkshopsDialog

        if self.engagement is None:
            return
        dialog = WorkshopsDialog(self.engagement, self.apply_request, self)
        dialog.exec()
        dialog.deleteLater()

    def _show_workshop(self) -> None:
        from ..workshops.dialogs import running_text

        text = running_text(self.engagement)
        self.workshop_indicator.setText(text)
        self.workshop_indicator.setVisible(bool(text))

    def freeze_baseline(self) -> None:
        if self.workbench is not None:
            self.workbench.progress.ask_freeze()

    def show_tab(self, index: int) -> None:
        if self.workbench is not None:
            self.workbench.tabs.setCurrentIndex(index)

    def focus_filter(self) -> None:
        if self.workbench is not None:
            self.workbench.panel.filter_edit.setFocus()
            self.workbench.panel.filter_edit.selectAll()

    def _show_pane(self, pane: int, shown: bool) -> None:
        if self.workbench is not None:
            self.workbench.show_pane(pane, shown)

    def _panes_changed(self) -> None:
        """Tick the View menu's panes, and remember which are shown and how wide for the next start."""
        self._update_pane_actions()
        if self.workbench is not None:
            self.settings.set_bytes("splitter", self.workbench.splitter.saveState())
            self.settings.set_hidden_panes(self.workbench.hidden_panes())

    def _update_pane_actions(self) -> None:
        for action, pane in ((self.tree_pane_action, TREE_PANE), (self.guidance_pane_action, GUIDANCE_PANE)):
            action.setChecked(self.workbench is None or self.workbench.pane_shown(pane))

    def toggle_workshop(self, on: bool) -> None:
        apply_workshop_mode(on)
        self.settings.set_workshop_mode(on)

    def about(self) -> None:
        from .about import AboutDialog

        AboutDialog(self).exec()

    # -- closing -----------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        from ..evidence.pane import cleanup_opened_copies

        if not self.maybe_close_engagement():
            event.ignore()
            return
        self.settings.set_bytes("geometry", self.saveGeometry())
        self.settings.sync()
        cleanup_opened_copies()
        self.team.shutdown()
        passphrase.set_asker(None)  # no dialog is asked for once the window is gone
        passphrase.forget_all()
        event.accept()


def start(argv: list[str], *, demo: bool = False, ask_assessor: bool = True) -> MainWindow:
    """Show the window, ask who the assessor is on first start, offer recovery of unsaved work,
    then open what was asked for.

    When a file or the demo is asked for, the window first shows the model's tree from the
    catalog; the engagement (and the database layer it needs) loads once that frame is painted.
    """
    from ...server.url import is_server_url
    from .opening import after_first_paint

    window = MainWindow()
    on_server = bool(argv) and is_server_url(argv[0])
    if on_server:
        window.show_opening("Opening an engagement on the team server…")
    elif argv:
        window.show_opening(f"Opening {Path(argv[0]).name}…")
    elif demo:
        window.show_opening("Opening the demo engagement…")
    window.show()

    def after_show() -> None:
        from ...services.identity import given_assessor

        if ask_assessor and not given_assessor() and not window.settings.flag("assessor_asked"):
            window.settings.set_flag("assessor_asked", True)
            window.edit_assessor(first_start=True)
        window.offer_recovery()
        window.tidy_up()
        if window.engagement is None:
            if on_server:
                window.open_address(argv[0])
            elif argv:
                window.open_path(Path(argv[0]))
            elif demo:
                window.open_demo()
        window.hide_opening()  # the start page when nothing could be opened

    after_first_paint(window, after_show)
    return window
