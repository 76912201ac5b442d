"""Live co-editing of an engagement on the server: each edit one committed transaction, seen by others.

A :class:`LiveSession` holds one checked connection for edits and reads (the file's SQLModel
tables on the engagement's schema, through the ordinary ``Engagement`` and its edit logic) and
one for ``LISTEN`` on the engagement's channel, on its own thread.

* **An edit** (:class:`Edit`: table, row key, field, the value it started from and the new one,
  an idempotency key) is one transaction: the row is locked (``FOR UPDATE``), the edit is
  recorded in ``ztmm.edit`` (its sequence number; the author is the login, set and checked by
  the database), the server's value is compared with the edit's base -- another value is a
  :class:`Conflict` and nothing is written -- and then ``Engagement.assess`` /
  ``update_finding`` / ... do what they do on a file (validation, audit rows authored by the
  login; a stage's rating or comment writes the same rows in one statement instead,
  :meth:`LiveSession._stage_transaction`). ``pg_notify`` tells every listener on commit: table,
  key, field and sequence number, never the text (any login of the cluster may ``LISTEN``).
* **Offline**: when the server cannot be reached, an edit goes into a durable local queue
  (:class:`OfflineQueue`, SQLite, fsynced before the edit is acknowledged as ``Queued``); the
  listener keeps trying to reconnect and, once it can, the queue is replayed in order through
  the same checks. An edit that was committed but whose answer was lost is not applied twice:
  its idempotency key is already in ``ztmm.edit``.
* Subscribers (:meth:`LiveSession.subscribe`) are called on the listener's thread with each
  :class:`Change`, with :data:`RESYNC` after the session was offline (anything may have
  changed), with the :class:`Conflict` of a replayed edit, and with each change of
  :attr:`LiveSession.state`. A window hands them to its UI thread (a queued Qt signal).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, cast

import psycopg
import sqlalchemy.exc
from psycopg import errors, pq, sql
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from ..core.errors import BadInput, ZtmmError
from ..core.register import FINDING_STATUSES, PHASES
from ..core.stages import RATED_STAGES, Rating, Stage
from ..paths import data_dir
from ..services import actions
from ..services.actions import ActionDraft
from ..services.catalogs import default_library
from ..services.engagement import (
    CONFIDENCE,
    MAX_NAME,
    PRIORITY,
    SEVERITY,
    STATUS,
    Engagement,
    FindingDraft,
    _choice,
    _finding_values,
    _parse_date,
    check_scale,
    check_text,
    now,
)
from ..services.identity import resolve_assessor
from ..store.document import EngagementDocument
from .connect import Prompt, ServerError, connect, reason, terminal_prompt
from .schema import open_checked
from .store import find, update_registry
from .url import ServerUrl, parse

#: The fields of a function's assessment an edit may set ("override" is [stage, reason] or None).
FUNCTION_FIELDS = ("target", "override", "notes", "confidence", "priority", "owner", "status")
CHOICES = {"confidence": CONFIDENCE, "priority": PRIORITY, "status": STATUS}
#: The fields of a stage's rating row.
STAGE_FIELDS = ("rating", "comment")
#: The fields of a finding an edit may set, and the two that make and remove one.
FINDING_FIELDS = (
    "title",
    "stage",
    "observation",
    "risk",
    "recommendation",
    "severity",
    "owner",
    "due_date",
    "status",
    "likelihood",
    "impact",
)
#: The fields of a roadmap action an edit may set (``after_id``: the action it comes after, or None).
ACTION_FIELDS = ("text", "stage", "phase", "effort", "cost", "owner", "after_id")
CREATED, REMOVED = "created", "removed"
#: The base of a removal: the finding was there.
PRESENT = "present"
#: An edit that changes nothing is tried this often when the server refuses it for a concurrent writer.
ATTEMPTS = 20
#: How often the listener tries the server again while offline (seconds).
RETRY = 0.25


class State(enum.Enum):
    ONLINE = "online"
    OFFLINE = "offline"
    CLOSED = "closed"


@dataclass(frozen=True)
class Edit:
    """One field of one row, from ``base`` (the value the editor started from) to ``value``.

    ``table`` is ``function_assessment`` (key: function id), ``stage_rating`` (key:
    ``function_id/stage``) or ``finding`` (key: finding id; field ``created`` with the finding's
    fields as ``value``, or ``removed``). ``edit_id`` is the idempotency key.
    """

    table: str
    key: str
    field: str
    base: Any
    value: Any
    edit_id: str = dataclass_field(default_factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> str:
        return json.dumps([self.table, self.key, self.field, self.base, self.value, self.edit_id])

    @classmethod
    def from_json(cls, text: str) -> Edit:
        table, key, name, base, value, edit_id = json.loads(text)
        return cls(table, key, name, _plain(base), _plain(value), edit_id)


def _plain(value: Any) -> Any:
    """JSON's lists back to the tuples the edits use (an override is a pair)."""
    return tuple(value) if isinstance(value, list) else value


