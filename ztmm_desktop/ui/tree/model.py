"""The workbench's model tree (left pane): pillars → functions → stages, and its filter.

``EngagementTreeModel`` is a Qt adapter over a small tree of typed nodes
(``PillarNode``, ``FunctionNode``, ``StageNode``) built from an open
``Engagement``. Everything the view paints is computed when the tree is built or
refreshed and kept on the nodes, so ``data()`` is a dictionary look-up and never
reads the database. ``refresh(changes)`` re-reads the engagement and emits
``dataChanged`` for the changed functions, their stage rows and their pillars;
only a metadata change (scope, wording) resets the model.

``TreeFilterProxy`` filters the tree by text (over ``SEARCH_TEXT_ROLE``) and by
one quick filter (not assessed, below target, with findings, overridden, without evidence).
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap

from ...core import status as status_rule
from ...core.contradictions import override_warning
from ...core.errors import BadInput
from ...core.stages import RATED_STAGES, Rating, Stage
from ...core.words import plural

if TYPE_CHECKING:  # the tree's rows and roles load before the scoring and the services (the window paints first)
    from ...core.catalog import Function, Pillar
    from ...core.scoring import FunctionAssessment, FunctionResult, Rollup
    from ...services import evidence
    from ...services.engagement import Changes, Engagement

Index = QModelIndex | QPersistentModelIndex

# -- roles and columns -----------------------------------------------------------

#: The function id (slug) on function and stage rows (same number as the first window's FUNCTION_ROLE).
FUNCTION_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
#: ``int(Stage)`` on stage rows.
STAGE_ROLE = int(Qt.ItemDataRole.UserRole) + 2
#: The pillar id on every row (a function's or stage's own pillar).
PILLAR_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 3
#: "pillar", "function" or "stage".
NODE_KIND_ROLE = int(Qt.ItemDataRole.UserRole) + 4
#: Everything the text filter searches on this row (not counting its ancestors).
SEARCH_TEXT_ROLE = int(Qt.ItemDataRole.UserRole) + 5
#: The function's status key (``STATUS_*``) on function and stage rows.
STATUS_ROLE = int(Qt.ItemDataRole.UserRole) + 6
#: ``frozenset`` of the quick-filter names the function passes, on function and stage rows.
FLAGS_ROLE = int(Qt.ItemDataRole.UserRole) + 7

PILLAR = "pillar"
FUNCTION = "function"
STAGE = "stage"

NAME_COLUMN = 0
STATE_COLUMN = 1
STATUS_COLUMN = 2
EVIDENCE_COLUMN = 3
HEADERS = ("Model", "Current → target", "Assessment", "")  # the evidence column's header is a paper clip
EVIDENCE_HEADER_TIP = "Evidence: how many items support the function (any stage) or the stage"

# -- status marks ------------------------------------------------------------------

#: Status keys, as the engagement service stores them (``core.status``).
STATUS_NOT_STARTED = status_rule.NOT_STARTED
STATUS_IN_PROGRESS = status_rule.IN_PROGRESS
STATUS_DONE = status_rule.DONE
STATUS_NOT_APPLICABLE = status_rule.NOT_APPLICABLE
STATUS_LABELS: Mapping[str, str] = {
    STATUS_NOT_STARTED: "not started",
    STATUS_IN_PROGRESS: "in progress",
    STATUS_DONE: "done",
    STATUS_NOT_APPLICABLE: "not applicable",
}
STATUS_COLOURS: Mapping[str, str] = {
    STATUS_NOT_STARTED: "#8c8c8c",
    STATUS_IN_PROGRESS: "#d99a00",
    STATUS_DONE: "#2e8b57",
    STATUS_NOT_APPLICABLE: "#7d8fa6",
}

# -- quick filters -----------------------------------------------------------------

NOT_ASSESSED = "not assessed"
BELOW_TARGET = "below target"
WITH_FINDINGS = "with findings"
OVERRIDDEN = "overridden"
WITHOUT_EVIDENCE = "without evidence"
QUICK_FILTERS = (NOT_ASSESSED, BELOW_TARGET, WITH_FINDINGS, OVERRIDDEN, WITHOUT_EVIDENCE)

# -- looks -------------------------------------------------------------------------

BELOW_TARGET_COLOUR = QColor("#c0392b")
MUTED_COLOUR = QColor("#8c8c8c")
RATING_COLOURS: Mapping[Rating, QColor] = {
    Rating.MET: QColor("#2e8b57"),
    Rating.PARTIAL: QColor("#d99a00"),
    Rating.NOT_MET: QColor("#c0392b"),
    Rating.NOT_APPLICABLE: MUTED_COLOUR,
    Rating.NOT_ASSESSED: MUTED_COLOUR,
}


def _font(*, bold: bool = False, italic: bool = False) -> QFont:
    # Only the attributes set here override the view's font (QFont.resolve).
    font = QFont()
    if bold:
        font.setBold(True)
    if italic:
        font.setItalic(True)
    return font


BOLD = _font(bold=True)
ITALIC = _font(italic=True)
BOLD_ITALIC = _font(bold=True, italic=True)


def status_icon(status: str) -> QIcon:
    """A small mark that reads without colour too: ring, half, full disc, struck ring (needs a QGuiApplication)."""
    size, ratio = 16, 2
    pixmap = QPixmap(size * ratio, size * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    colour = QColor(STATUS_COLOURS[status])
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(colour, 1.5))
    disc = QRectF(3, 3, 10, 10)
    if status == STATUS_DONE:
        painter.setBrush(QBrush(colour))
        painter.drawEllipse(disc)
    elif status == STATUS_IN_PROGRESS:
        painter.drawEllipse(disc)
        painter.setBrush(QBrush(colour))
        painter.drawPie(disc, 90 * 16, 180 * 16)
    elif status == STATUS_NOT_APPLICABLE:
        painter.drawEllipse(disc)
        painter.drawLine(QPointF(4.5, 11.5), QPointF(11.5, 4.5))
    else:
        painter.drawEllipse(disc)
    painter.end()
    return QIcon(pixmap)


def evidence_icon(colour: str = "#5a6270") -> QIcon:
    """A paper clip (drawn here: the same on every platform; needs a QGuiApplication)."""
    size, ratio = 16, 2
    pixmap = QPixmap(size * ratio, size * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(colour), 1.4)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    clip = QPainterPath(QPointF(10.5, 5.5))
    clip.lineTo(10.5, 11.5)
    clip.arcTo(QRectF(6.5, 9.5, 4, 4), 0, -180)
    clip.lineTo(6.5, 3.5)
    clip.arcTo(QRectF(6.5, 1.5, 6, 4), 180, -180)
    clip.lineTo(12.5, 12)
    clip.arcTo(QRectF(4.5, 8, 8, 6.5), 0, -180)
    clip.lineTo(4.5, 5.5)
    painter.drawPath(clip)
    painter.end()
    return QIcon(pixmap)


def evidence_text(count: int) -> str:
    """``3`` → "3 evidence items": the evidence column's tooltip and accessible text."""
    if not count:
        return "No evidence yet"
    return f"{count} evidence item{'s' if count != 1 else ''}"


