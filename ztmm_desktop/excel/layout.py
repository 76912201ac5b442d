"""How the app marks its own workbooks, so that import can trust what it reads.

Both kinds of workbook the app writes (the deliverable and the questionnaire)
carry a very hidden, protected sheet ``META_SHEET`` of key/value rows:

    format      ztmm-workbench-workbook
    version     1
    kind        deliverable | questionnaire
    engagement  <engagement id>
    catalog     <catalog id>@<version>
    respondent  <name given at export, may be empty>

Sheets that carry answers or ratings have a header row with hidden id columns
headed ``FUNCTION_ID`` (the function's slug id) and, where rows are per stage,
``STAGE_ID`` (the stage key). The importer finds the header row and every column
by its header text, so reordered, hidden or added columns and extra sheets do
not matter.

A questionnaire's per-stage rows carry visible ``ANSWER_HEADER`` and
``COMMENT_HEADER`` columns; its respondent's name and role are the cells named
by the workbook-level defined names ``RESPONDENT_NAME`` and ``RESPONDENT_ROLE``
(defined names survive a re-save by Excel or LibreOffice). A deliverable's
per-function rows carry ``rating_header(stage)`` and ``comment_header(stage)``
columns for each rated stage.
"""

from __future__ import annotations

from ..core.stages import Rating, Stage

META_SHEET = "_ztmm"
FORMAT = "ztmm-workbench-workbook"
LAYOUT_VERSION = "1"
KIND_DELIVERABLE = "deliverable"
KIND_QUESTIONNAIRE = "questionnaire"

FUNCTION_ID = "ztmm:function"
STAGE_ID = "ztmm:stage"

#: What a respondent may answer for a stage; "Don't know" is an answer, not a rating.
DONT_KNOW = "dont-know"
ANSWER_LABELS: dict[str, str] = {
    Rating.MET.value: "Met",
    Rating.PARTIAL.value: "Partially met",
    Rating.NOT_MET.value: "Not met",
    Rating.NOT_APPLICABLE.value: "Not applicable",
    DONT_KNOW: "Don't know",
}

ANSWER_HEADER = "Answer"
COMMENT_HEADER = "Comment"
RESPONDENT_NAME = "ztmm_respondent_name"
RESPONDENT_ROLE = "ztmm_respondent_role"


def rating_header(stage: Stage) -> str:
    """A deliverable's rating column of ``stage``: "Initial rating"."""
    return f"{stage.label} rating"


def comment_header(stage: Stage) -> str:
    """A deliverable's comment column of ``stage``: "Initial comment"."""
    return f"{stage.label} comment"
