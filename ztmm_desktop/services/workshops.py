"""Workshops: who met when about which pillars, and which edits were made there.

A workshop (date, title, attendees with role and organisation, the pillars and
functions it covers, notes) is *planned*, *running* or *held*. At most one runs
at a time and the engagement file records which (schema 5), so every change
made while it runs — in the window or with ``ztmm`` — is tagged with it: the
audit row of each change carries the workshop's id. "In which workshop a rating,
comment or finding was made" is the workshop of its latest audit row
(``tags``); a change made after the workshop stopped clears the tag.

Creating, editing, starting and stopping workshops are ordinary audited edits;
``restore_workshop`` and ``set_status`` put a workshop back as it was, for the
window's undo.
A workshop that has tagged edits cannot be deleted: the audit trail would then
name a workshop nobody can look up. Audit rows about a workshop are keyed by its
``uid`` (schema 6), which is the same in every copy of the engagement, so a
colleague's workshops merge (``services/merge.py``); the tags on edits
(``audit.workshop_id``) use this file's row id, which is never reused.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from ..core.errors import BadInput
from ..core.stages import RATED_STAGES
from ..core.validate import MAX_ATTENDEES
from ..store.schema import AuditRow, WorkshopAttendeeRow, WorkshopRow
from .engagement import MAX_NAME, MAX_TEXT, Engagement, _Audit, _parse_date, check_text, now, raw_connection, reading

PLANNED, RUNNING, HELD = "planned", "running", "held"

_NAME_WORDS = {"name", "names", "attendee", "attendees", "full name", "participant", "person"}
_ROLE_WORDS = {"role", "roles", "job title", "title", "position", "function"}
_ORG_WORDS = {"organisation", "organization", "org", "company", "department", "team", "employer"}


@dataclass(frozen=True)
class Attendee:
    name: str
    role: str = ""
    organisation: str = ""


@dataclass(frozen=True)
class WorkshopDraft:
    """What the consultant writes about a workshop (the dialog's fields, ``ztmm workshop add``)."""

    date: str
    title: str
    pillars: tuple[str, ...] = ()  # ids, codes or names
    functions: tuple[str, ...] = ()  # ids or codes
    notes: str = ""
    attendees: tuple[Attendee, ...] = ()


@dataclass(frozen=True)
class Workshop:
    id: int
    uid: str
    date: str
    title: str
    pillars: tuple[str, ...]  # pillar ids
    functions: tuple[str, ...]  # function ids
    notes: str
    status: str
    started_at: str | None
    ended_at: str | None
    attendees: tuple[Attendee, ...] = field(default=())

    @property
    def label(self) -> str:
        return f"{self.title} ({self.date})"

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    def draft(self) -> WorkshopDraft:
        return WorkshopDraft(self.date, self.title, self.pillars, self.functions, self.notes, self.attendees)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "uid": self.uid,
            "date": self.date,
            "title": self.title,
            "status": self.status,
            "pillars": list(self.pillars),
            "functions": list(self.functions),
            "notes": self.notes,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "attendees": [{"name": a.name, "role": a.role, "organisation": a.organisation} for a in self.attendees],
        }


@dataclass(frozen=True)
class WorkshopTag:
    """The workshop a rating, comment or finding was (last) changed in."""

    id: int
    title: str
    date: str

    @property
    def label(self) -> str:
        return f"{self.title} ({self.date})"


# -- checking what the user typed or pasted ------------------------------------------


def _one_line(value: str, what: str, limit: int = MAX_NAME) -> str:
    value = " ".join(check_text(value, what, limit).split())
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise BadInput(f"{what} is one line of text without control characters")
    return value


def _check_attendees(attendees: Iterable[Attendee]) -> list[Attendee]:
    out = []
    for number, a in enumerate(attendees, start=1):
        name = _one_line(a.name, f"attendee {number}'s name")
        if not name:
            raise BadInput(f"attendee {number} has no name")
        out.append(
            Attendee(
                name,
                _one_line(a.role, f"attendee {number}'s role"),
                _one_line(a.organisation, f"attendee {number}'s organisation"),
            )
        )
    if len(out) > MAX_ATTENDEES:
        raise BadInput(f"{len(out)} attendees; a workshop lists at most {MAX_ATTENDEES}")
    return out


