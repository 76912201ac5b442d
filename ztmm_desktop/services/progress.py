"""Baselines as they are read, and the progress since one, with plain sqlite3 (no ORM).

``services.baselines`` freezes and deletes baselines and compares with another file; what
reads them (listing, a baseline's frozen states, the comparison with one, the progress the
deliverables and ``ztmm info`` show) lives here so that a :class:`~.records.Records` of
either kind reads it, the read-only commands included (``services.records``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..core import figures
from ..core.catalog import Pillar
from ..core.errors import BadInput, EngagementFileError
from ..core.progress_compare import Comparison, FunctionState, compare
from ..core.scoring import StageRating
from ..core.stages import RATED_STAGES, Rating, Stage
from .records import Records

if TYPE_CHECKING:  # the deliverables' model is loaded only when there is a baseline to name
    from ..core.deliverable import BaselineRef


@dataclass(frozen=True)
class Baseline:
    """A frozen baseline as listed: who froze it when, and where the engagement stood then."""

    name: str
    created_at: str
    created_by: str
    catalog_version: str
    scope: tuple[str, ...]
    functions: int
    overall_score: float | None
    overall_level: Stage | None

    @property
    def score_text(self) -> str:
        return figures.score_text(self.overall_score, figures.level_of(self.overall_score))


@dataclass(frozen=True)
class _BaselineRecord:
    id: int
    name: str
    created_at: str
    created_by: str
    catalog_version: str
    scope: str
    rollups: str


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_Row = TypeVar("_Row", bound=_Named)


def _records(engagement: Records) -> list[_BaselineRecord]:
    with engagement.reading() as conn:
        rows = conn.execute(
            "SELECT id, name, created_at, created_by, catalog_version, scope, rollups FROM baseline"
            " ORDER BY created_at, id"
        ).fetchall()
    return [_BaselineRecord(*row) for row in rows]


def find_baseline(engagement: Records, rows: list[_Row], name: str) -> _Row:
    """The baseline named ``name`` (exactly, or the only one ignoring case); refused with the names there are."""
    wanted = name.strip()
    exact = [r for r in rows if r.name == wanted]
    folded = [r for r in rows if r.name.casefold() == wanted.casefold()]
    if exact or len(folded) == 1:
        return (exact or folded)[0]
    have = ", ".join(repr(r.name) for r in rows)
    known = f"the baselines are: {have}" if rows else "it has none yet"
    raise BadInput(f"no baseline named {wanted!r} in {engagement.path.name}; {known}")


def _baseline(row: _BaselineRecord, functions: int) -> Baseline:
    try:
        overall = json.loads(row.rollups).get("overall") or {}
        score = overall.get("score")
        level = Stage.parse(overall["level"]) if overall.get("level") else None
        scope = tuple(str(p) for p in json.loads(row.scope))
    except (ValueError, TypeError, AttributeError, BadInput):
        score, level, scope = None, None, ()
    return Baseline(
        name=row.name,
        created_at=row.created_at,
        created_by=row.created_by,
        catalog_version=row.catalog_version,
        scope=scope,
        functions=functions,
        overall_score=float(score) if isinstance(score, int | float) else None,
        overall_level=level,
    )


def list_baselines(engagement: Records) -> list[Baseline]:
    """The engagement's baselines, oldest first."""
    rows = _records(engagement)
    with engagement.reading() as conn:
        counts = dict(conn.execute("SELECT baseline_id, count(*) FROM baseline_function GROUP BY baseline_id"))
    return [_baseline(r, counts.get(r.id, 0)) for r in rows]


def _frozen_state(row: tuple[str, str, str, object, str, str | None, str]) -> FunctionState:
    function_id, current, derived, overridden, override_reason, target, frozen = row
    raw = json.loads(frozen)
    if not isinstance(raw, dict):
        raise ValueError("ratings are not a mapping")
    ratings: dict[Stage, StageRating] = {}
    for key, value in raw.items():
        stage = Stage.parse(key)
        if stage not in RATED_STAGES or not isinstance(value, dict):
            raise ValueError(f"bad rating for {key}")
        ratings[stage] = StageRating(
            Rating(value.get("rating", Rating.NOT_ASSESSED.value)), str(value.get("comment", ""))
        )
    return FunctionState.frozen(
        function_id,
        current=Stage.parse(current),
        derived=Stage.parse(derived),
        overridden=bool(overridden),
        override_reason=override_reason,
        target=Stage.parse(target) if target else None,
        ratings=ratings,
    )


def baseline_states(engagement: Records, name: str) -> tuple[Baseline, dict[str, FunctionState]]:
    """A baseline and the state of every function it froze."""
    row = find_baseline(engagement, _records(engagement), name)
    with engagement.reading() as conn:
        function_rows = conn.execute(
            "SELECT function_id, current, derived, overridden, override_reason, target, ratings"
            " FROM baseline_function WHERE baseline_id = ?",
            (row.id,),
        ).fetchall()
    try:
        states = {r[0]: _frozen_state(r) for r in function_rows}
    except (ValueError, TypeError, KeyError, BadInput):
        raise EngagementFileError(f"{engagement.path.name}: baseline {row.name!r} is damaged") from None
    return _baseline(row, len(function_rows)), states


def now_states(engagement: Records) -> dict[str, FunctionState]:
    """Every function's state as the engagement has it now."""
    results = engagement.results()
    return {fid: FunctionState.of(a, results[fid]) for fid, a in engagement.assessments().items()}


def pillars_in_scope(engagement: Records) -> list[Pillar]:
    scope = set(engagement.meta().scope)
    return [p for p in engagement.catalog.pillars if p.id in scope]


def compare_with_baseline(engagement: Records, name: str, *, shown_as: str | None = None) -> Comparison:
    """Every function in scope as it was when baseline ``name`` was frozen, and now (``shown_as``: the
    engagement's name in the labels, its file's name by default)."""
    baseline, then = baseline_states(engagement, name)
    return compare(
        pillars_in_scope(engagement),
        then,
        now_states(engagement),
        then_label=f"baseline {baseline.name!r} ({baseline.created_at[:10]})",
        now_label=f"{shown_as or engagement.path.name} now",
    )


def progress_since(engagement: Records, name: str | None = None) -> tuple[Comparison | None, BaselineRef | None]:
    """The progress the deliverables show (baseline ``name``, default the latest frozen), and which
    baseline it is; ``ztmm info`` shows it too."""
    listed = list_baselines(engagement)
    if name is None:
        if not listed:
            return None, None
        name = max(enumerate(listed), key=lambda pair: (pair[1].created_at, pair[0]))[1].name
    from ..core.deliverable import BaselineRef

    comparison = compare_with_baseline(engagement, name)  # refuses an unknown name
    wanted = name.strip()
    chosen = next((b for b in listed if b.name == wanted), None) or next(
        b for b in listed if b.name.casefold() == wanted.casefold()
    )
    return comparison, BaselineRef(name=chosen.name, created_at=chosen.created_at, created_by=chosen.created_by)
