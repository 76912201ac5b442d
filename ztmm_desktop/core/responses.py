"""What client staff answer in a questionnaire, and how it compares with the rating.

A respondent answers each rated stage of a function with an :class:`Answer`
(the four ratings a stage can get, plus "Don't know") and a comment. Answers
are kept per respondent, beside the assessor's own rating, which a respondent
never overwrites: the assessor sees where respondents disagree with each other
and with the rating (:func:`agreement`) and adopts an answer with one action.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import BadInput
from .stages import Rating, Stage


class Answer(enum.Enum):
    """A respondent's answer for one stage; the values match :class:`Rating` where they overlap."""

    MET = "met"
    PARTIAL = "partial"
    NOT_MET = "not-met"
    NOT_APPLICABLE = "na"
    DONT_KNOW = "dont-know"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def rating(self) -> Rating | None:
        """The rating this answer stands for; None for "Don't know", which is not a rating."""
        return None if self is Answer.DONT_KNOW else Rating(self.value)

    @classmethod
    def from_rating(cls, rating: Rating) -> Answer | None:
        return None if rating is Rating.NOT_ASSESSED else cls(rating.value)

    @classmethod
    def parse(cls, text: str) -> Answer | None:
        """An answer as a person may type it (any case and spacing, common short forms).

        Blank text and "Not assessed" are no answer (None); anything else unknown
        raises ``BadInput``.
        """
        word = normalise(text)
        if word in _NO_ANSWER:
            return None
        answer = _ALIASES.get(word)
        if answer is None:
            raise BadInput(f"{text.strip()[:60]!r} is not an answer (expected {expected_answers()})")
        return answer


_LABELS = {
    Answer.MET: "Met",
    Answer.PARTIAL: "Partially met",
    Answer.NOT_MET: "Not met",
    Answer.NOT_APPLICABLE: "Not applicable",
    Answer.DONT_KNOW: "Don't know",
}


def normalise(text: str) -> str:
    """Lower case, typographic apostrophes dropped, runs of space, ``_`` and ``-`` made one space."""
    word = text.strip().casefold().replace("’", "").replace("'", "").replace("‘", "")
    return " ".join(re.split(r"[\s_\-]+", word)).strip()


_NO_ANSWER = {"", "not assessed", "unassessed", "none"}
_ALIASES: dict[str, Answer] = {
    "met": Answer.MET,
    "fully met": Answer.MET,
    "partially met": Answer.PARTIAL,
    "partially": Answer.PARTIAL,
    "partial": Answer.PARTIAL,
    "partly met": Answer.PARTIAL,
    "not met": Answer.NOT_MET,
    "notmet": Answer.NOT_MET,
    "unmet": Answer.NOT_MET,
    "not applicable": Answer.NOT_APPLICABLE,
    "n/a": Answer.NOT_APPLICABLE,
    "na": Answer.NOT_APPLICABLE,
    "n a": Answer.NOT_APPLICABLE,
    "dont know": Answer.DONT_KNOW,
    "do not know": Answer.DONT_KNOW,
    "unknown": Answer.DONT_KNOW,
    "?": Answer.DONT_KNOW,
}


def expected_answers() -> str:
    return ", ".join(a.label for a in Answer)


@dataclass(frozen=True)
class Response:
    """One respondent's stored answer for one stage of one function."""

    function_id: str
    stage: Stage
    respondent: str
    role: str
    answer: Answer | None  # None: only a comment
    comment: str
    source_name: str
    source_sha256: str
    imported_at: str
    imported_by: str

    @property
    def slot(self) -> tuple[str, Stage, str]:
        return (self.function_id, self.stage, self.respondent)


@dataclass(frozen=True)
class Difference:
    """One change an import would make to what a respondent is recorded as saying."""

    function_id: str
    function_code: str
    function_name: str
    stage: Stage
    respondent: str
    role: str
    old_answer: Answer | None
    new_answer: Answer | None
    old_comment: str
    new_comment: str
    rating: Rating  # the assessor's current rating of this stage
    where: str  # sheet!cell of the answer read

    @property
    def new(self) -> bool:
        """True when the respondent had nothing recorded for this stage."""
        return self.old_answer is None and not self.old_comment

    @property
    def disagrees_with_rating(self) -> bool:
        """The new answer is a rating and the assessor rated the stage differently."""
        return disagrees(self.new_answer, self.rating)


def disagrees(answer: Answer | None, rating: Rating) -> bool:
    """Whether ``answer`` contradicts an assessor's ``rating`` (unrated stages and "Don't know" never do)."""
    if answer is None or answer.rating is None or rating is Rating.NOT_ASSESSED:
        return False
    return answer.rating is not rating


class Agreement(enum.Enum):
    """How the answers to one stage stand against each other and against the rating."""

    NO_ANSWERS = "no-answers"  # nobody answered (or only "Don't know")
    AGREE = "agree"  # every answer equals the rating
    UNRATED = "unrated"  # respondents agree, the assessor has not rated the stage yet
    DISAGREE_WITH_RATING = "disagree-with-rating"  # respondents agree with each other, not with the rating
    RESPONDENTS_DISAGREE = "respondents-disagree"  # respondents give different answers


@dataclass(frozen=True)
class StageAgreement:
    function_id: str
    stage: Stage
    rating: Rating
    responses: tuple[Response, ...]  # every respondent's answer to this stage, by name

    @property
    def answers(self) -> dict[str, Answer]:
        """Respondent → answer, for the answers that are ratings (not "Don't know", not blank)."""
        return {r.respondent: r.answer for r in self.responses if r.answer is not None and r.answer.rating is not None}

    @property
    def respondents_disagree(self) -> bool:
        return len(set(self.answers.values())) > 1

    @property
    def disagree_with_rating(self) -> list[str]:
        """Respondents whose answer differs from the rating."""
        return [name for name, answer in self.answers.items() if disagrees(answer, self.rating)]

    @property
    def state(self) -> Agreement:
        if not self.answers:
            return Agreement.NO_ANSWERS
        if self.respondents_disagree:
            return Agreement.RESPONDENTS_DISAGREE
        if self.rating is Rating.NOT_ASSESSED:
            return Agreement.UNRATED
        return Agreement.DISAGREE_WITH_RATING if self.disagree_with_rating else Agreement.AGREE


def agreement(function_id: str, stage: Stage, rating: Rating, responses: Iterable[Response]) -> StageAgreement:
    mine = tuple(
        sorted(
            (r for r in responses if r.function_id == function_id and r.stage is stage),
            key=lambda r: r.respondent.casefold(),
        )
    )
    return StageAgreement(function_id, stage, rating, mine)
