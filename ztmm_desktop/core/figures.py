"""Every figure the window, the CLI, the report and the workbook show, computed and rounded here.

Nothing else formats or rounds a maturity figure: a place that shows a mean, a
count or a change asks this module, so the same engagement shows the same
figures everywhere.

Rules (they are also printed in the report's method appendix):

* Rounding: a mean stage (a pillar's, the overall one, a mean target) is shown
  with one decimal, rounded half up with decimal arithmetic: 1.25 → 1.3,
  1.15 → 1.2, 1.24 → 1.2. The workbook stores the rounded value, so a
  spreadsheet shows the same digits as the window and the report.
* The stage a mean reaches is the rounded mean rounded down to a whole stage.
* Below target: a function is below its target when it is assessed, applicable
  and its gap is more than zero. The roll-ups count exactly those functions and
  the roadmap lists exactly those functions.
* A change of a mean (progress) is the difference of the two rounded figures
  shown beside it: 1.1 → 1.3 is +0.2.
* Progress counts: a function *changed* when anything of its assessment differs
  (stage, override, target, a rating or a comment); *unchanged* when nothing
  does. Of the changed functions, each is *improved* (higher current stage),
  *regressed* (lower), at the *same stage* (something else changed) or *not
  comparable* (not applicable then or now, or not in the baseline). So
  improved + regressed + same stage + not comparable = changed, and
  changed + unchanged = the functions in scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from .stages import Stage

if TYPE_CHECKING:
    from .progress_compare import Comparison, FunctionProgress, RollupProgress
    from .scoring import Rollup

#: The shown precision of a mean stage.
ONE_DECIMAL = Decimal("0.1")
#: Floats are first brought back to the exact decimal they stand for (a mean of
#: a few dozen whole stages has few digits): 1.15 is stored as 1.1499999…
_EXACT = Decimal("0.000001")

NONE_TEXT = "–"
NOT_ASSESSED_TEXT = "not assessed"

#: Severities, most severe first (the order every deliverable lists them in).
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")


def round_mean(value: float | Decimal | None) -> Decimal | None:
    """A mean stage as shown: one decimal, rounded half up (``1.25`` → ``1.3``); None stays None."""
    if value is None:
        return None
    exact = Decimal(value).quantize(_EXACT, rounding=ROUND_HALF_EVEN)
    return exact.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def mean_number(value: float | Decimal | None) -> float | None:
    """The shown mean as a number (what the workbook stores and ``ztmm info --json`` prints)."""
    rounded = round_mean(value)
    return None if rounded is None else float(rounded)


def mean_text(value: float | Decimal | None, none: str = NONE_TEXT) -> str:
    """The shown mean as text: ``1.3``; ``none`` when there is none."""
    rounded = round_mean(value)
    return none if rounded is None else f"{rounded:.1f}"


def percent(part: int, whole: int) -> int:
    """A share in whole percent, rounded half up like every other figure (0 when ``whole`` is 0)."""
    if not whole:
        return 0
    return int((Decimal(100 * part) / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def level_of(value: float | Decimal | None) -> Stage | None:
    """The stage a mean reaches: the shown (rounded) mean rounded down."""
    rounded = round_mean(value)
    if rounded is None:
        return None
    return Stage(int(rounded.to_integral_value(rounding=ROUND_FLOOR)))


def score_text(value: float | Decimal | None, level: Stage | None) -> str:
    """``1.3 (Initial)``, or ``not assessed``."""
    if value is None or level is None:
        return NOT_ASSESSED_TEXT
    return f"{mean_text(value)} ({level.label})"


def delta(then: float | Decimal | None, now: float | Decimal | None) -> Decimal | None:
    """The change of a mean: the difference of the two shown figures; None when either side has none."""
    a, b = round_mean(then), round_mean(now)
    if a is None or b is None:
        return None
    return b - a


def delta_number(value: Decimal | None) -> float | None:
    return None if value is None else float(value) + 0.0  # + 0.0: never -0.0


def delta_text(value: Decimal | None) -> str:
    """A change of a mean stage: ``+0.5``, ``−0.3``, ``0.0``; ``–`` when either side has none."""
    if value is None:
        return NONE_TEXT
    if value > 0:
        return f"+{value:.1f}"
    if value < 0:
        return f"−{-value:.1f}"
    return "0.0"


@dataclass(frozen=True)
class RollupFigures:
    """The shown figures of one roll-up (a pillar, or overall)."""

    key: str
    name: str
    functions: int  # in scope
    assessed: int  # assessed, N/A ones included
    not_applicable: int
    score: Decimal | None  # rounded mean current stage
    level: Stage | None
    lowest: Stage | None
    target: Decimal | None  # rounded mean target of the scored functions with one
    below_target: int
    distribution: Mapping[Stage, int]  # scored functions per current stage

    @property
    def scored(self) -> int:
        """Assessed and applicable: the functions the means are over."""
        return self.assessed - self.not_applicable

    @property
    def not_assessed(self) -> int:
        return self.functions - self.assessed

    @property
    def score_number(self) -> float | None:
        return None if self.score is None else float(self.score)

    @property
    def target_number(self) -> float | None:
        return None if self.target is None else float(self.target)

    def score_text(self, none: str = NONE_TEXT) -> str:
        return mean_text(self.score, none)

    def target_text(self, none: str = NONE_TEXT) -> str:
        return mean_text(self.target, none)

    @property
    def score_level_text(self) -> str:
        """``1.3 (Initial)``, or ``not assessed``."""
        return score_text(self.score, self.level)


def rollup_figures(r: Rollup) -> RollupFigures:
    return RollupFigures(
        key=r.key,
        name=r.name,
        functions=r.functions,
        assessed=r.assessed,
        not_applicable=r.not_applicable,
        score=round_mean(r.score),
        level=r.level,
        lowest=r.lowest,
        target=round_mean(r.target_score),
        below_target=r.below_target,
        distribution={stage: r.distribution.get(stage, 0) for stage in Stage},
    )


def findings_by_severity(severities: Iterable[str]) -> dict[str, int]:
    """How many findings of each severity, most severe first (every severity listed, zeros too)."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for severity in severities:
        counts[severity] = counts.get(severity, 0) + 1
    return counts