# -- pure rules --------------------------------------------------------------------


def function_state_text(result: FunctionResult) -> str:
    """A function's state column: "Advanced → Optimal", "Advanced (override) → Optimal", "not assessed", "Initial"."""
    if not result.assessed:
        current = "not assessed"
    else:
        current = result.current.label + (" (override)" if result.overridden else "")
    if result.target is None:
        return current
    return f"{current} → {result.target.label}"


def derive_status(assessment: FunctionAssessment) -> str:
    """The status derived from the ratings (``core.status``, the rule every view and deliverable shares)."""
    return status_rule.derived_status(assessment)


def function_status(assessment: FunctionAssessment) -> tuple[str, bool]:
    """The status to show and whether the assessor recorded it (else it is derived): ``core.status``."""
    shown = status_rule.assessment_status(assessment)
    return shown.key, shown.recorded


def below_target(result: FunctionResult) -> bool:
    """Assessed, applicable and short of its target (as the roll-ups count it)."""
    return result.below_target


def quick_flags(result: FunctionResult, findings: int, evidence: int = 0) -> frozenset[str]:
    """The quick filters a function passes (``evidence``: how many items support it)."""
    flags = set()
    if not evidence:
        flags.add(WITHOUT_EVIDENCE)
    if not result.assessed:
        flags.add(NOT_ASSESSED)
    if below_target(result):
        flags.add(BELOW_TARGET)
    if findings:
        flags.add(WITH_FINDINGS)
    if result.overridden:
        flags.add(OVERRIDDEN)
    return frozenset(flags)


