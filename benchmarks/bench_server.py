"""Team mode on a PostgreSQL server: live edits, their delivery to another session, publish and checkout.

Starts its own cluster (``tests/support/pg.py``) with ``fsync=on``: a commit costs what it costs on
this disk, for the live edits and for their floor alike. Publishes the large engagement (no
evidence) for the live rows, and the large engagement with ``ZTMM_BENCH_SERVER_GIB`` GiB of
evidence (default 1; built as ``bench_storage`` builds it: a few large files of patterned bytes)
for publish and checkout.

* **Live edit**: one stage rating changed through ``LiveSession.rate`` (a committed transaction on
  the server: row lock, ``ztmm.edit``, ``Engagement.assess`` with its audit row, ``NOTIFY``), 200
  after 10 warm-up ones; floor: a bare single-row ``UPDATE`` + ``COMMIT`` with psycopg on the same
  server (a table shaped like the ratings), alternating. Information: ``Engagement.assess`` on the
  ``.ztmm`` (``bench_edit``'s value).
* **Delivery**: from the start of an edit in one session to its ``Change`` reaching a subscriber of
  a second session (its own LISTEN connection and thread), p50/p95; floor: a bare ``NOTIFY`` +
  commit on one psycopg connection heard by ``LISTEN`` on another.
* **Window to window**: two real main windows offscreen, each with the engagement open live (one as
  the assessor, one as the lead): from a rating requested in one (as its click does: the undo
  command, the copy, the mirror's send) to the other window showing it (its mirror read the server,
  wrote the copy, refreshed the tree and the page), p50/p95; floor: the bare NOTIFY heard by LISTEN.
* **A property edit, window to window**: the same two windows, the title changed in one (not edited
  live: saved by the window's autosave after its 1 s pause) to the other showing it (its watch heard
  the Save, read the tables a Save writes and wrote them into its copy in place), 20 after 2 warm-up
  ones, p50/p95; floor: the autosave's pause (a QTimer of it) plus the bare NOTIFY heard by LISTEN.
* **Publish / checkout** of the engagement with evidence; floors: ``pg_restore`` and ``pg_dump``
  (custom format, uncompressed) of the same engagement's schema (the same rows and bytes).
* **A command on the URL** (``ztmm assess URL …``, in this process) on the engagement with evidence;
  floor: the same command on the same engagement without evidence.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.bench_storage import _build
from benchmarks.common import Result, large_engagement, median, ms, percentile, timed
from tests.support import pg
from tests.support.team import NO_PGPASS
from ztmm_desktop.core.stages import RATED_STAGES, Rating, Stage
from ztmm_desktop.server import schema
from ztmm_desktop.server.live import Change, LiveSession
from ztmm_desktop.server.url import parse
from ztmm_desktop.services import team
from ztmm_desktop.services.engagement import open_engagement

EDITS = 200
WARMUP = 10
_CYCLE = (Rating.MET, Rating.PARTIAL, Rating.NOT_MET)


def _spread(
    metric: str,
    samples: list[float],
    floor: tuple[float, float],
    target: str,
    note: str,
    *,
    middle: str = "p50",
    middle_target: str = "",
) -> list[Result]:
    """Two rows of one measurement: its median (``metric, p50``) and its p95, against ``floor`` (median, p95)."""
    return [
        Result(f"{metric}, {middle}", ms(median(samples)), ms(floor[0]), "ms", middle_target, note),
        Result(f"{metric}, p95", ms(percentile(samples, 95)), ms(floor[1]), "ms", target, "floor: the same, p95"),
    ]


class _Server:
    def __init__(self, workdir: Path) -> None:
        self.folder = pg.temp_folder()
        self.cluster = pg.Cluster.start(self.folder, fsync=True)
        self.db = "bench"
        self.cluster.database(self.db)
        os.environ["PGPASSFILE"] = NO_PGPASS
        os.environ["PGPASSWORD"] = self.cluster.password
        schema.init(parse(self.cluster.url(db=self.db)), prompt=None)
        del os.environ["PGPASSWORD"]
        self.passwords: dict[str, str] = {}
        for name in ("lead", "assessor"):
            self.passwords[name] = secrets.token_hex(12)
            self.cluster.login(name, self.passwords[name])
            self.cluster.sql(f"GRANT ztmm_user TO {name}", db=self.db)

    def url(self, login: str, engagement: str) -> str:
        plain = self.cluster.url(login, self.db, engagement)
        return plain.replace(f"//{login}@", f"//{login}:{self.passwords[login]}@", 1)

    def close(self) -> None:
        pg.remove(self.folder)


def _publish(server: _Server, document: Path, engagement: str) -> float:
    url = parse(server.url("lead", engagement))
    seconds = timed(lambda: team.publish(document, url, prompt=None))
    team.set_member(url, "assessor", "assessor", prompt=None)
    return seconds


def _slots(session: LiveSession) -> list[tuple[str, Stage]]:
    return [(f.id, s) for f in session.engagement.functions_in_scope() for s in RATED_STAGES]


def _live_rows(server: _Server, engagement: str, document: Path) -> list[Result]:
    editor = LiveSession.open(server.url("assessor", engagement), prompt=None)
    other = LiveSession.open(server.url("lead", engagement), prompt=None)
    heard: dict[int, float] = {}
    arrived = threading.Condition()

    def on_event(event: object) -> None:
        if isinstance(event, Change) and not event.mine:
            with arrived:
                heard[event.seq] = time.perf_counter()
                arrived.notify_all()

    other.subscribe(on_event)
    floor_conn = psycopg.connect(server.cluster.conninfo(db=server.db))
    floor_conn.execute("CREATE TABLE floor_rating (id int PRIMARY KEY, rating text NOT NULL, comment text NOT NULL)")
    floor_conn.execute("INSERT INTO floor_rating SELECT i, 'met', repeat('x', 300) FROM generate_series(0, 119) i")
    floor_conn.commit()

    slots = _slots(editor)
    current = {(fid, s): editor.engagement.assessment(fid).ratings.get(s) for fid, s in slots}
    known = {slot: (r.rating if r is not None else Rating.NOT_ASSESSED) for slot, r in current.items()}
    edits: list[float] = []
    floors: list[float] = []
    delivered: list[float] = []
    for number in range(WARMUP + EDITS):
        slot = slots[number % len(slots)]
        new = next(r for r in _CYCLE[number % 3 :] + _CYCLE if r is not known[slot])
        start = time.perf_counter()
        done = editor.rate(slot[0], slot[1], new, base=known[slot])
        elapsed = time.perf_counter() - start
        known[slot] = new
        seq = getattr(done, "seq", None)
        if not getattr(done, "changed", False) or seq is None:
            raise AssertionError(f"edit {number} was not applied: {done}")
        with arrived:
            if not arrived.wait_for(lambda s=seq: s in heard, timeout=10):
                raise AssertionError(f"edit {number} never reached the other session")
        floor_start = time.perf_counter()
        floor_conn.execute(
            "UPDATE floor_rating SET rating = %s WHERE id = %s", (_CYCLE[number % 3].value + str(number), number % 120)
        )
        floor_conn.commit()
        floor = time.perf_counter() - floor_start
        if number >= WARMUP:
            edits.append(elapsed)
            floors.append(floor)
            delivered.append(heard[seq] - start)
    editor.close()
    other.close()
    floor_conn.close()

    notify_floor = _notify_floor(server)
    file_edits = _file_edits(document)
    return [
        *_spread(
            "server: live edit (one rating)",
            edits,
            (median(floors), percentile(floors, 95)),
            "≤ 3×",
            "floor: bare UPDATE + COMMIT with psycopg, same server, fsync on",
            middle="median",
            middle_target="≤ 3×",
        ),
        Result(
            "server: the same edit on the .ztmm (Engagement.assess), median",
            ms(median(file_edits)),
            ms(median(edits)),
            "ms",
            "",
            "floor column: the live edit's median",
        ),
        *_spread(
            "server: edit to another session's subscriber",
            delivered,
            (median(notify_floor), percentile(notify_floor, 95)),
            "≤ 500 ms",
            "floor: bare NOTIFY + COMMIT heard by LISTEN",
        ),
    ]


WINDOW_EDITS = 100


def _window_rows(server: _Server, engagement: str) -> list[Result]:
    """A rating requested in one window, to the other window showing it (see the module)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from ztmm_desktop.ui.editing.requests import SetRating
    from ztmm_desktop.ui.shell.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    windows = [MainWindow(), MainWindow()]
    for window, login in zip(windows, ("assessor", "lead"), strict=True):
        window.show()
        if not window.team.open_url(parse(server.url(login, engagement))):
            raise AssertionError(f"the window could not open {engagement} as {login}")
    editor, viewer = windows
    for window in windows:
        deadline = time.monotonic() + 30
        while not (window.team.link is not None and window.team.link.mirror.online and window.team.watching):
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if time.monotonic() > deadline:
                raise AssertionError("the windows did not go live")
    link = viewer.team.link
    assert link is not None and editor.engagement is not None and viewer.workbench is not None
    shown: list[float] = []
    loop = QEventLoop()
    original = link.mirrored

    def mirrored(changes: Any, author: str) -> None:
        original(changes, author)  # the tree and the page refreshed
        shown.append(time.perf_counter())
        loop.quit()

    link.mirrored = mirrored  # type: ignore[method-assign]
    slots = [(f.id, s) for f in editor.engagement.functions_in_scope() for s in RATED_STAGES]
    known = {(fid, s): editor.engagement.assessment(fid).rating(s).rating for fid, s in slots}
    viewer.workbench.select_function(slots[0][0])  # the viewer looks at a page of its own
    samples: list[float] = []
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    for number in range(WARMUP + WINDOW_EDITS):
        slot = slots[number % len(slots)]
        new = next(r for r in _CYCLE[number % 3 :] + _CYCLE if r is not known[slot])
        shown.clear()
        start = time.perf_counter()
        editor.request(SetRating(slot[0], slot[1], new))
        known[slot] = new
        while not (
            viewer.engagement is not None and viewer.engagement.assessment(slot[0]).rating(slot[1]).rating is new
        ):
            timer.start(10_000)
            loop.exec()
            if not timer.isActive():
                raise AssertionError(f"edit {number} never showed in the other window")
        if number >= WARMUP:
            samples.append(shown[-1] - start)
    saved = _property_samples(app, editor, viewer)
    pause_floor = _pause_floor(app, editor.team.autosave_ms)
    for window in windows:
        window.team.closed()
        if window.engagement is not None:
            window.engagement.close()
            window.engagement = None
        window.close()
        window.deleteLater()
    app.processEvents()
    notify_floor = _notify_floor(server)
    return [
        *_spread(
            "server: edit in one window to shown in the other window",
            samples,
            (median(notify_floor), percentile(notify_floor, 95)),
            "≤ 500 ms",
            "two windows offscreen, live; floor: bare NOTIFY + COMMIT heard by LISTEN",
        ),
        *_spread(
            "server: property edit in one window to shown in the other window",
            saved,
            (
                median(pause_floor) + median(notify_floor),
                percentile(pause_floor, 95) + percentile(notify_floor, 95),
            ),
            "≤ 1000 ms",
            "two windows offscreen, live; autosave after its pause, brought in place; "
            "floor: the autosave's pause (a QTimer of it) + bare NOTIFY heard by LISTEN",
        ),
    ]