def _is_header(cells: Sequence[str]) -> bool:
    words = [" ".join(c.strip().casefold().split()) for c in cells]
    words = [w for w in words if w]
    if not words or words[0] not in _NAME_WORDS:
        return False
    return all(w in _NAME_WORDS | _ROLE_WORDS | _ORG_WORDS for w in words)


def parse_attendees(text: str) -> list[Attendee]:
    """Attendees from rows pasted from a spreadsheet: name, role, organisation.

    Cells are separated by tabs (as Excel copies them) or, when no line has a
    tab, by commas (CSV quoting honoured). A first row of column names (Name,
    Role, Organisation …) is skipped, as are blank lines. Any bad row refuses the
    whole paste with the line numbers, so nothing half-pasted is kept.
    """
    check_text(text, "attendee list")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter = "\t" if "\t" in text else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    attendees: list[Attendee] = []
    problems: list[str] = []
    seen_row = False
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            cells = [c.strip() for c in cells]
            while cells and not cells[-1]:
                cells.pop()
            if not cells:
                continue
            if not seen_row:
                seen_row = True
                if _is_header(cells):
                    continue
            if len(cells) > 3:
                problems.append(f"line {line}: {len(cells)} cells (expected name, role, organization)")
            elif not cells[0]:
                problems.append(f"line {line}: no name")
            else:
                cells += [""] * (3 - len(cells))
                try:
                    attendees.extend(_check_attendees([Attendee(*cells)]))
                except BadInput as err:
                    problems.append(f"line {line}: {str(err).replace('attendee 1', 'the attendee')}")
    except csv.Error as err:
        problems.append(f"line {reader.line_num}: {err}")
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise BadInput(f"the attendee list has {len(problems)} bad row{'s' if len(problems) > 1 else ''}: {shown}")
    if len(attendees) > MAX_ATTENDEES:
        raise BadInput(f"{len(attendees)} attendees; a workshop lists at most {MAX_ATTENDEES}")
    return attendees


def _columns(engagement: Engagement, draft: WorkshopDraft) -> dict[str, str]:
    date = _parse_date(draft.date, "workshop date")
    if date is None:
        raise BadInput("a workshop needs a date like 2026-11-30")
    title = _one_line(draft.title, "workshop title")
    if not title:
        raise BadInput("a workshop needs a title")
    catalog = engagement.catalog
    pillars = {catalog.pillar(p).id for p in draft.pillars if p.strip()}
    functions = {catalog.function(f).id for f in draft.functions if f.strip()}
    return {
        "date": date,
        "title": title,
        "pillars": json.dumps([p.id for p in catalog.pillars if p.id in pillars]),
        "functions": json.dumps([f.id for f in catalog.functions() if f.id in functions]),
        "notes": check_text(draft.notes, "workshop notes", MAX_TEXT),
    }


# -- reading -----------------------------------------------------------------------------


def _workshop(row: WorkshopRow, attendees: Sequence[WorkshopAttendeeRow]) -> Workshop:
    assert row.id is not None

    def ids(text: str) -> tuple[str, ...]:
        try:
            value = json.loads(text)
        except ValueError:
            return ()
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    return Workshop(
        id=row.id,
        uid=row.uid,
        date=row.date,
        title=row.title,
        pillars=ids(row.pillars),
        functions=ids(row.functions),
        notes=row.notes,
        status=row.status,
        started_at=row.started_at,
        ended_at=row.ended_at,
        attendees=tuple(Attendee(a.name, a.role, a.organisation) for a in attendees),
    )


def _read(session: Session, rows: Sequence[WorkshopRow]) -> list[Workshop]:
    people: dict[int, list[WorkshopAttendeeRow]] = {}
    query = select(WorkshopAttendeeRow).order_by(
        col(WorkshopAttendeeRow.workshop_id), col(WorkshopAttendeeRow.position)
    )
    for a in session.exec(query):
        people.setdefault(a.workshop_id, []).append(a)
    return [_workshop(r, people.get(r.id or 0, [])) for r in rows]


