"""Merging a colleague's copy of an engagement: the pure part (no files, no SQL).

Two copies of one engagement start as one file, so their audit trails share an
identical prefix of rows (same id, time, author, entity, key, field, old and
new values); the first row where they differ is where they diverged. A change
is identified by its *unit*: a record (``kind``, ``key``) and one of its fields,
or ``"*"`` for the record as a whole (its existence, or records merged whole:
questionnaire responses and baselines).

For every unit the other copy changed since the base, compared with the value
this copy has now:

* equal values: nothing to do;
* this copy did not change the unit since the base: one-sided, take theirs;
* otherwise: a conflict (both changed it, differently).

A record present on one side only (added or removed since the base) is decided
as a whole. The *base* of each side is the common prefix, moved forward by
earlier merges:

* a merge writes a marker row (entity ``merge``, field ``merged``) whose JSON
  says how far the other copy's trail was merged (``upto``, with a SHA-256 of
  those rows, so it only counts for a copy that descends from what was merged)
  and how many rows the merge wrote after the marker (``rows``). The other
  copy's changes up to ``upto`` are already merged or resolved: they are not
  reported again, which makes merging the same copy twice a no-op;
* rows a merge wrote are not the copy's own changes, and they hide earlier own
  changes of the same unit (after "take theirs" the unit holds their value);
* an undone merge (a ``merge``/``undone`` row naming the marker) counts as if
  it never happened: its rows and the undo's rows are ignored.

A marker comes from a file that may be forged (``rows`` of 10^8): the rows it
covers are kept as ranges (:class:`IdSpans`), never expanded one id at a time.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

#: The whole record (its existence, or a record merged as one unit).
WHOLE = "*"
MERGE_ENTITY = "merge"
MERGED_FIELD = "merged"
UNDONE_FIELD = "undone"

Ref = tuple[str, str]  # (kind, key)
Value = Mapping[str, Any] | None  # a record's fields; None: not in the file
Resolution = Literal["mine", "theirs"]


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: str
    by: str
    entity: str
    key: str
    field: str
    old: str | None
    new: str | None

    def line(self) -> str:
        return json.dumps([self.id, self.at, self.by, self.entity, self.key, self.field, self.old, self.new]) + "\n"


#: Audit fields that create, remove or put back a record.
_EXISTENCE = {"created", "removed", "restored", "attached", "frozen", "deleted"}
_FUNCTION_FIELDS = {"target", "notes", "confidence", "priority", "owner", "status"}
_WORKSHOP_FIELDS = {"date", "title", "pillars", "functions", "notes", "attendees", "status"}


def unit_of(entity: str, key: str, field: str) -> tuple[str, str, str] | None:
    """The unit an audit row changed, or None for rows that change no merged state."""
    if entity == "engagement":
        return ("engagement", "", field)  # one engagement per file; keyed by nothing
    if entity == "function":
        if field in ("override", "override_reason"):
            return ("function", key, "override")
        return ("function", key, field) if field in _FUNCTION_FIELDS else None
    if entity == "stage":
        return ("stage", key, field) if field in ("rating", "comment") else None
    if entity in ("finding", "evidence", "action"):  # actions: schema 7, by id
        return (entity, key, WHOLE if field in _EXISTENCE else field)
    if entity in ("response", "baseline"):
        return (entity, key, WHOLE)
    if entity == "workshop":  # keyed by the workshop's uid (schema 6), the same in every copy
        if field in _EXISTENCE:
            return (entity, key, WHOLE)
        return (entity, key, field) if field in _WORKSHOP_FIELDS else None
    return None  # imports, merges and entities this version does not know


def common_prefix(mine: Sequence[AuditRecord], theirs: Sequence[AuditRecord]) -> int:
    """The id of the last row both trails share (0: none), i.e. where the copies diverged."""
    last = 0
    for a, b in zip(mine, theirs, strict=False):
        if a != b:
            break
        last = a.id
    return last


def _marker(row: AuditRecord) -> dict[str, Any] | None:
    if row.entity != MERGE_ENTITY or row.field not in (MERGED_FIELD, UNDONE_FIELD) or not row.new:
        return None
    try:
        data = json.loads(row.new)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("rows"), int) or data["rows"] < 0:
        return None
    return data


class IdSpans:
    """A set of audit row ids held as sorted, disjoint ranges: membership costs a bisection and
    memory grows with the number of ranges, never with the ids they cover."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(span for span in spans if span[0] < span[1]):  # [start, end)
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self._spans = tuple(merged)
        self._starts = [start for start, _ in merged]

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, int):
            return False
        index = bisect.bisect_right(self._starts, item) - 1
        return index >= 0 and item < self._spans[index][1]

    def __iter__(self) -> Iterator[int]:
        for start, end in self._spans:
            yield from range(start, end)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdSpans) and other._spans == self._spans

    def __hash__(self) -> int:
        return hash(self._spans)

    def __repr__(self) -> str:
        return f"IdSpans({list(self._spans)!r})"