@dataclass(frozen=True)
class RollupChange:
    """A roll-up's shown mean then and now, and the change between the two shown figures."""

    key: str
    name: str
    then: RollupFigures
    now: RollupFigures
    delta: Decimal | None

    @property
    def delta_text(self) -> str:
        return delta_text(self.delta)

    @property
    def delta_number(self) -> float | None:
        return delta_number(self.delta)


def rollup_change(r: RollupProgress) -> RollupChange:
    then, now = rollup_figures(r.then), rollup_figures(r.now)
    return RollupChange(key=r.key, name=r.name, then=then, now=now, delta=delta(then.score, now.score))


@dataclass(frozen=True)
class MovementCounts:
    """How the functions in scope moved: one partition, the same in every place that counts them."""

    functions: int
    changed: int
    improved: int
    regressed: int
    same_stage: int
    not_comparable: int
    unchanged: int

    def to_json(self) -> dict[str, int]:
        return {
            "functions": self.functions,
            "changed": self.changed,
            "improved": self.improved,
            "regressed": self.regressed,
            "same_stage": self.same_stage,
            "not_comparable": self.not_comparable,
            "unchanged": self.unchanged,
        }


#: What a function's movement is called, by ``movement_key``.
MOVEMENT_WORDS = {
    "improved": "Improved",
    "regressed": "Regressed",
    "same-stage": "Same stage",
    "not-comparable": "Not comparable",
    "unchanged": "Unchanged",
}


def movement_key(f: FunctionProgress) -> str:
    """``unchanged`` when nothing changed, else improved, regressed, same-stage or not-comparable."""
    if not f.changed:
        return "unchanged"
    value = f.movement.value
    return "same-stage" if value == "unchanged" else value


def movement_word(f: FunctionProgress) -> str:
    return MOVEMENT_WORDS[movement_key(f)]


def movement_counts(c: Comparison) -> MovementCounts:
    keys = [movement_key(f) for f in c.functions]
    return MovementCounts(
        functions=len(keys),
        changed=sum(1 for k in keys if k != "unchanged"),
        improved=keys.count("improved"),
        regressed=keys.count("regressed"),
        same_stage=keys.count("same-stage"),
        not_comparable=keys.count("not-comparable"),
        unchanged=keys.count("unchanged"),
    )


def movement_sentence(counts: MovementCounts) -> str:
    """``3 functions changed: 1 improved, 1 regressed, 1 at the same stage; 37 unchanged``."""
    parts = [f"{counts.improved} improved", f"{counts.regressed} regressed"]
    if counts.same_stage:
        parts.append(f"{counts.same_stage} at the same stage")
    if counts.not_comparable:
        parts.append(f"{counts.not_comparable} not comparable")
    noun = "function" if counts.changed == 1 else "functions"
    return f"{counts.changed} {noun} changed: {', '.join(parts)}; {counts.unchanged} unchanged"


def tied(values: Mapping[str, Decimal]) -> tuple[list[str], list[str]]:
    """The names sharing the highest and the lowest shown figure (insertion order kept)."""
    if not values:
        return [], []
    top, bottom = max(values.values()), min(values.values())
    return [k for k, v in values.items() if v == top], [k for k, v in values.items() if v == bottom]


def join_names(names: list[str]) -> str:
    """``Identity``, ``Identity and Devices``, ``Identity, Devices and Data``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def maturity_sentence(values: Mapping[str, Decimal]) -> str:
    """Which pillars are the most and the least mature, naming every tied one; empty with fewer than two."""
    if len(values) < 2:
        return ""
    best, worst = tied(values)
    top, bottom = values[best[0]], values[worst[0]]
    if top == bottom:
        return f"All {len(values)} assessed pillars are level ({top:.1f})."
    most = f"{join_names(best)} {'is the most mature pillar' if len(best) == 1 else 'are the most mature pillars'}"
    least = f"{join_names(worst)} {'the least' if len(worst) == 1 else 'the least mature'}"
    return f"{most} ({top:.1f}); {least} ({bottom:.1f})."
