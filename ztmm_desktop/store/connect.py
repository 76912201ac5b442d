"""The one place a connection to an engagement database is made: plain SQLite or SQLCipher.

A plain engagement is opened with the standard library's ``sqlite3``. An
encrypted one (SQLCipher 4: every page, the WAL and the rollback journal are
AES-256 encrypted with a per-page HMAC, and the file has no SQLite header) is
opened with ``sqlcipher3``, a DB-API twin of ``sqlite3``.

The passphrase is stretched once per file with SQLCipher 4's own key
derivation (PBKDF2-HMAC-SHA512, 256,000 rounds, the file's 16-byte salt), and
every connection is given the derived raw key with the salt
(``PRAGMA key = "x'…'"``), so opening a pooled connection costs no key
derivation, and the working copy and the saved document share the salt, hence
the key. A file written this way opens with the passphrase in any SQLCipher 4
tool. Temp tables and sorts stay in memory (``temp_store = MEMORY``), so no
plaintext temp file is written.

Every connection made here, plain or encrypted, is hardened by the file gate
(``gate.harden``: trusted_schema off, cell_size_check, the watchdog on every
statement, the bound on a value's size where the binding has ``setlimit``).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from ..core.errors import EngagementFileError
from . import gate

#: SQLCipher 4 defaults (``PRAGMA cipher_default_*``): what any SQLCipher 4 tool expects.
KDF_ITERATIONS = 256_000
SALT_BYTES = 16
KEY_BYTES = 32


class CipherUnavailable(EngagementFileError):
    """The SQLCipher binding cannot be loaded on this computer."""


class WrongKey(EngagementFileError):
    """The passphrase does not open the file (or the file is not an engagement at all)."""


@dataclass(frozen=True, repr=False)
class Key:
    """An engagement's raw SQLCipher key and the salt it was derived with (never printed)."""

    raw: bytes = field(repr=False)
    salt: bytes = field(repr=False)

    def __repr__(self) -> str:
        return "Key(…)"

    @classmethod
    def derive(cls, passphrase: str, salt: bytes | None = None) -> Key:
        """The key for ``passphrase`` with ``salt`` (a new random salt: a new file or a new passphrase)."""
        salt = os.urandom(SALT_BYTES) if salt is None else salt
        raw = hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), salt, KDF_ITERATIONS, KEY_BYTES)
        return cls(raw, salt)

    @property
    def id(self) -> str:
        """What names the file's key without revealing it (the salt; kept through saves, new on rekey)."""
        return self.salt.hex()

    def secret(self) -> str:
        """The raw key and salt as SQLCipher takes them (``PRAGMA key``, ``ATTACH … KEY ?``)."""
        return f"x'{self.raw.hex()}{self.salt.hex()}'"

    def pragma(self) -> str:
        return f'PRAGMA key = "{self.secret()}"'


_module: ModuleType | None = None


def cipher_module() -> ModuleType:
    """The ``sqlcipher3`` module; ``CipherUnavailable`` (one line) when it cannot be loaded here."""
    global _module
    if _module is None:
        try:
            import sqlcipher3  # type: ignore[import-untyped, unused-ignore]
        except ImportError as err:
            raise CipherUnavailable(
                f"encryption is not available on this computer: the SQLCipher binding (sqlcipher3) "
                f"cannot be loaded ({err})"
            ) from None
        _module = sqlcipher3
        gate.add_binding(sqlcipher3)  # the gate and ``database_errors`` catch its errors too
    return _module


def cipher_available() -> bool:
    try:
        cipher_module()
    except CipherUnavailable:
        return False
    return True


def module_for(key: Key | None) -> ModuleType:
    """The DB-API module a connection with ``key`` comes from (for SQLAlchemy's ``module=``)."""
    return sqlite3 if key is None else cipher_module()


#: Errors of either binding (``except DATABASE_ERRORS``); sqlcipher3's are added once it is loaded.
def database_errors() -> tuple[type[Exception], ...]:
    return gate.errors("DatabaseError")


def readonly_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro&immutable=1"


def connect(
    path: Path | str,
    *,
    key: Key | None = None,
    readonly: bool = False,
    autocommit: bool = False,
    check_same_thread: bool = True,
    watchdog: gate.Watchdog | None = None,
    uri: bool = False,
) -> sqlite3.Connection:
    """A connection to the database at ``path``; encrypted with ``key`` when one is given.

    ``readonly`` opens the file immutable and read-only (nothing is written to it, not even
    a lock); ``autocommit`` sets ``isolation_level=None`` (the caller issues BEGIN). With a
    key that does not open the file, ``WrongKey`` is raised and nothing was written. The
    connection is hardened (``gate.harden``) with ``watchdog`` (a new one when None: the
    caller that resets it per statement passes its own). ``uri``: the file is opened by its
    ``file:`` URI, so that ``ATTACH`` on this connection takes URIs too (a document attached
    read-only, ``mode=ro&immutable=1``).
    """
    if readonly:
        target = readonly_uri(Path(path))
    elif uri:
        target = Path(path).absolute().as_uri()
    else:
        target = str(path)
    options: dict[str, Any] = {"uri": readonly or uri, "check_same_thread": check_same_thread}
    if autocommit:
        options["isolation_level"] = None
    if key is None:
        plain: sqlite3.Connection = sqlite3.connect(target, **options)
        try:
            gate.harden(plain, watchdog=watchdog)
        except BaseException:
            plain.close()
            raise
        return plain
    module = cipher_module()
    conn = module.connect(target, **options)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our one-line error, not a log on stderr
        conn.execute(key.pragma())
        conn.execute("PRAGMA temp_store = MEMORY")  # temp tables and sorts never reach the disk
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except module.DatabaseError:
            raise WrongKey(f"{Path(path).name}: wrong passphrase (or not an engagement file)") from None
        gate.harden(conn, watchdog=watchdog)
    except BaseException:
        conn.close()
        raise
    return cast(sqlite3.Connection, conn)


def is_encrypted_head(head: bytes, size: int) -> bool:
    """Whether a file that does not start with the SQLite header looks like an SQLCipher database.

    Its bytes are indistinguishable from random ones; what can be told is that it is made
    of whole pages (SQLCipher's page size is a power of two from 512 to 65536) and that its
    first bytes look random (many distinct byte values, no long runs of zeros).
    """
    if len(head) < 512 or size < 1024 or size % 512:
        return False
    sample = head[:1024]
    return len(set(sample)) > 150 and b"\x00" * 8 not in sample


class PassphraseNeeded(EngagementFileError):
    """The file is encrypted and no passphrase was given."""


def encrypted_salt(path: Path) -> bytes | None:
    """The salt of an encrypted engagement file (its first 16 bytes); None for any other file."""
    try:  # opened without waiting and checked to be a regular file: a FIFO must not block us
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        size = info.st_size
        head = os.read(fd, 1024)
    except OSError:
        return None
    finally:
        os.close(fd)
    if head.startswith(b"SQLite format 3\x00") or not is_encrypted_head(head, size):
        return None
    return head[:SALT_BYTES]
