"""Killing the app mid-edit loses no acknowledged edit and leaves a sound working copy.

A child process opens an engagement and edits it in a loop, printing each edit
once the service has returned (the edit is committed). The parent kills it with
SIGKILL at a random moment, then reads the working copy the child left behind:
every acknowledged edit must be there and ``PRAGMA quick_check`` must say ok.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.store.document import orphaned_working_copies

KILLS = 50

EDITOR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ztmm_desktop.core.stages import Rating, Stage
    from ztmm_desktop.services.engagement import open_engagement

    run = sys.argv[2]
    engagement = open_engagement(Path(sys.argv[1]))
    functions = [f.id for f in engagement.catalog.functions()]
    ratings = [Rating.MET, Rating.PARTIAL, Rating.NOT_MET]
    n = 0
    while True:
        function = functions[n % len(functions)]
        engagement.assess(
            function,
            ratings={Stage.ADVANCED: ratings[n % 3]},
            comments={Stage.ADVANCED: f"{run}:{n}"},
        )
        print(n, flush=True)  # acknowledged: the service returned, the edit is committed
        n += 1
    """
)


def acknowledged_comments(working: Path) -> set[str]:
    conn = sqlite3.connect(working)
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        return {row[0] for row in conn.execute("SELECT new FROM audit WHERE field = 'comment'")}
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_acknowledged_edit(tmp_path: Path) -> None:
    document = tmp_path / "crash.ztmm"
    create_engagement(document, Properties(client="Crash Test Dummies Inc")).close()
    rng = random.Random(20261129)
    total_acks = 0
    for run in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", EDITOR, str(document), str(run)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=dict(os.environ),
        )
        assert child.stdout is not None
        acked: list[str] = []
        first = child.stdout.readline()
        assert first.strip() == "0", f"the editor did not start: {first!r}"
        acked.append("0")
        deadline = time.monotonic() + rng.uniform(0.0, 0.25)
        os.set_blocking(child.stdout.fileno(), False)
        while time.monotonic() < deadline:
            time.sleep(0.002)
        child.send_signal(signal.SIGKILL)
        child.wait()
        os.set_blocking(child.stdout.fileno(), True)
        acked.extend(line.strip() for line in child.stdout.read().splitlines() if line.strip())
        child.stdout.close()
        (orphan,) = orphaned_working_copies()
        assert orphan.document == document
        stored = acknowledged_comments(orphan.working)
        missing = [n for n in acked if f"{run}:{n}" not in stored]
        assert not missing, f"run {run}: acknowledged edits lost: {missing[:5]}"
        total_acks += len(acked)
        for extra in orphan.working.parent.glob(orphan.working.name + "*"):
            extra.unlink()
    assert total_acks >= KILLS
