"""The server address a command takes instead of a FILE, parsed in one place.

    postgresql://USER@HOST:PORT/DB?engagement=ID&sslmode=verify-full&sslrootcert=ca.pem

Only what is listed here reaches libpq: the user, one host, the port, the database, and
the TLS parameters of ``TLS_PARAMETERS``. Any other parameter (``options=``, which sets
server settings such as ``search_path``; a second ``host``; ``application_name``;
``passfile``; ``service``) is refused with one line, so a URL pasted from a mail cannot
change what the client does once connected. The password comes from the URL (accepted,
never printed), else from libpq itself (``PGPASSWORD``, ``.pgpass``), else a prompt
(``server.connect``). ``str()`` and every message show ``display``, which has no password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from ..core.errors import BadInput

SCHEMES = ("postgresql", "postgres")
#: libpq's TLS parameters passed through as given; ``sslpassword`` (a key's passphrase) is
#: not: a secret in a URL ends up in shell history, and libpq asks for it on the terminal.
TLS_PARAMETERS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslcrldir", "sslsni")
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
#: An engagement's id on the server: it names a schema and three roles, so it is kept short and plain.
ENGAGEMENT_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,63}")  # PostgreSQL truncates identifiers at 63 bytes


class ServerUrlError(BadInput):
    """The address is not one the client accepts."""


def is_server_url(text: str) -> bool:
    """True when ``text`` is meant as a server address rather than a file name."""
    return text.split("://", 1)[0].lower() in SCHEMES and "://" in text


@dataclass(frozen=True)
class ServerUrl:
    user: str | None
    host: str
    port: int
    dbname: str
    engagement: str | None = None
    tls: tuple[tuple[str, str], ...] = ()
    password: str | None = field(default=None, repr=False, compare=False)

    @property
    def display(self) -> str:
        """The address as shown to the user: never the password."""
        who = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?engagement={self.engagement}" if self.engagement else ""
        return f"postgresql://{who}{host}:{self.port}/{self.dbname}{query}"

    @property
    def address(self) -> str:
        """The address to remember (``display`` with the TLS parameters): never the password."""
        query = [("engagement", self.engagement)] if self.engagement else []
        query += list(self.tls)
        base = self.with_engagement(None).display
        return f"{base}?{urlencode(query)}" if query else base

    def __str__(self) -> str:
        return self.display

    def with_engagement(self, engagement: str | None) -> ServerUrl:
        return ServerUrl(self.user, self.host, self.port, self.dbname, engagement, self.tls, self.password)

    def connect_kwargs(self) -> dict[str, str]:
        """The keywords for ``psycopg.connect`` (psycopg quotes each value: nothing is spliced)."""
        kwargs = {"host": self.host, "port": str(self.port), "dbname": self.dbname}
        if self.user:
            kwargs["user"] = self.user
        if self.password is not None:
            kwargs["password"] = self.password
        kwargs.update(dict(self.tls))
        return kwargs

    def require_engagement(self, what: str) -> str:
        if self.engagement is None:
            raise ServerUrlError(f"{self.display}: {what} needs the engagement: add ?engagement=ID to the URL")
        return self.engagement


def parse(text: str) -> ServerUrl:
    """The server address in ``text``, or ``ServerUrlError`` (one line, no password)."""
    if not is_server_url(text):
        raise ServerUrlError("a server address starts with postgresql://")
    try:
        parts = urlsplit(text)
        if "," in parts.netloc.rsplit("@", 1)[-1]:
            raise ServerUrlError("the server address names more than one host; give one")
        port = parts.port
    except ValueError:
        raise ServerUrlError("the server address is not a valid URL (check the host and port)") from None
    if parts.fragment:
        raise ServerUrlError("the server address has a '#' part; remove it")
    host = parts.hostname
    if not host:
        raise ServerUrlError("the server address has no host (postgresql://USER@HOST:PORT/DB)")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if user is not None and not _NAME.fullmatch(user):
        raise ServerUrlError("the user name in the server address is not valid")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or "/" in dbname or not _NAME.fullmatch(dbname):
        raise ServerUrlError("the server address names no database (postgresql://USER@HOST:PORT/DB)")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ServerUrlError("the server address's parameters are not NAME=VALUE pairs") from None
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            raise ServerUrlError(f"the server address gives {name!r} twice")
        if name != "engagement" and name not in TLS_PARAMETERS:
            raise ServerUrlError(
                f"the server address's parameter {name!r} is not accepted (only engagement and "
                f"the TLS parameters {', '.join(TLS_PARAMETERS)})"
            )
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise ServerUrlError(f"the server address's {name} has control characters")
        seen[name] = value
    engagement = seen.pop("engagement", None)
    if engagement is not None and not ENGAGEMENT_ID.fullmatch(engagement):
        raise ServerUrlError(
            "the engagement id must be 1 to 40 lowercase letters, digits or '_', starting with a letter"
        )
    if "sslmode" in seen and seen["sslmode"] not in SSL_MODES:
        raise ServerUrlError(f"sslmode must be one of {', '.join(SSL_MODES)}")
    return ServerUrl(
        user=user,
        host=host,
        port=port or 5432,
        dbname=dbname,
        engagement=engagement,
        tls=tuple(sorted(seen.items())),
        password=password,
    )
