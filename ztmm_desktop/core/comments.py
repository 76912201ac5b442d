"""Reviewers' comments on findings: what one is, and how they are grouped (pure; docs/server.md).

Comments live on the team server only (``ztmm.finding_comment``): the file has no table for them,
so a checkout never carries them. Every member of an engagement reads them; reviewers and everyone
above add them in their own name (the database sets the author); nobody changes or deletes one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: The longest comment the server takes (its own CHECK on ``ztmm.finding_comment.text``).
MAX_COMMENT = 20_000


@dataclass(frozen=True)
class FindingComment:
    """One comment on a finding: who wrote it (their login, set by the database) and when (UTC)."""

    id: int
    finding_id: str
    at: str  # ISO 8601, UTC, to the second
    by: str
    text: str

    @property
    def date(self) -> str:
        """``YYYY-MM-DD HH:MM`` (UTC), as the window and the deliverables print it."""
        return f"{self.at[:10]} {self.at[11:16]}".strip()


#: Comments per finding id, oldest first.
CommentsByFinding = Mapping[str, tuple[FindingComment, ...]]


def by_finding(comments: Iterable[FindingComment]) -> dict[str, tuple[FindingComment, ...]]:
    """The comments grouped per finding, each group oldest first (by time, then by the order of entry)."""
    grouped: dict[str, list[FindingComment]] = {}
    for comment in sorted(comments, key=lambda c: (c.at, c.id)):
        grouped.setdefault(comment.finding_id, []).append(comment)
    return {key: tuple(group) for key, group in grouped.items()}
