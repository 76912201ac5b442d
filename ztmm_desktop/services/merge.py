"""Merge from a colleague: bring another consultant's copy of the same engagement into this one.

How changes are told apart is in ``core/merge.py``: the two audit trails
share a prefix up to where the copies diverged; for each record and field the
other copy changed since then, a change this copy did not make is applied
(one-sided), the same final value is nothing to do, and a different one is a
conflict (kept as mine unless the caller resolves it as theirs). Values come
from the tables of the two files, never from the audit text.

* :func:`plan_merge` opens the other file read-only (the usual checks refuse a
  newer schema, a damaged or foreign file), refuses the engagement itself and
  a copy of another engagement (unless ``force``), and returns a
  :class:`MergePlan`. It changes nothing (``ztmm merge --dry-run``).
* :func:`apply_merge` applies the plan in one transaction, with the audit rows
  of ordinary edits plus a ``merge`` marker (how far the other trail was
  merged, and the resolutions), so the same copy merged again is a no-op. It
  refuses a plan made before this copy or the other file changed.
* :func:`undo_merge` puts back every record the merge changed, in one
  transaction, and marks the merge undone (a later merge proposes it again).

What merges: engagement properties and logo; each function's target,
override, notes, confidence, priority, owner, status; each stage's rating and
comment; findings by id (added, edited field by field, removed); evidence by id
with its links, its bytes copied only when their SHA-256 is not stored yet
(one blob), and a record skipped as a duplicate when this copy already has the
same bytes with the same links; questionnaire responses and baselines as whole
records (a response per function, stage and respondent; a baseline by name);
workshops by their ``uid`` (schema 6), field by field, attendees as one list;
schema 7's registers: each report section and document control field (version
history and distribution each as one list, the consultancy's logo) field by
field like the engagement's properties, findings' register fields (owner, due
date, status, likelihood, impact) like their other fields, and roadmap actions
by id (added, edited field by field, removed). Merged values are checked like
the services' own; an action left after one that is gone no longer depends on it.

A change brought over keeps the workshop it was made in: its audit row here is
tagged with that workshop (merged first when it is new here), not with one
running in this copy, and a change the colleague made outside any workshop is
tagged with none. A workshop running in the other copy arrives as held: only
the copy that started it tags edits with it.
Evidence links to a finding that is not in this copy are kept as they are.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import merge as core
from ..core import validate
from ..core.errors import BadInput, OtherEngagement
from ..core.merge import WHOLE, AuditRecord, Decision, Ref, Resolution, Value
from ..core.register import SECTION_KEYS
from ..core.stages import Rating, Stage
from ..core.validate import CONTROL_COLUMNS as _CONTROL_COLUMNS
from ..store import blobs
from ..store.schema import AuditRow
from .engagement import (
    PROPERTY_COLUMNS,
    Changes,
    Engagement,
    _Audit,
    open_engagement,
    raw_connection,
    reading,
)
from .logo import check_logo
from .register import SECTION_FIELD
from .workshops import HELD, RUNNING, next_id

_FUNCTION_DEFAULT: dict[str, Any] = {
    "target": None,
    "override": None,
    "notes": "",
    "confidence": "",
    "priority": "",
    "owner": "",
    "status": "",
}
_FINDING_COLUMNS = (
    "function_id", "stage", "title", "observation", "risk", "recommendation", "severity", "created_at", "created_by",
    "owner", "due_date", "status", "likelihood", "impact",
)  # fmt: skip
#: Schema 7: document control on the engagement record (``_CONTROL_COLUMNS``) is merged field by field
#: like its properties.
_ACTION_COLUMNS = (
    "function_id", "stage", "text", "phase", "effort", "cost", "owner", "after_id", "created_at", "created_by",
)  # fmt: skip
_LINK_COLUMNS = ("function_id", "stage", "finding_id")
_EVIDENCE_COLUMNS = (
    "sha256", "title", "description", "original_name", "media_type", "size", "kind", "captured_at", "captured_by",
    "created_at",
)  # fmt: skip
_RESPONSE_COLUMNS = ("role", "answer", "comment", "source_name", "source_sha256")
_BASELINE_COLUMNS = ("created_at", "created_by", "catalog_version", "scope", "rollups")
_BASELINE_FUNCTION_COLUMNS = ("function_id", "current", "derived", "overridden", "override_reason", "target", "ratings")
_WORKSHOP_COLUMNS = ("date", "title", "pillars", "functions", "notes")


# -- reading a copy ------------------------------------------------------------------------


def _trail(conn: sqlite3.Connection) -> core.Trail:
    rows = conn.execute("SELECT id, at, by, entity, key, field, old, new FROM audit ORDER BY id").fetchall()
    return core.read_trail(AuditRecord(*row) for row in rows)


def _read(conn: sqlite3.Connection, ref: Ref) -> Value:
    """One record's merged fields as this file holds them (None: not in the file)."""
    kind, key = ref
    if kind == "engagement":
        columns = ", ".join(PROPERTY_COLUMNS)
        row = conn.execute(f"SELECT {columns} FROM engagement").fetchone()
        out = dict(zip(PROPERTY_COLUMNS, row, strict=True))
        logo = conn.execute("SELECT name, media_type, data FROM engagement_logo WHERE id = 1").fetchone()
        out["logo"] = tuple(logo) if logo else None  # its bytes as stored: checked, never converted
        out.update(_read_registers(conn))
        return out
    if kind == "function":
        row = conn.execute(
            "SELECT target, override_stage, override_reason, notes, confidence, priority, owner, status"
            " FROM function_assessment WHERE function_id = ?",
            (key,),
        ).fetchone()
        if row is None:
            return dict(_FUNCTION_DEFAULT)
        return {
            "target": row[0],
            "override": (row[1], row[2]) if row[1] else None,
            "notes": row[3],
            "confidence": row[4],
            "priority": row[5],
            "owner": row[6],
            "status": row[7],
        }
    if kind == "stage":
        function_id, _, stage = key.partition("/")
        row = conn.execute(
            "SELECT rating, comment FROM stage_rating WHERE function_id = ? AND stage = ?", (function_id, stage)
        ).fetchone()
        return {"rating": row[0], "comment": row[1]} if row else {"rating": Rating.NOT_ASSESSED.value, "comment": ""}
    if kind == "finding":
        row = conn.execute(f"SELECT {', '.join(_FINDING_COLUMNS)} FROM finding WHERE id = ?", (key,)).fetchone()
        return dict(zip(_FINDING_COLUMNS, row, strict=True)) if row else None
    if kind == "action":
        row = conn.execute(f"SELECT {', '.join(_ACTION_COLUMNS)} FROM action WHERE id = ?", (key,)).fetchone()
        return dict(zip(_ACTION_COLUMNS, row, strict=True)) if row else None
    if kind == "evidence":
        row = conn.execute(f"SELECT {', '.join(_EVIDENCE_COLUMNS)} FROM evidence WHERE id = ?", (key,)).fetchone()
        if row is None:
            return None
        links = conn.execute(
            "SELECT function_id, stage, finding_id FROM evidence_link WHERE evidence_id = ? ORDER BY id", (key,)
        ).fetchall()
        return {**dict(zip(_EVIDENCE_COLUMNS, row, strict=True)), "links": tuple(tuple(link) for link in links)}
    if kind == "response":
        parts = key.split("/", 2)
        if len(parts) != 3:
            return None
        row = conn.execute(
            f"SELECT {', '.join(_RESPONSE_COLUMNS)} FROM response WHERE function_id = ? AND stage = ? AND respondent = ?",
            tuple(parts),
        ).fetchone()
        return dict(zip(_RESPONSE_COLUMNS, row, strict=True)) if row else None
    if kind == "baseline":
        row = conn.execute(f"SELECT id, {', '.join(_BASELINE_COLUMNS)} FROM baseline WHERE name = ?", (key,)).fetchone()
        if row is None:
            return None
        functions = conn.execute(
            f"SELECT {', '.join(_BASELINE_FUNCTION_COLUMNS)} FROM baseline_function WHERE baseline_id = ?"
            " ORDER BY function_id",
            (row[0],),
        ).fetchall()
        return {**dict(zip(_BASELINE_COLUMNS, row[1:], strict=True)), "functions": tuple(map(tuple, functions))}
    if kind == "workshop":
        row = conn.execute(
            f"SELECT id, {', '.join(_WORKSHOP_COLUMNS)}, status, started_at, ended_at FROM workshop WHERE uid = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        people = conn.execute(
            "SELECT name, role, organisation FROM workshop_attendee WHERE workshop_id = ? ORDER BY position", (row[0],)
        ).fetchall()
        return {
            **dict(zip(_WORKSHOP_COLUMNS, row[1:6], strict=True)),
            "attendees": json.dumps([list(p) for p in people], ensure_ascii=False),
            # running is a state of the copy that started it; to the other copy it is held
            "status": HELD if row[6] == RUNNING else row[6],
            "times": (row[7], row[8]),  # not merged by itself: copied with a new workshop
        }
    raise AssertionError(kind)


