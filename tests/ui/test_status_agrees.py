"""One assessment status, read the same in the tree, on the function page, in ``ztmm info`` and in the report.

The tree used to derive "done" from the ratings while the page and the report showed "—" for the same
function (nothing recorded). Every place now takes the status from ``core.status``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.test_report import pdftotext
from ztmm_desktop.cli import _info_json
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement
from ztmm_desktop.services.report import export_report
from ztmm_desktop.ui.function.page import FunctionPage
from ztmm_desktop.ui.tree.model import STATUS_COLUMN, EngagementTreeModel

pytestmark = pytest.mark.gui

INI, ADV, OPT = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL
MET, NA, NOT_MET = Rating.MET, Rating.NOT_APPLICABLE, Rating.NOT_MET

#: Function code → the status every view must show for it.
EXPECTED = {
    "1.1": "not started",  # nothing rated (a note only, so the report shows it in full)
    "1.2": "in progress",  # some stages rated
    "1.3": "done",  # every stage rated
    "1.4": "not applicable",  # every stage not applicable
    "1.5": "done",  # an override and no rating
    "1.6": "in progress",  # every stage rated, but the assessor recorded "in progress"
}


@pytest.fixture
def engagement(tmp_path: Path) -> Iterator[Engagement]:
    made = create_engagement(tmp_path / "states.ztmm", Properties(client="Status client", scope=("identity",)))
    made.assess("1.1", note="Workshop on Thursday.")
    made.assess("1.2", ratings={INI: MET})
    made.assess("1.3", ratings={INI: MET, ADV: NOT_MET, OPT: NOT_MET})
    made.assess("1.4", ratings={INI: NA, ADV: NA, OPT: NA})
    made.assess("1.5", override=(ADV, "Seen in the workshop"))
    made.assess("1.6", ratings={INI: MET, ADV: MET, OPT: MET}, status="in-progress")
    try:
        yield made
    finally:
        made.close()


def test_tree_page_info_and_report_show_the_same_status(qtbot: QtBot, engagement: Engagement, tmp_path: Path) -> None:
    model = EngagementTreeModel(engagement)
    tree = {code: model.index_for_function(code).siblingAtColumn(STATUS_COLUMN).data() for code in EXPECTED}

    page = FunctionPage(engagement)
    qtbot.addWidget(page)
    shown = {}
    for code in EXPECTED:
        page.show_function(code)
        shown[code] = page.status_combo.currentText().removesuffix(" (from the ratings)").lower()

    info = {f["code"]: f["assessment_status"].replace("-", " ") for f in _info_json(engagement)["functions"]}

    pdf = tmp_path / "report.pdf"
    export_report(engagement, pdf)
    text = " ".join(pdftotext(pdf).split())
    report = {}
    for code in EXPECTED:
        function = engagement.catalog.function(code)
        facts = text.split(f"{function.code} {function.name} CURRENT", 1)[1]  # the function's facts, then on
        found = re.search(r"Assessment: (not started|in progress|done|not applicable)", facts)
        assert found is not None, code
        report[code] = found.group(1)

    assert tree == EXPECTED
    assert shown == EXPECTED
    assert {code: info[code] for code in EXPECTED} == EXPECTED
    assert report == EXPECTED


def test_a_recorded_status_wins_and_the_page_says_when_it_is_derived(qtbot: QtBot, engagement: Engagement) -> None:
    page = FunctionPage(engagement)
    qtbot.addWidget(page)
    page.show_function("1.3")
    assert page.status_combo.currentText() == "Done (from the ratings)"
    page.show_function("1.6")
    assert page.status_combo.currentText() == "In progress"
