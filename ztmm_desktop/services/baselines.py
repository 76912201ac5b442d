"""Baselines and progress: freeze the assessment under a name, compare later.

A baseline ("Initial assessment 2026-11") is a frozen copy of every function's
assessment — ratings with comments, override, target, the current and derived
stages — and the roll-ups of that moment, stored in the engagement file
(schema 4). The engagement can later be compared with a baseline, or with
another engagement file of the same client (the other file is the earlier
side, opened read-only and closed again). Comparisons are ``Comparison``
values from ``core.progress_compare``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from ..core import figures
from ..core.catalog import Pillar
from ..core.errors import BadInput, EngagementFileError
from ..core.progress_compare import Comparison, FunctionState, compare
from ..core.scoring import Rollup, StageRating
from ..core.stages import RATED_STAGES, Rating, Stage
from ..store.schema import BaselineFunctionRow, BaselineRow
from .engagement import MAX_NAME, Changes, Engagement, check_text, open_engagement


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


def check_name(name: str) -> str:
    """A baseline name, trimmed; refused when empty, too long or not one line of text."""
    name = name.strip()
    if not name:
        raise BadInput("a baseline needs a name, e.g. 'Initial assessment 2026-11'")
    check_text(name, "baseline name", MAX_NAME)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise BadInput("a baseline name is one line of text without control characters")
    return name


def _rollup_json(r: Rollup) -> dict[str, Any]:
    return {
        "id": r.key,
        "name": r.name,
        "functions": r.functions,
        "assessed": r.assessed,
        "score": r.score,
        "level": r.level.key if r.level is not None else None,
        "below_target": r.below_target,
        "distribution": {stage.key: count for stage, count in r.distribution.items()},
    }


def _rows(session: Session) -> list[BaselineRow]:
    return list(session.exec(select(BaselineRow).order_by(col(BaselineRow.created_at), col(BaselineRow.id))))


def _find(engagement: Engagement, rows: list[BaselineRow], name: str) -> BaselineRow:
    wanted = name.strip()
    exact = [r for r in rows if r.name == wanted]
    folded = [r for r in rows if r.name.casefold() == wanted.casefold()]
    if exact or len(folded) == 1:
        return (exact or folded)[0]
    have = ", ".join(repr(r.name) for r in rows)
    known = f"the baselines are: {have}" if rows else "it has none yet"
    raise BadInput(f"no baseline named {wanted!r} in {engagement.path.name}; {known}")


def _baseline(row: BaselineRow, functions: int) -> Baseline:
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


def list_baselines(engagement: Engagement) -> list[Baseline]:
    """The engagement's baselines, oldest first."""
    with engagement.session() as session:
        rows = _rows(session)
        counts: dict[int, int] = {}
        for function_row in session.exec(select(BaselineFunctionRow)):
            counts[function_row.baseline_id] = counts.get(function_row.baseline_id, 0) + 1
    return [_baseline(r, counts.get(r.id or 0, 0)) for r in rows]


