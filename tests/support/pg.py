"""A throw-away PostgreSQL cluster for the tests (and ``tools/pg-cluster.sh``).

``Cluster.start(folder)`` runs ``initdb`` and ``pg_ctl`` as an unprivileged user (``initdb``
refuses root: when run as root, the system user ``ztmm-pg`` is created if missing and the
commands run as it through ``runuser``). The cluster's sockets stay in its folder; it listens
on 127.0.0.1 on a free port and asks for a password (SCRAM) on TCP, so a wrong password is
refused for real. The superuser is ``postgres`` with a random password.

    python -m tests.support.pg start DIR [PORT]   # prints the superuser's URL
    python -m tests.support.pg stop DIR
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SYSTEM_USER = "ztmm-pg"
SUPERUSER = "postgres"


def bin_dir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (Debian keeps them out of PATH), or None."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _as_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", SYSTEM_USER, "--", *args]


def _ensure_system_user() -> None:
    if os.geteuid() != 0:
        return

    def exists() -> bool:
        return subprocess.run(["id", "-u", SYSTEM_USER], capture_output=True).returncode == 0

    if not exists():
        made = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0 and not exists():  # (another xdist worker may have just made it)
            raise RuntimeError(f"useradd {SYSTEM_USER} failed: {made.stderr.strip()}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    folder: Path
    port: int
    password: str
    host: str = "127.0.0.1"
    #: fsync off (the tests' throw-away clusters) or on (the benchmarks': honest commit costs)
    fsync: bool = False

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, user: str = SUPERUSER, db: str = "postgres", engagement: str | None = None) -> str:
        """A URL without the password (it comes from ``PGPASSWORD`` or ``.pgpass``)."""
        query = f"?engagement={engagement}" if engagement else ""
        return f"postgresql://{user}@{self.host}:{self.port}/{db}{query}"

    def conninfo(self, user: str = SUPERUSER, password: str | None = None, db: str = "postgres") -> str:
        pw = self.password if password is None else password
        return f"host={self.host} port={self.port} dbname={db} user={user} password={pw}"

    @classmethod
    def start(cls, folder: Path, port: int | None = None, *, fsync: bool = False) -> Cluster:
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError("PostgreSQL is not installed (tools/system-deps.sh installs it)")
        _ensure_system_user()
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(folder, SYSTEM_USER, SYSTEM_USER)
        folder.chmod(0o700)
        password = secrets.token_hex(16)
        pwfile = folder / "superuser-password"
        pwfile.write_text(password + "\n", encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(pwfile, SYSTEM_USER, SYSTEM_USER)
        pwfile.chmod(0o600)
        data = folder / "data"
        subprocess.run(
            _as_user(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        for attempt in range(5):
            chosen = port if port is not None else free_port()
            options = _options(chosen, folder, fsync)
            done = subprocess.run(
                _as_user(
                    [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o", options, "start"]
                ),
                capture_output=True,
                text=True,
            )
            if done.returncode == 0:
                return cls(folder, chosen, password, fsync=fsync)
            if port is not None or attempt == 4:
                raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()} {(folder / 'log').read_text()[-2000:]}")
        raise AssertionError("unreachable")

    def stop(self, mode: str = "fast") -> None:
        stop(self.folder, mode)

    def restart(self) -> None:
        binaries = bin_dir()
        assert binaries is not None
        options = _options(self.port, self.folder, self.fsync)
        subprocess.run(
            _as_user(
                [
                    str(binaries / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.folder / "log"),
                    "-w",
                    "-o",
                    options,
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def sql(self, statement: str, params: tuple[object, ...] = (), db: str = "postgres") -> list[tuple[object, ...]]:
        """Run one statement as the superuser (autocommit) and return its rows."""
        import psycopg

        with psycopg.connect(self.conninfo(db=db), autocommit=True) as conn:
            cur = conn.execute(statement, params)  # type: ignore[arg-type]  # a test's own literal SQL
            return list(cur.fetchall()) if cur.description else []

    def login(self, name: str, password: str) -> None:
        """A login role (what the firm's DBA creates for each consultant)."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password))
            )

    def database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _options(port: int, folder: Path, fsync: bool) -> str:
    return (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync={'on' if fsync else 'off'} -c max_connections=60"
    )


def stop(folder: Path, mode: str = "fast") -> None:
    binaries = bin_dir()
    if binaries is None or not (folder / "data" / "postmaster.pid").exists():
        return
    subprocess.run(
        _as_user([str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-m", mode, "-w", "stop"]),
        capture_output=True,
    )


OWNER_FILE = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale() -> None:
    """Stop and delete the clusters of test runs that were killed before they could (their owner is gone)."""
    for folder in Path(tempfile.gettempdir()).glob("ztmm-pg-*"):
        try:
            owner = int((folder / OWNER_FILE).read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue
        if not _alive(owner):
            stop(folder, "immediate")
            shutil.rmtree(folder, ignore_errors=True)


def temp_folder() -> Path:
    """A folder the cluster's user can enter (pytest's temp folders are private to root), owned by this process."""
    reap_stale()
    folder = Path(tempfile.mkdtemp(prefix="ztmm-pg-"))
    (folder / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
    return folder


def remove(folder: Path) -> None:
    stop(folder)
    with contextlib.suppress(OSError):
        shutil.rmtree(folder)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "start":
        cluster = Cluster.start(Path(argv[1]).resolve(), int(argv[2]) if len(argv) > 2 else None)
        print(
            f"postgresql://{SUPERUSER}@{cluster.host}:{cluster.port}/postgres  (password in {cluster.folder}/superuser-password)"
        )
        return 0
    if len(argv) == 2 and argv[0] == "stop":
        stop(Path(argv[1]).resolve())
        return 0
    print("usage: pg-cluster.sh start DIR [PORT] | stop DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