def _read_registers(conn: sqlite3.Connection) -> dict[str, Any]:
    """Schema 7's engagement-level fields: document control, the two lists, the consultancy's logo, sections."""
    row = conn.execute(f"SELECT {', '.join(_CONTROL_COLUMNS)} FROM engagement").fetchone()
    out: dict[str, Any] = dict(zip(_CONTROL_COLUMNS, row, strict=True))
    out["vendor_neutral"] = bool(out["vendor_neutral"])
    out["history"] = tuple(
        tuple(r) for r in conn.execute("SELECT version, date, author, change FROM report_version ORDER BY position")
    )
    out["distribution"] = tuple(
        tuple(r) for r in conn.execute("SELECT name, organisation, role FROM distribution ORDER BY position")
    )
    logo = conn.execute("SELECT name, media_type, data FROM consultancy_logo WHERE id = 1").fetchone()
    out["consultancy_logo"] = tuple(logo) if logo else None
    sections = dict(conn.execute("SELECT key, text FROM engagement_section").fetchall())
    for key in SECTION_KEYS:
        out[SECTION_FIELD + key] = sections.get(key, "")
    return out


# -- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeItem:
    """One record or field the other copy changed: applied (one-sided) or a conflict."""

    key: str  # "kind:key:field", e.g. "stage:identity.authentication/initial:rating"
    label: str  # "1.1 Initial rating"
    mine_text: str
    theirs_text: str
    ref: Ref
    field: str
    mine: Value  # the whole record on each side
    theirs: Value

    def describe(self) -> str:
        return f"{self.label}: {self.mine_text} → {self.theirs_text}"


@dataclass(frozen=True)
class MergePlan:
    other_path: Path
    other_name: str
    other_engagement_id: str
    same_engagement: bool
    this_last_id: int  # this copy's trail when planned (the plan is refused after any edit)
    other_last_id: int
    other_digest: str
    diverged_after: int  # the last audit row both copies share
    one_sided: tuple[MergeItem, ...]
    conflicts: tuple[MergeItem, ...]
    duplicates: tuple[str, ...]  # evidence of theirs already here (same bytes, same links)
    #: The workshop (uid) each change of theirs was made in: (kind, key, field) → uid; a
    #: record's own key (kind, key, "*") holds its latest change's.
    tags: tuple[tuple[tuple[str, str, str], str], ...] = ()

    @property
    def evidence_to_copy(self) -> tuple[MergeItem, ...]:
        return tuple(i for i in self.one_sided if i.ref[0] == "evidence" and i.mine is None)

    @property
    def findings_to_add(self) -> tuple[MergeItem, ...]:
        return tuple(i for i in self.one_sided if i.ref[0] == "finding" and i.mine is None)

    def __bool__(self) -> bool:
        return bool(self.one_sided or self.conflicts)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.absolute() == b.absolute()


