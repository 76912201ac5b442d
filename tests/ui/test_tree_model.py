"""The model tree (left pane): texts, roles, status marks, filters and refresh after edits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QIcon
from PySide6.QtTest import QSignalSpy
from pytestqt.qtbot import QtBot

from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.engagement import Changes, Engagement, Properties, create_engagement
from ztmm_desktop.ui.tree.model import (
    BELOW_TARGET,
    BELOW_TARGET_COLOUR,
    EVIDENCE_COLUMN,
    FLAGS_ROLE,
    FUNCTION,
    FUNCTION_ID_ROLE,
    HEADERS,
    NODE_KIND_ROLE,
    NOT_ASSESSED,
    OVERRIDDEN,
    PILLAR,
    PILLAR_ID_ROLE,
    QUICK_FILTERS,
    SEARCH_TEXT_ROLE,
    STAGE,
    STAGE_ROLE,
    STATUS_DONE,
    STATUS_ROLE,
    WITH_FINDINGS,
    WITHOUT_EVIDENCE,
    EngagementTreeModel,
    TreeFilterProxy,
)
from ztmm_desktop.ui.tree.view import EngagementTreeView

pytestmark = pytest.mark.gui

DISPLAY = Qt.ItemDataRole.DisplayRole
ROLES = [int(r) for r in Qt.ItemDataRole if r < Qt.ItemDataRole.UserRole] + [
    FUNCTION_ID_ROLE,
    STAGE_ROLE,
    PILLAR_ID_ROLE,
    NODE_KIND_ROLE,
    SEARCH_TEXT_ROLE,
    STATUS_ROLE,
    FLAGS_ROLE,
]


@pytest.fixture
def model(qtbot: QtBot, demo: Engagement) -> EngagementTreeModel:
    return EngagementTreeModel(demo)


@pytest.fixture
def proxy(model: EngagementTreeModel) -> TreeFilterProxy:
    proxy = TreeFilterProxy()
    proxy.setSourceModel(model)
    return proxy


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Engagement]:
    engagement = create_engagement(tmp_path / "small.ztmm", Properties(client="Test client", scope=("identity",)))
    try:
        yield engagement
    finally:
        engagement.close()


def cell(model: QAbstractItemModel, index: QModelIndex, column: int, role: int = DISPLAY) -> Any:
    return index.siblingAtColumn(column).data(role)


def rows(model: QAbstractItemModel, parent: QModelIndex | None = None) -> list[QModelIndex]:
    parent = parent or QModelIndex()
    return [model.index(r, 0, parent) for r in range(model.rowCount(parent))]


def visible(proxy: QAbstractItemModel) -> dict[str, dict[str, list[str]]]:
    """Pillar → function code → stage names, as the filtered tree shows them."""
    return {
        p.data(): {f.data().split()[0]: [s.data() for s in rows(proxy, f)] for f in rows(proxy, p)} for p in rows(proxy)
    }


def visible_codes(proxy: QAbstractItemModel) -> list[str]:
    return [code for functions in visible(proxy).values() for code in functions]


ALL_STAGES = ["Traditional", "Initial", "Advanced", "Optimal"]


# -- the model as Qt sees it -----------------------------------------------------


@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "python-tester"])
def test_model_passes_the_model_tester(qtmodeltester: Any, model: EngagementTreeModel, force_py: bool) -> None:
    qtmodeltester.check(model, force_py=force_py)


@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "python-tester"])
def test_filtered_proxy_passes_the_model_tester(qtmodeltester: Any, proxy: TreeFilterProxy, force_py: bool) -> None:
    proxy.set_text("identity")
    proxy.set_quick_filter(BELOW_TARGET)
    assert proxy.rowCount() > 0
    qtmodeltester.check(proxy, force_py=force_py)


def test_data_never_reads_the_engagement(model: EngagementTreeModel, demo: Engagement, monkeypatch: Any) -> None:
    """Painting calls data() constantly: it must answer from the cache."""

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("data() read the engagement")

    for name in ("session", "assessments", "results", "rollups", "findings", "stage_text", "meta"):
        monkeypatch.setattr(demo, name, boom)

    def walk(parent: QModelIndex) -> int:
        seen = 0
        for row in range(model.rowCount(parent)):
            for column in range(model.columnCount(parent)):
                index = model.index(row, column, parent)
                for role in ROLES:
                    model.data(index, role)
                seen += 1
            seen += walk(model.index(row, 0, parent))
        return seen

    assert walk(QModelIndex()) == (6 + 40 + 160) * len(HEADERS)


# -- what the demo shows ----------------------------------------------------------


def test_headers(model: EngagementTreeModel) -> None:
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())] == [
        "Model",
        "Current → target",
        "Assessment",
        "",  # the evidence column: a paper clip, named for screen readers
    ]
    assert model.headerData(EVIDENCE_COLUMN, Qt.Orientation.Horizontal, Qt.ItemDataRole.AccessibleTextRole) == (
        "Evidence"
    )
    assert isinstance(
        model.headerData(EVIDENCE_COLUMN, Qt.Orientation.Horizontal, Qt.ItemDataRole.DecorationRole), QIcon
    )


def test_demo_pillars(model: EngagementTreeModel) -> None:
    assert [(cell(model, p, 0), cell(model, p, 1)) for p in rows(model)] == [
        ("1 Identity", "1.6 (Initial)"),
        ("2 Devices", "1.3 (Initial)"),
        ("3 Networks", "0.5 (Traditional)"),
        ("4 Applications and Workloads", "1.0 (Initial)"),
        ("5 Data", "0.5 (Traditional)"),
        ("6 Cross-cutting capabilities", "not assessed"),
    ]
    assert [model.rowCount(p) for p in rows(model)] == [7, 7, 7, 8, 8, 3]
    assert cell(model, rows(model)[0], 1, Qt.ItemDataRole.FontRole).bold()


def test_demo_functions(model: EngagementTreeModel) -> None:
    def texts(key: str) -> tuple[str, str, str]:
        index = model.index_for_function(key)
        return cell(model, index, 0), cell(model, index, 1), cell(model, index, 2)

    assert texts("1.1") == ("1.1 Authentication", "Advanced → Optimal", "done")
    assert texts("1.2") == ("1.2 Identity Stores", "Advanced → Advanced", "done")
    assert texts("1.5") == ("1.5 Visibility and Analytics", "Initial → Advanced", "in progress")
    assert texts("2.4") == ("2.4 Device Threat Protection", "Advanced (override) → Optimal", "done")
    assert texts("2.6") == ("2.6 Automation and Orchestration", "Traditional → Advanced", "in progress")
    assert texts("3.2") == ("3.2 Network Traffic Management", "not assessed", "not started")  # derived
    assert texts("4.4")[1:] == ("not assessed → Advanced", "not started")  # recorded
    assert texts("6.3") == ("6.3 Governance", "not assessed", "not started")


def test_demo_stages(model: EngagementTreeModel) -> None:
    authentication = model.index_for_function("identity.authentication")
    stages = rows(model, authentication)
    assert [(cell(model, s, 0), cell(model, s, 1)) for s in stages] == [
        ("Traditional", "floor"),
        ("Initial", "Met"),
        ("Advanced", "Met"),
        ("Optimal", "Partially met"),
    ]
    data_encryption = rows(model, model.index_for_function("5.5"))
    assert [cell(model, s, 1) for s in data_encryption] == ["floor", "Met", "Not applicable", "Not met"]
    unassessed = rows(model, model.index_for_function("3.2"))
    assert [cell(model, s, 1) for s in unassessed] == ["floor", "Not assessed", "Not assessed", "Not assessed"]
    assert "MFA" in cell(model, stages[2], 0, Qt.ItemDataRole.ToolTipRole)  # the stage text
    assert "FIDO2 keys" in cell(model, stages[2], 1, Qt.ItemDataRole.ToolTipRole)  # the comment


def test_custom_roles(model: EngagementTreeModel) -> None:
    identity = rows(model)[0]
    assert identity.data(NODE_KIND_ROLE) == PILLAR
    assert identity.data(PILLAR_ID_ROLE) == "identity"
    assert identity.data(FUNCTION_ID_ROLE) is None
    assert identity.data(STAGE_ROLE) is None
    function = model.index_for_function("1.1")
    assert function == model.index(0, 0, identity)
    assert function.parent() == identity
    for column in range(len(HEADERS)):  # a click on any column finds the function
        assert cell(model, function, column, FUNCTION_ID_ROLE) == "identity.authentication"
    assert function.data(NODE_KIND_ROLE) == FUNCTION
    assert function.data(PILLAR_ID_ROLE) == "identity"
    assert function.data(STAGE_ROLE) is None
    assert function.data(STATUS_ROLE) == STATUS_DONE
    assert function.data(FLAGS_ROLE) == frozenset({BELOW_TARGET, WITHOUT_EVIDENCE})  # the demo has no evidence
    optimal = model.index_for_stage("identity.authentication", Stage.OPTIMAL)
    assert optimal.parent() == function
    assert optimal.data() == "Optimal"
    assert optimal.data(NODE_KIND_ROLE) == STAGE
    assert optimal.data(STAGE_ROLE) == int(Stage.OPTIMAL)
    assert optimal.data(FUNCTION_ID_ROLE) == "identity.authentication"
    assert model.index_for_stage("1.1", Stage.TRADITIONAL).data() == "Traditional"


def test_search_text_uses_the_engagement_wording(model: EngagementTreeModel) -> None:
    function = model.index_for_function("1.1")
    text = function.data(SEARCH_TEXT_ROLE)
    assert "1.1" in text and "Authentication" in text
    assert "phishing-resistant MFA" in text
    assert "Enterprise" in text and "Agency" not in text  # the demo uses the Enterprise wording
    advanced = model.index_for_stage("1.1", Stage.ADVANCED).data(SEARCH_TEXT_ROLE)
    assert "phishing-resistant MFA" in advanced
    assert "FIDO2 keys issued to all administrators" in advanced  # the comment
    assert "FIDO2" not in model.index_for_stage("1.1", Stage.INITIAL).data(SEARCH_TEXT_ROLE)


def test_index_helpers_refuse_unknown_and_out_of_scope(model: EngagementTreeModel, small: Engagement) -> None:
    assert not model.index_for_function("no.such").isValid()
    assert not model.index_for_stage("no.such", Stage.INITIAL).isValid()
    narrow = EngagementTreeModel(small)  # identity only
    assert narrow.index_for_function("identity.governance").isValid()
    assert not narrow.index_for_function("2.1").isValid()


# -- status marks and looks -------------------------------------------------------


def test_status_marks_follow_the_rules(qtbot: QtBot, small: Engagement) -> None:
    met, na, partial, unassessed = Rating.MET, Rating.NOT_APPLICABLE, Rating.PARTIAL, Rating.NOT_ASSESSED
    i, a, o = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL
    # 1.1: nothing rated.
    small.assess("1.2", ratings={i: met})
    small.assess("1.3", ratings={i: met, a: partial, o: Rating.NOT_MET})
    small.assess("1.4", ratings={i: na, a: na, o: na})
    small.assess("1.5", override=(Stage.ADVANCED, "seen in the workshop"))
    small.assess("1.6", ratings={i: na, a: unassessed})
    small.assess("1.7", ratings={i: met, a: met, o: met}, status="not-started")  # recorded wins
    model = EngagementTreeModel(small)

    def mark(code: str) -> str:
        return cell(model, model.index_for_function(code), 2)

    assert [mark(f"1.{n}") for n in range(1, 8)] == [
        "not started",
        "in progress",
        "done",
        "not applicable",
        "done",
        "in progress",
        "not started",
    ]
    tips = [cell(model, model.index_for_function(c), 2, Qt.ItemDataRole.ToolTipRole) for c in ("1.3", "1.7")]
    assert tips == ["Assessment: done (derived from the ratings)", "Assessment: not started (recorded)"]
    icons = [cell(model, model.index_for_function(f"1.{n}"), 2, Qt.ItemDataRole.DecorationRole) for n in (1, 2, 3, 4)]
    assert all(isinstance(icon, QIcon) and not icon.isNull() for icon in icons)
    assert len({icon.cacheKey() for icon in icons}) == 4  # one mark per status
    assert cell(model, model.index_for_function("1.1"), 1, Qt.ItemDataRole.DecorationRole) is None


def test_overridden_and_below_target_functions_stand_out(model: EngagementTreeModel) -> None:
    font, foreground = Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ForegroundRole
    override = model.index_for_function("2.4")
    for column in (0, 1):
        assert isinstance(cell(model, override, column, font), QFont)
        assert cell(model, override, column, font).italic()
    assert "Overridden (derived Initial)" in cell(model, override, 1, Qt.ItemDataRole.ToolTipRole)
    below = model.index_for_function("1.1")  # Advanced → Optimal
    assert cell(model, below, 0, font) is None
    assert cell(model, below, 0, foreground) == BELOW_TARGET_COLOUR
    assert "1 stage below target" in cell(model, below, 1, Qt.ItemDataRole.ToolTipRole)
    at_target = model.index_for_function("1.2")  # Advanced → Advanced
    assert cell(model, at_target, 0, foreground) is None
    not_assessed = model.index_for_function("4.4")  # has a target, but nothing is rated yet
    assert cell(model, not_assessed, 0, foreground) is None
    assert cell(model, not_assessed, 1, foreground) != BELOW_TARGET_COLOUR
    assert isinstance(cell(model, model.index_for_stage("1.1", Stage.OPTIMAL), 1, foreground), QColor)


# -- filtering --------------------------------------------------------------------


def test_no_filter_shows_everything(proxy: TreeFilterProxy) -> None:
    assert not proxy.is_filtering()
    assert len(visible_codes(proxy)) == 40
    assert all(stages == ALL_STAGES for functions in visible(proxy).values() for stages in functions.values())


def test_text_filter_finds_a_function_by_its_stage_text(qtbot: QtBot, proxy: TreeFilterProxy) -> None:
    with qtbot.waitSignal(proxy.filter_changed):
        proxy.set_text("Phishing")
    assert visible(proxy) == {"1 Identity": {"1.1": ALL_STAGES}}  # its stage rows stay
    assert proxy.text() == "Phishing"
    assert proxy.is_filtering()
    proxy.set_text("  identity   PHISHING ")  # words, case ignored, anywhere on the row or above it
    assert visible(proxy) == {"1 Identity": {"1.1": ALL_STAGES}}


def test_text_filter_by_code_name_and_comment(proxy: TreeFilterProxy) -> None:
    proxy.set_text("2.4")
    assert visible_codes(proxy) == ["2.4"]
    proxy.set_text("network segmentation")  # the name of 3.1, and words in 3.7's stage texts
    assert visible(proxy) == {"3 Networks": {"3.1": ALL_STAGES, "3.7": ALL_STAGES}}
    proxy.set_text("sharepoint")  # only the comment on 1.1 Optimal says it
    assert visible(proxy) == {"1 Identity": {"1.1": ["Optimal"]}}
    proxy.set_text("Identity")  # the pillar's name: the whole pillar stays
    assert list(visible(proxy)["1 Identity"]) == [f"1.{n}" for n in range(1, 8)]
    proxy.set_text("no such words anywhere")
    assert proxy.rowCount() == 0
    proxy.set_text("")
    assert not proxy.is_filtering()
    assert len(visible_codes(proxy)) == 40


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        (
            NOT_ASSESSED,
            [
                "3.2",
                "3.4",
                "3.5",
                "3.6",
                "3.7",
                "4.2",
                "4.3",
                "4.4",
                "4.5",
                "4.6",
                "4.7",
                "4.8",
                "5.2",
                "5.3",
                "5.4",
                "5.6",
                "5.7",
                "5.8",
                "6.1",
                "6.2",
                "6.3",
            ],
        ),
        (
            BELOW_TARGET,
            # 5.5 is not below target: its target, Advanced, is rated not applicable, so there is nothing to climb.
            ["1.1", "1.3", "1.4", "1.5", "1.6", "2.2", "2.4", "2.5", "2.6", "2.7", "3.1", "3.3", "4.1", "5.1"],
        ),
        (WITH_FINDINGS, ["1.2", "1.4", "2.4", "3.1"]),
        (OVERRIDDEN, ["2.4"]),
    ],
)
def test_quick_filters(qtbot: QtBot, proxy: TreeFilterProxy, name: str, codes: list[str]) -> None:
    with qtbot.waitSignal(proxy.filter_changed):
        proxy.set_quick_filter(name)
    assert proxy.quick_filter() == name
    assert visible_codes(proxy) == codes
    shown = visible(proxy)
    assert all(stages == ALL_STAGES for functions in shown.values() for stages in functions.values())
    assert sorted(p.split()[0] for p in shown) == sorted({c.split(".")[0] for c in codes})  # pillars of matches only
    proxy.set_quick_filter(None)
    assert len(visible_codes(proxy)) == 40


def test_quick_filter_combines_with_text(proxy: TreeFilterProxy) -> None:
    proxy.set_quick_filter(WITH_FINDINGS)
    proxy.set_text("identity")
    assert visible_codes(proxy) == ["1.2", "1.4"]
    proxy.set_text("access")
    assert visible(proxy) == {"1 Identity": {"1.4": ALL_STAGES}}
    proxy.set_quick_filter(OVERRIDDEN)
    assert proxy.rowCount() == 0
    proxy.clear_filters()
    assert (proxy.text(), proxy.quick_filter(), proxy.is_filtering()) == ("", None, False)


def test_unknown_quick_filter_is_refused(proxy: TreeFilterProxy) -> None:
    with pytest.raises(ValueError, match="unknown quick filter"):
        proxy.set_quick_filter("broken")
    assert QUICK_FILTERS == ("not assessed", "below target", "with findings", "overridden", "without evidence")


# -- refresh after edits ----------------------------------------------------------


def test_refresh_after_assess_updates_rows_without_a_reset(
    qtbot: QtBot, qtmodeltester: Any, model: EngagementTreeModel, demo: Engagement
) -> None:
    qtmodeltester.check(model)  # stays attached: checks the dataChanged ranges too
    resets = QSignalSpy(model.modelReset)
    layout = QSignalSpy(model.layoutChanged)
    changed: list[tuple[QModelIndex, QModelIndex]] = []
    model.dataChanged.connect(lambda top, bottom, roles=(): changed.append((top, bottom)))
    changes = demo.assess(
        "3.2", ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: "Egress filtered by proxy"}
    )
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        model.refresh(changes)
    assert resets.count() == 0 and layout.count() == 0
    function = model.index_for_function("3.2")
    networks = function.parent()
    assert (cell(model, function, 1), cell(model, function, 2)) == ("Initial", "in progress")
    assert cell(model, networks, 1) == "0.7 (Traditional)"  # (0 + 1 + 1) / 3
    initial = model.index_for_stage("3.2", Stage.INITIAL)
    assert cell(model, initial, 1) == "Met"
    assert "Egress filtered" in initial.data(SEARCH_TEXT_ROLE)
    spans = {(top.data(), bottom.parent().data(), top.column(), bottom.column()) for top, bottom in changed}
    last = len(HEADERS) - 1
    assert spans == {
        ("3.2 Network Traffic Management", "3 Networks", 0, last),  # the function row
        ("Traditional", "3.2 Network Traffic Management", 0, last),  # its stage rows
        ("3 Networks", None, 0, last),  # its pillar
    }
    assert [bottom.row() for top, bottom in changed if top.data() == "Traditional"] == [3]


def test_refresh_updates_the_filtered_tree(
    qtbot: QtBot, qtmodeltester: Any, proxy: TreeFilterProxy, demo: Engagement
) -> None:
    qtmodeltester.check(proxy)
    model = proxy.sourceModel()
    assert isinstance(model, EngagementTreeModel)
    proxy.set_quick_filter(NOT_ASSESSED)
    assert "3.2" in visible_codes(proxy)
    model.refresh(demo.assess("3.2", ratings={Stage.INITIAL: Rating.PARTIAL}))
    assert "3.2" not in visible_codes(proxy)
    proxy.set_quick_filter(WITH_FINDINGS)
    _, changes = demo.add_finding("6.1", "No central log platform", severity="high")
    model.refresh(changes)
    assert visible_codes(proxy) == ["1.2", "1.4", "2.4", "3.1", "6.1"]
    assert "1 finding" in cell(model, model.index_for_function("6.1"), 0, Qt.ItemDataRole.ToolTipRole)
    assert model.findings_count("cross_cutting.visibility_and_analytics") == 1
    proxy.set_quick_filter(OVERRIDDEN)
    model.refresh(demo.assess("1.1", override=(Stage.OPTIMAL, "continuous evaluation everywhere")))
    assert visible_codes(proxy) == ["1.1", "2.4"]
    assert cell(model, model.index_for_function("1.1"), 1) == "Optimal (override) → Optimal"


def test_refresh_with_nothing_changed_does_nothing(qtbot: QtBot, model: EngagementTreeModel) -> None:
    spy = QSignalSpy(model.dataChanged)
    model.refresh(Changes())
    assert spy.count() == 0


def test_metadata_change_resets_the_model(
    qtbot: QtBot, qtmodeltester: Any, model: EngagementTreeModel, demo: Engagement
) -> None:
    qtmodeltester.check(model)
    properties = demo.properties()
    narrower = Properties(client=properties.client, scope=("identity", "data"), wording="cisa")
    with qtbot.waitSignal(model.modelReset, timeout=1000):
        model.refresh(demo.update_properties(narrower))
    assert [p.data() for p in rows(model)] == ["1 Identity", "5 Data"]
    assert not model.index_for_function("2.4").isValid()
    assert "Agency" in model.index_for_function("1.1").data(SEARCH_TEXT_ROLE)  # CISA's own wording now
    assert model.overall().functions == 15


def test_cached_results_follow_edits(model: EngagementTreeModel, demo: Engagement) -> None:
    assert model.result("identity.authentication").current is Stage.ADVANCED
    model.refresh(demo.assess("1.1", ratings={Stage.OPTIMAL: Rating.MET}))
    assert model.result("identity.authentication").current is Stage.OPTIMAL
    assert model.assessment("identity.authentication").rating(Stage.OPTIMAL).rating is Rating.MET
    assert model.pillar_rollup("identity").score_text == demo.rollups()[0][0].score_text
    assert model.overall() == demo.rollups()[1]


# -- the view ---------------------------------------------------------------------


def test_view_selects_functions_through_the_filter(qtbot: QtBot, proxy: TreeFilterProxy) -> None:
    view = EngagementTreeView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    with qtbot.waitSignal(view.function_selected) as blocker:
        assert view.select_function("2.4")
    assert blocker.args == ["devices.device_threat_protection", None]
    with qtbot.waitSignal(view.function_selected) as blocker:
        assert view.select_function("1.1", Stage.ADVANCED)
    assert blocker.args == ["identity.authentication", Stage.ADVANCED]
    proxy.set_quick_filter(OVERRIDDEN)
    assert not view.select_function("1.1")  # filtered out
    assert view.select_function("devices.device_threat_protection")
    with qtbot.waitSignal(view.pillar_selected) as blocker:
        view.setCurrentIndex(proxy.index(0, 0))
    assert blocker.args == ["devices"]