def list_workshops(engagement: Engagement) -> list[Workshop]:
    """Every workshop of the engagement, by date (then in the order they were recorded)."""
    with engagement.session() as session:
        rows = list(session.exec(select(WorkshopRow).order_by(col(WorkshopRow.date), col(WorkshopRow.id))))
        return _read(session, rows)


def get_workshop(engagement: Engagement, workshop_id: int) -> Workshop:
    with engagement.session() as session:
        row = session.get(WorkshopRow, workshop_id)
        if row is None:
            raise BadInput(f"no workshop {workshop_id} in {engagement.path.name}")
        return _read(session, [row])[0]


def running(engagement: Engagement) -> Workshop | None:
    """The workshop running now, if any."""
    with engagement.session() as session:
        row = session.exec(select(WorkshopRow).where(WorkshopRow.status == RUNNING)).first()
        return _read(session, [row])[0] if row is not None else None


def tags(engagement: Engagement, function_key: str) -> dict[tuple[str, str], WorkshopTag]:
    """In which workshop each rating, comment and finding of a function was last changed.

    Keys are ``(stage key, "rating" | "comment")`` and ``("finding", finding id)``;
    only those whose latest change was made while a workshop ran are present.
    """
    function = engagement.catalog.function(function_key)
    wanted: dict[tuple[str, str], tuple[str, str | None]] = {}
    for stage in RATED_STAGES:
        for name in ("rating", "comment"):
            wanted[(stage.key, name)] = (f"{function.id}/{stage.key}", name)
    findings = [f.id for f in engagement.findings(function.id)]
    for finding_id in findings:
        wanted[("finding", finding_id)] = (finding_id, None)
    stage_keys = [f"{function.id}/{s.key}" for s in RATED_STAGES]
    latest: dict[tuple[str, str | None], int | None] = {}
    # Plain SQL: this runs on every function page shown, and the ORM's row loading cost
    # several times the query itself.
    keys = stage_keys + findings
    marks = ",".join("?" * len(keys))
    with reading(engagement) as conn:
        for entity, key, name, workshop_id in conn.execute(
            f"SELECT entity, key, field, workshop_id FROM audit WHERE entity IN ('stage', 'finding') "
            f"AND key IN ({marks}) ORDER BY id",
            keys,
        ):
            if entity == "stage" or key in findings:
                latest[(key, name if entity == "stage" else None)] = workshop_id
        ids = sorted({w for w in latest.values() if w is not None})
        rows = (
            conn.execute(
                f"SELECT id, title, date FROM workshop WHERE id IN ({','.join('?' * len(ids))})", ids
            ).fetchall()
            if ids
            else []
        )
    by_id = {row[0]: WorkshopTag(row[0], row[1], row[2]) for row in rows}
    out = {}
    for tag_key, audit_key in wanted.items():
        workshop_id = latest.get(audit_key)
        if workshop_id is not None and workshop_id in by_id:
            out[tag_key] = by_id[workshop_id]
    return out


# -- changing ------------------------------------------------------------------------------


def _record_all(audit: _Audit, key: str, old: dict[str, object], new: dict[str, object]) -> bool:
    changed = False
    for name, value in new.items():
        changed |= audit.record("workshop", key, name, old.get(name), value)
    return changed


def _attendees_json(attendees: Sequence[Attendee]) -> str:
    return json.dumps([[a.name, a.role, a.organisation] for a in attendees], ensure_ascii=False)


def _replace_attendees(session: Session, workshop_id: int, attendees: Sequence[Attendee]) -> None:
    for old in session.exec(select(WorkshopAttendeeRow).where(WorkshopAttendeeRow.workshop_id == workshop_id)):
        session.delete(old)
    session.flush()
    for position, a in enumerate(attendees):
        session.add(WorkshopAttendeeRow(workshop_id=workshop_id, position=position, **a.__dict__))