def plan_merge(engagement: Engagement, other_path: Path, *, force: bool = False) -> MergePlan:
    """Compare the other copy with this one; changes nothing in either file."""
    other_path = Path(other_path)
    if _same_file(engagement.path, other_path):
        raise BadInput(f"{other_path.name} is the engagement itself; merge another consultant's copy")
    _refuse_foreign_objects(other_path)
    meta = engagement.meta()
    with open_engagement(other_path, readonly=True, library=engagement.library) as other:
        other_meta = other.meta()
        same = other_meta.id == meta.id
        if not same and not force:
            raise OtherEngagement(
                f"{other_path.name} is another engagement ({other_meta.client!r}, id {other_meta.id[:8]}), "
                "not a copy of this one; refused (merge with --force if that is intended)"
            )
        with reading(engagement) as mine_conn, reading(other) as their_conn:
            return _plan(engagement, other_path, other_meta.id, same, mine_conn, their_conn)


def _refuse_foreign_objects(path: Path) -> None:
    """Refuse a copy holding a view or a trigger: the app creates none, and one in place of a table
    can run forever or fill the temp folder while the copy is read (SECURITY.md item 19)."""
    try:
        conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    except (sqlite3.Error, OSError, ValueError):
        return  # opening it says what is wrong
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        found = conn.execute(
            "SELECT type, name FROM sqlite_schema WHERE type IN ('view', 'trigger') ORDER BY type, name LIMIT 1"
        ).fetchone()
    except sqlite3.Error:
        return
    finally:
        conn.close()
    if found is not None:
        raise BadInput(
            f"{Path(path).name} holds a {found[0]} {validate.shown(found[1])} that ZTMM Workbench does not make;"
            " not merged"
        )


def _plan(
    engagement: Engagement,
    other_path: Path,
    other_id: str,
    same: bool,
    mine_conn: sqlite3.Connection,
    their_conn: sqlite3.Connection,
) -> MergePlan:
    mine_trail, their_trail = _trail(mine_conn), _trail(their_conn)
    common = core.common_prefix(mine_trail.rows, their_trail.rows)
    floor = max(common, core.merged_upto(mine_trail, their_trail))
    mine_changed = core.changed_since(mine_trail, common)
    theirs_changed = core.changed_since(their_trail, floor)
    one_sided: list[MergeItem] = []
    conflicts: list[MergeItem] = []
    duplicates: list[str] = []
    for ref in sorted(theirs_changed):
        mine, theirs = _read(mine_conn, ref), _read(their_conn, ref)
        decisions = core.decide(ref, mine_changed.get(ref, set()), theirs_changed[ref], mine, theirs)
        if decisions:  # checked before it is described, listed or written (a dry run refuses it too)
            _check_value(engagement, ref, theirs)
        for decision in decisions:
            item = _item(engagement, decision, mine, theirs)
            if decision.conflict:
                conflicts.append(item)
            elif ref[0] == "evidence" and mine is None and theirs is not None and _duplicate(mine_conn, theirs):
                duplicates.append(f"evidence {theirs['title']!r} is already here (same bytes, same links)")
            else:
                one_sided.append(item)
    return MergePlan(
        other_path=other_path,
        other_name=other_path.name,
        other_engagement_id=other_id,
        same_engagement=same,
        this_last_id=mine_trail.last_id,
        other_last_id=their_trail.last_id,
        other_digest=core.digest(their_trail.rows),
        diverged_after=common,
        one_sided=tuple(one_sided),
        conflicts=tuple(conflicts),
        duplicates=tuple(duplicates),
        tags=_their_tags(their_conn, their_trail, floor),
    )


def _their_tags(
    conn: sqlite3.Connection, trail: core.Trail, floor: int
) -> tuple[tuple[tuple[str, str, str], str], ...]:
    """In which workshop the other copy made each of its changes since ``floor``."""
    uids = dict(conn.execute("SELECT id, uid FROM workshop").fetchall())
    latest: dict[tuple[str, str, str], str | None] = {}
    for row_id, entity, key, name, workshop_id in conn.execute(
        "SELECT id, entity, key, field, workshop_id FROM audit WHERE id > ? ORDER BY id", (floor,)
    ):
        if row_id in trail.written or row_id in trail.ignored:
            continue
        unit = core.unit_of(entity, key, name)
        if unit is None:
            continue
        uid = uids.get(workshop_id)
        latest[unit] = uid
        latest[(unit[0], unit[1], WHOLE)] = uid
    return tuple(sorted((unit, uid) for unit, uid in latest.items() if uid is not None))


def _duplicate(conn: sqlite3.Connection, theirs: Mapping[str, Any]) -> bool:
    for (evidence_id,) in conn.execute("SELECT id FROM evidence WHERE sha256 = ?", (theirs["sha256"],)).fetchall():
        mine = _read(conn, ("evidence", evidence_id))
        if mine is not None and sorted(mine["links"]) == sorted(theirs["links"]):
            return True
    return False


# -- describing --------------------------------------------------------------------------------


