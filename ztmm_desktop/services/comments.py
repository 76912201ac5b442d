"""Reviewers' comments on the findings of an engagement on the team server (``ztmm comment``, the window).

Comments are internal review notes: they live on the server only (``ztmm.finding_comment``, see
docs/server.md), never in a file, and reach a deliverable only when asked (``--review-comments``).
Every member reads them; reviewers, assessors and leads add them, each in their own name, which the
database sets. Nobody changes or deletes one.

Every failure is one line (``ServerError`` or ``BadInput``) and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from ..core.comments import MAX_COMMENT, FindingComment
from ..core.errors import BadInput
from ..server import comments as server_comments
from ..server import store as server_store
from ..server.connect import Prompt, ServerError, terminal_prompt
from ..server.url import ServerUrl
from .records import check_text
from .team import _server


@dataclass(frozen=True)
class Commented:
    """A comment just added, with the title of the finding it is on."""

    comment: FindingComment
    finding_title: str


def check_comment(text: str) -> str:
    """The comment's text, trimmed, if the server would take it (one line saying why not, otherwise)."""
    text = check_text(text.strip(), "the comment", MAX_COMMENT)
    if not text:
        raise BadInput("the comment is empty; write what the assessor should look at")
    return text


def read_comments(url: ServerUrl, *, prompt: Prompt | None = terminal_prompt) -> list[FindingComment]:
    """Every comment on the findings of the engagement ``url`` names, oldest first."""
    engagement = url.require_engagement("reading comments")
    with _server(url, prompt) as pg:
        pg.read_only = True
        with pg.transaction():
            server_store.find(pg, url, "reading comments")
            return server_comments.read(pg, engagement)


def comments_with_findings(
    url: ServerUrl, *, prompt: Prompt | None = terminal_prompt
) -> tuple[list[FindingComment], dict[str, str]]:
    """The comments and the engagement's findings (id → title), read in one snapshot (``ztmm comments``)."""
    engagement = url.require_engagement("reading comments")
    with _server(url, prompt) as pg:
        pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        pg.read_only = True
        with pg.transaction():
            server_store.find(pg, url, "reading comments")
            return server_comments.read(pg, engagement), server_comments.findings(pg)


def _resolve(url: ServerUrl, wanted: str, known: dict[str, str]) -> str:
    """A finding's id from its id or a unique start of it (4 characters at least), as ``ztmm finding`` takes it."""
    wanted = wanted.strip()
    if wanted in known:
        return wanted
    matches = [key for key in known if key.startswith(wanted.lower())] if len(wanted) >= 4 else []
    if len(matches) == 1:
        return matches[0]
    raise BadInput(f"no finding {wanted[:40]!r} in engagement {url.engagement} on the server (see 'ztmm finding list')")


def add_comment(url: ServerUrl, finding: str, text: str, *, prompt: Prompt | None = terminal_prompt) -> Commented:
    """Add the user's comment on ``finding`` (its id, or a unique start of it) of the engagement ``url`` names."""
    engagement = url.require_engagement("commenting on a finding")
    text = check_comment(text)
    with _server(url, prompt) as pg:
        try:
            with pg.transaction():
                server_store.find(pg, url, "commenting on a finding")
                known = server_comments.findings(pg)
                finding_id = _resolve(url, finding, known)
                added = server_comments.add(pg, engagement, finding_id, text)
                if added is None:  # removed since it was looked up: nothing written
                    raise BadInput(f"no finding {finding_id!r} in engagement {engagement} on the server")
        except psycopg.errors.InsufficientPrivilege:
            raise ServerError(f"{url.display}: you may not comment on this engagement's findings") from None
    return Commented(added, known.get(finding_id, ""))