PROPERTY_EDITS = 20


def _property_samples(app: Any, editor: Any, viewer: Any) -> list[float]:
    """A property (the title) changed in one window, to the other window showing it: the first window's
    autosave after its pause (no Save pressed), the second's watch hearing it and bringing it in place."""
    from dataclasses import replace

    from PySide6.QtCore import QEventLoop, QTimer

    from ztmm_desktop.ui.editing.requests import SetProperties

    loop = QEventLoop()
    shown: list[float] = []
    original = viewer.show_brought_in

    def brought_in(changes: Any) -> None:
        original(changes)  # the tree, the page, the title, the workshop indicator refreshed
        shown.append(time.perf_counter())
        loop.quit()

    viewer.show_brought_in = brought_in
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    samples: list[float] = []
    for number in range(2 + PROPERTY_EDITS):
        title = f"Zero trust assessment, round {number}"
        shown.clear()
        start = time.perf_counter()
        editor.request(SetProperties(replace(editor.engagement.properties(), title=title)))
        while not (viewer.engagement is not None and viewer.engagement.meta().title == title and shown):
            timer.start(20_000)
            loop.exec()
            if not timer.isActive():
                raise AssertionError(f"property edit {number} never showed in the other window")
        if number >= 2:
            samples.append(shown[-1] - start)
        while editor.isWindowModified():  # the next edit starts from a saved window
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    viewer.show_brought_in = original
    return samples


