"""Where the passphrase of an encrypted engagement comes from.

In this order: a key this process already unlocked the file with (the window
does not ask again to revert, merge or compare); ``ZTMM_PASSPHRASE``; the
operating system's keyring, when the user asked to remember it there (the
``keyring`` package, under the file's key id, never in the app's settings or the
recent-files list); then the asker the front end installed: ``getpass`` in the
``ztmm`` command, a dialog in the window. Without any of these the file is
refused with one line.

The key id is the file's SQLCipher salt: it stays the same through saves and
copies of the file and changes when the passphrase is changed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import BadInput
from ..store.connect import Key, PassphraseNeeded, WrongKey, cipher_module, connect, encrypted_salt

ENV = "ZTMM_PASSPHRASE"
#: The keyring's service name; the user name is the file's key id.
KEYRING_SERVICE = "ZTMM Workbench engagement"
MIN_LENGTH = 8
MAX_LENGTH = 1024
#: Wrong tries answered at once; after these, each try waits (``wait_after``).
FREE_TRIES = 5
LONGEST_WAIT = 30.0


class NoPassphrase(PassphraseNeeded):
    """The user cancelled the passphrase prompt: nothing was opened."""


def wait_after(wrong: int) -> float:
    """Seconds to wait before the next try after ``wrong`` wrong ones: none for five, then 1, 2, 4 … 30."""
    if wrong < FREE_TRIES:
        return 0.0
    return min(LONGEST_WAIT, float(2 ** (wrong - FREE_TRIES)))


@dataclass(frozen=True, repr=False)
class Answer:
    """What the user typed, and whether to remember it in the keyring."""

    passphrase: str
    remember: bool = False

    def __repr__(self) -> str:
        return f"Answer(…, remember={self.remember})"


#: ``ask(path, wrong_tries)``: the user's answer, or None when they cancel.
Asker = Callable[[Path, int], Answer | None]


def _silent(_message: str) -> None:
    return None


_asker: Asker | None = None
_notify: Callable[[str], None] = _silent
_known: dict[str, Key] = {}
_lock = threading.Lock()


def set_asker(asker: Asker | None, notify: Callable[[str], None] | None = None) -> None:
    """Install the front end's way to ask for a passphrase and to show a one-line notice."""
    global _asker, _notify
    _asker = asker
    _notify = notify or _silent


def is_encrypted(path: Path) -> bool:
    return encrypted_salt(path) is not None


def check_new(passphrase: str) -> str:
    """A passphrase for a new file or a rekey, refused with one line when too weak or odd."""
    if len(passphrase) < MIN_LENGTH:
        raise BadInput(f"a passphrase needs at least {MIN_LENGTH} characters")
    if len(passphrase) > MAX_LENGTH:
        raise BadInput(f"a passphrase has at most {MAX_LENGTH} characters")
    if passphrase != passphrase.strip():
        raise BadInput("a passphrase may not start or end with a space")
    if any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in passphrase):
        raise BadInput("a passphrase may not hold control characters")
    return passphrase


def new_key(passphrase: str) -> Key:
    """The key of a new encrypted file (or a new passphrase), with a new salt."""
    cipher_module()  # say at once when encryption is not available here, before anything is written
    return Key.derive(check_new(passphrase))


def try_passphrase(path: Path, passphrase: str, salt: bytes | None = None) -> Key:
    """The key ``passphrase`` gives for ``path``; ``WrongKey`` when it does not open the file."""
    salt = salt if salt is not None else encrypted_salt(path)
    if salt is None:
        raise BadInput(f"{path.name}: not an encrypted engagement file")
    key = Key.derive(passphrase, salt)
    connect(path, key=key, readonly=True).close()
    return key


def key_for(path: Path) -> Key | None:
    """None for a plain file; the key of an encrypted one (see the module's text for where from)."""
    salt = encrypted_salt(path)
    if salt is None:
        return None
    key = known_key(path, salt)
    if key is not None:
        return key
    asker = _asker
    if asker is None:
        raise PassphraseNeeded(f"{path.name}: an encrypted engagement file; set {ENV} or run in a terminal to type it")
    wrong = 0
    while True:
        answer = asker(path, wrong)
        if answer is None:
            raise cancelled(path)
        try:
            return unlock(path, answer, salt)
        except WrongKey:
            wrong += 1


