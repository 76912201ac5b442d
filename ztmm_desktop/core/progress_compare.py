"""Progress: one engagement's assessment then (a baseline or another file) against now.

Pure values, no storage. ``FunctionState`` is one function's assessment at one
moment (its ratings with comments and its derived view); ``compare`` pairs the
states of every function in scope and summarises them.

Rules:

* A function *improved* when its effective current stage is higher now than
  then, *regressed* when lower, *unchanged* when equal. When either side is not
  applicable (every rated stage N/A), or the function was not in the earlier
  assessment at all, the stages are *not comparable*.
* A function *changed* when anything of its assessment differs: the current
  stage, the derived stage, the override, the target, a rating or a comment.
  ``changes`` names what.
* Pillar and overall means then and now follow the roll-up rule of
  ``scoring`` (the mean current stage of the assessed, applicable functions,
  0–3), over the functions in scope now. The change of a mean is the
  difference of the two figures shown (rounded by the rule of ``figures``).
* Counts: ``figures.movement_counts`` partitions the functions in scope into
  unchanged (nothing differs) and changed ones, the changed ones into
  improved, regressed, same stage and not comparable; every place that counts
  uses it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import figures
from .catalog import Function, Pillar
from .scoring import FunctionAssessment, FunctionResult, Rollup, StageRating, evaluate, rollup, stages_to_climb
from .stages import RATED_STAGES, Stage


@dataclass(frozen=True)
class FunctionState:
    """One function's assessment at one moment: what was recorded and what it came to."""

    result: FunctionResult
    ratings: Mapping[Stage, StageRating]

    @classmethod
    def of(cls, assessment: FunctionAssessment, result: FunctionResult | None = None) -> FunctionState:
        """The state of a live assessment (``result`` defaults to its evaluation)."""
        ratings = {stage: assessment.rating(stage) for stage in RATED_STAGES}
        return cls(result=result or evaluate(assessment), ratings=ratings)

    @classmethod
    def frozen(
        cls,
        function_id: str,
        *,
        current: Stage,
        derived: Stage,
        overridden: bool,
        override_reason: str,
        target: Stage | None,
        ratings: Mapping[Stage, StageRating],
    ) -> FunctionState:
        """A state as it was stored: the stages recorded then are kept, even if the rules changed since."""
        assessment = FunctionAssessment(
            function_id=function_id,
            ratings=dict(ratings),
            override_stage=current if overridden else None,
            override_reason=override_reason,
            target=target,
        )
        fresh = evaluate(assessment)
        rated = {stage: r.rating for stage, r in ratings.items()}
        climb = stages_to_climb(current, target, rated) if fresh.assessed and fresh.applicable else None
        result = FunctionResult(
            function_id=function_id,
            derived=derived,
            current=current,
            overridden=overridden,
            override_reason=override_reason if overridden else "",
            target=target,
            gap=None if climb is None else len(climb),
            assessed=fresh.assessed,
            applicable=fresh.applicable,
            climb=climb or (),
        )
        return cls(result=result, ratings={stage: ratings.get(stage, StageRating()) for stage in RATED_STAGES})

    @property
    def current(self) -> Stage:
        return self.result.current

    @property
    def target(self) -> Stage | None:
        return self.result.target

    def rating(self, stage: Stage) -> StageRating:
        return self.ratings.get(stage, StageRating())

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "current": r.current.key,
            "derived": r.derived.key,
            "overridden": r.overridden,
            "override_reason": r.override_reason or None,
            "target": r.target.key if r.target is not None else None,
            "gap": r.gap,
            "assessed": r.assessed,
            "applicable": r.applicable,
            "ratings": {
                stage.key: {"rating": self.rating(stage).rating.value, "comment": self.rating(stage).comment}
                for stage in RATED_STAGES
            },
        }


class Movement(enum.Enum):
    IMPROVED = "improved"
    REGRESSED = "regressed"
    UNCHANGED = "unchanged"
    NOT_COMPARABLE = "not-comparable"


@dataclass(frozen=True)
class FunctionProgress:
    function: Function
    then: FunctionState | None  # None: the function was not in the earlier assessment
    now: FunctionState
    movement: Movement
    steps: int | None  # stages gained (negative: lost); None when not comparable
    changes: tuple[str, ...]  # what differs: stage, derived, override, target, ratings, comments

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def describe(self) -> str:
        """One line: ``1.1 Authentication: Initial → Advanced (target Optimal)``."""
        now = self.now.result
        then_text = _stage_text(self.then.result) if self.then is not None else "not assessed then"
        notes = []
        then_target = self.then.target if self.then is not None else None
        if then_target != now.target:
            notes.append(f"target {_label(then_target)} → {_label(now.target)}")
        elif now.target is not None:
            notes.append(f"target {now.target.label}")
        if self.then is not None and self.then.current == now.current:
            notes.extend(f"{what} changed" for what in self.changes if what in ("ratings", "comments", "override"))
        suffix = f" ({'; '.join(notes)})" if notes else ""
        return f"{self.function.code} {self.function.name}: {then_text} → {_stage_text(now)}{suffix}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.function.id,
            "code": self.function.code,
            "name": self.function.name,
            "pillar": self.function.pillar_id,
            "then": self.then.to_json() if self.then is not None else None,
            "now": self.now.to_json(),
            "movement": self.movement.value,
            "steps": self.steps,
            "changed": self.changed,
            "changes": list(self.changes),
        }


