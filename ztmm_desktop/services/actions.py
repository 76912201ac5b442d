"""The consultant's roadmap actions: one step on a function, in a phase, with an effort.

An action names its function, optionally the stage it helps reach, its text, its
phase (now, next, later), its effort (S, M, L), an indicative cost, an owner, and
optionally the action it comes after (any function's; never itself, never a
cycle). Every change is one edit with audit rows on entity ``action`` keyed by
the action's id (``created``/``removed`` for the record, else the field).
The deliverables number actions ``A-01``… in roadmap order
(:func:`core.register.action_numbers`); :func:`find_action` accepts those too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from ..core.errors import BadInput
from ..core.register import EFFORTS, PHASES, ActionLine, action_numbers
from ..core.stages import Stage
from ..store.schema import ActionRow
from .engagement import MAX_NAME, MAX_TEXT, Changes, Engagement, _choice, check_text

_EFFORT_WORDS = {"s": "S", "small": "S", "m": "M", "medium": "M", "l": "L", "large": "L"}
ACTION_FIELDS = ("function_id", "stage", "text", "phase", "effort", "cost", "owner", "after_id")


@dataclass(frozen=True)
class Action:
    id: str
    function_id: str
    stage: Stage | None
    text: str
    phase: str
    effort: str
    cost: str
    owner: str
    after: str | None
    created_at: str
    created_by: str

    def draft(self) -> ActionDraft:
        return ActionDraft(self.text, self.phase, self.effort, self.stage, self.cost, self.owner, self.after)


@dataclass(frozen=True)
class ActionDraft:
    """The fields of an action a consultant writes (the action dialog's contents)."""

    text: str
    phase: str = "next"
    effort: str = "M"
    stage: Stage | None = None
    cost: str = ""
    owner: str = ""
    after: str | None = None  # the id of the action this one comes after


def effort_key(value: str) -> str:
    word = _EFFORT_WORDS.get(value.strip().lower())
    if word is None or word not in EFFORTS:
        raise BadInput(f"unknown effort {value.strip()[:20]!r} (expected one of: {', '.join(EFFORTS)})")
    return word


def _action(row: ActionRow) -> Action:
    return Action(
        id=row.id,
        function_id=row.function_id,
        stage=Stage.parse(row.stage) if row.stage else None,
        text=row.text,
        phase=row.phase,
        effort=row.effort,
        cost=row.cost,
        owner=row.owner,
        after=row.after_id,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def list_actions(engagement: Engagement, function_key: str | None = None) -> list[Action]:
    """Every action (of one function when given), oldest first."""
    with engagement.session() as session:
        query = select(ActionRow).order_by(col(ActionRow.created_at), col(ActionRow.id))
        if function_key is not None:
            query = query.where(ActionRow.function_id == engagement.catalog.function(function_key).id)
        rows = list(session.exec(query))
    return [_action(r) for r in rows]


def action_lines(engagement: Engagement, *, in_scope_only: bool = True) -> list[ActionLine]:
    """The actions as the deliverables show them, in roadmap order (phase, priority, larger gap first)."""
    assessments, results = engagement.assessments(), engagement.results()
    scope = {f.id for f in engagement.functions_in_scope()}
    lines = []
    for action in list_actions(engagement):
        if in_scope_only and action.function_id not in scope:
            continue
        function = engagement.catalog.function(action.function_id)
        lines.append(
            ActionLine(
                id=action.id,
                function_id=function.id,
                function_code=function.code,
                function_name=function.name,
                stage=action.stage,
                text=action.text,
                phase=action.phase,
                effort=action.effort,
                cost=action.cost,
                owner=action.owner,
                after=action.after,
                priority=assessments[function.id].priority,
                gap=results[function.id].gap,
            )
        )
    lines.sort(key=ActionLine.order)  # stable: equal actions keep the oldest first
    return lines


def find_action(engagement: Engagement, text: str) -> str:
    """An action's id from its id, a unique prefix of it, or its number (``A-03``) in the deliverables."""
    wanted = text.strip()
    if not wanted:
        raise BadInput("no action named")
    numbers = {number.casefold(): key for key, number in action_numbers(action_lines(engagement)).items()}
    if wanted.casefold() in numbers:
        return numbers[wanted.casefold()]
    ids = [a.id for a in list_actions(engagement)]
    if wanted in ids:
        return wanted
    matches = [key for key in ids if key.startswith(wanted.lower())] if len(wanted) >= 4 else []
    if len(matches) == 1:
        return matches[0]
    raise BadInput(f"no action {wanted[:40]!r} (see 'ztmm action list')")


def _values(engagement: Engagement, draft: ActionDraft) -> dict[str, Any]:
    if not draft.text.strip():
        raise BadInput("an action needs a text")
    return {
        "stage": draft.stage.key if draft.stage is not None else None,
        "text": check_text(draft.text.strip(), "action text", MAX_TEXT),
        "phase": _choice(draft.phase, PHASES, "phase"),
        "effort": effort_key(draft.effort),
        "cost": check_text(draft.cost.strip(), "action cost", MAX_NAME),
        "owner": check_text(draft.owner.strip(), "action owner", MAX_NAME),
        "after_id": draft.after or None,
    }


def check_after(chain: dict[str, str | None], action_id: str, after: str | None) -> None:
    """Refuse ``after`` unless it names an existing action other than ``action_id`` and closes no cycle."""
    if after is None:
        return
    if after == action_id:
        raise BadInput("an action cannot come after itself")
    if after not in chain:
        raise BadInput(f"no action {after[:40]!r} to come after")
    seen = {action_id}
    step: str | None = after
    while step is not None:
        if step in seen:
            raise BadInput("that dependency would make a cycle of actions")
        seen.add(step)
        step = chain.get(step)


def _chain(session: Any) -> dict[str, str | None]:
    return {r.id: r.after_id for r in session.exec(select(ActionRow))}


def add_action(
    engagement: Engagement,
    function_key: str,
    draft: ActionDraft,
    *,
    by: str | None = None,
    action_id: str | None = None,
) -> tuple[str, Changes]:
    """Record an action on a function; ``action_id`` lets undo/redo put the same action back."""
    function = engagement.catalog.function(function_key)
    values = _values(engagement, draft)
    key = action_id or uuid.uuid4().hex
    with engagement.edit(by) as (session, audit):
        if session.get(ActionRow, key) is not None:
            raise BadInput(f"action {key} already exists")
        check_after(_chain(session), key, values["after_id"])
        session.add(
            ActionRow(
                id=key, function_id=function.id, **values, created_at=audit.at, created_by=audit.by, updated_at=audit.at
            )
        )
        audit.record("action", key, "created", None, values["text"])
    return key, Changes(functions=frozenset({function.id}), actions=frozenset({key}))


def update_action(
    engagement: Engagement,
    action_id: str,
    draft: ActionDraft,
    *,
    function_key: str | None = None,
    by: str | None = None,
) -> Changes:
    """Change an action's fields (and its function when ``function_key`` is given)."""
    values = _values(engagement, draft)
    if function_key is not None:
        values["function_id"] = engagement.catalog.function(function_key).id
    with engagement.edit(by) as (session, audit):
        row = session.get(ActionRow, action_id)
        if row is None:
            raise BadInput(f"no action {action_id[:40]!r}")
        check_after(_chain(session), action_id, values["after_id"])
        functions = {row.function_id}
        changed = False
        for name, value in values.items():
            changed |= audit.record("action", action_id, name, getattr(row, name), value)
            setattr(row, name, value)
        functions.add(row.function_id)
        if changed:
            row.updated_at = audit.at
        else:
            session.rollback()
    if not changed:
        return Changes()
    return Changes(functions=frozenset(functions), actions=frozenset({action_id}))


def remove_action(engagement: Engagement, action_id: str, *, by: str | None = None) -> tuple[Action, Changes]:
    """Delete an action; actions that came after it no longer do. Returns it so that undo can put it back."""
    found = next((a for a in list_actions(engagement) if a.id == action_id), None)
    if found is None:
        raise BadInput(f"no action {action_id[:40]!r}")
    touched = {action_id}
    with engagement.edit(by) as (session, audit):
        for row in session.exec(select(ActionRow).where(ActionRow.after_id == action_id)):
            audit.record("action", row.id, "after_id", action_id, None)
            row.after_id = None
            row.updated_at = audit.at
            session.add(row)
            touched.add(row.id)
        session.delete(session.get(ActionRow, action_id))
        audit.record("action", action_id, "removed", found.text, None)
    return found, Changes(functions=frozenset({found.function_id}), actions=frozenset(touched))
