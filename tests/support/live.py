"""Live-session test helpers: a published engagement with an assessor and a reviewer, URLs with passwords."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.support.team import Server
from ztmm_desktop.server.url import parse
from ztmm_desktop.services import team


def url_with_password(server: Server, role: str, engagement: str) -> str:
    """The role's URL carrying its password (several logins in one process: PGPASSWORD cannot serve)."""
    plain = server.url(role, engagement)
    return plain.replace(f"//{role}@", f"//{role}:{server.passwords[role]}@", 1)


@dataclass
class Published:
    engagement: str
    lead: str
    assessor: str
    reviewer: str


def publish(server: Server, source: Path, tmp_path: Path, *, assessors: int = 1) -> tuple[Published, list[str]]:
    """``source`` published by a lead, with an assessor (and ``assessors - 1`` more) and a reviewer."""
    lead, reviewer = server.login("lead"), server.login("reviewer")
    more = [server.login(f"assessor{n}") for n in range(assessors)]
    engagement = f"live_{server.db}"
    copy = tmp_path / "published.ztmm"
    shutil.copyfile(source, copy)
    url = parse(url_with_password(server, lead, engagement))
    team.publish(copy, url, prompt=None)
    for login in more:
        team.set_member(url, login, "assessor", prompt=None)
    team.set_member(url, reviewer, "reviewer", prompt=None)
    return Published(engagement, lead, more[0], reviewer), more
