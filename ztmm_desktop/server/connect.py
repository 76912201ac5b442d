"""Connecting to the server: one psycopg connection, every failure one line without the password.

The password is the URL's when it has one; otherwise libpq looks for it itself
(``PGPASSWORD``, then ``.pgpass``), and when the server asks for one that neither gave,
``prompt`` is asked (on a terminal: ``getpass``; the window passes its own dialog) and the
connection is tried once more. Whatever libpq or the server says is cut to its reason and
any occurrence of the password is removed before it becomes a message.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from ..core.errors import ZtmmError
from .url import ServerUrl

#: Asked for the password when neither the URL, PGPASSWORD nor .pgpass gave one; None: no prompt.
Prompt = Callable[[ServerUrl], str | None]
CONNECT_TIMEOUT = 10
APPLICATION_NAME = "ztmm"


class ServerError(ZtmmError):
    """The server cannot be reached, refuses us, or is not a ZTMM server of our version."""


def terminal_prompt(url: ServerUrl) -> str | None:
    """The password read from the terminal (without echo), or None when there is no terminal."""
    if not sys.stdin.isatty():
        return None
    try:
        return getpass.getpass(f"password for {url.display}: ")
    except (EOFError, KeyboardInterrupt):
        return None


def redact(text: str, *secrets: str | None) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def reason(err: BaseException, *secrets: str | None) -> str:
    """libpq's or the server's message cut to its reason: one line, no password."""
    text = str(err).strip()
    # "connection failed: connection to server at "h", port p failed: FATAL:  <reason>"
    text = text.rsplit(" failed: ", 1)[-1] if " failed: " in text else text
    for prefix in ("FATAL:", "ERROR:"):
        text = text.removeprefix(prefix).strip()
    first = text.splitlines()[0].strip() if text else type(err).__name__
    return redact(" ".join(first.split()), *secrets)


def connect(
    url: ServerUrl, *, prompt: Prompt | None = terminal_prompt, autocommit: bool = False
) -> psycopg.Connection[Any]:
    """A connection to ``url``'s database as its user, or ``ServerError`` (one line)."""
    kwargs: dict[str, Any] = dict(url.connect_kwargs())
    kwargs.update(connect_timeout=CONNECT_TIMEOUT, application_name=APPLICATION_NAME, autocommit=autocommit)
    password = url.password
    try:
        return psycopg.connect(**kwargs)
    except psycopg.OperationalError as err:
        asked = None
        if password is None and prompt is not None and "no password supplied" in str(err):
            asked = prompt(url)
        if not asked:
            raise ServerError(f"cannot connect to {url.display}: {reason(err, password)}") from None
    kwargs["password"] = asked
    try:
        return psycopg.connect(**kwargs)
    except psycopg.OperationalError as err:
        raise ServerError(f"cannot connect to {url.display}: {reason(err, asked)}") from None


def engagement_schema(engagement: str) -> str:
    return f"e_{engagement}"


def use_engagement(conn: psycopg.Connection[Any], engagement: str) -> None:
    """Point unqualified table names at the engagement's schema (the file's table names)."""
    conn.execute(sql.SQL("SET search_path TO {}, pg_catalog").format(sql.Identifier(engagement_schema(engagement))))