def _pause_floor(app: Any, pause_ms: int) -> list[float]:
    """A single-shot QTimer of the autosave's pause in the same event loop: the wait the metric includes by design."""
    from PySide6.QtCore import QEventLoop, QTimer

    samples = []
    for _ in range(5):
        loop = QEventLoop()
        start = time.perf_counter()
        QTimer.singleShot(pause_ms, loop.quit)
        loop.exec()
        samples.append(time.perf_counter() - start)
    del app
    return samples


def _notify_floor(server: _Server) -> list[float]:
    sender = psycopg.connect(server.cluster.conninfo(db=server.db))
    listener = psycopg.connect(server.cluster.conninfo(db=server.db), autocommit=True)
    listener.execute("LISTEN floor")
    samples = []
    for number in range(WARMUP + EDITS):
        start = time.perf_counter()
        sender.execute("SELECT pg_notify('floor', %s)", (str(number),))
        sender.commit()
        for _ in listener.notifies(timeout=10, stop_after=1):
            pass
        if number >= WARMUP:
            samples.append(time.perf_counter() - start)
    sender.close()
    listener.close()
    return samples


def _file_edits(document: Path) -> list[float]:
    samples = []
    with open_engagement(document) as engagement:
        slots = [(f.id, s) for f in engagement.functions_in_scope() for s in RATED_STAGES]
        known = {(fid, s): engagement.assessments()[fid].rating(s).rating for fid, s in slots}
        for number in range(WARMUP + EDITS):
            slot = slots[number % len(slots)]
            new = next(r for r in _CYCLE[number % 3 :] + _CYCLE if r is not known[slot])
            seconds = timed(lambda s=slot, r=new: engagement.assess(s[0], ratings={s[1]: r}, by="benchmark"))
            known[slot] = new
            if number >= WARMUP:
                samples.append(seconds)
    return samples