# -- the pure tree -----------------------------------------------------------------

Cells = tuple[dict[int, Any], ...]  # one role → value map per column


def _blank() -> Cells:
    return tuple({} for _ in HEADERS)


@dataclass(eq=False)
class TreeNode:
    """A row of the tree. ``cells`` holds what ``data()`` returns, per column and role."""

    kind: ClassVar[str] = ""
    uid: int
    row: int
    parent: TreeNode | None
    children: list[TreeNode] = field(default_factory=list)
    cells: Cells = field(default_factory=_blank)


@dataclass(eq=False)
class PillarNode(TreeNode):
    kind: ClassVar[str] = PILLAR
    pillar: Pillar | None = None


@dataclass(eq=False)
class FunctionNode(TreeNode):
    kind: ClassVar[str] = FUNCTION
    function: Function | None = None
    status: str = STATUS_NOT_STARTED


@dataclass(eq=False)
class StageNode(TreeNode):
    kind: ClassVar[str] = STAGE
    function: Function | None = None
    stage: Stage = Stage.TRADITIONAL


@dataclass(frozen=True)
class _Snapshot:
    """What the tree shows, read from the engagement in one go."""

    assessments: Mapping[str, FunctionAssessment]
    results: Mapping[str, FunctionResult]
    findings: Mapping[str, int]
    pillars: Mapping[str, Rollup]
    overall: Rollup
    evidence: evidence.EvidenceCounts


def _read(engagement: Engagement) -> _Snapshot:
    from ...core.scoring import evaluate, pillar_rollups, rollup
    from ...services import evidence

    assessments = engagement.assessments()
    results = {fid: evaluate(a) for fid, a in assessments.items()}
    findings = Counter(f.function_id for f in engagement.findings())
    scope = engagement.meta().scope
    pillars = {r.key: r for r in pillar_rollups(engagement.catalog, results, scope)}
    # As Engagement.rollups(), from the results already read (no second database read).
    overall = rollup("overall", "Overall", (results[f.id] for f in engagement.functions_in_scope()))
    return _Snapshot(assessments, results, dict(findings), pillars, overall, evidence.counts(engagement))


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
#: How many evidence items support the row (function: any stage or finding; stage: that stage), on those rows.
EVIDENCE_COUNT_ROLE = int(Qt.ItemDataRole.UserRole) + 8


def _evidence_cell(count: int) -> dict[int, Any]:
    text = evidence_text(count)
    return {
        _DISPLAY: str(count) if count else "",
        _TOOLTIP: text,
        _ACCESSIBLE: text,
        _ALIGNMENT: int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
    }


def _with_common(cells: list[dict[int, Any]], common: dict[int, Any]) -> Cells:
    # The custom roles answer on every column, so a click on any column finds its function.
    return tuple({**common, **cell} for cell in cells)


def _pillar_cells(pillar: Pillar, total: Rollup) -> Cells:
    tip = f"{total.assessed:,} of {plural(total.functions, 'function')} assessed"
    if total.lowest is not None:
        tip += f"; lowest {total.lowest.label}"
    if total.below_target:
        tip += f"; {total.below_target} below target"
    name = f"{pillar.code} {pillar.name}"
    common = {NODE_KIND_ROLE: PILLAR, PILLAR_ID_ROLE: pillar.id, SEARCH_TEXT_ROLE: name}
    return _with_common(
        [
            {_DISPLAY: name, _TOOLTIP: name, _FONT: BOLD},
            {_DISPLAY: total.score_text, _TOOLTIP: tip, _FONT: BOLD},
            {},
            {},
        ],
        common,
    )