class Conflict(ZtmmError):
    """Someone else changed the field since the edit's base was read: nothing was written.

    Resolve it with :meth:`LiveSession.keep_mine` (the edit again, from ``theirs``) or by
    taking ``theirs`` (nothing to do: it is the server's value).
    """

    def __init__(self, edit: Edit, theirs: Any) -> None:
        super().__init__(f"{edit.table} {edit.key} {edit.field} was changed meanwhile by someone else")
        self.edit = edit
        self.field = edit.field
        self.base = edit.base
        self.theirs = theirs
        self.mine = edit.value


@dataclass(frozen=True)
class Applied:
    """Committed on the server (``seq`` in ``ztmm.edit``); ``changed`` False: it held that value already."""

    edit_id: str
    seq: int
    changed: bool


@dataclass(frozen=True)
class Queued:
    """Offline: kept in the local queue (on disk) until the server is back."""

    edit_id: str


Outcome = Applied | Queued


@dataclass(frozen=True)
class Change:
    """What another (or this) session changed: never its text, read it from the session."""

    seq: int
    table: str
    key: str
    field: str
    mine: bool


#: Delivered when the session is back online: anything may have changed meanwhile.
RESYNC = Change(0, "*", "", "", False)


@dataclass(frozen=True)
class Refused:
    """A queued edit the server refused on replay (not a conflict: its checks or grants), with why."""

    edit: Edit
    reason: str


Event = Change | Conflict | State | Refused
Subscriber = Callable[[Event], None]


