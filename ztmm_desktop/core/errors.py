"""Errors a user can act on: each carries one line that says what is wrong.

Every layer raises a subclass of ``ZtmmError`` for bad input; the CLI prints
``error: <message>`` and exits 2, the UI shows the message in a dialog. Anything
else escaping a service is a bug, not a user error.
"""

from __future__ import annotations


class ZtmmError(Exception):
    """A problem the user can fix; ``str(err)`` is one line for them."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()) if "\n" in message else message)


class BadInput(ZtmmError):
    """An argument or value from the user is invalid."""


class CatalogError(ZtmmError):
    """A catalog or guidance pack file is invalid: names file, location and reason."""

    def __init__(self, file: str, location: str, reason: str) -> None:
        self.file = file
        self.location = location
        self.reason = reason
        where = f"{file}: {location}" if location else file
        super().__init__(f"{where}: {reason}")


class EngagementFileError(ZtmmError):
    """The engagement file cannot be opened or written as asked."""


class ReadOnlyLocation(EngagementFileError):
    """The document or its folder cannot be written; it can still be opened read-only."""


class DocumentLocked(EngagementFileError):
    """Another process holds the document."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class Cancelled(ZtmmError):
    """The user cancelled a long operation; nothing was changed."""


class NeedsRespondent(BadInput):
    """A workbook's answers cannot be imported until someone says who gave them."""


class OtherEngagement(BadInput):
    """A workbook was exported from another engagement; importing it needs an explicit choice."""
