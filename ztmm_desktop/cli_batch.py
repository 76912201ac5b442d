"""``ztmm batch FILE|URL``: run ``ztmm`` commands one per line on one engagement, opened once.

A line is a command as it is typed after ``ztmm``, without the engagement file, which
the batch supplies (``assess 1.2 --rate initial=met``, ``finding add 1.2 --title …``,
``workshop start 3``). Words are split as a POSIX shell splits them (quotes, backslashes);
blank lines and lines starting with ``#`` are skipped.

Every line is parsed before any runs: a line that is not a command (or that names
``new``, ``batch`` or the engagement file itself) is refused with ``line N: error: …``
and exit 2, and nothing runs. Then each line runs through the command's own handler,
so it prints, checks and exits exactly as the command would; the handlers open the
engagement through ``services.engagement.open_engagement``, which the batch points at
the engagement it holds open for as long as the lines run.

By default each line is its own transaction and save, as if the commands ran one by
one: the batch stops at the first line that fails (any exit code but 0), whose
changes are dropped, with the lines before it saved, and exits with that line's
code. With ``--atomic`` the lines' saves wait for the end: one save when every
line succeeded, nothing saved otherwise.

On a server's engagement (a URL) the lines run on one copy read in one server transaction, and
their changes are written back in that transaction at the end: all or nothing, as with
``--atomic`` (there is no save per line on a server).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .core.errors import BadInput, ZtmmError

if TYPE_CHECKING:
    from .services.engagement import Engagement

#: Commands a line may not run: ``new`` makes another file, ``batch`` would nest, the team-mode
#: commands work on a server (docs/server.md), not on the batch's open file.
_ON_A_SERVER = "it works on a server, not on the batch's file; run it on its own"
NOT_IN_A_BATCH = {
    "new": "it creates a file; run 'ztmm new' first",
    "batch": "batches do not nest",
    **dict.fromkeys(("publish", "checkout", "engagements", "server", "comment", "comments"), _ON_A_SERVER),
}
#: Commands whose engagement file comes after their verb (``finding add FILE …``).
FILE_AFTER_VERB = ("finding", "action")
#: Commands without an engagement file.
NO_FILE = ("catalog",)


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    args: argparse.Namespace


class LineFailed(Exception):
    """A line of the script could not be read or parsed (exit 2, nothing runs)."""

    def __init__(self, number: int, message: str) -> None:
        super().__init__(f"line {number}: error: {message}")


def read_script(source: Path | None, limit: int) -> list[tuple[int, str]]:
    """The script's lines that hold a command, with their numbers (from 1); stdin when ``source`` is None."""
    try:
        if source is None or str(source) == "-":
            data = sys.stdin.buffer.read(limit + 1)
            name = "the standard input"
        else:
            with source.open("rb") as handle:
                data = handle.read(limit + 1)
            name = str(source)
    except OSError as err:
        raise BadInput(f"cannot read {source} ({err.strerror or err})") from None
    if len(data) > limit:
        raise BadInput(f"{name} is larger than {limit:,} bytes; split the batch")
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise LineFailed(number, "not UTF-8 text") from None
        text = text.removeprefix("\ufeff") if number == 1 else text
        if text.strip() and not text.lstrip().startswith("#"):
            lines.append((number, text))
    return lines


def _words(number: int, text: str, file: str) -> list[str]:
    """The line's words with the engagement file put where the command takes it."""
    try:
        words = shlex.split(text)
    except ValueError as err:  # no closing quotation, no escaped character
        raise LineFailed(number, f"{str(err).lower()}: {text.strip()[:60]!r}") from None
    command = words[0]
    if command == "ztmm":
        raise LineFailed(
            number, "write a line without 'ztmm' and without the engagement file, e.g. 'assess 1.2 --rate initial=met'"
        )
    if command in NOT_IN_A_BATCH:
        raise LineFailed(number, f"'{command}' cannot run in a batch: {NOT_IN_A_BATCH[command]}")
    if any(word in ("-h", "--help", "--version") for word in words):
        raise LineFailed(number, "--help and --version do not run in a batch; try 'ztmm COMMAND --help'")
    if command in NO_FILE:
        return words
    at = 2 if command in FILE_AFTER_VERB else 1
    return [*words[:at], file, *words[at:]]


def parse_lines(parser: argparse.ArgumentParser, lines: list[tuple[int, str]], file: str) -> list[Line]:
    """Every line parsed as the command it names; the first that is not a command raises ``LineFailed``."""
    parsed: list[Line] = []
    for number, text in lines:
        words = _words(number, text, file)
        try:
            args = parser.parse_args(words)
        except ZtmmError as err:
            raise LineFailed(number, str(err)) from None
        parsed.append(Line(number, text, args))
    return parsed


def writes(args: argparse.Namespace) -> bool:
    """True when the command may change the engagement (it then opens it for editing)."""
    command = args.command
    if command in ("info", "catalog", "evidence", "extract", "verify", "evidence-pack", "report", "export", "compare"):
        return False
    if command in FILE_AFTER_VERB:
        return bool(args.verb != "list")
    if command == "workshop":
        return bool(args.action != "list")
    if command == "baseline":
        return not args.list
    if command in ("import", "merge"):
        return not args.dry_run
    return True