def _label(stage: Stage | None) -> str:
    return stage.label if stage is not None else "none"


def _stage_text(result: FunctionResult) -> str:
    if not result.applicable:
        return "Not applicable"
    return result.current.label + (" (override)" if result.overridden else "")


@dataclass(frozen=True)
class RollupProgress:
    """A pillar's (or the whole scope's) roll-up then and now."""

    key: str
    name: str
    then: Rollup
    now: Rollup

    @property
    def delta(self) -> float | None:
        """The change of the shown means (``figures.delta``): 1.1 → 1.3 is +0.2; None when either has none."""
        return figures.delta_number(figures.delta(self.then.score, self.now.score))

    def describe(self) -> str:
        return f"{self.name}: {self.then.score_text} → {self.now.score_text}"

    def to_json(self) -> dict[str, Any]:
        def side(r: Rollup) -> dict[str, Any]:
            return {
                "score": figures.mean_number(r.score),
                "level": r.level.key if r.level is not None else None,
                "assessed": r.assessed,
                "below_target": r.below_target,
            }

        delta = self.delta
        return {
            "id": self.key,
            "name": self.name,
            "functions": self.now.functions,
            "then": side(self.then),
            "now": side(self.now),
            "delta": delta,
        }


@dataclass(frozen=True)
class Comparison:
    """Every function in scope then and now, with pillar and overall roll-ups and counts."""

    then_label: str
    now_label: str
    functions: tuple[FunctionProgress, ...]
    pillars: tuple[RollupProgress, ...]
    overall: RollupProgress

    @property
    def changed(self) -> tuple[FunctionProgress, ...]:
        return tuple(f for f in self.functions if f.changed)

    def count(self, movement: Movement) -> int:
        return sum(1 for f in self.functions if f.movement is movement)

    def summary(self) -> str:
        """One line: how many changed, moved up, down, stayed; the overall mean then and now."""
        counts = figures.movement_sentence(figures.movement_counts(self))
        return f"{counts}; overall {self.overall.then.score_text} → {self.overall.now.score_text}"

    def to_json(self) -> dict[str, Any]:
        return {
            "then": self.then_label,
            "now": self.now_label,
            "summary": figures.movement_counts(self).to_json(),
            "overall": self.overall.to_json(),
            "pillars": [p.to_json() for p in self.pillars],
            "functions": [f.to_json() for f in self.functions],
        }


def _changes(then: FunctionState, now: FunctionState) -> tuple[str, ...]:
    a, b = then.result, now.result
    out = []
    if a.current != b.current or a.applicable != b.applicable:
        out.append("stage")
    if a.derived != b.derived:
        out.append("derived")
    if (a.overridden, a.override_reason) != (b.overridden, b.override_reason):
        out.append("override")
    if a.target != b.target:
        out.append("target")
    if any(then.rating(s).rating != now.rating(s).rating for s in RATED_STAGES):
        out.append("ratings")
    if any(then.rating(s).comment != now.rating(s).comment for s in RATED_STAGES):
        out.append("comments")
    return tuple(out)


def _movement(then: FunctionState | None, now: FunctionState) -> tuple[Movement, int | None]:
    if then is None or not then.result.applicable or not now.result.applicable:
        return Movement.NOT_COMPARABLE, None
    steps = int(now.current) - int(then.current)
    if steps > 0:
        return Movement.IMPROVED, steps
    if steps < 0:
        return Movement.REGRESSED, steps
    return Movement.UNCHANGED, 0


def _unassessed(function_id: str) -> FunctionResult:
    return evaluate(FunctionAssessment(function_id=function_id))


def compare(
    pillars: Sequence[Pillar],
    then: Mapping[str, FunctionState],
    now: Mapping[str, FunctionState],
    *,
    then_label: str,
    now_label: str,
) -> Comparison:
    """Compare the functions of ``pillars`` (the scope, in catalog order) then and now.

    A function missing from ``then`` counts as not assessed in the earlier roll-ups.
    """
    functions: list[FunctionProgress] = []
    for pillar in pillars:
        for function in pillar.functions:
            before, after = then.get(function.id), now[function.id]
            movement, steps = _movement(before, after)
            changes = _changes(before, after) if before is not None else ("stage",)
            functions.append(FunctionProgress(function, before, after, movement, steps, changes))

    def results(side: Mapping[str, FunctionState], items: Iterable[Function]) -> list[FunctionResult]:
        return [side[f.id].result if f.id in side else _unassessed(f.id) for f in items]

    pillar_progress = tuple(
        RollupProgress(
            key=p.id,
            name=p.name,
            then=rollup(p.id, p.name, results(then, p.functions)),
            now=rollup(p.id, p.name, results(now, p.functions)),
        )
        for p in pillars
    )
    every = [f for p in pillars for f in p.functions]
    overall = RollupProgress(
        key="overall",
        name="Overall",
        then=rollup("overall", "Overall", results(then, every)),
        now=rollup("overall", "Overall", results(now, every)),
    )
    return Comparison(
        then_label=then_label,
        now_label=now_label,
        functions=tuple(functions),
        pillars=pillar_progress,
        overall=overall,
    )


__all__ = [
    "Comparison",
    "FunctionProgress",
    "FunctionState",
    "Movement",
    "RollupProgress",
    "compare",
]
