"""Team-mode test helpers: a realistic engagement, a server database set up per test, and row comparison."""

from __future__ import annotations

import io
import os
import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.pg import Cluster
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import evidence
from ztmm_desktop.services.demo import build_demo
from ztmm_desktop.services.engagement import open_engagement

BY = "Fixture Lead"
#: PGPASSFILE of the tests: none (never a developer's own .pgpass; /dev/null makes libpq warn).
NO_PGPASS = "/nonexistent/ztmm-tests/pgpass"


def realistic_engagement(path: Path) -> Path:
    """The demo (workshops, findings, baseline, registers, actions, responses) with every function in
    scope rated, not-applicable stages, overrides up and down, and evidence over several chunks."""
    build_demo(path).close()
    with open_engagement(path) as engagement:
        functions = engagement.functions_in_scope()
        assert len(functions) >= 30
        cycle = (Rating.MET, Rating.PARTIAL, Rating.NOT_MET, Rating.NOT_APPLICABLE)
        for index, function in enumerate(functions):
            ratings = {
                stage: cycle[(index + n) % 4] for n, stage in enumerate((Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL))
            }
            engagement.assess(
                function.id, ratings=ratings, comments={Stage.INITIAL: f"seen in workshop {index}"}, by=BY
            )
        engagement.assess(functions[0].id, override=(Stage.OPTIMAL, "compensating control, raised"), by=BY)
        engagement.assess(functions[1].id, override=(Stage.TRADITIONAL, "evidence withdrawn, lowered"), by=BY)
        big = secrets.token_bytes(2 * 1024 * 1024 + 12345)  # three chunks
        link = evidence.EvidenceLink(function_id=functions[2].id, stage=Stage.ADVANCED)
        evidence.attach_stream(
            engagement, io.BytesIO(big), original_name="export.bin", expected_size=len(big), links=[link], by=BY
        )
        evidence.attach_stream(  # the same bytes again: stored once
            engagement,
            io.BytesIO(big),
            original_name="export-copy.bin",
            expected_size=len(big),
            links=[evidence.EvidenceLink(function_id=functions[4].id)],
            by=BY,
        )
        evidence.attach_stream(
            engagement,
            io.BytesIO(b"policy text\n"),
            original_name="policy.txt",
            expected_size=12,
            links=[evidence.EvidenceLink(function_id=functions[3].id)],
            by=BY,
        )
        engagement.save()
    return path


def table_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of an engagement file, in primary-key order (evidence bytes included)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {name: conn.execute(f'SELECT * FROM "{name}" ORDER BY 1, 2').fetchall() for name in names}
    finally:
        conn.close()


@dataclass
class Server:
    """One database of the cluster set up with ``ztmm server init``, and logins of the firm."""

    cluster: Cluster
    db: str
    passwords: dict[str, str] = field(default_factory=dict)

    def login(self, name: str) -> str:
        """A consultant's login (made a ZTMM user); its name is unique in the cluster."""
        role = f"{name}_{self.db}"
        password = secrets.token_urlsafe(12)
        self.cluster.login(role, password)
        self.cluster.sql(f'GRANT ztmm_user TO "{role}"', db=self.db)
        self.passwords[role] = password
        return role

    def url(self, role: str, engagement: str | None = None) -> str:
        return self.cluster.url(role, self.db, engagement)

    def env(self, role: str) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.passwords[role], "PGPASSFILE": NO_PGPASS}
