"""A function's assessment status: the one rule the tree, the function page, the reports and ``ztmm info`` share.

The status says how far the *assessment* of a function has got, never how far the client's remediation has:

* the assessor may record it (not started, in progress, done, not applicable), and a recorded status wins;
* otherwise it is derived from the ratings: every rated stage not applicable (and no override) → not
  applicable; all three rated stages rated (any rating but "not assessed") or an override → done; nothing
  rated → not started; anything else → in progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .stages import RATED_STAGES, Rating

if TYPE_CHECKING:  # a type only: the window's tree loads these rules before the scoring
    from .scoring import FunctionAssessment

NOT_STARTED = "not-started"
IN_PROGRESS = "in-progress"
DONE = "done"
NOT_APPLICABLE = "not-applicable"
#: The statuses, in the order a list offers them.
STATUSES: tuple[str, ...] = (NOT_STARTED, IN_PROGRESS, DONE, NOT_APPLICABLE)


@dataclass(frozen=True)
class AssessmentStatus:
    """A status key (one of ``STATUSES``) and whether the assessor recorded it (else it is derived)."""

    key: str
    recorded: bool

    @property
    def words(self) -> str:
        """``in progress``."""
        return self.key.replace("-", " ")

    @property
    def source(self) -> str:
        """Where the status comes from, in words: ``recorded`` or ``derived from the ratings``."""
        return "recorded" if self.recorded else "derived from the ratings"


def derived_status(assessment: FunctionAssessment) -> str:
    """The status the ratings and the override give, whatever the assessor recorded."""
    ratings = [assessment.rating(stage).rating for stage in RATED_STAGES]
    overridden = assessment.override_stage is not None
    if not overridden and all(r is Rating.NOT_APPLICABLE for r in ratings):
        return NOT_APPLICABLE
    if overridden or all(r is not Rating.NOT_ASSESSED for r in ratings):
        return DONE
    if all(r is Rating.NOT_ASSESSED for r in ratings):
        return NOT_STARTED
    return IN_PROGRESS


def assessment_status(assessment: FunctionAssessment) -> AssessmentStatus:
    """The status every view and deliverable shows: the recorded one, else the derived one."""
    if assessment.status in STATUSES:
        return AssessmentStatus(assessment.status, recorded=True)
    return AssessmentStatus(derived_status(assessment), recorded=False)