def _short(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _function_label(engagement: Engagement, function_id: str) -> str:
    try:
        return engagement.catalog.function(function_id).code
    except BadInput:
        return function_id


def _stage_label(key: object) -> str:
    try:
        return Stage.parse(str(key)).label
    except BadInput:
        return str(key)


def _label(engagement: Engagement, decision: Decision, mine: Value, theirs: Value) -> str:
    (kind, key), name = decision.ref, decision.field
    some = theirs if theirs is not None else mine
    if kind == "engagement":
        return f"engagement {name}"
    if kind == "function":
        return f"{_function_label(engagement, key)} {name}"
    if kind == "stage":
        function_id, _, stage = key.partition("/")
        return f"{_function_label(engagement, function_id)} {_stage_label(stage)} {name}"
    if kind == "finding":
        title = some["title"] if some else key[:8]
        where = _function_label(engagement, some["function_id"]) if some else ""
        return f"finding {_short(title, 40)!r} ({where})" + ("" if name == WHOLE else f" {name}")
    if kind == "evidence":
        title = some["title"] if some else key[:8]
        return f"evidence {_short(title, 40)!r}" + ("" if name == WHOLE else f" {name}")
    if kind == "action":
        text = some["text"] if some else key[:8]
        where = _function_label(engagement, some["function_id"]) if some else ""
        return f"action {_short(text, 40)!r} ({where})" + ("" if name == WHOLE else f" {name}")
    if kind == "response":
        function_id, stage, respondent = [*key.split("/", 2), "", ""][:3]
        return f"{_function_label(engagement, function_id)} {_stage_label(stage)} answer of {respondent}"
    if kind == "workshop":
        title = f"{some['title']} ({some['date']})" if some else key[:8]
        return f"workshop {_short(title, 50)!r}" + ("" if name == WHOLE else f" {name}")
    return f"baseline {key!r}"


def _text(kind: str, name: str, value: Value) -> str:
    if value is None:
        return "(not here)"
    if name == WHOLE:
        if kind in ("finding", "evidence"):
            return _short(str(value["title"]), 40)
        if kind == "action":
            return _short(str(value["text"]), 40)
        if kind == "response":
            return _short(f"{value['answer'] or '(no answer)'} {value['comment']}".strip(), 40)
        if kind == "workshop":
            return _short(f"{value['title']} ({value['date']}, {value['status']})", 50)
        return f"frozen {value['created_at']}"
    raw = value[name]
    if raw is None or raw == "":
        return "(none)"
    if name == "rating":
        try:
            return Rating(raw).label
        except ValueError:
            return str(raw)
    if name in ("target", "stage"):
        return _stage_label(raw)
    if name == "override":
        return f"{_stage_label(raw[0])} ({_short(str(raw[1]), 30)})"
    if name in ("logo", "consultancy_logo"):
        return str(raw[0])
    if name == "history":
        return _short("; ".join(f"{line[0]} ({line[1]})" for line in raw)) or "(none)"
    if name == "distribution":
        return _short(", ".join(str(person[0]) for person in raw)) or "(none)"
    if name == "vendor_neutral":
        return "yes" if raw else "no"
    if kind == "workshop" and name in ("attendees", "pillars", "functions"):
        items = _json_list(raw)
        if name == "attendees":
            return _short(", ".join(str(a[0]) for a in items if isinstance(a, list) and a)) or "(none)"
        return _short(", ".join(map(str, items))) or "(none)"
    if name == "links":
        return "; ".join("/".join(p for p in link[:2] if p) or f"finding {link[2]}" for link in raw) or "(none)"
    return _short(str(raw))


def _item(engagement: Engagement, decision: Decision, mine: Value, theirs: Value) -> MergeItem:
    kind = decision.ref[0]
    return MergeItem(
        key=decision.key,
        label=_label(engagement, decision, mine, theirs),
        mine_text=_text(kind, decision.field, mine),
        theirs_text=_text(kind, decision.field, theirs),
        ref=decision.ref,
        field=decision.field,
        mine=mine,
        theirs=theirs,
    )


# -- applying ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeResult(Changes):
    """What a merge changed (``Changes``), what it applied, and what :func:`undo_merge` needs."""

    applied: tuple[MergeItem, ...] = ()
    kept: tuple[MergeItem, ...] = ()  # conflicts left as mine
    taken: tuple[MergeItem, ...] = ()  # conflicts resolved as theirs
    previous: tuple[tuple[Ref, Value], ...] = field(default_factory=tuple)  # each record before the merge
    written: tuple[tuple[Ref, Value], ...] = field(default_factory=tuple)  # each record after it
    marker_id: int | None = None


def apply_merge(
    engagement: Engagement,
    plan: MergePlan,
    resolutions: Mapping[str, Resolution] | None = None,
    *,
    by: str | None = None,
) -> MergeResult:
    """Apply the one-sided changes and the conflicts resolved as ``"theirs"`` in one transaction."""
    resolutions = dict(resolutions or {})
    known = {c.key for c in plan.conflicts}
    for key, choice in resolutions.items():
        if key not in known:
            raise BadInput(f"no conflict {key!r} in this merge ({len(known)} conflicts)")
        if choice not in ("mine", "theirs"):
            raise BadInput(f"resolve conflict {key!r} as 'mine' or 'theirs', not {choice!r}")
    if not plan:
        return MergeResult()
    taken = tuple(c for c in plan.conflicts if resolutions.get(c.key) == "theirs")
    kept = tuple(c for c in plan.conflicts if resolutions.get(c.key) != "theirs")
    targets: dict[Ref, Value] = {}
    for item in (*plan.one_sided, *taken):
        current = targets.get(item.ref, item.mine)
        targets[item.ref] = core.merged_value(current, item.theirs, item.field)
    for ref, value in targets.items():
        _check_value(engagement, ref, value)
    with _other_bytes(plan, needed=any(r[0] == "evidence" for r in targets)) as their_conn:
        with engagement.edit(by) as (session, audit):
            conn = raw_connection(session)
            last = conn.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0]
            if last != plan.this_last_id:
                raise BadInput(f"{engagement.path.name} changed since the merge was planned; plan it again")
            marker = len(audit.rows)
            audit.record(core.MERGE_ENTITY, plan.other_engagement_id, core.MERGED_FIELD, None, "{}")
            previous: list[tuple[Ref, Value]] = []
            tags = dict(plan.tags)
            # workshops first: the tags of the changes made in them name them
            for ref, value in sorted(targets.items(), key=lambda item: item[0][0] != "workshop"):
                old = _read(conn, ref)
                previous.append((ref, old))
                start = len(audit.rows)
                _write(engagement, conn, audit, ref, old, value, their_conn)
                _tag(conn, audit.rows[start:], tags)
            if any(ref[0] == "action" for ref in targets):
                _settle_actions(conn, audit)
            for item in plan.conflicts:
                outcome = "took" if item in taken else "kept"
                audit.record(core.MERGE_ENTITY, item.key, outcome, item.mine_text, item.theirs_text)
            audit.rows[marker].new = json.dumps(
                {
                    "from": plan.other_name,
                    "upto": plan.other_last_id,
                    "digest": plan.other_digest,
                    "rows": len(audit.rows) - marker - 1,
                }
            )
            marker_row = audit.rows[marker]
        marker_id = marker_row.id
    changes = _changes(targets.items(), previous)
    return MergeResult(
        functions=changes.functions,
        findings=changes.findings,
        metadata=changes.metadata,
        actions=changes.actions,
        applied=plan.one_sided,
        kept=kept,
        taken=taken,
        previous=tuple(previous),
        written=tuple(targets.items()),
        marker_id=marker_id,
    )