def known_key(path: Path, salt: bytes | None = None) -> Key | None:
    """The key of an encrypted file without asking anyone: one this process unlocked it with,
    ``ZTMM_PASSPHRASE`` (``WrongKey`` when it does not open the file), or the keyring; None when
    the user has to be asked. Turning a passphrase into the key takes a fifth of a second (the
    window calls this off its UI thread)."""
    salt = salt if salt is not None else encrypted_salt(path)
    if salt is None:
        raise BadInput(f"{path.name}: not an encrypted engagement file")
    cipher_module()
    with _lock:
        known = _known.get(salt.hex())
    if known is not None:
        return known
    env = os.environ.get(ENV)
    if env:
        return _unlocked(try_passphrase(path, env, salt))
    remembered = _recall(salt.hex())
    if remembered is not None:
        try:
            return _unlocked(try_passphrase(path, remembered, salt))
        except WrongKey:
            pass  # a stale entry (the passphrase was changed elsewhere): ask
    return None


def ask(path: Path, wrong: int) -> Answer | None:
    """The installed asker's answer (the window's dialog, on its UI thread); None: cancelled or no asker."""
    asker = _asker
    return None if asker is None else asker(path, wrong)


def unlock(path: Path, answer: Answer, salt: bytes | None = None) -> Key:
    """The key the user's ``answer`` gives for ``path`` (``WrongKey`` when it does not open it),
    remembered in the keyring when they asked, and known to this process from now on."""
    return accept(try_passphrase(path, answer.passphrase, salt), answer)


def accept(key: Key, answer: Answer) -> Key:
    """Keep a key the user's ``answer`` gave (checked by ``try_passphrase``): in the keyring when they
    asked (its notice goes to the front end: call this on the window's UI thread), and in this process."""
    if answer.remember:
        remember(key, answer.passphrase)
    return _unlocked(key)


def cancelled(path: Path) -> NoPassphrase:
    """What a cancelled passphrase prompt raises: nothing was opened."""
    return NoPassphrase(f"{path.name}: an encrypted engagement file; no passphrase given, nothing opened")


def _unlocked(key: Key) -> Key:
    with _lock:
        _known[key.id] = key
    return key


def learn(key: Key) -> None:
    """A key this process made (a new file, a new passphrase): no need to ask for it."""
    _unlocked(key)


def forget(key: Key | None) -> None:
    """Drop an unlocked key from memory (the window closed the engagement)."""
    if key is not None:
        with _lock:
            _known.pop(key.id, None)


def forget_all() -> None:
    with _lock:
        _known.clear()


# -- the operating system's keyring ------------------------------------------------------------


def _keyring() -> object | None:
    try:
        import keyring
    except ImportError:
        return None
    return keyring


def _recall(key_id: str) -> str | None:
    module = _keyring()
    if module is None:
        return None
    try:
        value = module.get_password(KEYRING_SERVICE, key_id)  # type: ignore[attr-defined]
    except Exception:  # no backend, a locked or broken one: as if nothing were remembered
        return None
    return value if isinstance(value, str) and value else None


def remember(key: Key, passphrase: str) -> bool:
    """Keep ``passphrase`` in the OS keyring for this file; a one-line notice and False when there is none."""
    module = _keyring()
    if module is None:
        _notify("the passphrase was not remembered: the keyring package is not installed; it will be asked again")
        return False
    try:
        module.set_password(KEYRING_SERVICE, key.id, passphrase)  # type: ignore[attr-defined]
    except Exception as err:
        reason = " ".join(str(err).split()).split(". ")[0].rstrip(".")[:120] or type(err).__name__
        _notify(f"the passphrase was not remembered: no usable system keyring here ({reason}); it will be asked again")
        return False
    return True


def is_remembered(key: Key) -> bool:
    return _recall(key.id) is not None


def forget_remembered(key: Key) -> None:
    """Remove this file's passphrase from the keyring, if it is there."""
    module = _keyring()
    if module is None:
        return
    try:
        if module.get_password(KEYRING_SERVICE, key.id) is not None:  # type: ignore[attr-defined]
            module.delete_password(KEYRING_SERVICE, key.id)  # type: ignore[attr-defined]
    except Exception:
        return
