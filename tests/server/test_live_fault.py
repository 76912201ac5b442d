"""The server stopped hard in the middle of live edits: the session goes offline, keeps every edit in its
queue, and once the server is back everything acknowledged is on it, once (a cluster of the test's own)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support import pg
from tests.support.live import publish, url_with_password
from tests.support.team import NO_PGPASS, Server
from ztmm_desktop.server import schema
from ztmm_desktop.server.live import Applied, Conflict, Edit, LiveSession, Queued, State
from ztmm_desktop.server.url import parse

BOUND = 60.0  # seconds a reconnection may take before the test gives up (a bound, not a measurement)


@pytest.fixture
def own_server(pg_cluster: pg.Cluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A cluster only this test stops and starts (``pg_cluster`` is only asked for so that the test is
    skipped or failed as the other server tests are when PostgreSQL is missing)."""
    folder = pg.temp_folder()
    try:
        cluster = pg.Cluster.start(folder)
        db = f"fault{secrets.token_hex(4)}"
        cluster.database(db)
        monkeypatch.setenv("PGPASSFILE", NO_PGPASS)
        with monkeypatch.context() as patch:
            patch.setenv("PGPASSWORD", cluster.password)
            schema.init(parse(cluster.url(db=db)), prompt=None)
        yield Server(cluster, db)
    finally:
        pg.remove(folder)


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, "the session did not come back online"
        time.sleep(0.05)