class OfflineQueue:
    """Edits not yet on the server, in order, in a small SQLite file (fsynced on every change).

    Not encrypted: it holds the queued values (notes, comments) in plain text in the app's
    data folder until they are sent, like the working copy of a plain engagement file.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = path
        path.touch(mode=0o600, exist_ok=True)  # the user's alone, like the working copies
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA synchronous = FULL")  # a commit is on the disk when it returns
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS queued (n INTEGER PRIMARY KEY AUTOINCREMENT, edit_id TEXT UNIQUE, edit TEXT)"
        )
        # counted here, not per call: every edit asks whether the queue is empty
        self._count = int(self._conn.execute("SELECT count(*) FROM queued").fetchone()[0])

    def put(self, edit: Edit) -> None:
        added = self._conn.execute(
            "INSERT OR IGNORE INTO queued (edit_id, edit) VALUES (?, ?)", (edit.edit_id, edit.to_json())
        )
        self._count += added.rowcount

    def pending(self) -> list[Edit]:
        return [Edit.from_json(r[0]) for r in self._conn.execute("SELECT edit FROM queued ORDER BY n")]

    def __len__(self) -> int:
        return self._count

    def done(self, edit_id: str) -> None:
        removed = self._conn.execute("DELETE FROM queued WHERE edit_id = ?", (edit_id,))
        self._count = max(0, self._count - removed.rowcount)

    def close(self) -> None:
        self._conn.close()


class _ServerDocument:
    """What ``Engagement`` needs of a document, on the server: the engine, a name, no saves."""

    def __init__(self, engine: Engine, name: str, readonly: bool) -> None:
        self.engine = engine
        self.document = Path(name)
        self.readonly = readonly
        self.key = None

    def save(self, *, force: bool = False) -> None:
        """Every edit is committed on the server: there is nothing to save."""

    def close(self) -> None:
        self.engine.dispose()


class _Again(Exception):
    """The edit found nothing to change after all: it is tried again from the start."""


def _lost(err: BaseException) -> bool:
    """The connection is gone (server down, network): the edit goes to the queue."""
    cause = getattr(err, "orig", None) or err
    if isinstance(cause, errors.TransactionRollback):  # serialization failure, deadlock: try again
        return False
    return isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError) or (
        isinstance(err, sqlalchemy.exc.DBAPIError) and err.connection_invalidated
    )


def _retry(err: BaseException) -> bool:
    """A concurrent writer got there first (a new row made twice, a deadlock): the edit is tried again."""
    cause = getattr(err, "orig", None) or err
    return isinstance(cause, errors.TransactionRollback | errors.UniqueViolation)


def default_queue(url: ServerUrl) -> Path:
    """The offline queue of this login's edits of this engagement, in the app's data folder."""
    import hashlib

    name = hashlib.sha256(f"{url.display}\n{url.user}".encode()).hexdigest()[:24]
    return data_dir() / "live" / f"{name}.sqlite"


class LiveSession:
    """An engagement on the server, edited live. Open with :meth:`open`; close when done.

    Thread-safe: edits and reads take :attr:`lock`. Subscribers are called on the listener's
    thread (a state change or a replayed edit's conflict also on the thread that noticed it),
    possibly with the lock held: a callback only hands the event over (a queued Qt signal).
    Read :attr:`engagement` afresh each time: it is replaced when the session reconnects.
    """

    def __init__(self, url: ServerUrl, *, prompt: Prompt | None, queue: Path | None) -> None:
        self.url = url
        self.engagement_id = url.require_engagement("opening an engagement")
        self.channel = f"ztmm_{self.engagement_id}"
        self.login = url.user or ""
        self.lock = threading.RLock()
        self._password: str | None = url.password
        self._asked = prompt
        self._subscribers: list[Subscriber] = []
        self._state = State.ONLINE
        self._closing = threading.Event()
        self._queue = OfflineQueue(queue or default_queue(url))
        self._library = default_library()
        self._pg: psycopg.Connection[Any] | None = None
        self._engine: Engine | None = None
        self._engagement: Engagement | None = None
        self.role = ""
        self._rated = False
        #: queued edits the server refused on replay (also delivered to the subscribers)
        self.refused: list[Refused] = []
        try:
            self._connect_editor()
        except BaseException:
            self._queue.close()
            raise
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._listen, name=f"ztmm-live-{self.engagement_id}", daemon=True)
        self._thread.start()
        self._listening.wait(timeout=10)  # a queue left by a session that closed offline is replayed there

    @classmethod
    def open(
        cls, url: str | ServerUrl, *, prompt: Prompt | None = terminal_prompt, queue: Path | None = None
    ) -> LiveSession:
        """A live session on the engagement ``url`` names, or ``ServerError`` (one line, no password)."""
        return cls(parse(url) if isinstance(url, str) else url, prompt=prompt, queue=queue)

    # -- connections ----------------------------------------------------------

    def _prompt(self, url: ServerUrl) -> str | None:
        """The prompt is asked once; a reconnect uses the answer again."""
        if self._password is None and self._asked is not None:
            self._password = self._asked(url)
        return self._password

    def _connect_editor(self) -> None:
        conn = open_checked(self.url, prompt=self._prompt)
        try:
            with conn.transaction():
                find(conn, self.url, "opening an engagement")
                row = conn.execute(
                    "SELECT role FROM ztmm.member WHERE engagement = %s AND role_name = session_user",
                    (self.engagement_id,),
                ).fetchone()
            self.role = str(row[0]) if row else ""
        except psycopg.Error as err:
            conn.close()
            raise ServerError(f"{self.url.display}: {reason(err, self._password)}") from None
        except BaseException:
            conn.close()
            raise
        # one connection for every read and edit: an edit's checks (raw SQL) and the Engagement's
        # session share its transaction, which the Engagement's commit ends
        engine = create_engine("postgresql+psycopg://", creator=lambda: conn, poolclass=StaticPool)
        document = _ServerDocument(engine, self.url.display, readonly=self.role == "reviewer")
        old, old_pg = self._engine, self._pg
        self._pg, self._engine = conn, engine
        try:
            self._engagement = Engagement(cast(EngagementDocument, document), self._library)
        except BaseException:
            engine.dispose()
            conn.close()
            raise
        if old is not None:
            old.dispose()
        if old_pg is not None:
            old_pg.close()

    @property
    def engagement(self) -> Engagement:
        """The ordinary ``Engagement`` on the server's rows (read it under :attr:`lock`)."""
        assert self._engagement is not None
        return self._engagement

    @property
    def state(self) -> State:
        return self._state

    @property
    def queued(self) -> int:
        """Edits waiting in the offline queue."""
        return len(self._queue)

    def _set_state(self, state: State) -> None:
        if state is not self._state:
            self._state = state
            self._publish(state)

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=5)
        with self.lock:
            if self._rated and self._state is State.ONLINE:
                self._update_registry()
            if self._engine is not None:
                self._engine.dispose()
            if self._pg is not None:
                self._pg.close()
            self._queue.close()
            self._state = State.CLOSED

    def _update_registry(self) -> None:
        """The registry's progress (the start page's column) after this session's ratings: once, on close,
        not per edit (the registry row would make every rating wait for every other)."""
        pg = self._pg
        if pg is None or pg.closed:
            return
        try:
            share = self.engagement.assessed_share()  # the dashboard's figure, read as the server has it
            with pg.transaction():
                update_registry(pg, self.engagement_id, share)
        except (psycopg.Error, sqlalchemy.exc.DBAPIError):
            pass  # offline or refused: the next session (or command) that writes brings it up to date

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- subscribers ----------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` with every :data:`Event`; returns the function that unsubscribes it."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def _publish(self, event: Event) -> None:
        for callback in list(self._subscribers):
            callback(event)

    def _listen(self) -> None:
        """The listener's thread: LISTEN, deliver, and while offline, reconnect and replay the queue."""
        while not self._closing.is_set():
            try:
                conn = connect(self.url, prompt=self._prompt, autocommit=True)
            except ServerError:
                self._set_state(State.OFFLINE)
                self._listening.set()
                self._closing.wait(RETRY)
                continue
            try:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                self._listening.set()
                while not self._closing.is_set():
                    if self._offline() or len(self._queue):  # the server is back: the queue goes first
                        self._back_online()
                    for note in conn.notifies(timeout=RETRY):
                        self._deliver(note)
            except (psycopg.Error, ServerError):
                self._set_state(State.OFFLINE)
                self._closing.wait(RETRY)
            except Exception:  # never a silent end of the listener: offline, and try again
                self._set_state(State.OFFLINE)
                self._closing.wait(RETRY)
            finally:
                conn.close()

    def _back_online(self) -> None:
        with self.lock:
            self._connect_editor()
            self._set_state(State.ONLINE)
            self._replay()
            online = not len(self._queue)
        if online:
            self._set_state(State.ONLINE)
            self._publish(RESYNC)

    def _deliver(self, note: psycopg.Notify) -> None:
        try:
            seq, table, key, name = json.loads(note.payload)
        except (ValueError, TypeError):
            return
        mine = self._pg is not None and note.pid == self._pg.info.backend_pid
        if not mine:
            with self.lock:
                if self._engagement is not None:
                    self._engagement._forget()
        self._publish(Change(int(seq), str(table), str(key), str(name), mine))

    # -- editing --------------------------------------------------------------

    def submit(self, edit: Edit) -> Outcome:
        """Apply ``edit`` on the server (``Applied``), or queue it offline (``Queued``); ``Conflict`` when
        the server's value is no longer the edit's base; ``BadInput`` for a value the file would refuse."""
        _check_shape(edit)
        try:
            edit = dataclasses.replace(edit, value=_check_value(edit))
        except (TypeError, ValueError):
            raise BadInput(f"{edit.value!r} is not a value of {edit.table}.{edit.field}") from None
        with self.lock:
            if self._state is State.CLOSED:
                raise ServerError(f"{self.url.display}: the live session is closed")
            if self._state is State.ONLINE and len(self._queue):
                self._replay()  # the queue goes first: edits reach the server in the order they were made
            if self._offline() or len(self._queue):
                self._queue.put(edit)
                return Queued(edit.edit_id)
            try:
                return self._apply(edit)
            except ServerError:
                if not self._offline():
                    raise
                self._queue.put(edit)
                return Queued(edit.edit_id)

    def _offline(self) -> bool:
        return self._state is State.OFFLINE

    def _replay(self) -> None:
        """Send the queue in order (under the lock); a conflict is delivered to the subscribers and dropped."""
        for edit in self._queue.pending():
            try:
                self._apply(edit)
            except Conflict as conflict:
                self._publish(conflict)
            except (BadInput, ServerError) as err:
                if isinstance(err, ServerError) and self._offline():
                    return
                # refused by the server's checks or grants (a finding removed meanwhile, a cycle of actions,
                # a member made reviewer while offline): reported, never silently dropped
                refused = Refused(edit, str(err))
                self.refused.append(refused)
                self._publish(refused)
            self._queue.done(edit.edit_id)

    def _apply(self, edit: Edit) -> Applied:
        for attempt in range(ATTEMPTS):
            try:
                return self._transaction(edit)
            except _Again:
                continue
            except (psycopg.Error, sqlalchemy.exc.DBAPIError) as err:
                with contextlib.suppress(psycopg.Error):
                    if self._pg is not None and not self._pg.closed:
                        self._pg.rollback()
                if _lost(err) or (self._pg is not None and self._pg.broken):
                    self._set_state(State.OFFLINE)
                    raise ServerError(f"{self.url.display}: the server cannot be reached") from None
                cause = getattr(err, "orig", None) or err
                if isinstance(cause, errors.InsufficientPrivilege):
                    raise ServerError(
                        f"{self.url.display}: you may not change this engagement (a reviewer reads and comments only)"
                    ) from None
                if not _retry(err) or attempt == ATTEMPTS - 1:
                    raise ServerError(f"{self.url.display}: {reason(cause, self._password)}") from None
                time.sleep(0.001 * (attempt + 1))
        raise ServerError(f"{self.url.display}: the edit of {edit.table} {edit.key} {edit.field} could not be applied")

    def _transaction(self, edit: Edit) -> Applied:
        """One edit, one transaction (the caller holds the lock)."""
        pg = self._pg
        assert pg is not None
        if pg.closed:
            raise psycopg.OperationalError("the connection is closed")
        try:
            if edit.table == "stage_rating":
                done = self._stage_transaction(pg, edit)
                if done is not None:
                    return done
            theirs = _current(pg, edit)  # the row locked until the commit
            row = pg.execute(  # recorded, and the listeners told on commit (rolled back with a conflict)
                "WITH e AS (INSERT INTO ztmm.edit (engagement, edit_id, entity, key, field) "
                "VALUES (%(e)s, %(id)s, %(t)s, %(k)s, %(f)s) ON CONFLICT (engagement, edit_id) DO NOTHING RETURNING seq) "
                "SELECT seq, pg_notify(%(c)s, json_build_array(seq, %(t)s, %(k)s, %(f)s)::text) FROM e",
                {
                    "e": self.engagement_id,
                    "id": edit.edit_id,
                    "t": edit.table,
                    "k": edit.key,
                    "f": edit.field,
                    "c": self.channel,
                },
            ).fetchone()
            if row is None:  # committed before (its answer lost, or replayed twice): never applied again
                seq = pg.execute(
                    "SELECT seq FROM ztmm.edit WHERE engagement = %s AND edit_id = %s",
                    (self.engagement_id, edit.edit_id),
                ).fetchone()
                pg.rollback()
                return Applied(edit.edit_id, int(seq[0]) if seq else 0, False)
            seq = int(row[0])
            if _same(theirs, edit.value):
                pg.commit()  # recorded (a replay finds it), nothing to change
                return Applied(edit.edit_id, seq, False)
            if not _same(theirs, edit.base):
                pg.rollback()
                raise Conflict(edit, theirs)
            self._rated |= edit.table == "stage_rating" and edit.field == "rating"
            if not self._run_joined(edit):
                raise _Again  # the Engagement rolled back (ztmm.edit's row too): it found nothing to change
            return Applied(edit.edit_id, seq, True)
        except BaseException:
            if not pg.closed:
                with contextlib.suppress(psycopg.Error):
                    pg.rollback()
            raise

    def _stage_transaction(self, pg: psycopg.Connection[Any], edit: Edit) -> Applied | None:
        """A stage's rating or comment in one round trip instead of about ten: one prepared statement
        (:data:`_STAGE_EDIT`), its own transaction, that locks the function's row and then the stage's,
        compares, records the edit with its ``NOTIFY`` and writes what ``Engagement.assess`` writes for
        it (the stage's row, the function's ``updated_at``/``by``, the audit row authored by the login,
        tagged with the running workshop), committed before the answer comes back. It decides what the
        ordinary way decides in Python: for a conflict, a replay or a stage without its row it writes
        nothing at all (the commit ends a transaction that only held the locks).

        None: the stage has no row yet (never rated); nothing was written and the edit takes the
        ordinary way through ``Engagement.assess``, which makes it."""
        function_id, stage_key = edit.key.split("/", 1)
        self.engagement.catalog.function(function_id)  # an unknown function is refused as assess refuses it
        given = self.login.strip()
        by = check_text(given or resolve_assessor(None), "--by", MAX_NAME)
        params = {
            "f": function_id,
            "s": stage_key,
            "base": edit.base,
            "value": edit.value,
            "e": self.engagement_id,
            "id": edit.edit_id,
            "t": edit.table,
            "k": edit.key,
            "fld": edit.field,
            "c": self.channel,
            "at": now(),
            "by": by,
        }
        if pg.info.transaction_status != pq.TransactionStatus.IDLE:
            pg.commit()  # a read's transaction (the Engagement's, on this connection) ends first
        pg.autocommit = True  # the statement is the transaction: committed (durably) when it answers
        try:
            row = pg.execute(_STAGE_EDIT[edit.field], params, prepare=True).fetchone()
        finally:
            if not pg.closed and not pg.broken:  # (a lost connection is replaced when the server is back)
                pg.autocommit = False
        assert row is not None  # (one row, always)
        theirs, seq, updated, before = row
        if theirs is None:
            return None
        if seq is None:
            if before is not None:  # committed before (its answer lost, or replayed twice): never applied again
                return Applied(edit.edit_id, int(before), False)
            if _same(theirs, edit.base) or _same(theirs, edit.value):
                raise _Again  # recorded by another session after this statement began: again, to find it
            raise Conflict(edit, theirs)
        if not updated:  # the server held the value already: recorded (a replay finds it), nothing changed
            return Applied(edit.edit_id, int(seq), False)
        self._rated |= edit.field == "rating"
        self.engagement._forget_assessments(frozenset({function_id}))
        return Applied(edit.edit_id, int(seq), True)

    def _run_joined(self, edit: Edit) -> bool:
        """The service's edit inside this transaction: while it runs, the Engagement's sessions are bound
        to a connection already in it, so their reads (a service reads before it edits) and their commit
        do not end it; it is committed here, after the service's own commit. False: it changed nothing."""
        engine, engagement, pg = self._engine, self.engagement, self._pg
        assert engine is not None and pg is not None
        with engine.connect() as joined:
            joined.begin()
            document = cast(Any, engagement.document)
            document.engine = joined
            try:
                changed = _run(engagement, pg, edit, self.login)
                if changed:
                    joined.commit()
            finally:
                document.engine = engine
        return changed

    # -- the editor's calls ---------------------------------------------------

    def function_id(self, function_key: str) -> str:
        return self.engagement.catalog.function(function_key).id

    def value(self, table: str, key: str, name: str) -> Any:
        """The server's value of a field now (what an editor starts from: the next edit's base)."""
        _check_shape(Edit(table, key, name, None, None))
        with self.lock:
            pg = self._pg
            assert pg is not None
            try:
                found = _current(pg, Edit(table, key, name, None, None), lock=False)
                pg.rollback()
            except psycopg.Error as err:
                with contextlib.suppress(psycopg.Error):
                    pg.rollback()
                if _lost(err):
                    self._set_state(State.OFFLINE)
                raise ServerError(f"{self.url.display}: {reason(err, self._password)}") from None
            return found

    def rate(self, function_key: str, stage: Stage, rating: Rating, *, base: Rating) -> Outcome:
        key = f"{self.function_id(function_key)}/{stage.key}"
        return self.submit(Edit("stage_rating", key, "rating", base.value, rating.value))

    def comment(self, function_key: str, stage: Stage, text: str, *, base: str) -> Outcome:
        key = f"{self.function_id(function_key)}/{stage.key}"
        return self.submit(Edit("stage_rating", key, "comment", base, text))

    def assess(self, function_key: str, name: str, value: Any, *, base: Any) -> Outcome:
        """Set one of :data:`FUNCTION_FIELDS` of a function (target: a stage key or None; override:
        (stage key, reason) or None; the rest text)."""
        return self.submit(Edit("function_assessment", self.function_id(function_key), name, base, value))

    def add_finding(self, function_key: str, fields: Mapping[str, Any]) -> tuple[str, Outcome]:
        """A new finding (``fields``: title and any of :data:`FINDING_FIELDS`); its id and the outcome."""
        finding_id = uuid.uuid4().hex
        value = {"function_id": self.function_id(function_key), **fields}
        return finding_id, self.submit(Edit("finding", finding_id, CREATED, None, value))

    def set_finding(self, finding_id: str, name: str, value: Any, *, base: Any) -> Outcome:
        return self.submit(Edit("finding", finding_id, name, base, value))

    def remove_finding(self, finding_id: str) -> Outcome:
        return self.submit(Edit("finding", finding_id, REMOVED, PRESENT, None))

    def add_action(self, function_key: str, fields: Mapping[str, Any]) -> tuple[str, Outcome]:
        """A new roadmap action (``fields``: text and any of :data:`ACTION_FIELDS`); its id and the outcome."""
        action_id = uuid.uuid4().hex
        value = {"function_id": self.function_id(function_key), **fields}
        return action_id, self.submit(Edit("action", action_id, CREATED, None, value))

    def set_action(self, action_id: str, name: str, value: Any, *, base: Any) -> Outcome:
        return self.submit(Edit("action", action_id, name, base, value))

    def remove_action(self, action_id: str) -> Outcome:
        return self.submit(Edit("action", action_id, REMOVED, PRESENT, None))

    def keep_mine(self, conflict: Conflict) -> Outcome:
        """Resolve a conflict with this session's value: the edit again, from the value it met."""
        edit = conflict.edit
        return self.submit(Edit(edit.table, edit.key, edit.field, conflict.theirs, edit.value))


def _check_shape(edit: Edit) -> None:
    fields = {
        "function_assessment": FUNCTION_FIELDS,
        "stage_rating": STAGE_FIELDS,
        "finding": FINDING_FIELDS,
        "action": ACTION_FIELDS,
    }
    allowed = fields.get(edit.table)
    if allowed is None:
        raise BadInput(f"a live edit cannot change {edit.table!r}")
    if edit.field not in allowed and not (edit.table in ("finding", "action") and edit.field in (CREATED, REMOVED)):
        raise BadInput(f"a live edit cannot change {edit.table}.{edit.field}")
    if edit.table == "stage_rating" and "/" not in edit.key:
        raise BadInput(f"a stage is named function/stage, not {edit.key!r}")


def _check_value(edit: Edit) -> Any:
    """Refuse what the file would refuse before the edit is sent or queued (the server runs the same
    checks again in ``Engagement``): a queued edit is one the server will take unless it conflicts.
    Returns the value as the server stores it (a rating's or a choice's own word)."""
    what = f"{edit.field} of {edit.key}"
    value = edit.value
    if edit.table == "stage_rating":
        if Stage.parse(edit.key.split("/", 1)[1]) not in RATED_STAGES:
            raise BadInput(f"{edit.key}: the floor of the model is not rated")
        if edit.field == "rating":
            return Rating.parse(str(value)).value
        else:
            check_text(str(value), what)
    elif edit.table == "function_assessment":
        if edit.field == "target" and value is not None:
            return Stage.parse(str(value)).key
        elif edit.field == "override" and value is not None:
            stage, why = value
            if not str(why).strip():
                raise BadInput(f"an override of {edit.key} needs a reason")
            check_text(str(why), "override reason")
            return (Stage.parse(str(stage)).key, str(why))
        elif edit.field in CHOICES:
            return _choice(str(value), CHOICES[edit.field], edit.field)
        elif edit.field == "owner":
            return check_text(str(value).strip(), "owner", MAX_NAME)
        elif edit.field == "notes":
            check_text(str(value), what)
    elif edit.table == "action":
        if edit.field == CREATED:
            fields = dict(value)
            fields.pop("function_id", None)
            stage, after = fields.pop("stage", None), fields.pop("after_id", None)
            draft = ActionDraft(stage=Stage.parse(stage) if stage else None, after=after, **fields)
            actions._values(cast(Any, None), draft)  # (its engagement is not used)
        elif edit.field == "stage":
            return Stage.parse(str(value)).key if value else None
        elif edit.field == "text":
            if not str(value).strip():
                raise BadInput("an action needs a text")
            return check_text(str(value).strip(), "action text")
        elif edit.field == "phase":
            return _choice(str(value), PHASES, "phase")
        elif edit.field == "effort":
            return actions.effort_key(str(value))
        elif edit.field in ("cost", "owner"):
            return check_text(str(value).strip(), f"action {edit.field}", MAX_NAME)
        elif edit.field == "after_id":
            return str(value) if value else None
    elif edit.field == CREATED:
        fields = dict(value)
        fields.pop("function_id", None)
        stage = fields.pop("stage", None)
        _finding_values(FindingDraft(stage=Stage.parse(stage) if stage else None, **fields))
    elif edit.field == "stage":
        return Stage.parse(str(value)).key if value else None
    elif edit.field in ("title", "owner"):
        if edit.field == "title" and not str(value).strip():
            raise BadInput("a finding needs a title")
        return check_text(str(value).strip(), f"finding {edit.field}", MAX_NAME)
    elif edit.field in ("observation", "risk", "recommendation"):
        check_text(str(value), f"finding {edit.field}")
    elif edit.field in ("severity", "status"):
        return _choice(str(value), SEVERITY if edit.field == "severity" else FINDING_STATUSES, f"finding {edit.field}")
    elif edit.field in ("likelihood", "impact"):
        return check_scale(value, edit.field)
    elif edit.field == "due_date":
        return _parse_date(None if value is None else str(value), "due date")
    return value


def _same(a: Any, b: Any) -> bool:
    return bool(_plain(a) == _plain(b))


_FUNCTION_COLUMNS = "target, override_stage, override_reason, notes, confidence, priority, owner, status"
_FUNCTION_DEFAULTS: dict[str, Any] = {name: "" for name in FUNCTION_FIELDS} | {"target": None, "override": None}


def _stage_edit(column: str) -> str:
    """One stage's ``column`` from ``base`` to ``value``, in one statement run as its own transaction.

    Locks the function's row (the lock every edit of the function and its stages takes first), then
    the stage's: a locking read returns the row as last committed, whatever committed while it
    waited. The edit is recorded (and notified) only when that value is ``base`` or ``value`` and its
    id is new (the unique key decides, whatever the statement's snapshot); the row changes only when
    the edit was recorded and the value was ``base``; the function's row and the audit row follow
    the row's change. Returns that value (NULL: no row), the new edit's ``seq`` (NULL: nothing
    recorded), whether the row changed, and the ``seq`` of an edit recorded before."""
    return f"""WITH lk AS MATERIALIZED (
  SELECT 1 FROM function_assessment WHERE function_id = %(f)s FOR UPDATE
), cur AS MATERIALIZED (
  SELECT {column} AS v FROM stage_rating WHERE function_id = %(f)s AND stage = %(s)s AND EXISTS (SELECT FROM lk)
  FOR UPDATE OF stage_rating
), e AS (
  INSERT INTO ztmm.edit (engagement, edit_id, entity, key, field)
  SELECT %(e)s, %(id)s, %(t)s, %(k)s, %(fld)s FROM cur WHERE cur.v = %(base)s OR cur.v = %(value)s
  ON CONFLICT (engagement, edit_id) DO NOTHING RETURNING seq
), u AS (
  UPDATE stage_rating SET {column} = %(value)s, updated_at = %(at)s, updated_by = %(by)s FROM e
  WHERE function_id = %(f)s AND stage = %(s)s AND {column} = %(base)s AND {column} <> %(value)s
  RETURNING 1
), fa AS (
  UPDATE function_assessment SET updated_at = %(at)s, updated_by = %(by)s
  WHERE function_id = %(f)s AND EXISTS (SELECT FROM u)
), a AS (
  INSERT INTO audit (at, by, entity, key, field, old, new, workshop_id)
  SELECT %(at)s, %(by)s, 'stage', %(k)s, %(fld)s, %(base)s, %(value)s,
    (SELECT id FROM workshop WHERE status = 'running' LIMIT 1)
  FROM u
), n AS (
  SELECT seq, pg_notify(%(c)s, json_build_array(seq, %(t)s, %(k)s, %(fld)s)::text) FROM e
)
SELECT (SELECT v FROM cur), (SELECT seq FROM n), EXISTS (SELECT FROM u),
  (SELECT seq FROM ztmm.edit WHERE engagement = %(e)s AND edit_id = %(id)s)"""


_STAGE_EDIT = {name: _stage_edit(name) for name in STAGE_FIELDS}


def _current(pg: psycopg.Connection[Any], edit: Edit, *, lock: bool = True) -> Any:
    """The server's value of the edit's field, its row locked for the transaction (``lock``)."""
    suffix = " FOR UPDATE" if lock else ""
    if edit.table == "stage_rating":
        # The function's row is the lock of its stages (assess writes both). Two statements, not a
        # join: after waiting for a lock, PostgreSQL re-reads only the locked row, and a joined
        # stage row would be the one from before the other writer's commit.
        function_id, stage_key = edit.key.split("/", 1)
        pg.execute(f"SELECT 1 FROM function_assessment WHERE function_id = %s{suffix}", (function_id,))
        found = pg.execute(
            "SELECT rating, comment FROM stage_rating WHERE function_id = %s AND stage = %s", (function_id, stage_key)
        ).fetchone()
        if found is None:
            return Rating.NOT_ASSESSED.value if edit.field == "rating" else ""
        return found[0] if edit.field == "rating" else found[1]
    if edit.table == "function_assessment":
        function_id = edit.key
        row = pg.execute(
            f"SELECT {_FUNCTION_COLUMNS} FROM function_assessment WHERE function_id = %s{suffix}",
            (function_id,),
        ).fetchone()
        if row is None:
            return _FUNCTION_DEFAULTS[edit.field]
        target, stage, reason_, notes, confidence, priority, owner, status = row
        values = {
            "target": target,
            "override": None if stage is None else (stage, reason_),
            "notes": notes,
            "confidence": confidence,
            "priority": priority,
            "owner": owner,
            "status": status,
        }
        return values[edit.field]
    names = FINDING_FIELDS if edit.table == "finding" else ACTION_FIELDS
    columns = ", ".join(names)
    found = pg.execute(f"SELECT {columns} FROM {edit.table} WHERE id = %s{suffix}", (edit.key,)).fetchone()
    if edit.field in (CREATED, REMOVED):
        if found is None:
            return None
        return dict(zip(names, found, strict=True)) if edit.field == CREATED else PRESENT
    if found is None:
        raise BadInput(f"no {edit.table} {edit.key}")
    return dict(zip(names, found, strict=True))[edit.field]


def _run(engagement: Engagement, pg: psycopg.Connection[Any], edit: Edit, login: str) -> bool:
    """Apply the edit through the ordinary ``Engagement`` (validation, audit rows, commit); whether it changed."""
    if edit.table == "stage_rating":
        function_id, stage_key = edit.key.split("/", 1)
        stage = Stage.parse(stage_key)
        if edit.field == "rating":
            done = engagement.assess(function_id, ratings={stage: Rating.parse(str(edit.value))}, by=login)
        else:
            done = engagement.assess(function_id, comments={stage: str(edit.value)}, by=login)
        return bool(done)
    if edit.table == "function_assessment":
        kwargs: dict[str, Any] = {}
        if edit.field == "target":
            kwargs = {"target": Stage.parse(edit.value)} if edit.value else {"clear_target": True}
        elif edit.field == "override":
            if edit.value is None:
                kwargs = {"clear_override": True}
            else:
                stage_key, why = edit.value
                kwargs = {"override": (Stage.parse(stage_key), str(why))}
        else:
            kwargs = {"note" if edit.field == "notes" else edit.field: str(edit.value)}
        return bool(engagement.assess(edit.key, by=login, **kwargs))
    if edit.table == "action":
        return _run_action(engagement, pg, edit, login)
    if edit.field == CREATED:
        fields = dict(edit.value)
        function_id = fields.pop("function_id")
        stage = fields.pop("stage", None)
        draft = FindingDraft(stage=Stage.parse(stage) if stage else None, **fields)
        engagement.restore_finding(function_id, draft, finding_id=edit.key, by=login)
        return True
    if edit.field == REMOVED:
        engagement.remove_finding(edit.key, by=login)  # its finding read before the transaction began
        return True
    columns = ", ".join(FINDING_FIELDS)
    row = pg.execute(f"SELECT {columns} FROM finding WHERE id = %s", (edit.key,)).fetchone()
    assert row is not None  # locked by _current
    fields = dict(zip(FINDING_FIELDS, row, strict=True))
    fields[edit.field] = edit.value
    stage = fields.pop("stage")
    draft = FindingDraft(stage=Stage.parse(stage) if stage else None, **fields)
    return bool(engagement.update_finding(edit.key, draft, by=login))


@contextlib.contextmanager
def opened(url: str | ServerUrl, **kwargs: Any) -> Iterator[LiveSession]:
    session = LiveSession.open(url, **kwargs)
    try:
        yield session
    finally:
        session.close()


def _run_action(engagement: Engagement, pg: psycopg.Connection[Any], edit: Edit, login: str) -> bool:
    """A roadmap action's edit through ``services.actions`` (its checks: text, phase, effort, no cycle)."""
    if edit.field == CREATED:
        fields = dict(edit.value)
        function_id = fields.pop("function_id")
        stage = fields.pop("stage", None)
        after = fields.pop("after_id", None)
        draft = ActionDraft(stage=Stage.parse(stage) if stage else None, after=after, **fields)
        actions.add_action(engagement, function_id, draft, by=login, action_id=edit.key)
        return True
    if edit.field == REMOVED:
        actions.remove_action(engagement, edit.key, by=login)
        return True
    columns = ", ".join(ACTION_FIELDS)
    row = pg.execute(f"SELECT {columns} FROM action WHERE id = %s", (edit.key,)).fetchone()
    assert row is not None  # locked by _current
    fields = dict(zip(ACTION_FIELDS, row, strict=True))
    fields[edit.field] = edit.value
    stage = fields.pop("stage")
    after = fields.pop("after_id")
    draft = ActionDraft(stage=Stage.parse(stage) if stage else None, after=after, **fields)
    return bool(actions.update_action(engagement, edit.key, draft, by=login))