def _tag(conn: sqlite3.Connection, rows: Sequence[AuditRow], tags: Mapping[tuple[str, str, str], str]) -> None:
    """Tag the rows a merged change wrote with the workshop the colleague made it in (or none)."""
    for row in rows:
        unit = core.unit_of(row.entity, row.key, row.field)
        uid = (tags.get(unit) or tags.get((unit[0], unit[1], WHOLE))) if unit else None
        found = conn.execute("SELECT id FROM workshop WHERE uid = ?", (uid,)).fetchone() if uid else None
        row.workshop_id = found[0] if found else None


@contextmanager
def _other_bytes(plan: MergePlan, *, needed: bool) -> Iterator[sqlite3.Connection | None]:
    """The other file again (for evidence bytes), refused if it changed since the plan."""
    if not needed:
        yield None
        return
    _refuse_foreign_objects(plan.other_path)
    with open_engagement(plan.other_path, readonly=True) as other, reading(other) as conn:
        if core.digest(_trail(conn).rows) != plan.other_digest:
            raise BadInput(f"{plan.other_name} changed since the merge was planned; plan it again")
        yield conn


def undo_merge(engagement: Engagement, result: MergeResult, *, by: str | None = None) -> Changes:
    """Put every record the merge changed back as it was; refused if one changed since."""
    if result.marker_id is None:
        return Changes()
    with engagement.edit(by) as (session, audit):
        conn = raw_connection(session)
        for ref, value in result.written:
            if _read(conn, ref) != value:
                raise BadInput("the merged records changed since the merge; it cannot be undone as one step")
        marker = len(audit.rows)
        audit.record(core.MERGE_ENTITY, str(result.marker_id), core.UNDONE_FIELD, None, "{}")
        for ref, value in result.previous:
            _write(engagement, conn, audit, ref, _read(conn, ref), value, None, undo=True)
        audit.rows[marker].new = json.dumps({"marker": result.marker_id, "rows": len(audit.rows) - marker - 1})
    return _changes(result.written, result.previous)


def _changes(after: Any, before: Any) -> Changes:
    functions: set[str] = set()
    findings: set[str] = set()
    actions: set[str] = set()
    metadata = False
    for (kind, key), value in (*after, *before):
        if kind == "action":
            actions.add(key)
            if value is not None:
                functions.add(value["function_id"])
            continue
        if kind == "function":
            functions.add(key)
        elif kind in ("stage", "response"):
            functions.add(key.partition("/")[0])
        elif kind == "finding":
            findings.add(key)
            if value is not None:
                functions.add(value["function_id"])
        elif kind == "evidence":
            if value is not None:
                functions.update(link[0] for link in value["links"] if link[0])
        else:
            metadata = True
    return Changes(
        functions=frozenset(functions), findings=frozenset(findings), metadata=metadata, actions=frozenset(actions)
    )


def _check_value(engagement: Engagement, ref: Ref, value: Value) -> None:
    """The other copy is input from outside: every record it brings passes the check of its kind
    (``core.validate``, the file gate's own) before anything is written."""
    if value is None:
        return
    problem = _problem(engagement, ref, value)
    if problem:
        raise BadInput(f"the other copy's {_what(ref, value)}: {problem}; nothing merged")
    for name in ("logo", "consultancy_logo") if ref[0] == "engagement" else ():
        logo = value[name]
        if logo is not None:  # decoded too, as the report will decode it
            try:
                check_logo(logo[2], str(logo[0]))
            except BadInput as err:
                raise BadInput(f"the other copy's engagement: {err}; nothing merged") from None


def _what(ref: Ref, value: Mapping[str, Any]) -> str:
    kind, key = ref
    if kind in ("engagement", "function", "stage", "response"):
        return kind if kind == "engagement" else f"{kind} {key[:80]}"
    if kind == "baseline":
        return f"baseline {validate.shown(key, 60)}"
    return f"{kind} {key[:8]}"


def _problem(engagement: Engagement, ref: Ref, value: Mapping[str, Any]) -> str | None:
    kind, key = ref
    functions = {f.id for f in engagement.catalog.functions()}
    if kind == "engagement":
        return _engagement_problem(engagement, value)
    if kind == "function":
        override = value["override"]
        if override is not None and (not isinstance(override, tuple) or len(override) != 2):
            return "override is not a stage with a reason"
        row = {name: value[name] for name in _FUNCTION_DEFAULT if name != "override"}
        row.update(
            function_id=key, override_stage=override and override[0], override_reason=override[1] if override else ""
        )
        return validate.function_problem(row, functions)
    if kind == "stage":
        function_id, _, stage = key.partition("/")
        return validate.stage_rating_problem({**value, "function_id": function_id, "stage": stage}, functions)
    if kind == "finding":
        return validate.finding_problem(value, functions)
    if kind == "action":
        return validate.action_problem(value, functions)
    if kind == "evidence":
        links = value["links"]
        return validate.first(
            (
                validate.evidence_problem(value),
                *(
                    validate.evidence_link_problem(dict(zip(_LINK_COLUMNS, link, strict=True)), functions)
                    if isinstance(link, tuple) and len(link) == len(_LINK_COLUMNS)
                    else "a link is not a function, stage and finding"
                    for link in links
                ),
            )
        )
    if kind == "response":
        function_id, stage, respondent = [*key.split("/", 2), "", ""][:3]
        row = {**value, "function_id": function_id, "stage": stage, "respondent": respondent}
        return validate.response_problem(row, functions)
    if kind == "baseline":
        return validate.first(
            (
                validate.baseline_problem({**value, "name": key}),
                *(
                    validate.baseline_function_problem(
                        dict(zip(_BASELINE_FUNCTION_COLUMNS, row, strict=True)), functions
                    )
                    if len(row) == len(_BASELINE_FUNCTION_COLUMNS)
                    else "a frozen function is malformed"
                    for row in value["functions"]
                ),
            )
        )
    if kind == "workshop":
        started, ended = value["times"]
        return validate.first(
            (
                validate.workshop_problem(value, running=False),
                validate.attendees_problem(value["attendees"]),
                validate.optional_text_problem(started, "started at"),
                validate.optional_text_problem(ended, "ended at"),
            )
        )
    return f"records of kind {kind!r} are not merged"


