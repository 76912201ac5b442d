"""Latency of one edit: ``Engagement.assess`` changing one stage rating.

Each edit is one committed transaction (``BEGIN IMMEDIATE`` … ``COMMIT``) on the
working copy in WAL mode with ``synchronous=FULL``, plus its audit row. The
floor is the least a durable edit can cost on this disk: a single-row UPDATE
and COMMIT with plain ``sqlite3`` on a WAL database with ``synchronous=FULL``
in the same folder as the working copy. Edits and floor updates alternate, so
disk and CPU noise hits both alike.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from benchmarks.common import Result, large_engagement, median, ms, percentile
from ztmm_desktop.core.stages import RATED_STAGES, Rating, Stage
from ztmm_desktop.services.engagement import Engagement, open_engagement
from ztmm_desktop.store.document import data_dir

EDITS = 200
WARMUP = 10
TARGET = "≤ 3×"
_CYCLE = (Rating.MET, Rating.PARTIAL, Rating.NOT_MET)


def _floor_db(folder: Path) -> sqlite3.Connection:
    """A small table shaped like the stage ratings, in WAL with synchronous=FULL."""
    conn = sqlite3.connect(str(folder / "floor-edit.sqlite"), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE rating (id INTEGER PRIMARY KEY, rating TEXT NOT NULL, comment TEXT NOT NULL, edit INTEGER)"
    )
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO rating VALUES (?, 'met', ?, 0)", [(i, "x" * 300) for i in range(120)])
    conn.execute("COMMIT")
    return conn


def _floor_edit(conn: sqlite3.Connection, number: int) -> float:
    # ``edit`` changes every time: SQLite skips writing (and syncing) an UPDATE that changes no byte.
    rating = _CYCLE[number % len(_CYCLE)].value
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE rating SET rating = ?, edit = ? WHERE id = ?", (rating, number + 1, number % 120))
    conn.execute("COMMIT")
    return time.perf_counter() - start


class _Editor:
    """Changes one rating per call, always to a different value (so every edit commits)."""

    def __init__(self, engagement: Engagement) -> None:
        self.engagement = engagement
        self.slots: list[tuple[str, Stage]] = [(f.id, s) for f in engagement.functions_in_scope() for s in RATED_STAGES]
        assessments = engagement.assessments()
        self.current = {(fid, s): assessments[fid].rating(s).rating for fid, s in self.slots}

    def edit(self, number: int) -> float:
        slot = self.slots[number % len(self.slots)]
        old = self.current[slot]
        new = next(r for r in _CYCLE[number % 3 :] + _CYCLE if r is not old)
        start = time.perf_counter()
        changes = self.engagement.assess(slot[0], ratings={slot[1]: new}, by="benchmark")
        elapsed = time.perf_counter() - start
        if not changes:
            raise AssertionError(f"edit {number} of {slot} changed nothing")
        self.current[slot] = new
        return elapsed


def run(workdir: Path) -> list[Result]:
    document = large_engagement(workdir)
    folder = data_dir() / "working"
    folder.mkdir(parents=True, exist_ok=True)
    floor_conn = _floor_db(folder)
    edits: list[float] = []
    floors: list[float] = []
    with open_engagement(document) as engagement:
        if engagement.document.working.parent != folder:
            raise AssertionError("the working copy is not in the data folder")
        editor = _Editor(engagement)
        for number in range(WARMUP):
            editor.edit(number)
            _floor_edit(floor_conn, number)
        for number in range(WARMUP, WARMUP + EDITS):
            edits.append(editor.edit(number))
            floors.append(_floor_edit(floor_conn, number))
    floor_conn.close()
    for suffix in ("", "-wal", "-shm"):
        (folder / f"floor-edit.sqlite{suffix}").unlink(missing_ok=True)
    return [
        Result("edit: assess one rating, median", ms(median(edits)), ms(median(floors)), "ms", TARGET),
        Result("edit: assess one rating, p95", ms(percentile(edits, 95)), ms(percentile(floors, 95)), "ms", TARGET),
    ]
