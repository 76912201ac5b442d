"""A server engagement's working copy kept in step with the server live, field by field.

The window edits its working copy (``services.server_copy``) as it edits any engagement: every
view, undo and evidence work on it. A :class:`LiveMirror` sits between that copy and a
``server.live.LiveSession`` on the same engagement:

* **Out**: after each edit the window makes (a command pushed, undone or redone) the copy's live
  fields (``server.live``: a function's assessment fields, a stage's rating and comment, findings,
  roadmap actions) are compared with :attr:`LiveMirror.synced`, the value this window last agreed
  with the server, and each difference is sent as one ``Edit`` whose base is that value, in order,
  on the mirror's own thread (the UI thread never waits for the network). Offline, the session
  keeps the edit in its durable queue and sends it when the server is back.
* **In**: a change someone else committed is read from the server (on the mirror's thread, with a
  connection of its own) and, when this window has nothing pending on that field, written into the
  copy outside the undo stack and shown. A field being typed in right now is left alone: the typing's
  next commit goes with the old base and the server answers with a conflict.
* **Conflicts** (someone changed the field since this window's base) are kept, newest per field,
  for the consultant to resolve: :meth:`LiveMirror.keep_mine` sends this window's value again from
  theirs, :meth:`LiveMirror.take_theirs` writes theirs into the copy. Until then the field is not sent.
* A value the server refuses (its checks, a role changed meanwhile) is put back in the copy as the
  server has it, and said in one line.

The server writes its own audit rows for live edits, authored by the login, so the copy's audit rows
of live fields are never sent by a Save (``server.store.push_changes(live=True)``).

Everything here runs on one thread (the window's): the mirror's thread only talks to the server and
hands each answer back through ``post`` (in the window, a queued Qt signal).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, cast

import psycopg

from ..core.errors import ZtmmError
from ..core.stages import Stage
from ..server.connect import ServerError, connect, use_engagement
from ..server.live import (
    ACTION_FIELDS,
    CREATED,
    FINDING_FIELDS,
    FUNCTION_FIELDS,
    PRESENT,
    REMOVED,
    RESYNC,
    Applied,
    Change,
    Conflict,
    Edit,
    LiveSession,
    Queued,
    Refused,
    State,
    _run,
)
from . import actions
from .actions import ActionDraft
from .engagement import Engagement, FindingDraft
from .records import Changes

#: (table, row key, field) of one live field, as ``server.live.Edit`` names it. A finding's or an
#: action's presence is its ``created`` field, whose value is the function it belongs to.
Field = tuple[str, str, str]
Values = dict[Field, Any]

_ROWS = {"finding": FINDING_FIELDS, "action": ACTION_FIELDS}
_DEFAULTS: dict[str, Any] = {name: "" for name in FUNCTION_FIELDS} | {"target": None, "override": None}
_MISSING = object()


def read_values(conn: Any) -> Values:
    """Every live field of the engagement ``conn`` reads (a copy's sqlite3 connection, or a psycopg
    one pointed at the engagement's schema), as ``server.live`` compares them."""
    values: Values = {}
    for function_id, target, stage, why, notes, confidence, priority, owner, status in conn.execute(
        "SELECT function_id, target, override_stage, override_reason, notes, confidence, priority, owner, status "
        "FROM function_assessment"
    ).fetchall():
        row = {
            "target": target,
            "override": None if stage is None else (stage, why),
            "notes": notes,
            "confidence": confidence,
            "priority": priority,
            "owner": owner,
            "status": status,
        }
        for name, value in row.items():
            values[("function_assessment", str(function_id), name)] = value
    for function_id, stage, rating, comment in conn.execute(
        "SELECT function_id, stage, rating, comment FROM stage_rating"
    ).fetchall():
        values[("stage_rating", f"{function_id}/{stage}", "rating")] = rating
        values[("stage_rating", f"{function_id}/{stage}", "comment")] = comment
    for table, names in _ROWS.items():
        for row in conn.execute(f"SELECT id, function_id, {', '.join(names)} FROM {table}").fetchall():
            key = str(row[0])
            values[(table, key, CREATED)] = str(row[1])
            for name, value in zip(names, row[2:], strict=True):
                values[(table, key, name)] = value
    return values


def read_local(engagement: Engagement) -> Values:
    with engagement.reading() as conn:
        return read_values(conn)


def _default(field: Field) -> Any:
    table, _key, name = field
    if table == "function_assessment":
        return _DEFAULTS[name]
    if table == "stage_rating":
        return "unassessed" if name == "rating" else ""
    return _MISSING


def _get(values: Mapping[Field, Any], field: Field) -> Any:
    return values.get(field, _default(field))


def _same(a: Any, b: Any) -> bool:
    return bool(_plain(a) == _plain(b))


def _plain(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _row_keys(values: Iterable[Field], table: str, key: str) -> list[Field]:
    return [f for f in values if f[0] == table and f[1] == key]


def _row_value(values: Mapping[Field, Any], table: str, key: str) -> dict[str, Any]:
    """A finding's or an action's fields, as a ``created`` edit carries them."""
    row = {name: values.get((table, key, name)) for name in _ROWS[table]}
    return {"function_id": values[(table, key, CREATED)], **row}


def apply_local(engagement: Engagement, field: Field, value: Any, row: Mapping[str, Any] | None, by: str) -> Changes:
    """Write the server's ``value`` of ``field`` into the working copy (outside any undo stack);
    ``row``: the whole finding or action when it is made (``created``). What it changed."""
    table, key, name = field
    if table in ("function_assessment", "stage_rating"):
        _run(engagement, cast(Any, None), Edit(table, key, name, None, value), by)  # (no server read for these)
        return Changes(functions=frozenset({key.split("/", 1)[0]}))
    if table == "finding":
        if name == CREATED:
            if value is _MISSING:  # removed on the server
                removed = engagement.remove_finding(key, by=by)[1]
                return replace(removed, findings=removed.findings | {key})
            fields = dict(row or {})
            function_id = str(fields.pop("function_id"))
            stage = fields.pop("stage", None)
            draft = FindingDraft(stage=Stage.parse(stage) if stage else None, **fields)
            changes = engagement.restore_finding(function_id, draft, finding_id=key, by=by)[1]
            return replace(changes, findings=changes.findings | {key})
        current = next(f for f in engagement.findings() if f.id == key)
        draft = current.draft()
        new: Any = value if name != "stage" else (Stage.parse(value) if value else None)
        changes = engagement.update_finding(key, replace(draft, **{name: new}), by=by)
        return replace(changes, findings=changes.findings | {key}, functions=changes.functions | {current.function_id})
    if name == CREATED:
        if value is _MISSING:
            return actions.remove_action(engagement, key, by=by)[1]
        fields = dict(row or {})
        function_id = str(fields.pop("function_id"))
        stage, after = fields.pop("stage", None), fields.pop("after_id", None)
        draft_action = ActionDraft(stage=Stage.parse(stage) if stage else None, after=after, **fields)
        return actions.add_action(engagement, function_id, draft_action, by=by, action_id=key)[1]
    item = next(a for a in actions.list_actions(engagement) if a.id == key)
    attribute = {"after_id": "after"}.get(name, name)
    new_value: Any = value if name != "stage" else (Stage.parse(value) if value else None)
    return actions.update_action(engagement, key, replace(item.draft(), **{attribute: new_value}), by=by)


@dataclass(frozen=True)
class Disagreement:
    """A conflict to resolve: ``field`` was changed on the server (to ``theirs``, by ``author`` when
    known) since this window's value ``mine`` was based on it."""

    field: Field
    theirs: Any
    mine: Any
    author: str
    conflict: Conflict


class MirrorView(Protocol):
    """What the mirror tells the window (on its thread)."""

    def mirrored(self, changes: Changes, author: str) -> None:
        """The copy took in changes from the server: show them (keeping the cursor and any typing)."""

    def conflicts_changed(self) -> None:
        """:attr:`LiveMirror.conflicts` changed."""

    def refused(self, text: str) -> None:
        """The server refused an edit (one line); the copy holds the server's value again."""

    def connection_changed(self) -> None:
        """Online, offline, or the count of edits kept locally changed."""


Post = Callable[[Callable[[], None]], None]


class LiveMirror:
    """Keep ``engagement`` (a server engagement's working copy) and ``session`` in step (see the module)."""

    def __init__(
        self,
        session: LiveSession,
        engagement: Engagement,
        view: MirrorView,
        *,
        post: Post,
        editing: Callable[[], frozenset[Field]] = frozenset,
        synced: Values | None = None,
    ) -> None:
        self.session = session
        self.engagement = engagement
        self.view = view
        self._post = post
        self._editing = editing
        #: per live field, the value this window last agreed with the server (its edits sent count)
        self.synced: Values = read_local(engagement) if synced is None else dict(synced)
        #: per field, the conflict the consultant has to resolve (the newest)
        self.conflicts: dict[Field, Disagreement] = {}
        self._inflight: dict[Field, int] = {}  # edits handed to the thread, not yet answered
        self._queued: set[Field] = set()  # fields with edits in the offline queue
        self._stale: set[Field] = set()  # changed on the server while this window had its own pending
        self._take: set[Field] = set()  # the server's value goes into the copy whatever the copy holds
        self._reading = False  # a read of the server is waiting on the thread
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._reader: psycopg.Connection[Any] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="ztmm-live-mirror", daemon=True)
        self._thread.start()
        self._unsubscribe = session.subscribe(self._heard)

    # -- the window's calls (its thread) ---------------------------------------------------

    @property
    def online(self) -> bool:
        return self.session.state is State.ONLINE

    @property
    def kept(self) -> int:
        """Edits kept on this computer until the server is back (the session's durable queue)."""
        return self.session.queued

    @property
    def held_back(self) -> frozenset[Field]:
        """Fields changed on the server that the copy has not taken in yet (being typed in here, or with
        this window's own edits of them still on their way)."""
        return frozenset(self._stale)

    def local_changed(self) -> None:
        """The window changed the copy (an edit, an undo, a redo): send what differs from the server."""
        if self._closed:
            return
        local = read_local(self.engagement)
        for edit in self._outgoing(local):
            self._send(edit)
        self.recheck()

    def recheck(self) -> None:
        """Read the server again for fields left alone earlier (typed in, or with edits of this window pending)."""
        if self._stale and not self._closed:
            editing = self._editing()
            if any(self._inflight.get(f, 0) == 0 and f not in editing for f in self._stale):
                self._read_server()

    def keep_mine(self, field: Field) -> None:
        """Resolve the conflict on ``field`` with this window's value (as the copy holds it now)."""
        found = self.conflicts.pop(field, None)
        if found is None:
            return
        self.view.conflicts_changed()
        self.local_changed()  # the field is no longer held back: sent from theirs (the synced value)

    def take_theirs(self, field: Field) -> None:
        """Resolve the conflict on ``field`` with the server's value: written into the copy."""
        found = self.conflicts.pop(field, None)
        if found is None:
            return
        self.view.conflicts_changed()
        self._take.add(field)
        self._stale.add(field)
        self._read_server()  # the field's current value on the server, whoever changed it last

    def close(self) -> None:
        """Send what was handed over (or queue it), then stop; the session is the caller's to close."""
        if self._closed:
            return
        self._closed = True
        self._unsubscribe()
        self._jobs.put(None)
        self._thread.join(timeout=30)
        if self._reader is not None:
            with contextlib.suppress(psycopg.Error):
                self._reader.close()

    def rebind(self, engagement: Engagement, synced: Values | None = None) -> None:
        """The window works on another copy of the same engagement (re-read, merged): it is the mirror's
        now, agreed with the server as ``synced`` (None: as it holds now); its differences are sent."""
        self.engagement = engagement
        fresh = read_local(engagement) if synced is None else dict(synced)
        for field in list(self._inflight) + list(self._queued):
            if field in self.synced:
                fresh[field] = self.synced[field]
        self.synced = fresh
        self.local_changed()

    # -- out -------------------------------------------------------------------------------

    def _outgoing(self, local: Values) -> list[Edit]:
        """The edits that bring the server to ``local`` from :attr:`synced` (which they update)."""
        created: list[Edit] = []
        changed: list[Edit] = []
        removed: list[Edit] = []
        synced = self.synced
        held = set(self.conflicts) | self._take  # to resolve, or waiting for the server's value
        rows = {(t, k) for t, k, n in list(local) + list(synced) if t in _ROWS and n == CREATED}
        for table, key in sorted(rows):
            here, there = (table, key, CREATED) in local, (table, key, CREATED) in synced
            if here and not there:
                value = _row_value(local, table, key)
                created.append(Edit(table, key, CREATED, None, value))
                for field in _row_keys(local, table, key):
                    synced[field] = local[field]
            elif there and not here:
                if (table, key, CREATED) in held:
                    continue
                removed.append(Edit(table, key, REMOVED, PRESENT, None))
                for field in _row_keys(synced, table, key):
                    del synced[field]
        for field, value in local.items():
            table, key, name = field
            if name == CREATED or field in held or (field not in synced and table in _ROWS):
                continue
            base = _get(synced, field)
            if not _same(base, value):
                changed.append(Edit(table, key, name, base, value))
                synced[field] = value
        return created + changed + removed

    def _send(self, edit: Edit) -> None:
        field = self._field(edit)
        self._inflight[field] = self._inflight.get(field, 0) + 1

        def job() -> None:
            try:
                outcome: Any = self.session.submit(edit)
                author = ""
            except Conflict as conflict:
                outcome, author = conflict, self._author(field)
            except (ZtmmError, psycopg.Error) as err:
                outcome, author = err, ""
            self._post(lambda: self._answered(edit, outcome, author))

        self._jobs.put(job)

    @staticmethod
    def _field(edit: Edit) -> Field:
        return (edit.table, edit.key, CREATED if edit.field == REMOVED else edit.field)

    def _answered(self, edit: Edit, outcome: Any, author: str) -> None:
        if self._closed:
            return  # the window closed its copy meanwhile: the session kept what it did not send
        field = self._field(edit)
        self._inflight[field] = max(0, self._inflight.get(field, 0) - 1)
        if isinstance(outcome, Queued):
            self._queued.add(field)
            self.view.connection_changed()
        elif isinstance(outcome, Conflict):
            self._conflict(outcome, author)
        elif not isinstance(outcome, Applied):
            self._refused(edit, str(outcome))
        self.recheck()

    def _conflict(self, conflict: Conflict, author: str) -> None:
        if self._closed:
            return
        field = self._field(conflict.edit)
        self.synced[field] = conflict.theirs
        local = read_local(self.engagement)
        if _same(_get(local, field), conflict.theirs):
            return  # this window holds their value already (its edit was undone meanwhile)
        self.conflicts[field] = Disagreement(field, conflict.theirs, _get(local, field), author, conflict)
        self.view.conflicts_changed()

    def _refused(self, edit: Edit, why: str) -> None:
        """The server kept its value: so does the copy (read from the server, as for a change there)."""
        if self._closed:
            return
        field = self._field(edit)
        self._stale.add(field)
        self._take.add(field)
        if edit.field == CREATED:  # not made there: the copy's row goes
            for row_field in list(self.synced):
                if row_field[:2] == field[:2]:
                    del self.synced[row_field]
        elif edit.field != REMOVED:  # (a removal's row comes back from the server's values)
            self.synced[field] = edit.base
        self.view.refused(f"Not changed on the server: {why}")
        self._read_server()

    # -- in --------------------------------------------------------------------------------

    def _heard(self, event: object) -> None:
        """On the session's listener thread: hand the event to the window's thread."""
        if self._closed:
            return
        if isinstance(event, Change):
            if event is not RESYNC and (event.mine or event.table == "*"):
                return  # its own edit; a whole Save: the window's watch re-reads (RESYNC's table is "*" too)
            seq = 0 if event is RESYNC else event.seq
            self._post(lambda: self._changed_there(event is RESYNC, seq))
        elif isinstance(event, Conflict):
            self._jobs.put(lambda: self._post_conflict(event))
        elif isinstance(event, Refused):
            self._post(lambda: self._refused(event.edit, event.reason))
        elif isinstance(event, State):
            self._post(self.view.connection_changed)

    def _post_conflict(self, conflict: Conflict) -> None:
        author = self._author(self._field(conflict.edit))
        self._post(lambda: self._conflict(conflict, author))

    def _changed_there(self, resync: bool, seq: int) -> None:
        if self._closed:
            return
        if resync:
            self._queued.clear()  # the queue was sent: what it held is on the server, or came back a conflict
            self.view.connection_changed()
        self._read_server(seq)

    def _read_server(self, seq: int = 0) -> None:
        if self._reading or self._closed:
            return
        self._reading = True

        def job() -> None:
            self._post(self._read_begun)
            try:
                try:
                    values = self._server_values()
                except (ZtmmError, psycopg.Error):
                    # the reader's connection may be one from before an outage the session is back from
                    # (its RESYNC is what asked for this read): once more, on a new connection
                    values = self._server_values()
                author = self._author_of(seq) if seq else ""
            except (ZtmmError, psycopg.Error):
                self._drop_reader()
                return  # offline: the session says so, and reads everything again when it is back
            self._post(lambda: self._take_server(values, author))

        self._jobs.put(job)

    def _read_begun(self) -> None:
        self._reading = False  # a change heard from now on needs another read

    def _take_server(self, server: Values, author: str) -> None:
        """Write into the copy what changed on the server, field by field, where this window has nothing pending."""
        if self._closed:
            return
        local = read_local(self.engagement)
        editing = self._editing()
        taking = self._take
        changes = Changes()
        fields = set(server) | set(self.synced) | taking

        def rank(field: Field) -> int:  # rows made first (their fields follow), removed last
            return 1 if field[2] != CREATED else 0 if field in server else 2

        for field in sorted(fields, key=rank):
            table, key, name = field
            theirs = _get(server, field)
            if self._inflight.get(field, 0) or (table in _ROWS and self._inflight.get((table, key, CREATED), 0)):
                self._stale.add(field)
                continue
            ours = _get(self.synced, field)
            mine = _get(local, field)
            if field in self.conflicts:
                if not _same(theirs, ours):
                    self.synced[field] = theirs
                    self.conflicts[field] = replace(self.conflicts[field], theirs=theirs, author=author or "")
                    self.view.conflicts_changed()
                continue
            if _same(theirs, ours) and (field not in taking or _same(mine, theirs)):
                self._stale.discard(field)
                continue
            if field not in taking and (field in editing or not _same(mine, ours)):
                self._stale.add(field)  # being typed in: its next commit meets theirs as a conflict
                continue
            if (
                table in _ROWS
                and name != CREATED
                and not ((table, key, CREATED) in local and (table, key, CREATED) in server)
            ):
                continue  # the row comes or goes as a whole
            try:
                row = _row_value(server, table, key) if name == CREATED and theirs is not _MISSING else None
                if _same(mine, theirs):
                    done = Changes()
                else:
                    done = apply_local(self.engagement, field, theirs, row, author or self.session.login)
                    local = read_local(self.engagement)
            except (ZtmmError, StopIteration, KeyError, ValueError) as err:
                self.view.refused(f"Not brought in from the server: {err}")
                continue
            if name == CREATED:
                for row_field in _row_keys(self.synced, table, key) + _row_keys(server, table, key):
                    if row_field in server:
                        self.synced[row_field] = server[row_field]
                    else:
                        self.synced.pop(row_field, None)
            else:
                self.synced[field] = theirs
            self._stale.discard(field)
            taking.discard(field)
            changes = Changes(
                functions=changes.functions | done.functions,
                findings=changes.findings | done.findings,
                actions=changes.actions | done.actions,
            )
        if changes:
            self.view.mirrored(changes, author)

    # -- the mirror's thread -------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # never a silent end of the thread: the next job goes on
                self._drop_reader()

    def _connection(self) -> psycopg.Connection[Any]:
        if self._reader is None or self._reader.closed or self._reader.broken:
            self._drop_reader()
            conn = connect(self.session.url, prompt=None)
            try:
                use_engagement(conn, self.session.engagement_id)
                conn.commit()
            except BaseException:
                conn.close()
                raise
            self._reader = conn
        return self._reader

    def _drop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            with contextlib.suppress(psycopg.Error):
                reader.close()

    def _server_values(self) -> Values:
        conn = self._connection()
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                return read_values(conn)
        except psycopg.Error as err:
            self._drop_reader()
            raise ServerError(f"{self.session.url.display}: the server cannot be read ({type(err).__name__})") from None

    def _author_of(self, seq: int) -> str:
        with contextlib.suppress(ZtmmError, psycopg.Error):
            conn = self._connection()
            with conn.transaction():
                row = conn.execute(
                    "SELECT by FROM ztmm.edit WHERE engagement = %s AND seq = %s", (self.session.engagement_id, seq)
                ).fetchone()
            return str(row[0]) if row else ""
        return ""

    def _author(self, field: Field) -> str:
        """Who last changed ``field`` on the server (its newest edit), or ""."""
        table, key, name = field
        with contextlib.suppress(ZtmmError, psycopg.Error):
            conn = self._connection()
            with conn.transaction():
                row = conn.execute(
                    "SELECT by FROM ztmm.edit WHERE engagement = %s AND entity = %s AND key = %s AND field = %s "
                    "ORDER BY seq DESC LIMIT 1",
                    (self.session.engagement_id, table, key, name),
                ).fetchone()
            return str(row[0]) if row else ""
        return ""


def describe(engagement: Engagement, field: Field, values: Mapping[Field, Any]) -> str:
    """A field as the consultant reads it: "notes of PE.1 Identity stores", "title of finding “…”"."""
    table, key, name = field
    label = {"notes": "notes", "override": "override", "target": "target"}.get(name, name.replace("_", " "))
    if table in ("function_assessment", "stage_rating"):
        function_id, _, stage = key.partition("/")
        try:
            function = engagement.catalog.function(function_id)
            where = f"{function.code} {function.name}"
        except ZtmmError:
            where = function_id
        if stage:
            with contextlib.suppress(ValueError, ZtmmError):
                stage = Stage.parse(stage).label
            return f"{label} of {where}, {stage}"
        return f"{label} of {where}"
    title = values.get((table, key, "title" if table == "finding" else "text")) or key[:8]
    return f"{label} of {table} “{str(title)[:40]}”"


def shown(value: Any) -> str:
    """A value as one short line."""
    if value is None or value is _MISSING:
        return "(none)"
    if isinstance(value, tuple | list):
        return " — ".join(str(v) for v in value)
    text = " ".join(str(value).split())
    return f"“{text[:60]}…”" if len(text) > 60 else f"“{text}”" if isinstance(value, str) else text