def _engagement_problem(engagement: Engagement, value: Mapping[str, Any]) -> str | None:
    """The engagement's properties, logos and (schema 7) document control, lists and sections."""
    pillars = {p.id for p in engagement.catalog.pillars}
    columns = {name: value[name] for name in (*PROPERTY_COLUMNS, *_CONTROL_COLUMNS) if name in value}
    problems = [validate.engagement_problem(columns, pillars)]
    for name in ("logo", "consultancy_logo"):
        logo = value.get(name)
        if logo is not None:
            problems.append(validate.logo_problem(dict(zip(("name", "media_type", "data"), logo, strict=True))))
    if "consultancy" in value:
        problems.append(validate.list_length_problem(value["history"], "the version history"))
        problems.extend(
            validate.report_version_problem(dict(zip(("version", "date", "author", "change"), line, strict=True)))
            for line in value["history"]
        )
        problems.append(validate.list_length_problem(value["distribution"], "the distribution list"))
        problems.extend(
            validate.distribution_problem(dict(zip(("name", "organisation", "role"), person, strict=True)))
            for person in value["distribution"]
        )
        problems.extend(
            validate.section_problem({"key": key, "text": value[SECTION_FIELD + key]}) for key in SECTION_KEYS
        )
    return validate.first(problems)


def _json_list(text: object) -> list[Any]:
    try:
        value = json.loads(str(text))
    except ValueError:
        return []
    return value if isinstance(value, list) else []


class _ChunkStream(io.RawIOBase):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if not self._rest:
            self._rest = next(self._chunks, b"")
        if size < 0 or size >= len(self._rest):
            out, self._rest = self._rest, b""
        else:
            out, self._rest = self._rest[:size], self._rest[size:]
        return out


def _write(
    engagement: Engagement,
    conn: sqlite3.Connection,
    audit: _Audit,
    ref: Ref,
    old: Value,
    new: Value,
    their_conn: sqlite3.Connection | None,
    *,
    undo: bool = False,
) -> None:
    """Make ``ref`` hold ``new``, with the audit rows an ordinary edit would write."""
    kind, key = ref
    if old == new:
        return
    if kind == "workshop":
        _write_workshop(conn, audit, key, old, new, undo=undo)
        return
    if kind == "engagement":
        assert old is not None and new is not None
        engagement_id = engagement.meta().id
        for name in PROPERTY_COLUMNS:
            if audit.record("engagement", engagement_id, name, old[name], new[name]):
                conn.execute(f"UPDATE engagement SET {name} = ?", (new[name],))
        old_logo, new_logo = old["logo"], new["logo"]
        if old_logo != new_logo:
            audit.record("engagement", engagement_id, "logo", old_logo and old_logo[0], new_logo and new_logo[0])
            conn.execute("DELETE FROM engagement_logo")
            if new_logo is not None:
                conn.execute("INSERT INTO engagement_logo (id, name, media_type, data) VALUES (1, ?, ?, ?)", new_logo)
        if "consultancy" in new:  # schema 7
            _write_registers(conn, audit, engagement_id, old, new)
        return
    if kind in ("function", "stage"):
        function_id, _, stage = key.partition("/")
        conn.execute(
            "INSERT OR IGNORE INTO function_assessment (function_id, override_reason, confidence, priority, owner,"
            " status, notes, updated_at, updated_by) VALUES (?, '', '', '', '', '', '', ?, ?)",
            (function_id, audit.at, audit.by),
        )
        assert old is not None and new is not None
        if kind == "stage":
            conn.execute(
                "INSERT OR IGNORE INTO stage_rating (function_id, stage, rating, comment, updated_at, updated_by)"
                " VALUES (?, ?, ?, '', ?, ?)",
                (function_id, stage, Rating.NOT_ASSESSED.value, audit.at, audit.by),
            )
            for name in ("rating", "comment"):
                if audit.record("stage", key, name, old[name], new[name]):
                    conn.execute(
                        f"UPDATE stage_rating SET {name} = ?, updated_at = ?, updated_by = ?"
                        " WHERE function_id = ? AND stage = ?",
                        (new[name], audit.at, audit.by, function_id, stage),
                    )
            return
        for name in _FUNCTION_DEFAULT:
            if old[name] == new[name]:
                continue
            if name == "override":
                stage_old, reason_old = old[name] or (None, "")
                stage_new, reason_new = new[name] or (None, "")
                audit.record("function", key, "override", stage_old, stage_new)
                audit.record("function", key, "override_reason", reason_old, reason_new)
                conn.execute(
                    "UPDATE function_assessment SET override_stage = ?, override_reason = ? WHERE function_id = ?",
                    (stage_new, reason_new, key),
                )
            else:
                audit.record("function", key, name, old[name], new[name])
                conn.execute(f"UPDATE function_assessment SET {name} = ? WHERE function_id = ?", (new[name], key))
        conn.execute(
            "UPDATE function_assessment SET updated_at = ?, updated_by = ? WHERE function_id = ?",
            (audit.at, audit.by, key),
        )
        return
    if kind == "finding":
        if new is None:
            assert old is not None
            conn.execute("DELETE FROM finding WHERE id = ?", (key,))
            audit.record("finding", key, "removed", old["title"], None)
        elif old is None:
            columns = ("id", *_FINDING_COLUMNS, "updated_at")
            conn.execute(
                f"INSERT INTO finding ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                (key, *(new[c] for c in _FINDING_COLUMNS), audit.at),
            )
            audit.record("finding", key, "created", None, new["title"])
        else:
            for name in _FINDING_COLUMNS:
                if audit.record("finding", key, name, old[name], new[name]):
                    conn.execute(
                        f"UPDATE finding SET {name} = ?, updated_at = ? WHERE id = ?", (new[name], audit.at, key)
                    )
        return
    if kind == "evidence":
        _write_evidence(conn, audit, key, old, new, their_conn)
        return
    if kind == "action":
        _write_action(conn, audit, key, old, new)
        return
    if kind == "response":
        function_id, stage, respondent = key.split("/", 2)
        if old is not None:
            conn.execute(
                "DELETE FROM response WHERE function_id = ? AND stage = ? AND respondent = ?",
                (function_id, stage, respondent),
            )
        if new is None:
            assert old is not None
            audit.record("response", key, "removed", old["answer"], None)
            return
        conn.execute(
            "INSERT INTO response (function_id, stage, respondent, role, answer, comment, source_name, source_sha256,"
            " imported_at, imported_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (function_id, stage, respondent, *(new[c] for c in _RESPONSE_COLUMNS), audit.at, audit.by),
        )
        audit.record("response", key, "answer", old["answer"] if old else None, new["answer"])
        audit.record("response", key, "comment", old["comment"] if old else None, new["comment"])
        return
    if kind == "baseline":
        row = conn.execute("SELECT id FROM baseline WHERE name = ?", (key,)).fetchone()
        if row is not None:
            assert old is not None
            conn.execute("DELETE FROM baseline_function WHERE baseline_id = ?", (row[0],))
            conn.execute("DELETE FROM baseline WHERE id = ?", (row[0],))
            audit.record("baseline", key, "deleted", old["created_at"], None)
        if new is not None:
            names = ("name", *_BASELINE_COLUMNS)
            cursor = conn.execute(
                f"INSERT INTO baseline ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                (key, *(new[c] for c in _BASELINE_COLUMNS)),
            )
            marks = ", ".join("?" for _ in range(len(_BASELINE_FUNCTION_COLUMNS) + 1))
            for function_row in new["functions"]:
                conn.execute(
                    f"INSERT INTO baseline_function (baseline_id, {', '.join(_BASELINE_FUNCTION_COLUMNS)})"
                    f" VALUES ({marks})",
                    (cursor.lastrowid, *function_row),
                )
            audit.record("baseline", key, "frozen", None, f"{len(new['functions'])} functions (merged)")
        return
    raise AssertionError(kind)


