"""Crash recovery: unsaved work left by a session that ended without closing.

Every edit is committed to the private working copy at once, so when the app
is killed the working copy holds all of it. At the next start the UI lists it
here and offers to recover it (``open_engagement(path, recover=orphan)``) or
to discard it.
"""

from __future__ import annotations

from ..store.document import Orphan, discard_orphan, orphaned_working_copies

__all__ = ["Orphan", "discard_unsaved", "unsaved_work"]


def unsaved_work() -> list[Orphan]:
    """Working copies of engagements whose app ended without saving or closing them."""
    return orphaned_working_copies()


def discard_unsaved(orphan: Orphan) -> None:
    discard_orphan(orphan)