def next_id(conn: sqlite3.Connection) -> int:
    """The row id for a new workshop: above every id a workshop or a tag has used.

    SQLite would hand out the id of a deleted last row again, and audit rows
    tagged with the old workshop (by a merge that was undone) would then name the
    new one.
    """
    highest, tagged = conn.execute("SELECT max(id), (SELECT max(workshop_id) FROM audit) FROM workshop").fetchone()
    return max(highest or 0, tagged or 0) + 1


def new_workshop(engagement: Engagement, draft: WorkshopDraft) -> Workshop:
    """A planned workshop as ``create_workshop`` would record it, checked but not yet stored."""
    columns = _columns(engagement, draft)
    attendees = _check_attendees(draft.attendees)
    with reading(engagement) as conn:
        workshop_id = next_id(conn)
    return Workshop(
        id=workshop_id,
        uid=str(uuid.uuid4()),
        date=columns["date"],
        title=columns["title"],
        pillars=tuple(json.loads(columns["pillars"])),
        functions=tuple(json.loads(columns["functions"])),
        notes=columns["notes"],
        status=PLANNED,
        started_at=None,
        ended_at=None,
        attendees=tuple(attendees),
    )


def create_workshop(engagement: Engagement, draft: WorkshopDraft, *, by: str | None = None) -> Workshop:
    """Record a planned workshop (with its attendees)."""
    return restore_workshop(engagement, new_workshop(engagement, draft), by=by)


def update_workshop(engagement: Engagement, workshop_id: int, draft: WorkshopDraft, *, by: str | None = None) -> bool:
    """Change a workshop's date, title, coverage, notes and attendees; False when nothing changed."""
    columns = _columns(engagement, draft)
    attendees = _check_attendees(draft.attendees)
    before = get_workshop(engagement, workshop_id)
    with engagement.edit(by) as (session, audit):
        row = session.get(WorkshopRow, workshop_id)
        assert row is not None
        old: dict[str, object] = {name: getattr(row, name) for name in columns}
        old["attendees"] = _attendees_json(before.attendees)
        changed = _record_all(audit, row.uid, old, {**columns, "attendees": _attendees_json(attendees)})
        if not changed:
            session.rollback()
            audit.rows.clear()
            return False
        for name, value in columns.items():
            setattr(row, name, value)
        if list(before.attendees) != attendees:
            _replace_attendees(session, workshop_id, attendees)
    return True


def set_attendees(
    engagement: Engagement, workshop_id: int, attendees: Sequence[Attendee], *, by: str | None = None
) -> bool:
    """Replace a workshop's attendee list; False when it was already that."""
    return update_workshop(
        engagement, workshop_id, replace_attendees(get_workshop(engagement, workshop_id), attendees), by=by
    )


def replace_attendees(workshop: Workshop, attendees: Sequence[Attendee]) -> WorkshopDraft:
    d = workshop.draft()
    return WorkshopDraft(d.date, d.title, d.pillars, d.functions, d.notes, tuple(attendees))


def delete_workshop(engagement: Engagement, workshop_id: int, *, by: str | None = None) -> None:
    """Delete a workshop in which nothing was changed (a running one must be stopped first)."""
    workshop = get_workshop(engagement, workshop_id)
    if workshop.running:
        raise BadInput(f"workshop {workshop.label} is running; stop it before deleting it")
    with engagement.session() as session:
        tagged = session.exec(
            select(func.count()).select_from(AuditRow).where(AuditRow.workshop_id == workshop_id)
        ).one()
    if tagged:
        raise BadInput(f"workshop {workshop.label} has {tagged} recorded change(s) made in it and cannot be deleted")
    with engagement.edit(by) as (session, audit):
        _replace_attendees(session, workshop_id, [])
        row = session.get(WorkshopRow, workshop_id)
        session.delete(row)
        audit.record("workshop", workshop.uid, "removed", workshop.title, None)


