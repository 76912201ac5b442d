"""Progress reporting and cancellation for long work, shared by UI, CLI and tests.

A service takes a ``Progress`` (a callable receiving done/total/message) and a
``CancelToken``; it calls ``check()`` between steps, which raises ``Cancelled``.
The UI passes a token its Cancel button sets; the CLI passes ``NO_PROGRESS``.
"""

from __future__ import annotations

import threading
from typing import Protocol

from .errors import Cancelled


class Progress(Protocol):
    def __call__(self, done: int, total: int, message: str) -> None: ...


def no_progress(done: int, total: int, message: str) -> None:
    """A progress sink that ignores every report."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled; nothing was changed")
