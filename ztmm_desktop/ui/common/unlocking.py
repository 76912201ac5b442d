"""The key of an encrypted engagement, for the window: asked on the UI thread, derived off it.

Turning a passphrase into the key (PBKDF2, 256,000 rounds) and checking it takes about a fifth
of a second; that runs on a worker thread while the window keeps painting (``off_ui_thread``).
The passphrase dialog (the asker the window installed in ``services.passphrase``) is shown on
the UI thread, as every dialog is.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ...services import passphrase
from .tasks import off_ui_thread


def unlock(path: Path) -> passphrase.Key | None:
    """None for a plain file; the key of an encrypted one, from this process, ``ZTMM_PASSPHRASE``, the
    keyring or the user (asked again after a wrong one). ``NoPassphrase`` when the user cancels."""
    if not passphrase.is_encrypted(path):
        return None
    key = off_ui_thread(lambda: passphrase.known_key(path))
    wrong = 0
    while key is None:
        answer = passphrase.ask(path, wrong)
        if answer is None:
            raise passphrase.cancelled(path)
        try:
            checked = off_ui_thread(partial(passphrase.try_passphrase, path, answer.passphrase))
        except passphrase.WrongKey:
            wrong += 1
            continue
        key = passphrase.accept(checked, answer)  # here: a keyring notice goes to the status bar
    return key