def skip_reason() -> str | None:
    if pg.bin_dir() is None:
        return "PostgreSQL is not installed (tools/system-deps.sh installs it)"
    return None


def _tool(name: str) -> str:
    binaries = pg.bin_dir()
    assert binaries is not None
    return str(binaries / name)


def _copy_rows(server: _Server, workdir: Path, document: Path, label: str) -> list[Result]:
    engagement = "bigone"
    publish = _publish(server, document, engagement)
    checkout_file = workdir / "checked-out.ztmm"
    url = parse(server.url("lead", engagement))
    checkout = timed(lambda: team.checkout(url, checkout_file, prompt=None))
    checkout_file.unlink()

    env: dict[str, Any] = {**os.environ, "PGPASSWORD": server.cluster.password, "PGPASSFILE": NO_PGPASS}
    conn = ["-h", server.cluster.host, "-p", str(server.cluster.port), "-U", pg.SUPERUSER]
    dump = workdir / "engagement.dump"
    dumping = timed(
        lambda: subprocess.run(
            [_tool("pg_dump"), *conn, "-d", server.db, "-n", f"e_{engagement}", "-Fc", "-Z0", "-f", str(dump)],
            env=env,
            check=True,
            capture_output=True,
        )
    )
    server.cluster.database("restored")
    restoring = timed(
        lambda: subprocess.run(
            [_tool("pg_restore"), *conn, "-d", "restored", "--no-owner", "--no-privileges", str(dump)],
            env=env,
            check=True,
            capture_output=True,
        )
    )
    size = dump.stat().st_size
    dump.unlink()
    return [
        Result(
            f"server: publish, {label} of evidence",
            ms(publish),
            ms(restoring),
            "ms",
            "≤ 2×",
            f"floor: pg_restore of the engagement's schema ({size / 2**20:,.0f} MiB dump)",
        ),
        Result(
            f"server: checkout, {label} of evidence",
            ms(checkout),
            ms(dumping),
            "ms",
            "≤ 2×",
            "floor: pg_dump -Fc -Z0 of the engagement's schema",
        ),
    ]


def _command_rows(server: _Server, big: str, small: str, label: str) -> list[Result]:
    """``ztmm assess URL …`` (in this process) on the engagement with evidence against the same command on
    the engagement without: a command that reads no evidence bytes must not pay for them."""
    from ztmm_desktop import cli

    def command(engagement: str, n: int) -> float:
        rating = _CYCLE[n % len(_CYCLE)].value
        args = ["assess", server.url("lead", engagement), "1.1", "--rate", f"optimal={rating}", "--by", "Bench"]
        started = time.perf_counter()
        assert cli.main(args) == 0
        return time.perf_counter() - started

    with_evidence, without = [], []
    for n in range(7):  # alternating, the first pair a warm-up
        with_evidence.append(command(big, n))
        without.append(command(small, n))
    return [
        Result(
            f"server: ztmm assess URL, {label} of evidence",
            ms(median(with_evidence[1:])),
            ms(median(without[1:])),
            "ms",
            "≤ 1.5×",
            "floor: the same command on the same engagement without evidence (median of 6, alternating)",
        )
    ]


def run(workdir: Path) -> list[Result]:
    base = large_engagement(workdir)
    gib = float(os.environ.get("ZTMM_BENCH_SERVER_GIB", "1"))
    server = _Server(workdir)
    try:
        _publish(server, base, "large")
        results = _live_rows(server, "large", base)
        results += _window_rows(server, "large")
        with_evidence, _ = _build(workdir, base, "server-evidence", gib=gib)
        label = f"{gib:g} GiB" if gib >= 1 else f"{gib * 1024:g} MiB"
        results += _copy_rows(server, workdir, with_evidence, label)
        results += _command_rows(server, "bigone", "large", label)
        with_evidence.unlink()
    finally:
        server.close()
        shutil.rmtree(workdir / "appdata", ignore_errors=True)
    return results
