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
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from ..core.errors import BadInput
from ..core.progress_compare import Comparison, compare
from ..core.scoring import Rollup, StageRating
from ..core.stages import RATED_STAGES
from ..store.schema import BaselineFunctionRow, BaselineRow
from .engagement import MAX_NAME, Changes, Engagement, check_text, open_engagement
from .progress import Baseline as Baseline
from .progress import baseline_states as baseline_states
from .progress import compare_with_baseline as compare_with_baseline
from .progress import find_baseline, now_states, pillars_in_scope
from .progress import list_baselines as list_baselines


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
        row = find_baseline(engagement, _rows(session), name)
        for function_row in session.exec(select(BaselineFunctionRow).where(BaselineFunctionRow.baseline_id == row.id)):
            session.delete(function_row)
        session.flush()
        session.delete(row)
        audit.record("baseline", row.name, "deleted", row.created_at, None)
    return Changes(metadata=True)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.absolute() == b.absolute()


def _client_key(client: str) -> str:
    return " ".join(client.casefold().split())


def compare_with_file(
    engagement: Engagement,
    other_path: Path,
    *,
    force: bool = False,
    shown_as: str | None = None,
    other_shown_as: str | None = None,
) -> Comparison:
    """Every function in scope as another engagement file of the same client has it (then), and now.

    The other file must be of the same client (by name, ignoring case and spacing)
    or the same engagement (a copy kept from earlier); ``force`` compares anyway.
    It is opened read-only and closed; nothing is written to it. ``shown_as`` and
    ``other_shown_as`` name the two in the labels and messages (their files' names by default;
    a server address for a snapshot of an engagement on a server).
    """
    other_path = Path(other_path)
    other_name = other_shown_as or other_path.name
    if _same_file(engagement.path, other_path):
        raise BadInput(f"{other_name} is the engagement itself; compare it with a baseline or another file")
    meta = engagement.meta()
    with open_engagement(other_path, readonly=True, library=engagement.library) as other:
        other_meta = other.meta()
        same = other_meta.id == meta.id or _client_key(other_meta.client) == _client_key(meta.client)
        if not same and not force:
            raise BadInput(
                f"{other_name} is an engagement of another client ({other_meta.client!r}, not {meta.client!r}); "
                "refused (compare with --force if that is intended)"
            )
        then = now_states(other)
        title = f" — {other_meta.title}" if other_meta.title else ""
        then_label = f"{other_name} ({other_meta.client}{title}, created {other_meta.created_at[:10]})"
    return compare(
        pillars_in_scope(engagement),
        then,
        now_states(engagement),
        then_label=then_label,
        now_label=shown_as or engagement.path.name,
    )
