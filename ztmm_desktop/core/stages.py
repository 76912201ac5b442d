"""Maturity stages and stage ratings, ordered and parsed from user words."""

from __future__ import annotations

import enum

from .errors import BadInput


class Stage(enum.IntEnum):
    """The four ZTMM stages; their order is the maturity order."""

    TRADITIONAL = 0
    INITIAL = 1
    ADVANCED = 2
    OPTIMAL = 3

    def __bool__(self) -> bool:
        # An IntEnum of value 0 would be falsy, so "if stage:" would treat
        # Traditional as "no stage". Every stage is a stage.
        return True

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def label(self) -> str:
        return self.name.capitalize()

    @classmethod
    def parse(cls, text: str) -> Stage:
        word = text.strip().lower()
        for stage in cls:
            if stage.key == word:
                return stage
        names = ", ".join(s.key for s in cls)
        raise BadInput(f"unknown stage {text!r} (expected one of: {names})")


#: Stages the assessor rates; Traditional is the floor and is never rated.
RATED_STAGES: tuple[Stage, ...] = (Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL)


class Rating(enum.Enum):
    """How far the client meets one stage's description."""

    NOT_ASSESSED = "unassessed"
    MET = "met"
    PARTIAL = "partial"
    NOT_MET = "not-met"
    NOT_APPLICABLE = "na"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Rating:
        word = "-".join(text.strip().lower().replace("_", " ").split())
        rating = _ALIASES.get(word)
        if rating is None:
            names = ", ".join(r.value for r in cls)
            raise BadInput(f"unknown rating {text!r} (expected one of: {names})")
        return rating


_LABELS = {
    Rating.NOT_ASSESSED: "Not assessed",
    Rating.MET: "Met",
    Rating.PARTIAL: "Partially met",
    Rating.NOT_MET: "Not met",
    Rating.NOT_APPLICABLE: "Not applicable",
}

_ALIASES: dict[str, Rating] = {
    "unassessed": Rating.NOT_ASSESSED,
    "not-assessed": Rating.NOT_ASSESSED,
    "met": Rating.MET,
    "partial": Rating.PARTIAL,
    "partially-met": Rating.PARTIAL,
    "not-met": Rating.NOT_MET,
    "notmet": Rating.NOT_MET,
    "na": Rating.NOT_APPLICABLE,
    "n/a": Rating.NOT_APPLICABLE,
    "not-applicable": Rating.NOT_APPLICABLE,
}
