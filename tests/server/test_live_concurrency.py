"""8 processes × 500 live edits on one engagement, overlapping at random on the same fields: every
acknowledged edit is on the server or was reported as a conflict, nothing lost or applied twice, and the
audit trail has every change once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest import ROOT
from tests.support.live import publish, url_with_password
from tests.support.team import Server
from ztmm_desktop.server.live import Edit

PROCESSES = 8
EDITS = 500
ENTITY = {"function_assessment": "function", "stage_rating": "stage"}


def test_eight_processes_edit_one_engagement_at_once(server: Server, realistic: Path, tmp_path: Path) -> None:
    published, logins = publish(server, realistic, tmp_path, assessors=PROCESSES)
    go = tmp_path / "go"
    workers = []
    for n, login in enumerate(logins):
        env = {**os.environ, "ZTMM_DATA_DIR": str(tmp_path / f"data{n}"), "PYTHONPATH": str(ROOT)}
        args = [
            url_with_password(server, login, published.engagement),
            str(tmp_path / f"queue{n}.sqlite"),
            str(tmp_path / f"out{n}.jsonl"),
            str(n),
            str(EDITS),
            str(go),
        ]
        command = [sys.executable, "-m", "tests.support.live_worker", *args]
        workers.append(subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True))
    go.touch()
    for worker in workers:
        _, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-3000:]

    applied: dict[str, tuple[str, Edit, int, bool]] = {}
    conflicts: list[tuple[Edit, object]] = []
    made = 0
    for n, login in enumerate(logins):
        for line in (tmp_path / f"out{n}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            edit = Edit.from_json(record["edit"])
            made += 1
            if record.get("conflict"):
                conflicts.append((edit, record["theirs"]))
            else:
                assert edit.edit_id not in applied
                applied[edit.edit_id] = (login, edit, int(record["seq"]), bool(record["changed"]))
    assert made >= PROCESSES * EDITS  # each edit answered: applied or a conflict (keep-mine retries add some)
    assert conflicts and sum(1 for *_, changed in applied.values() if changed) > PROCESSES * EDITS // 4
    for edit, theirs in conflicts:
        assert theirs != edit.base  # a conflict is a real one

    db, schema_name = server.db, f"e_{published.engagement}"
    logged = server.cluster.sql(
        "SELECT edit_id, by, seq FROM ztmm.edit WHERE engagement = %s", (published.engagement,), db=db
    )
    assert {str(e): (str(b), int(s)) for e, b, s in logged} == {
        k: (login, seq) for k, (login, _, seq, _) in applied.items()
    }  # every acknowledged edit once, with its author; no refused one
    assert not {e.edit_id for e, _ in conflicts} & {str(r[0]) for r in logged}

    audit = server.cluster.sql(
        f'SELECT by, entity, key, field, new FROM "{schema_name}".audit WHERE by = ANY(%s)', (logins,), db=db
    )
    expected = Counter(
        (login, ENTITY[e.table], e.key, e.field, str(e.value)) for login, e, _, changed in applied.values() if changed
    )
    assert Counter(tuple(map(str, r)) for r in audit) == expected  # every change once, nothing else

    last: dict[tuple[str, str, str], tuple[int, object]] = {}
    for _, edit, seq, _ in applied.values():
        field = (edit.table, edit.key, edit.field)
        if field not in last or seq > last[field][0]:
            last[field] = (seq, edit.value)
    for (table, key, field), (_, value) in last.items():
        if table == "stage_rating":
            fid, stage = key.split("/")
            row = server.cluster.sql(
                f'SELECT rating FROM "{schema_name}".stage_rating WHERE function_id = %s AND stage = %s',
                (fid, stage),
                db=db,
            )
        else:
            row = server.cluster.sql(
                f'SELECT {field} FROM "{schema_name}".function_assessment WHERE function_id = %s', (key,), db=db
            )
        assert row == [(value,)], (table, key, field)  # the last acknowledged value is the one that stands