@dataclass(frozen=True)
class Trail:
    """One copy's audit trail read for merging."""

    rows: tuple[AuditRecord, ...]
    merged: tuple[tuple[int, dict[str, Any]], ...]  # active merge markers: (row id, marker)
    written: IdSpans  # rows active merges wrote (not own changes; they hide earlier ones)
    ignored: IdSpans  # rows of undone merges and of their undos

    @property
    def last_id(self) -> int:
        return self.rows[-1].id if self.rows else 0


def read_trail(rows: Iterable[AuditRecord]) -> Trail:
    ordered = tuple(sorted(rows, key=lambda r: r.id))
    markers: dict[int, dict[str, Any]] = {}
    undone: dict[int, dict[str, Any]] = {}
    for row in ordered:
        data = _marker(row)
        if data is None:
            continue
        if row.field == MERGED_FIELD:
            markers[row.id] = data
        elif isinstance(data.get("marker"), int):
            undone[row.id] = data
    ignored: list[tuple[int, int]] = []
    for undo_id, data in undone.items():
        target = markers.pop(data["marker"], None)
        ignored.append((undo_id, undo_id + data["rows"] + 1))
        if target is not None:
            ignored.append((data["marker"], data["marker"] + target["rows"] + 1))
    written = [(marker_id + 1, marker_id + data["rows"] + 1) for marker_id, data in markers.items()]
    return Trail(ordered, tuple(sorted(markers.items())), IdSpans(written), IdSpans(ignored))


def digest(rows: Iterable[AuditRecord]) -> str:
    hasher = hashlib.sha256()
    for row in rows:
        hasher.update(row.line().encode("utf-8"))
    return hasher.hexdigest()


def merged_upto(mine: Trail, theirs: Trail) -> int:
    """How far the other copy's trail was merged into this one already (0: never)."""
    wanted: dict[int, set[str]] = {}
    for _, data in mine.merged:
        upto, sha = data.get("upto"), data.get("digest")
        if isinstance(upto, int) and isinstance(sha, str) and 0 < upto <= theirs.last_id:
            wanted.setdefault(upto, set()).add(sha)
    if not wanted:
        return 0
    best = 0
    hasher = hashlib.sha256()
    for row in theirs.rows:
        hasher.update(row.line().encode("utf-8"))
        if row.id in wanted and hasher.hexdigest() in wanted[row.id]:
            best = row.id
    return best


def changed_since(trail: Trail, floor: int) -> dict[Ref, set[str]]:
    """The fields of each record this copy itself changed after row ``floor`` and after any
    merge that wrote them."""
    barrier: dict[tuple[Ref, str], int] = {}
    own: list[tuple[int, Ref, str]] = []
    for row in trail.rows:
        if row.id in trail.ignored:
            continue
        unit = unit_of(row.entity, row.key, row.field)
        if unit is None:
            continue
        ref, name = (unit[0], unit[1]), unit[2]
        if row.id in trail.written:
            barrier[(ref, name)] = row.id
        elif row.id > floor:
            own.append((row.id, ref, name))
    out: dict[Ref, set[str]] = {}
    for row_id, ref, name in own:
        if row_id > max(barrier.get((ref, name), 0), barrier.get((ref, WHOLE), 0)):
            out.setdefault(ref, set()).add(name)
    return out


@dataclass(frozen=True)
class Decision:
    ref: Ref
    field: str  # a field, or WHOLE
    conflict: bool

    @property
    def key(self) -> str:
        return f"{self.ref[0]}:{self.ref[1]}:{self.field}"


def decide(ref: Ref, mine_changed: set[str], theirs_changed: set[str], mine: Value, theirs: Value) -> list[Decision]:
    """What to do with one record the other copy changed (see the module docstring)."""
    if not theirs_changed or mine == theirs:
        return []
    if mine is None or theirs is None or WHOLE in theirs_changed:
        return [Decision(ref, WHOLE, conflict=bool(mine_changed))]
    out = []
    for name in sorted(theirs_changed):
        if name not in theirs or name not in mine or mine[name] == theirs[name]:
            continue
        out.append(Decision(ref, name, conflict=name in mine_changed or WHOLE in mine_changed))
    return out


def merged_value(mine: Value, theirs: Value, field: str) -> Value:
    """The record after taking their ``field`` (or the whole record) into ours."""
    if field == WHOLE or mine is None or theirs is None:
        return theirs
    return {**mine, field: theirs[field]}