def _function_cells(
    engagement: Engagement,
    function: Function,
    assessment: FunctionAssessment,
    result: FunctionResult,
    findings: int,
    evidence_count: int = 0,
) -> tuple[Cells, str]:
    status, recorded = function_status(assessment)
    flags = quick_flags(result, findings, evidence_count)
    state = function_state_text(result)
    search = "\n".join([function.label, *(engagement.stage_text(function, stage) for stage in Stage)])
    common = {
        NODE_KIND_ROLE: FUNCTION,
        FUNCTION_ID_ROLE: function.id,
        PILLAR_ID_ROLE: function.pillar_id,
        SEARCH_TEXT_ROLE: search,
        STATUS_ROLE: status,
        FLAGS_ROLE: flags,
        EVIDENCE_COUNT_ROLE: evidence_count,
    }
    name: dict[int, Any] = {_DISPLAY: function.label}
    tip = [function.label]
    if findings:
        tip.append(plural(findings, "finding"))
    state_cell: dict[int, Any] = {_DISPLAY: state}
    state_tip = [state]
    if result.overridden:
        state_tip.append(f"Overridden (derived {result.derived.label}): {result.override_reason}")
    warning = override_warning(assessment)
    if warning:  # the same mark as the function page's, on the name and the state
        state_tip.append(f"⚠ {warning}")
        tip.append(f"⚠ {warning}")
    short = below_target(result)
    if short:
        state_tip.append(f"{plural(result.gap or 0, 'stage')} below target")
    state_cell[_TOOLTIP] = "\n".join(state_tip)
    name[_TOOLTIP] = "\n".join(tip)
    if result.overridden:
        name[_FONT] = state_cell[_FONT] = ITALIC
    if short:
        name[_FOREGROUND] = state_cell[_FOREGROUND] = BELOW_TARGET_COLOUR
    elif not result.assessed:
        state_cell[_FOREGROUND] = MUTED_COLOUR
    label = STATUS_LABELS[status]
    status_cell = {
        _DISPLAY: label,
        _TOOLTIP: f"Assessment: {label} ({'recorded' if recorded else 'derived from the ratings'})",
    }
    return _with_common([name, state_cell, status_cell, _evidence_cell(evidence_count)], common), status


def _stage_cells(
    engagement: Engagement,
    function: Function,
    stage: Stage,
    assessment: FunctionAssessment,
    function_cells: Cells,
    evidence_count: int = 0,
) -> Cells:
    text = engagement.stage_text(function, stage)
    common = {
        NODE_KIND_ROLE: STAGE,
        FUNCTION_ID_ROLE: function.id,
        STAGE_ROLE: int(stage),
        PILLAR_ID_ROLE: function.pillar_id,
        STATUS_ROLE: function_cells[0][STATUS_ROLE],
        FLAGS_ROLE: function_cells[0][FLAGS_ROLE],
        EVIDENCE_COUNT_ROLE: evidence_count,
    }
    name: dict[int, Any] = {_DISPLAY: stage.label, _TOOLTIP: textwrap.fill(text, 80)}
    if stage in RATED_STAGES:
        rating = assessment.rating(stage)
        common[SEARCH_TEXT_ROLE] = "\n".join(filter(None, (stage.label, text, rating.comment)))
        rated: dict[int, Any] = {_DISPLAY: rating.rating.label, _FOREGROUND: RATING_COLOURS[rating.rating]}
        rated[_TOOLTIP] = textwrap.fill(rating.comment, 80) if rating.comment else rating.rating.label
    else:
        common[SEARCH_TEXT_ROLE] = f"{stage.label}\n{text}"
        rated = {_DISPLAY: "floor", _FOREGROUND: MUTED_COLOUR, _TOOLTIP: "Traditional is the floor and is not rated"}
    return _with_common([name, rated, {}, _evidence_cell(evidence_count)], common)


def _fill_pillar(node: PillarNode, snap: _Snapshot) -> None:
    assert node.pillar is not None
    node.cells = _pillar_cells(node.pillar, snap.pillars[node.pillar.id])


def _fill_function(engagement: Engagement, node: FunctionNode, snap: _Snapshot) -> None:
    function = node.function
    assert function is not None
    assessment = snap.assessments[function.id]
    node.cells, node.status = _function_cells(
        engagement,
        function,
        assessment,
        snap.results[function.id],
        snap.findings.get(function.id, 0),
        snap.evidence.of(function.id),
    )
    for child in node.children:
        assert isinstance(child, StageNode)
        child.cells = _stage_cells(
            engagement, function, child.stage, assessment, node.cells, snap.evidence.of(function.id, child.stage)
        )


