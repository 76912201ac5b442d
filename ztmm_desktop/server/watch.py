"""Watching an engagement on the server: each change another session commits, as it happens.

A :class:`Watch` is the listening half of a live session without its editing half: a connection of
its own (autocommit) that ``LISTEN``s on the engagement's channel (``ztmm_<id>``, the one
``server.live`` notifies on) on a thread of its own, and calls ``callback(Remote)`` there for each
notification. The payload names only which field of which row changed (never the text); who made
the change is read from ``ztmm.edit`` (row-level security shows it to the engagement's members
only), with the edit's idempotency key so a window can tell its own saves from others'.

A copy written back whole (``server.store.push_changes``: a window's Save, a merge into the server)
records one ``ztmm.edit`` row and notifies ``[seq, "*", engagement, "*"]``: re-read everything. A
comment on a finding (``server.comments``) notifies ``[comment id, "finding_comment", finding id,
"text"]``: only the comments need reading again.

When the server cannot be reached the watch tries again every :data:`RETRY` seconds; nothing is
delivered meanwhile. The callback runs on the watch's thread: it only hands the event over (a queued
Qt signal).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from .connect import Prompt, ServerError, connect
from .url import ServerUrl

RETRY = 0.25
#: The table a comment on a finding notifies as (``server.comments``): its seq is the comment's id.
COMMENT_TABLE = "finding_comment"


@dataclass(frozen=True)
class Remote:
    """A change committed on the server: which field of which row, by whom, under which edit id."""

    seq: int
    table: str
    key: str
    field: str
    author: str
    edit_id: str


def channel(engagement_id: str) -> str:
    """The ``LISTEN``/``NOTIFY`` channel of an engagement (shared with ``server.live``)."""
    return f"ztmm_{engagement_id}"


class Watch:
    """Listen for the engagement ``url`` names until :meth:`close`; ``callback`` on the watch's thread."""

    def __init__(self, url: ServerUrl, callback: Callable[[Remote], None], *, prompt: Prompt | None = None) -> None:
        self.url = url
        self.engagement_id = url.require_engagement("watching an engagement")
        self._callback = callback
        self._prompt = prompt
        self._closing = threading.Event()
        #: set once the first LISTEN is in place (a change committed after that is delivered)
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"ztmm-watch-{self.engagement_id}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closing.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._closing.is_set():
            try:
                conn = connect(self.url, prompt=self._prompt, autocommit=True)
            except ServerError:
                self._closing.wait(RETRY)
                continue
            try:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel(self.engagement_id))))
                self.listening.set()
                while not self._closing.is_set():
                    # each notification as it comes (``stop_after``): listing all of a RETRY's would hold
                    # every one back until the RETRY ends; the connection is free again for its author's read
                    for note in list(conn.notifies(timeout=RETRY, stop_after=1)):
                        remote = self._remote(conn, note)
                        if remote is not None and not self._closing.is_set():
                            self._callback(remote)
            except psycopg.Error:
                self._closing.wait(RETRY)
            finally:
                conn.close()

    def _remote(self, conn: psycopg.Connection[Any], note: psycopg.Notify) -> Remote | None:
        try:
            seq, table, key, name = json.loads(note.payload)
            seq = int(seq)
        except (ValueError, TypeError):
            return None
        if table == COMMENT_TABLE:  # a comment on a finding (``server.comments``): seq is the comment's id
            row = conn.execute(
                "SELECT by, '' FROM ztmm.finding_comment WHERE engagement = %s AND id = %s", (self.engagement_id, seq)
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT by, edit_id FROM ztmm.edit WHERE engagement = %s AND seq = %s", (self.engagement_id, seq)
            ).fetchone()
        author, edit_id = (str(row[0]), str(row[1])) if row is not None else ("", "")
        return Remote(seq, str(table), str(key), str(name), author, edit_id)