class _Lent:
    """The batch's engagement as ``with open_engagement(...) as engagement`` hands it out: never closed there."""

    def __init__(self, engagement: Engagement) -> None:
        self.engagement = engagement

    def __enter__(self) -> Engagement:
        return self.engagement

    def __exit__(self, *exc: object) -> None:
        return None


@contextmanager
def lending(engagement: Engagement) -> Iterator[None]:
    """While the lines run, opening the engagement's own file hands out ``engagement`` (other files open as ever)."""
    from .services import engagement as module

    real: Callable[..., Any] = module.open_engagement
    held = Path(os.path.abspath(engagement.path))

    def open_engagement(path: Path, *, readonly: bool = False, **options: Any) -> Any:
        if options or Path(os.path.abspath(path)) != held:
            return real(path, readonly=readonly, **options)
        if not readonly and engagement.readonly:  # writes() said no line writes: a mistake of this module
            raise RuntimeError(f"a batch line asked to edit {held.name}, which the batch opened read-only")
        return _Lent(engagement)

    module.open_engagement = open_engagement
    try:
        yield
    finally:
        module.open_engagement = real


def run_line(handler: Callable[[argparse.Namespace], int], line: Line) -> tuple[int, str]:
    """Run one line's command; its exit code and, when it failed with an error, the message (as ``ztmm`` says it)."""
    from . import cli

    try:
        return handler(line.args), ""
    except ZtmmError as err:
        return cli.EXIT_BAD_INPUT, f"error: {err}"
    except BrokenPipeError:  # the reader of the output went away: ``ztmm`` handles it for the whole batch
        raise
    except Exception as err:  # a bug, not bad input: say so in one line, as ``ztmm`` does
        if os.environ.get("ZTMM_DEBUG"):
            traceback.print_exc()
        return (
            cli.EXIT_FAILURE,
            f"error: unexpected failure ({type(err).__name__}: {err}); set ZTMM_DEBUG=1 for details",
        )


class _Failed(Exception):
    """A line of a batch on a server failed: the server transaction ends without writing anything."""

    def __init__(self, code: int) -> None:
        self.code = code


def run_batch(args: argparse.Namespace) -> int:
    from . import cli

    on_server = cli._is_url(args.file)
    shown = args.file.display if on_server else str(args.file)
    try:
        script = read_script(args.script, cli.MAX_TEXT_FILE_BYTES)
        lines = parse_lines(cli.build_parser(), script, shown)
    except LineFailed as err:
        print(f"{err}; nothing was run", file=sys.stderr)
        return cli.EXIT_BAD_INPUT
    if not lines:
        print(f"no commands to run on {shown}")
        return cli.EXIT_OK
    readonly = not any(writes(line.args) for line in lines)
    if not on_server:
        from .services.engagement import open_engagement

        with open_engagement(args.file, readonly=readonly) as engagement:
            return _run_lines(engagement, lines, atomic=args.atomic)
    evidence_bytes = any(line.args.command in BYTES_READERS for line in lines)
    return _run_on_server(args.file, script, readonly=readonly, evidence_bytes=evidence_bytes)


#: The commands that read evidence bytes: a batch on a server with one of them copies the bytes too.
BYTES_READERS = ("extract", "verify", "evidence-pack", "merge")


def _run_on_server(url: Any, script: list[tuple[int, str]], *, readonly: bool, evidence_bytes: bool) -> int:
    """The lines on the server's engagement, read into one copy in one server transaction
    (``services.team.server_engagement``), whose changes are written back at the end in that
    transaction: a batch on a server is all or nothing (``--atomic`` or not), as there is no save
    per line on a server."""
    from . import cli
    from .services.team import server_engagement

    try:
        with server_engagement(url, readonly=readonly, evidence_bytes=evidence_bytes) as engagement:
            # the lines again, now naming the copy: its commands open it through ``lending``
            lines = parse_lines(cli.build_parser(), script, str(engagement.path))
            code = _run_lines(engagement, lines, atomic=True, written="nothing was written to the server")
            if code != cli.EXIT_OK:
                raise _Failed(code)
    except _Failed as failed:
        return failed.code
    return cli.EXIT_OK


def _run_lines(engagement: Engagement, lines: list[Line], *, atomic: bool, written: str = "") -> int:
    """Each line's command on ``engagement``; the first failing line's exit code (0: all ran)."""
    from . import cli

    saves: list[int] = []
    own_save = engagement.__dict__.get("save")  # a server copy's (services.team.server_engagement), if any
    if atomic:
        # Each line's save waits for the end of the batch: one save, or none when a line fails.
        engagement.save = lambda **_: saves.append(1)  # type: ignore[method-assign]
    with lending(engagement):
        for line in lines:
            code, message = run_line(cli.COMMANDS[line.args.command], line)
            if code == cli.EXIT_OK:
                continue
            sys.stdout.flush()
            if atomic:
                outcome = written or "nothing was saved (--atomic)"
            else:
                outcome = "stopped there: the lines before it are saved, the rest did not run"
            detail = f"{message}; " if message else f"exit code {code}; "
            print(f"line {line.number}: {detail}{outcome}", file=sys.stderr)
            return code
    if atomic and saves:
        if own_save is None:
            del engagement.save  # the real one again
        else:
            engagement.save = own_save  # type: ignore[method-assign]
        engagement.save()
    return cli.EXIT_OK