@dataclass
class TreeRows:
    """Every row of the tree with what it shows: plain data, computed without Qt's widgets.

    ``TreeRows.of`` reads the engagement and computes each row's texts and marks; the window
    runs it off the UI thread while it opens an engagement, and the model takes the rows as they are.
    """

    snapshot: _Snapshot
    nodes: list[TreeNode] = field(default_factory=list)  # by uid (the indexes' internalId)
    pillars: list[PillarNode] = field(default_factory=list)
    functions: dict[str, FunctionNode] = field(default_factory=dict)
    by_pillar: dict[str, PillarNode] = field(default_factory=dict)

    @classmethod
    def of(cls, engagement: Engagement, snapshot: _Snapshot | None = None) -> TreeRows:
        rows = cls(snapshot if snapshot is not None else _read(engagement))
        scope = set(engagement.meta().scope)
        for pillar in engagement.catalog.pillars:
            if pillar.id not in scope:
                continue
            p_node = rows._add(PillarNode(uid=0, row=len(rows.pillars), parent=None, pillar=pillar))
            rows.pillars.append(p_node)
            rows.by_pillar[pillar.id] = p_node
            for f_row, function in enumerate(pillar.functions):
                f_node = rows._add(FunctionNode(uid=0, row=f_row, parent=p_node, function=function))
                p_node.children.append(f_node)
                rows.functions[function.id] = f_node
                for stage in Stage:
                    s_node = StageNode(uid=0, row=int(stage), parent=f_node, function=function, stage=stage)
                    f_node.children.append(rows._add(s_node))
                _fill_function(engagement, f_node, rows.snapshot)
            _fill_pillar(p_node, rows.snapshot)
        return rows

    def _add(self, node: TreeNode) -> Any:
        node.uid = len(self.nodes)
        self.nodes.append(node)
        return node


# -- the Qt model ------------------------------------------------------------------

_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_NO_FLAGS = Qt.ItemFlag.NoItemFlags


