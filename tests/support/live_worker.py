"""One editor of the concurrency test: ``python -m tests.support.live_worker URL QUEUE OUT SEED COUNT GO``.

Waits for the file GO, then makes COUNT edits on a few fields that every worker edits too, each from
the value it last saw (its base), and writes one JSON line per outcome to OUT: applied (with the
server's sequence number) or conflict. A conflict is resolved at random: keep mine or take theirs.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from ztmm_desktop.server.live import Applied, Conflict, Edit, LiveSession, Queued

RATINGS = ("met", "partial", "not-met", "na", "unassessed")
CONFIDENCE = ("low", "medium", "high")


def main(argv: list[str]) -> int:
    url, queue, out, seed, count, go = argv
    rng = random.Random(int(seed))
    session = LiveSession.open(url, prompt=None, queue=Path(queue))
    functions = [f.id for f in session.engagement.functions_in_scope()[:3]]
    fields = [("function_assessment", fid, name) for fid in functions for name in ("notes", "confidence")]
    fields += [("stage_rating", f"{fid}/{stage}", "rating") for fid in functions for stage in ("initial", "optimal")]
    known: dict[tuple[str, str, str], Any] = {f: session.value(*f) for f in fields}
    while not Path(go).exists():
        time.sleep(0.01)
    with open(out, "w", encoding="utf-8") as log:

        def send(edit: Edit) -> None:
            try:
                outcome = session.submit(edit)
            except Conflict as conflict:
                record = {"edit": edit.to_json(), "conflict": True, "theirs": conflict.theirs}
                log.write(json.dumps(record) + "\n")
                if rng.random() < 0.5:
                    send(Edit(edit.table, edit.key, edit.field, conflict.theirs, edit.value))  # keep mine
                else:
                    known[(edit.table, edit.key, edit.field)] = conflict.theirs  # take theirs
                return
            assert not isinstance(outcome, Queued), "the server was reachable throughout"
            assert isinstance(outcome, Applied)
            record = {"edit": edit.to_json(), "seq": outcome.seq, "changed": outcome.changed}
            log.write(json.dumps(record) + "\n")
            known[(edit.table, edit.key, edit.field)] = edit.value

        for n in range(int(count)):
            target = rng.choice(fields)
            table, key, name = target
            if name == "notes":
                value: Any = f"{session.login} note {n}"
            elif name == "confidence":
                value = rng.choice(CONFIDENCE)
            else:
                value = rng.choice(RATINGS)
            if rng.random() < 0.1:
                known[target] = session.value(*target)  # now and then, look again
            send(Edit(table, key, name, known[target], value))
    session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
