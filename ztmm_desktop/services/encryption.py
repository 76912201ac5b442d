"""Encrypt an engagement, remove its encryption, change its passphrase.

Each is one step on an open engagement (``ztmm encrypt|decrypt|rekey``, File →
Encrypt…/Remove encryption…/Change passphrase…): the working copy is rewritten
under the new key and the document is saved at once, so the file on disk never
holds a mix. Unsaved edits are saved with it. The keyring entry follows: it is
removed with the old key and, when the user asks (or it was remembered before),
written for the new one.
"""

from __future__ import annotations

from ..core.errors import BadInput
from . import passphrase as secrets
from .engagement import Engagement


def is_encrypted(engagement: Engagement) -> bool:
    return engagement.document.key is not None


def encrypt(engagement: Engagement, passphrase: str, *, remember: bool = False) -> None:
    """Encrypt a plain engagement with ``passphrase`` (checked: 8 characters at least)."""
    if is_encrypted(engagement):
        raise BadInput(f"{engagement.path.name} is already encrypted; change its passphrase instead")
    key = secrets.new_key(passphrase)
    engagement.document.change_key(key)
    secrets.learn(key)
    if remember:
        secrets.remember(key, passphrase)


def decrypt(engagement: Engagement) -> None:
    """Save the engagement unencrypted from now on."""
    old = engagement.document.key
    if old is None:
        raise BadInput(f"{engagement.path.name} is not encrypted")
    engagement.document.change_key(None)
    secrets.forget_remembered(old)
    secrets.forget(old)


def rekey(engagement: Engagement, passphrase: str, *, remember: bool = False) -> None:
    """Change an encrypted engagement's passphrase (a new salt, hence a new key)."""
    old = engagement.document.key
    if old is None:
        raise BadInput(f"{engagement.path.name} is not encrypted; encrypt it instead")
    key = secrets.new_key(passphrase)
    was_remembered = secrets.is_remembered(old)
    engagement.document.change_key(key)
    secrets.forget_remembered(old)
    secrets.forget(old)
    secrets.learn(key)
    if remember or was_remembered:
        secrets.remember(key, passphrase)