class EngagementTreeModel(QAbstractItemModel):
    """Pillars in scope → functions → the four stages of an open engagement."""

    def __init__(self, engagement: Engagement, parent: QObject | None = None, *, rows: TreeRows | None = None) -> None:
        """``rows``: the tree's rows computed beforehand (``TreeRows.of``, off the UI thread); else computed here."""
        super().__init__(parent)
        self._engagement = engagement
        self._nodes: list[TreeNode] = []  # by uid (the indexes' internalId)
        self._pillars: list[PillarNode] = []
        self._functions: dict[str, FunctionNode] = {}
        self._by_pillar: dict[str, PillarNode] = {}
        self._icons: dict[str, QIcon] = {}  # made on first paint: icons need the application
        self._take(rows if rows is not None else TreeRows.of(engagement))

    # -- reading what is cached (never the database) ---------------------------

    @property
    def engagement(self) -> Engagement:
        return self._engagement

    def assessment(self, function_id: str) -> FunctionAssessment:
        return self._snapshot.assessments[function_id]

    def result(self, function_id: str) -> FunctionResult:
        return self._snapshot.results[function_id]

    def findings_count(self, function_id: str) -> int:
        return self._snapshot.findings.get(function_id, 0)

    def pillar_rollup(self, pillar_id: str) -> Rollup:
        return self._snapshot.pillars[pillar_id]

    def overall(self) -> Rollup:
        return self._snapshot.overall

    def function_ids(self) -> list[str]:
        """The functions in scope, in tree order."""
        return list(self._functions)

    def function_label(self, function_id: str) -> str:
        node = self._functions[function_id]
        return node.function.label if node.function is not None else function_id

    def not_assessed(self) -> list[str]:
        """The functions in scope not assessed yet (the quick filter's), in tree order."""
        return [fid for fid in self._functions if not self._snapshot.results[fid].assessed]

    # -- updating --------------------------------------------------------------

    def refresh(self, changes: Changes) -> None:
        """Re-read the engagement and repaint what ``changes`` (or the re-read) says changed."""
        if not changes:
            return
        if changes.metadata:
            self.reload()
            return
        old = self._snapshot
        self._snapshot = new = _read(self._engagement)
        touched = set(changes.functions) | {
            fid
            for fid in self._functions
            if old.assessments.get(fid) != new.assessments.get(fid)
            or old.findings.get(fid) != new.findings.get(fid)
            or old.evidence.of(fid) != new.evidence.of(fid)
            or any(old.evidence.of(fid, stage) != new.evidence.of(fid, stage) for stage in Stage)
        }
        nodes = [self._functions[fid] for fid in sorted(touched) if fid in self._functions]
        pillars = {id(n.parent): n.parent for n in nodes if isinstance(n.parent, PillarNode)}
        # Only rows whose cells differ are announced: notes or an owner typed on the page show nowhere in
        # the tree, and every announced row costs the filter proxy and the view a pass over it.
        before = {row.uid: row.cells for node in nodes for row in (node, *node.children)}
        before.update({pillar.uid: pillar.cells for pillar in pillars.values()})
        for node in nodes:
            self._fill_function(node)
        for pillar in pillars.values():
            self._fill_pillar(pillar)
        for node in nodes:
            self._announce([node], before)
            self._announce(node.children, before)
        self._announce(list(pillars.values()), before)

    def _announce(self, siblings: list[TreeNode], before: Mapping[int, Cells]) -> None:
        """One ``dataChanged`` over the rows among ``siblings`` whose cells are not as ``before``."""
        changed = sorted((node for node in siblings if node.cells != before.get(node.uid)), key=lambda n: n.row)
        if changed:
            first, final = changed[0], changed[-1]
            self.dataChanged.emit(
                self.createIndex(first.row, 0, first.uid), self.createIndex(final.row, len(HEADERS) - 1, final.uid)
            )

    def refresh_comments(self, function_id: str) -> None:
        """Only the comments of one function changed (typed): re-fill its rows alone, nothing else is read.

        A comment shows in its stage row's tip and search text; it changes no result or roll-up.
        """
        node = self._functions.get(function_id)
        if node is None:
            return
        assessments = {**self._snapshot.assessments, function_id: self._engagement.assessment(function_id)}
        self._snapshot = replace(self._snapshot, assessments=assessments)
        before = {row.uid: row.cells for row in (node, *node.children)}
        self._fill_function(node)
        self._announce([node], before)
        self._announce(node.children, before)

    def reload(self) -> None:
        """Re-read everything and rebuild the tree (scope or wording changed)."""
        self.beginResetModel()
        self._snapshot = _read(self._engagement)
        self._build()
        self.endResetModel()

    def _build(self) -> None:
        self._take(TreeRows.of(self._engagement, self._snapshot))

    def _take(self, rows: TreeRows) -> None:
        self._snapshot = rows.snapshot
        self._nodes, self._pillars, self._functions, self._by_pillar = (
            rows.nodes,
            rows.pillars,
            rows.functions,
            rows.by_pillar,
        )

    def _fill_pillar(self, node: PillarNode) -> None:
        _fill_pillar(node, self._snapshot)

    def _fill_function(self, node: FunctionNode) -> None:
        _fill_function(self._engagement, node, self._snapshot)

    # -- finding rows ----------------------------------------------------------

    def index_for_pillar(self, pillar_id: str) -> QModelIndex:
        node = self._by_pillar.get(pillar_id)
        return self.createIndex(node.row, 0, node.uid) if node is not None else QModelIndex()

    def index_for_function(self, function_id: str) -> QModelIndex:
        """The function's row (column 0); invalid when unknown or out of scope. Takes an id or a code."""
        node = self._function_node(function_id)
        return self.createIndex(node.row, 0, node.uid) if node is not None else QModelIndex()

    def index_for_stage(self, function_id: str, stage: Stage | int) -> QModelIndex:
        node = self._function_node(function_id)
        if node is None:
            return QModelIndex()
        child = node.children[int(stage)]
        return self.createIndex(child.row, 0, child.uid)

    def _function_node(self, key: str) -> FunctionNode | None:
        node = self._functions.get(key)
        if node is None:
            try:
                node = self._functions.get(self._engagement.catalog.function(key).id)
            except BadInput:
                return None
        return node

    def node(self, index: Index) -> TreeNode | None:
        if not index.isValid() or index.model() is not self:
            return None
        uid = index.internalId()
        return self._nodes[uid] if 0 <= uid < len(self._nodes) else None

    # -- QAbstractItemModel ----------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(HEADERS) or row < 0:
            return QModelIndex()
        siblings: list[Any] = self._pillars if not parent.isValid() else self._nodes[parent.internalId()].children
        if row >= len(siblings):
            return QModelIndex()
        return self.createIndex(row, column, siblings[row].uid)

    def parent(self, index: Index | None = None) -> Any:  # type: ignore[override]
        if index is None:  # QObject.parent(), which this overload hides
            return super().parent()
        if not index.isValid():
            return QModelIndex()
        up = self._nodes[index.internalId()].parent
        if up is None:
            return QModelIndex()
        return self.createIndex(up.row, 0, up.uid)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._pillars)
        if parent.column() != 0:
            return 0
        return len(self._nodes[parent.internalId()].children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid():
            return None
        node = self._nodes[index.internalId()]
        column = index.column()
        if role == _DECORATION and column == STATUS_COLUMN and isinstance(node, FunctionNode):
            icon = self._icons.get(node.status)
            if icon is None:
                icon = self._icons[node.status] = status_icon(node.status)
            return icon
        if role == _DECORATION and column == EVIDENCE_COLUMN and node.cells[column].get(_DISPLAY):
            return self._clip()
        return node.cells[column].get(role)

    def _clip(self) -> QIcon:
        # In the text's colour, so that it reads on a light and on a workshop (dark, high contrast) palette.
        colour = QGuiApplication.palette().color(QPalette.ColorRole.Text).name()
        icon = self._icons.get(f"evidence {colour}")
        if icon is None:
            icon = self._icons[f"evidence {colour}"] = evidence_icon(colour)
        return icon

    def evidence_count(self, function_id: str, stage: Stage | None = None) -> int:
        return self._snapshot.evidence.of(function_id, stage)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == _DISPLAY:
            return HEADERS[section]
        if section == EVIDENCE_COLUMN:
            if role == _DECORATION:
                return self._clip()
            if role == _TOOLTIP:
                return EVIDENCE_HEADER_TIP
            if role == _ACCESSIBLE:
                return "Evidence"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else _NO_FLAGS  # asked for every cell painted: computed once


# -- filtering ---------------------------------------------------------------------


class TreeFilterProxy(QSortFilterProxyModel):
    """Text and quick filters over ``EngagementTreeModel``; parents of matches stay.

    The text is split into words; a row matches when every word occurs, case
    ignored, in its own ``SEARCH_TEXT_ROLE`` or an ancestor's (so a matching
    function keeps all its stage rows, and "identity phishing" narrows within a
    pillar). A quick filter applies to function rows and their stage rows; a
    pillar shows when any of its functions pass. Both combine (and).
    """

    #: Emitted after the text or the quick filter changed.
    filter_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self._text = ""
        self._terms: tuple[str, ...] = ()
        self._quick: str | None = None

    def text(self) -> str:
        return self._text

    def quick_filter(self) -> str | None:
        return self._quick

    def is_filtering(self) -> bool:
        return bool(self._terms) or self._quick is not None

    def set_text(self, text: str) -> None:
        terms = tuple(text.casefold().split())
        self._text = text
        if terms != self._terms:
            self._change(terms, self._quick)

    def set_quick_filter(self, name: str | None) -> None:
        """One of ``QUICK_FILTERS``, or None for no quick filter."""
        if name is not None and name not in QUICK_FILTERS:
            raise ValueError(f"unknown quick filter {name!r} (expected one of: {', '.join(QUICK_FILTERS)})")
        if name != self._quick:
            self._change(self._terms, name)

    def clear_filters(self) -> None:
        self._text = ""
        if self.is_filtering():
            self._change((), None)

    def _change(self, terms: tuple[str, ...], quick: str | None) -> None:
        self.beginFilterChange()
        self._terms, self._quick = terms, quick
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        self.filter_changed.emit()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._terms and self._quick is None:
            return True
        index = self.sourceModel().index(source_row, 0, source_parent)
        if self._quick is not None:
            if index.data(NODE_KIND_ROLE) == PILLAR:
                return False  # shown only as the parent of a function that passes
            if self._quick not in (index.data(FLAGS_ROLE) or ()):
                return False
        if not self._terms:
            return True
        return _all_in(self._terms, _texts(index))


def _texts(index: QModelIndex) -> Iterable[str]:
    while index.isValid():
        yield (index.data(SEARCH_TEXT_ROLE) or "").casefold()
        index = index.parent()


def _all_in(terms: tuple[str, ...], texts: Iterable[str]) -> bool:
    haystack = "\n".join(texts)
    return all(term in haystack for term in terms)