def _write_registers(
    conn: sqlite3.Connection, audit: _Audit, engagement_id: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> None:
    """Schema 7's engagement fields, with the audit rows the register services write."""
    for name in _CONTROL_COLUMNS:
        if old[name] == new[name]:
            continue
        if name == "vendor_neutral":
            audit.record("engagement", engagement_id, name, _yes(old[name]), _yes(new[name]))
        else:
            audit.record("engagement", engagement_id, name, old[name], new[name])
        conn.execute(f"UPDATE engagement SET {name} = ?", (new[name],))
    if old["history"] != new["history"]:
        audit.record("engagement", engagement_id, "history", _json_rows(old["history"]), _json_rows(new["history"]))
        conn.execute("DELETE FROM report_version")
        for position, line in enumerate(new["history"]):
            conn.execute(
                "INSERT INTO report_version (position, version, date, author, change) VALUES (?, ?, ?, ?, ?)",
                (position, *line),
            )
    if old["distribution"] != new["distribution"]:
        audit.record(
            "engagement",
            engagement_id,
            "distribution",
            _json_rows(old["distribution"]),
            _json_rows(new["distribution"]),
        )
        conn.execute("DELETE FROM distribution")
        for position, person in enumerate(new["distribution"]):
            conn.execute(
                "INSERT INTO distribution (position, name, organisation, role) VALUES (?, ?, ?, ?)", (position, *person)
            )
    old_logo, new_logo = old["consultancy_logo"], new["consultancy_logo"]
    if old_logo != new_logo:
        audit.record(
            "engagement", engagement_id, "consultancy_logo", old_logo and old_logo[0], new_logo and new_logo[0]
        )
        conn.execute("DELETE FROM consultancy_logo")
        if new_logo is not None:
            conn.execute("INSERT INTO consultancy_logo (id, name, media_type, data) VALUES (1, ?, ?, ?)", new_logo)
    for key in SECTION_KEYS:
        name = SECTION_FIELD + key
        if audit.record("engagement", engagement_id, name, old[name], new[name]):
            conn.execute("DELETE FROM engagement_section WHERE key = ?", (key,))
            if new[name].strip():
                conn.execute("INSERT INTO engagement_section (key, text) VALUES (?, ?)", (key, new[name]))


def _yes(value: object) -> str:
    return "yes" if value else "no"


def _json_rows(rows: Sequence[Sequence[str]]) -> str:
    return json.dumps([list(row) for row in rows], ensure_ascii=False)


def _write_action(conn: sqlite3.Connection, audit: _Audit, key: str, old: Value, new: Value) -> None:
    if new is None:
        assert old is not None
        conn.execute("DELETE FROM action WHERE id = ?", (key,))
        audit.record("action", key, "removed", old["text"], None)
    elif old is None:
        columns = ("id", *_ACTION_COLUMNS, "updated_at")
        conn.execute(
            f"INSERT INTO action ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            (key, *(new[c] for c in _ACTION_COLUMNS), audit.at),
        )
        audit.record("action", key, "created", None, new["text"])
    else:
        for name in _ACTION_COLUMNS:
            if audit.record("action", key, name, old[name], new[name]):
                conn.execute(f"UPDATE action SET {name} = ?, updated_at = ? WHERE id = ?", (new[name], audit.at, key))


def _settle_actions(conn: sqlite3.Connection, audit: _Audit) -> None:
    """After merged actions are written: an action after one that is gone no longer depends on it,
    and no chain of actions may close a cycle (the merge is then refused)."""
    chain: dict[str, str | None] = dict(conn.execute("SELECT id, after_id FROM action").fetchall())
    for key, after in sorted(chain.items()):
        if after is not None and after not in chain:
            audit.record("action", key, "after_id", after, None)
            conn.execute("UPDATE action SET after_id = NULL, updated_at = ? WHERE id = ?", (audit.at, key))
            chain[key] = None
    for start in chain:
        seen = {start}
        step = chain[start]
        while step is not None:
            if step in seen:
                raise BadInput("the merged actions would depend on each other in a cycle; keep mine for one of them")
            seen.add(step)
            step = chain.get(step)


def _write_workshop(conn: sqlite3.Connection, audit: _Audit, uid: str, old: Value, new: Value, *, undo: bool) -> None:
    row = conn.execute("SELECT id FROM workshop WHERE uid = ?", (uid,)).fetchone()
    if new is None:
        assert old is not None and row is not None
        tagged = conn.execute("SELECT count(*) FROM audit WHERE workshop_id = ?", (row[0],)).fetchone()[0]
        if tagged and not undo:
            raise BadInput(f"workshop {old['title']!r} has changes made in it in this copy; it is kept")
        conn.execute("DELETE FROM workshop_attendee WHERE workshop_id = ?", (row[0],))
        conn.execute("DELETE FROM workshop WHERE id = ?", (row[0],))
        audit.record("workshop", uid, "removed", old["title"], None)
        return
    if row is None:
        workshop_id = next_id(conn)
        started, ended = new["times"]
        conn.execute(
            f"INSERT INTO workshop (id, uid, {', '.join(_WORKSHOP_COLUMNS)}, status, started_at, ended_at)"
            f" VALUES (?, ?{', ?' * len(_WORKSHOP_COLUMNS)}, ?, ?, ?)",
            (workshop_id, uid, *(new[c] for c in _WORKSHOP_COLUMNS), new["status"], started, ended),
        )
        old = {name: None for name in new}
    else:
        workshop_id = row[0]
    assert old is not None
    for name in _WORKSHOP_COLUMNS:
        if audit.record("workshop", uid, name, old[name], new[name]) and row is not None:
            conn.execute(f"UPDATE workshop SET {name} = ? WHERE id = ?", (new[name], workshop_id))
    if audit.record("workshop", uid, "status", old["status"], new["status"]) and row is not None:
        conn.execute("UPDATE workshop SET status = ? WHERE id = ?", (new["status"], workshop_id))
    if audit.record("workshop", uid, "attendees", old["attendees"], new["attendees"]):
        conn.execute("DELETE FROM workshop_attendee WHERE workshop_id = ?", (workshop_id,))
        for position, person in enumerate(_json_list(new["attendees"])):
            conn.execute(
                "INSERT INTO workshop_attendee (workshop_id, position, name, role, organisation)"
                " VALUES (?, ?, ?, ?, ?)",
                (workshop_id, position, *person),
            )


def _describe_links(links: tuple[tuple[str | None, ...], ...]) -> str:
    return "; ".join(
        f"finding {link[2]}" if link[2] else (f"{link[0]}/{link[1]}" if link[1] else str(link[0])) for link in links
    )


def _write_evidence(
    conn: sqlite3.Connection,
    audit: _Audit,
    key: str,
    old: Value,
    new: Value,
    their_conn: sqlite3.Connection | None,
) -> None:
    if new is None:
        assert old is not None
        conn.execute("DELETE FROM evidence_link WHERE evidence_id = ?", (key,))
        conn.execute("DELETE FROM evidence WHERE id = ?", (key,))
        audit.record("evidence", key, "removed", old["title"], None)
        return
    sha = new["sha256"]
    if old is None:
        here = conn.execute("SELECT size FROM blob WHERE sha256 = ?", (sha,)).fetchone()
        if here is None:
            if their_conn is None:
                raise BadInput(f"the bytes of evidence {new['title']!r} are not in this file")
            try:
                stream = _ChunkStream(blobs.verified_chunks(their_conn, sha))
                stored = blobs.ingest(conn, stream, audit.at)  # type: ignore[arg-type]
            except blobs.BlobDamaged as err:
                raise BadInput(f"the other copy's evidence {key[:8]}: {err}; nothing merged") from None
            if stored.sha256 != sha or stored.size != new["size"]:
                raise BadInput(f"the bytes of evidence {new['title']!r} are damaged in the other copy; nothing merged")
        elif here[0] != new["size"]:
            raise BadInput(
                f"the other copy's evidence {key[:8]}: size {new['size']:,} does not match its bytes; nothing merged"
            )
        conn.execute(
            f"INSERT INTO evidence (id, {', '.join(_EVIDENCE_COLUMNS)}) VALUES (?{', ?' * len(_EVIDENCE_COLUMNS)})",
            (key, *(new[c] for c in _EVIDENCE_COLUMNS)),
        )
        audit.record("evidence", key, "attached", None, f"{new['original_name']} sha256:{sha}")
    else:
        for column in ("title", "description", "kind"):
            if audit.record("evidence", key, column, old[column], new[column]):
                conn.execute(f"UPDATE evidence SET {column} = ? WHERE id = ?", (new[column], key))
        if old["links"] == new["links"]:
            return
        audit.record("evidence", key, "links", _describe_links(old["links"]), _describe_links(new["links"]))
        conn.execute("DELETE FROM evidence_link WHERE evidence_id = ?", (key,))
    for link in new["links"]:
        conn.execute(
            "INSERT INTO evidence_link (evidence_id, function_id, stage, finding_id) VALUES (?, ?, ?, ?)", (key, *link)
        )