def freeze_baseline(engagement: Engagement, name: str, *, by: str | None = None) -> Changes:
    """Freeze every function's assessment and the roll-ups as they are now, under ``name``."""
    name = check_name(name)
    assessments = engagement.assessments()
    results = engagement.results()
    pillars, overall = engagement.rollups()
    meta = engagement.meta()
    with engagement.edit(by) as (session, audit):
        clash = next((r for r in _rows(session) if r.name.casefold() == name.casefold()), None)
        if clash is not None:
            raise BadInput(
                f"a baseline named {clash.name!r} already exists (frozen {clash.created_at} by {clash.created_by}); "
                "choose another name"
            )
        row = BaselineRow(
            name=name,
            created_at=audit.at,
            created_by=audit.by,
            catalog_version=meta.catalog_version,
            scope=json.dumps(list(meta.scope)),
            rollups=json.dumps(
                {"pillars": [_rollup_json(p) for p in pillars], "overall": _rollup_json(overall)}, ensure_ascii=False
            ),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        for function_id, assessment in assessments.items():
            result = results[function_id]
            ratings = {
                stage.key: {
                    "rating": assessment.rating(stage).rating.value,
                    "comment": assessment.rating(stage).comment,
                }
                for stage in RATED_STAGES
                if assessment.rating(stage) != StageRating()
            }
            session.add(
                BaselineFunctionRow(
                    baseline_id=row.id,
                    function_id=function_id,
                    current=result.current.key,
                    derived=result.derived.key,
                    overridden=result.overridden,
                    override_reason=result.override_reason,
                    target=result.target.key if result.target is not None else None,
                    ratings=json.dumps(ratings, ensure_ascii=False),
                )
            )
        audit.record("baseline", name, "frozen", None, f"{len(assessments)} functions, overall {overall.score_text}")
    return Changes(metadata=True)


def delete_baseline(engagement: Engagement, name: str, *, by: str | None = None) -> Changes:
    """Remove a baseline (the assessment itself is untouched)."""
    with engagement.edit(by) as (session, audit):
        row = _find(engagement, _rows(session), name)
        for function_row in session.exec(select(BaselineFunctionRow).where(BaselineFunctionRow.baseline_id == row.id)):
            session.delete(function_row)
        session.flush()
        session.delete(row)
        audit.record("baseline", row.name, "deleted", row.created_at, None)
    return Changes(metadata=True)


def _frozen_state(row: BaselineFunctionRow) -> FunctionState:
    raw = json.loads(row.ratings)
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
        row.function_id,
        current=Stage.parse(row.current),
        derived=Stage.parse(row.derived),
        overridden=bool(row.overridden),
        override_reason=row.override_reason,
        target=Stage.parse(row.target) if row.target else None,
        ratings=ratings,
    )


def baseline_states(engagement: Engagement, name: str) -> tuple[Baseline, dict[str, FunctionState]]:
    """A baseline and the state of every function it froze."""
    with engagement.session() as session:
        row = _find(engagement, _rows(session), name)
        function_rows = list(session.exec(select(BaselineFunctionRow).where(BaselineFunctionRow.baseline_id == row.id)))
    try:
        states = {r.function_id: _frozen_state(r) for r in function_rows}
    except (ValueError, TypeError, KeyError, BadInput):
        raise EngagementFileError(f"{engagement.path.name}: baseline {row.name!r} is damaged") from None
    return _baseline(row, len(function_rows)), states


def _now_states(engagement: Engagement) -> dict[str, FunctionState]:
    results = engagement.results()
    return {fid: FunctionState.of(a, results[fid]) for fid, a in engagement.assessments().items()}


def _scope(engagement: Engagement) -> list[Pillar]:
    scope = set(engagement.meta().scope)
    return [p for p in engagement.catalog.pillars if p.id in scope]


def compare_with_baseline(engagement: Engagement, name: str) -> Comparison:
    """Every function in scope as it was when baseline ``name`` was frozen, and now."""
    baseline, then = baseline_states(engagement, name)
    return compare(
        _scope(engagement),
        then,
        _now_states(engagement),
        then_label=f"baseline {baseline.name!r} ({baseline.created_at[:10]})",
        now_label=f"{engagement.path.name} now",
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.absolute() == b.absolute()


def _client_key(client: str) -> str:
    return " ".join(client.casefold().split())


def compare_with_file(engagement: Engagement, other_path: Path, *, force: bool = False) -> Comparison:
    """Every function in scope as another engagement file of the same client has it (then), and now.

    The other file must be of the same client (by name, ignoring case and spacing)
    or the same engagement (a copy kept from earlier); ``force`` compares anyway.
    It is opened read-only and closed; nothing is written to it.
    """
    other_path = Path(other_path)
    if _same_file(engagement.path, other_path):
        raise BadInput(f"{other_path.name} is the engagement itself; compare it with a baseline or another file")
    meta = engagement.meta()
    with open_engagement(other_path, readonly=True, library=engagement.library) as other:
        other_meta = other.meta()
        same = other_meta.id == meta.id or _client_key(other_meta.client) == _client_key(meta.client)
        if not same and not force:
            raise BadInput(
                f"{other_path.name} is an engagement of another client ({other_meta.client!r}, not {meta.client!r}); "
                "refused (compare with --force if that is intended)"
            )
        then = _now_states(other)
        title = f" — {other_meta.title}" if other_meta.title else ""
        then_label = f"{other_path.name} ({other_meta.client}{title}, created {other_meta.created_at[:10]})"
    return compare(
        _scope(engagement), then, _now_states(engagement), then_label=then_label, now_label=f"{engagement.path.name}"
    )