def test_edits_go_on_offline_and_reach_the_server_once_it_is_back(
    own_server: Server, realistic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTMM_DATA_DIR", str(tmp_path / "appdata"))
    published, _ = publish(own_server, realistic, tmp_path)
    url = url_with_password(own_server, published.assessor, published.engagement)
    queue_file = tmp_path / "queue.sqlite"
    session = LiveSession.open(url, prompt=None, queue=queue_file)
    events: list[object] = []
    session.subscribe(events.append)
    functions = [f.id for f in session.engagement.functions_in_scope()[:6]]
    last = {fid: session.value("function_assessment", fid, "notes") for fid in functions}
    acknowledged: list[tuple[Edit, Applied | Queued]] = []
    stopped = threading.Event()

    def edit(n: int, on: LiveSession) -> None:
        fid = functions[n % len(functions)]
        change = Edit("function_assessment", fid, "notes", last[fid], f"note {n}")
        acknowledged.append((change, on.submit(change)))
        last[fid] = change.value

    def stop_soon() -> None:
        while len(acknowledged) < 40:
            time.sleep(0.001)
        own_server.cluster.stop("immediate")  # mid-edit: no goodbye to the clients
        stopped.set()

    stopper = threading.Thread(target=stop_soon)
    stopper.start()
    n = 0
    while not stopped.is_set() or n < 120:
        edit(n, session)
        n += 1
    stopper.join()
    assert session.state is State.OFFLINE
    assert any(isinstance(outcome, Queued) for _, outcome in acknowledged)
    assert session.queued > 0

    own_server.cluster.restart()  # the session stays open: it reconnects and replays by itself
    _until(lambda: session.state is State.ONLINE and session.queued == 0)
    for _ in range(20):  # and goes on online
        edit(n, session)
        n += 1
    assert isinstance(acknowledged[-1][1], Applied)

    finding_id, created = session.add_finding(functions[0], {"title": "Shared admin accounts"})
    assert isinstance(created, Applied)
    own_server.cluster.stop("immediate")  # again, and this time the user quits while offline
    _until(lambda: session.state is State.OFFLINE)
    for _ in range(15):
        edit(n, session)
        n += 1
    doomed = session.set_finding(finding_id, "title", "Shared admin accounts (3)", base="Shared admin accounts")
    assert isinstance(doomed, Queued) and session.queued == 16
    session.close()
    own_server.cluster.restart()
    lead = LiveSession.open(url_with_password(own_server, published.lead, published.engagement), prompt=None)
    removed = lead.remove_finding(finding_id)  # meanwhile, online, a colleague removes that finding
    lead.close()
    reopened = LiveSession.open(url, prompt=None, queue=queue_file)  # the queue on disk is replayed
    try:
        _until(lambda: reopened.queued == 0 and reopened.state is State.ONLINE)
        for fid in functions:
            assert reopened.value("function_assessment", fid, "notes") == last[fid]
        # the edit of a finding that is gone is refused and reported, not lost without a word
        assert [(r.edit.edit_id, r.reason) for r in reopened.refused] == [(doomed.edit_id, f"no finding {finding_id}")]
    finally:
        reopened.close()

    assert not [e for e in events if isinstance(e, Conflict)]
    cluster, schema_name = own_server.cluster, f"e_{published.engagement}"
    logged = cluster.sql(
        "SELECT edit_id, count(*) FROM ztmm.edit WHERE engagement = %s GROUP BY edit_id",
        (published.engagement,),
        db=own_server.db,
    )
    expected = {edit.edit_id for edit, _ in acknowledged} | {created.edit_id, removed.edit_id}
    assert {str(e) for e, _ in logged} == expected  # every one, none other (not the refused one)
    assert all(count == 1 for _, count in logged)
    audit = cluster.sql(
        f'SELECT new FROM "{schema_name}".audit WHERE field = %s AND by = %s',
        ("notes", published.assessor),
        db=own_server.db,
    )
    assert sorted(str(r[0]) for r in audit) == sorted(str(edit.value) for edit, _ in acknowledged)  # each once


CHILD = """
import json, sys
from pathlib import Path
from ztmm_desktop.server.live import Edit, LiveSession
url, queue, fid = sys.argv[1:4]
session = LiveSession.open(url, prompt=None, queue=Path(queue))
base = session.value("function_assessment", fid, "notes")
print("open", flush=True)
sys.stdin.readline()  # the server is down now
for n in range(100000):
    edit = Edit("function_assessment", fid, "notes", base, f"before the crash {n}")
    outcome = session.submit(edit)
    print(json.dumps([edit.edit_id, type(outcome).__name__, edit.value]), flush=True)
    base = edit.value
"""


def test_a_queued_edit_survives_the_app_being_killed(
    own_server: Server, realistic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTMM_DATA_DIR", str(tmp_path / "appdata"))
    published, _ = publish(own_server, realistic, tmp_path)
    url = url_with_password(own_server, published.assessor, published.engagement)
    queue_file = tmp_path / "queue.sqlite"
    with LiveSession.open(url, prompt=None, queue=tmp_path / "other.sqlite") as look:
        fid = look.engagement.functions_in_scope()[0].id
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(queue_file), fid],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as child:
        try:
            assert child.stdout is not None and child.stdin is not None
            assert child.stdout.readline().strip() == "open"
            own_server.cluster.stop("immediate")
            child.stdin.write("\n")
            child.stdin.flush()
            acknowledged = [json.loads(child.stdout.readline()) for _ in range(30)]
            child.send_signal(signal.SIGKILL)  # no goodbye: whatever was acknowledged must be on disk
        finally:
            child.kill()
    assert all(kind == "Queued" for _, kind, _ in acknowledged)
    assert queue_file.stat().st_mode & 0o077 == 0  # the queued text is readable by the user alone
    own_server.cluster.restart()
    with LiveSession.open(url, prompt=None, queue=queue_file) as reopened:
        _until(lambda: reopened.queued == 0 and reopened.state is State.ONLINE)
        assert reopened.value("function_assessment", fid, "notes") == acknowledged[-1][2]
    logged = {
        str(r[0])
        for r in own_server.cluster.sql(
            "SELECT edit_id FROM ztmm.edit WHERE engagement = %s", (published.engagement,), db=own_server.db
        )
    }
    assert {edit_id for edit_id, _, _ in acknowledged} <= logged