def start(engagement: Engagement, workshop_id: int, *, by: str | None = None) -> Workshop:
    """Start a workshop: from now every change is tagged with it until ``stop``.

    A held workshop may be started again (after a break); another running one is refused.
    """
    workshop = get_workshop(engagement, workshop_id)
    current = running(engagement)
    if current is not None:
        if current.id == workshop_id:
            raise BadInput(f"workshop {workshop.label} is already running")
        raise BadInput(f"workshop {current.label} is running; stop it before starting another")
    with engagement.edit(by) as (session, audit):
        row = session.get(WorkshopRow, workshop_id)
        assert row is not None
        audit.record("workshop", row.uid, "status", row.status, RUNNING)
        row.status = RUNNING
        row.started_at = row.started_at or now()
        row.ended_at = None
    return get_workshop(engagement, workshop_id)


def stop(engagement: Engagement, *, by: str | None = None) -> Workshop:
    """Stop the running workshop (it becomes held); refused when none runs."""
    current = running(engagement)
    if current is None:
        raise BadInput(f"no workshop is running in {engagement.path.name}")
    with engagement.edit(by) as (session, audit):
        row = session.get(WorkshopRow, current.id)
        assert row is not None
        audit.record("workshop", row.uid, "status", row.status, HELD)
        row.status = HELD
        row.ended_at = now()
    return get_workshop(engagement, current.id)


def restore_workshop(engagement: Engagement, workshop: Workshop, *, by: str | None = None) -> Workshop:
    """Put a workshop (back) as it was, under its own row id and uid: the redo of an
    addition and the undo of a deletion. Refused when either is taken or it would be a
    second running workshop."""
    columns = _columns(engagement, workshop.draft())
    attendees = _check_attendees(workshop.attendees)
    if workshop.status not in (PLANNED, RUNNING, HELD):
        raise BadInput(f"unknown workshop status {workshop.status!r}")
    with engagement.edit(by) as (session, audit):
        conn = raw_connection(session)
        if conn.execute("SELECT 1 FROM workshop WHERE id = ? OR uid = ?", (workshop.id, workshop.uid)).fetchone():
            raise BadInput(f"workshop {workshop.label} is already in {engagement.path.name}")
        if workshop.running:
            _refuse_second_running(conn, workshop)
        row = WorkshopRow(
            id=workshop.id,
            uid=workshop.uid,
            **columns,
            status=workshop.status,
            started_at=workshop.started_at,
            ended_at=workshop.ended_at,
        )
        session.add(row)
        session.flush()
        _replace_attendees(session, workshop.id, attendees)
        values: dict[str, object] = {**columns, "attendees": _attendees_json(attendees)}
        if workshop.status != PLANNED:
            values["status"] = workshop.status
        _record_all(audit, workshop.uid, {}, values)
    return get_workshop(engagement, workshop.id)


def _refuse_second_running(conn: sqlite3.Connection, workshop: Workshop) -> None:
    other = conn.execute("SELECT title, date FROM workshop WHERE status = ? AND id != ?", (RUNNING, workshop.id))
    found = other.fetchone()
    if found is not None:
        raise BadInput(f"workshop {found[0]} ({found[1]}) is running; stop it before starting {workshop.label}")


def set_status(
    engagement: Engagement,
    workshop_id: int,
    status: str,
    started_at: str | None,
    ended_at: str | None,
    *,
    by: str | None = None,
) -> bool:
    """Put a workshop's status and times back as they were (the undo of start and stop)."""
    workshop = get_workshop(engagement, workshop_id)
    if status not in (PLANNED, RUNNING, HELD):
        raise BadInput(f"unknown workshop status {status!r}")
    if (workshop.status, workshop.started_at, workshop.ended_at) == (status, started_at, ended_at):
        return False
    with engagement.edit(by) as (session, audit):
        if status == RUNNING:
            _refuse_second_running(raw_connection(session), workshop)
        row = session.get(WorkshopRow, workshop_id)
        assert row is not None
        audit.record("workshop", row.uid, "status", row.status, status)
        row.status, row.started_at, row.ended_at = status, started_at, ended_at
    return True
