"""The file's SQLModel tables work unchanged on an engagement's schema (the seam for working on the server)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy.exc
from sqlmodel import Session, SQLModel, select

from tests.conftest import run_cli
from tests.support.team import Server
from ztmm_desktop.server.orm import engagement_engine
from ztmm_desktop.server.url import parse
from ztmm_desktop.services.engagement import open_engagement
from ztmm_desktop.store import schema


def _all(session: Session, model: type[SQLModel]) -> list[dict[str, object]]:
    rows = [row.model_dump() for row in session.exec(select(model))]
    return sorted(rows, key=repr)


def test_the_models_read_the_server_as_they_read_the_file(
    server: Server, realistic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead, reviewer = server.login("lead"), server.login("reviewer")
    engagement = f"acme_{server.db}"
    url = server.url(lead, engagement)
    assert run_cli("publish", realistic, url, env=server.env(lead)).returncode == 0
    assert run_cli("server", "members", url, "add", reviewer, "--as", "reviewer", env=server.env(lead)).returncode == 0
    models = (
        schema.EngagementRow,
        schema.FunctionRow,
        schema.StageRatingRow,
        schema.FindingRow,
        schema.ActionRow,
        schema.WorkshopRow,
        schema.BaselineRow,
        schema.EvidenceRow,
        schema.AuditRow,
    )
    with open_engagement(realistic, readonly=True) as opened, opened.session() as local:
        expected = {m.__tablename__: _all(local, m) for m in models}

    monkeypatch.setenv("PGPASSWORD", server.passwords[reviewer])
    engine = engagement_engine(parse(server.url(reviewer, engagement)), prompt=None)
    try:
        with Session(engine) as remote:
            for model in models:
                assert _all(remote, model) == expected[model.__tablename__], model.__tablename__
            row = remote.exec(select(schema.StageRatingRow)).first()
            assert row is not None
            row.rating = "met" if row.rating != "met" else "partial"
            remote.add(row)
            with pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied"):
                remote.commit()  # a reviewer: the database refuses, whatever the client
    finally:
        engine.dispose()
