"""Derived maturity: current stage, gap, roll-ups and the roadmap.

Rules (they are also printed in the report's method appendix):

* The assessor rates Initial, Advanced and Optimal; Traditional is the floor.
* Derived current stage: walk Initial → Advanced → Optimal. A stage rated
  *met* is reached; a stage rated *not applicable* is skipped (it neither
  blocks nor counts); the walk stops at the first stage that is partially
  met, not met or not assessed. The current stage is the last stage reached,
  or Traditional when none was.
* A function whose three rated stages are all *not applicable* is itself not
  applicable and is left out of roll-ups.
* The assessor may override the current stage, always with a reason; the
  effective current stage is then the override, and it is shown as such.
* Gap = the number of applicable stages to climb: the stages strictly above
  the effective current stage up to and including the target, leaving out
  every stage rated *not applicable*. No target, no gap; a function not
  assessed yet or not applicable has no gap either.
* Below target: assessed, applicable and a gap above zero. The roll-ups count
  exactly these functions, and the roadmap lists exactly these functions, one
  step per stage to climb (never a step for a stage rated not applicable).
* Roll-ups (pillar and overall) are computed, never stored. Each assessed,
  applicable function weighs the same. The figure is the mean of the
  functions' current stages on a 0–3 scale (Traditional 0, Initial 1,
  Advanced 2, Optimal 3), shown with one decimal rounded half up (1.25 → 1.3,
  see ``figures``), with the stage it reaches (the shown mean rounded down),
  the lowest stage among them, and the distribution of functions per stage.
  A function counts as assessed once any stage is rated or it is overridden;
  functions not yet assessed are counted but not scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .catalog import Catalog, Function, GuidancePack, Recommendation
from .figures import level_of, score_text
from .stages import RATED_STAGES, Rating, Stage


@dataclass(frozen=True)
class StageRating:
    rating: Rating = Rating.NOT_ASSESSED
    comment: str = ""


@dataclass(frozen=True)
class FunctionAssessment:
    """What the assessor recorded for one function (stored values only)."""

    function_id: str
    ratings: Mapping[Stage, StageRating] = field(default_factory=dict)
    override_stage: Stage | None = None
    override_reason: str = ""
    target: Stage | None = None
    confidence: str = ""
    priority: str = ""
    owner: str = ""
    status: str = ""
    notes: str = ""

    def rating(self, stage: Stage) -> StageRating:
        return self.ratings.get(stage, StageRating())


def derive_current(ratings: Mapping[Stage, Rating]) -> Stage:
    """The highest stage reached with every rated stage below it met (N/A skipped)."""
    current = Stage.TRADITIONAL
    for stage in RATED_STAGES:
        rating = ratings.get(stage, Rating.NOT_ASSESSED)
        if rating is Rating.MET:
            current = stage
        elif rating is Rating.NOT_APPLICABLE:
            continue
        else:
            break
    return current


@dataclass(frozen=True)
class FunctionResult:
    """The derived view of one function."""

    function_id: str
    derived: Stage
    current: Stage
    overridden: bool
    override_reason: str
    target: Stage | None
    gap: int | None
    assessed: bool
    applicable: bool
    #: The applicable stages to climb to the target, lowest first (``gap`` of them); empty when there is no gap.
    climb: tuple[Stage, ...] = ()

    @property
    def below_target(self) -> bool:
        """Assessed, applicable and short of its target: what the roll-ups count and the roadmap lists."""
        return self.assessed and self.applicable and bool(self.gap)


def evaluate(assessment: FunctionAssessment) -> FunctionResult:
    ratings = {stage: assessment.rating(stage).rating for stage in RATED_STAGES}
    derived = derive_current(ratings)
    overridden = assessment.override_stage is not None
    current = assessment.override_stage if assessment.override_stage is not None else derived
    applicable = overridden or any(r is not Rating.NOT_APPLICABLE for r in ratings.values())
    assessed = overridden or any(r is not Rating.NOT_ASSESSED for r in ratings.values())
    climb = stages_to_climb(current, assessment.target, ratings) if assessed and applicable else None
    return FunctionResult(
        function_id=assessment.function_id,
        derived=derived,
        current=current,
        overridden=overridden,
        override_reason=assessment.override_reason if overridden else "",
        target=assessment.target,
        gap=None if climb is None else len(climb),
        assessed=assessed,
        applicable=applicable,
        climb=climb or (),
    )


def stages_to_climb(current: Stage, target: Stage | None, ratings: Mapping[Stage, Rating]) -> tuple[Stage, ...] | None:
    """The stages above ``current`` up to ``target`` that are not rated N/A; None without a target."""
    if target is None:
        return None
    return tuple(
        Stage(index)
        for index in range(int(current) + 1, int(target) + 1)
        if ratings.get(Stage(index), Rating.NOT_ASSESSED) is not Rating.NOT_APPLICABLE
    )


@dataclass(frozen=True)
class Rollup:
    """Maturity of a group of functions (a pillar, or the whole engagement)."""

    key: str
    name: str
    functions: int
    assessed: int
    not_applicable: int
    score: float | None  # mean current stage, 0–3
    level: Stage | None  # the stage the mean reaches
    lowest: Stage | None
    target_score: float | None
    below_target: int
    distribution: Mapping[Stage, int]

    @property
    def score_text(self) -> str:
        """``1.3 (Initial)`` or ``not assessed``, by the rounding rule of ``figures``."""
        return score_text(self.score, self.level)


def rollup(key: str, name: str, results: Iterable[FunctionResult]) -> Rollup:
    items = list(results)
    scored = [r for r in items if r.assessed and r.applicable]
    not_applicable = sum(1 for r in items if r.assessed and not r.applicable)
    distribution = {stage: sum(1 for r in scored if r.current is stage) for stage in Stage}
    score = sum(int(r.current) for r in scored) / len(scored) if scored else None
    targets = [int(r.target) for r in scored if r.target is not None]
    return Rollup(
        key=key,
        name=name,
        functions=len(items),
        assessed=len(scored) + not_applicable,
        not_applicable=not_applicable,
        score=score,
        level=level_of(score),
        lowest=min((r.current for r in scored), default=None),
        target_score=sum(targets) / len(targets) if targets else None,
        below_target=sum(1 for r in scored if r.below_target),
        distribution=distribution,
    )


@dataclass(frozen=True)
class RoadmapStep:
    stage: Stage
    recommendations: tuple[Recommendation, ...]


@dataclass(frozen=True)
class RoadmapItem:
    function: Function
    current: Stage
    target: Stage
    steps: tuple[RoadmapStep, ...]


def roadmap(
    functions: Iterable[Function],
    results: Mapping[str, FunctionResult],
    packs: Iterable[GuidancePack],
) -> list[RoadmapItem]:
    """One item per function below its target: the applicable stages to climb and their guidance."""
    pack_list = list(packs)
    items = []
    for function in functions:
        result = results.get(function.id)
        if result is None or result.target is None or not result.below_target:
            continue
        steps = roadmap_steps(function, result.climb, pack_list)
        items.append(RoadmapItem(function=function, current=result.current, target=result.target, steps=steps))
    return items


def roadmap_steps(
    function: Function, stages: Iterable[Stage], packs: Iterable[GuidancePack]
) -> tuple[RoadmapStep, ...]:
    """One step per stage to climb, with the packs' recommendations for it."""
    pack_list = list(packs)
    return tuple(
        RoadmapStep(
            stage=stage, recommendations=tuple(r for pack in pack_list for r in pack.for_stage(function.id, stage))
        )
        for stage in stages
    )


def pillar_rollups(catalog: Catalog, results: Mapping[str, FunctionResult], scope: Iterable[str]) -> list[Rollup]:
    wanted = set(scope)
    return [
        rollup(p.id, p.name, (results[f.id] for f in p.functions if f.id in results))
        for p in catalog.pillars
        if p.id in wanted
    ]
