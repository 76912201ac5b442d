"""The ``ztmm`` command: the engagement services without a window.

Exit codes: 0 done; 1 a check found problems; 2 bad input or usage (one line
``error: …`` on stderr, nothing changed); 3 an unexpected failure (a bug:
set ZTMM_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .core.errors import BadInput, ZtmmError
from .core.stages import Rating, Stage
from .core.wording import WORDINGS, apply_wording

# Each command imports what it needs when it runs (``ztmm --help`` and ``ztmm catalog`` need no figures,
# no database layer, no services).
if TYPE_CHECKING:
    from .core.deliverable import BaselineRef
    from .core.progress_compare import Comparison, RollupProgress
    from .core.scoring import FunctionResult, Rollup
    from .services.engagement import Properties
    from .services.records import Records

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT, EXIT_FAILURE = 0, 1, 2, 3
#: Largest file read for an ``@FILE`` text argument; the text limits themselves are the services'.
MAX_TEXT_FILE_BYTES = 8 * 1024 * 1024


class UsageError(BadInput):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _pair(text: str, what: str) -> tuple[str, str]:
    stage, sep, value = text.partition("=")
    if not sep or not stage.strip():
        raise BadInput(f"{what} {text!r} must look like STAGE=VALUE, e.g. initial=met")
    return stage.strip(), value


def _text_value(value: str, what: str) -> str:
    """A text argument; ``@FILE`` reads it from a UTF-8 file, ``@@`` stands for a leading ``@``."""
    if value.startswith("@@"):
        return value[1:]
    if not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TEXT_FILE_BYTES + 1)
    except OSError as err:
        raise BadInput(f"{what}: cannot read {path} ({err.strerror or err})") from None
    if len(data) > MAX_TEXT_FILE_BYTES:
        raise BadInput(f"{what}: {path} is larger than {MAX_TEXT_FILE_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{what}: {path} is not UTF-8 text") from None


def _property_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--title")
    parser.add_argument("--assessor", action="append", metavar="NAME", help="repeat for each assessor")
    parser.add_argument("--scope", help="pillars in scope, comma-separated (ids or codes); default all")
    parser.add_argument("--start", metavar="DATE", help="YYYY-MM-DD ('' clears)")
    parser.add_argument("--end", metavar="DATE", help="YYYY-MM-DD ('' clears)")
    parser.add_argument("--marking", help="protective marking printed on every deliverable")
    parser.add_argument("--wording", choices=sorted(WORDINGS), help="CISA's 'Agency' or 'Enterprise'")


def _properties(args: argparse.Namespace, current: Properties) -> Properties:
    """``current`` with every property the arguments name replaced."""
    changes: dict[str, Any] = {}
    for arg, name in (("client", "client"), ("title", "title"), ("marking", "marking"), ("wording", "wording")):
        if getattr(args, arg) is not None:
            changes[name] = getattr(args, arg)
    if args.assessor is not None:
        changes["assessors"] = tuple(args.assessor)
    if args.scope is not None:
        changes["scope"] = tuple(p for p in args.scope.split(",") if p.strip())
    for arg, name in (("start", "start_date"), ("end", "end_date")):
        if getattr(args, arg) is not None:
            changes[name] = getattr(args, arg) or None
    return replace(current, **changes)


def _target(text: str) -> Any:
    """An engagement FILE, or a server URL (``postgresql://…``, docs/server.md) for the commands that take one."""
    from .server.url import is_server_url, parse

    return parse(text) if is_server_url(text) else Path(text)


def _is_url(target: object) -> bool:
    return not isinstance(target, Path)


@contextlib.contextmanager
def _open(target: Any, *, readonly: bool = False, evidence_bytes: bool = False) -> Any:
    """The engagement in a file or on a server, for the ordinary services (``services.team.server_engagement``).

    On a server, only the commands that read evidence bytes (``evidence_bytes``: extract, verify,
    evidence-pack, merge) have them copied; the others get the records alone, so that their cost does
    not grow with the evidence."""
    if _is_url(target):
        from .services.team import server_engagement

        with server_engagement(target, readonly=readonly, evidence_bytes=evidence_bytes) as engagement:
            yield engagement
        return
    from .services.engagement import open_engagement

    with open_engagement(target, readonly=readonly) as engagement:
        yield engagement


@contextlib.contextmanager
def _read(target: Any, *, evidence_bytes: bool = False) -> Any:
    """A read-only engagement for ``info``, ``evidence`` and ``verify``: a file read without the ORM
    (``services.records.open_for_reading``, docs/storage.md), an address on a server as ``_open`` opens it."""
    if _is_url(target):
        with _open(target, readonly=True, evidence_bytes=evidence_bytes) as engagement:
            yield engagement
        return
    from .services.records import open_for_reading

    with open_for_reading(target) as engagement:
        yield engagement


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ztmm", description="CISA Zero Trust Maturity Model assessments, headless.")
    parser.add_argument("--version", action="version", version=f"ztmm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    new = sub.add_parser("new", help="create an engagement file")
    new.add_argument("file", type=Path)
    new.add_argument("--client", required=True)
    _property_arguments(new)
    new.add_argument(
        "--encrypt", action="store_true", help=f"encrypt the file with a passphrase (asked, or {PASSPHRASE_ENV})"
    )
    new.add_argument("--remember", action="store_true", help="with --encrypt: keep the passphrase in the OS keyring")

    encrypt = sub.add_parser("encrypt", help="encrypt an engagement file with a passphrase (SQLCipher, AES-256)")
    encrypt.add_argument("file", type=Path)
    encrypt.add_argument("--remember", action="store_true", help="keep the passphrase in the OS keyring")
    decrypt = sub.add_parser("decrypt", help="remove an engagement file's encryption")
    decrypt.add_argument("file", type=Path)
    rekey = sub.add_parser("rekey", help=f"change an encrypted engagement's passphrase (new one: {NEW_PASSPHRASE_ENV})")
    rekey.add_argument("file", type=Path)
    rekey.add_argument("--remember", action="store_true", help="keep the new passphrase in the OS keyring")

    props = sub.add_parser(
        "set",
        help="change an engagement's client, title, assessors, scope, dates, marking, wording, report logo,"
        " report sections and document control",
    )
    props.add_argument("file", type=_target, metavar="FILE|URL")
    props.add_argument("--client")
    _property_arguments(props)
    logo = props.add_mutually_exclusive_group()
    logo.add_argument("--logo", type=Path, metavar="IMAGE", help="the client's logo for the report cover (PNG or JPEG)")
    logo.add_argument("--no-logo", action="store_true", help="remove the report logo")
    _register_arguments(props)
    props.add_argument("--by", metavar="NAME", help="who made the change (default: login name)")

    info = sub.add_parser("info", help="show an engagement: metadata, ratings, stages, roll-ups")
    info.add_argument("file", type=_target, metavar="FILE|URL")
    info.add_argument("--json", action="store_true")

    catalog = sub.add_parser("catalog", help="show the maturity model and its guidance")
    catalog.add_argument("--json", action="store_true")
    catalog.add_argument("--wording", choices=sorted(WORDINGS), default="cisa")

    assess = sub.add_parser("assess", help="rate stages, comment, override, set target or notes")
    assess.add_argument("file", type=_target, metavar="FILE|URL")
    assess.add_argument("function", help="function id (identity.authentication) or code (1.1)")
    assess.add_argument("--rate", action="append", default=[], metavar="STAGE=RATING")
    assess.add_argument(
        "--comment", action="append", default=[], metavar="STAGE=TEXT", help="TEXT or @FILE (UTF-8 text file)"
    )
    assess.add_argument("--current", metavar="STAGE", help="override the derived stage ('derived' clears it)")
    assess.add_argument("--reason", help="why the current stage is overridden")
    assess.add_argument("--target", metavar="STAGE")
    assess.add_argument("--note", help="replace the function's notes (TEXT or @FILE)")
    assess.add_argument("--confidence")
    assess.add_argument("--priority")
    assess.add_argument("--owner")
    assess.add_argument("--status")
    assess.add_argument("--by", metavar="NAME", help="who made the change (default: login name)")
    attach = sub.add_parser("attach", help="attach evidence files to a function or stage")
    attach.add_argument("file", type=_target, metavar="FILE|URL")
    attach.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    attach.add_argument("--to", action="append", required=True, metavar="FUNCTION[/STAGE]")
    attach.add_argument("--title", help="title (default: the file name); TEXT or @FILE")
    attach.add_argument("--kind", default="document", help="document, screenshot, configuration-export, …")
    attach.add_argument("--by", metavar="NAME", help="who captured it (default: login name)")

    evidence = sub.add_parser("evidence", help="list the evidence with its links")
    evidence.add_argument("file", type=_target, metavar="FILE|URL")
    evidence.add_argument("--json", action="store_true")

    extract = sub.add_parser("extract", help="write one evidence file back under a safe name")
    extract.add_argument("file", type=_target, metavar="FILE|URL")
    extract.add_argument("evidence_id", metavar="EVIDENCE_ID")
    extract.add_argument("out_dir", type=Path, metavar="OUT_DIR")

    verify = sub.add_parser("verify", help="recompute every evidence hash (exit 1 when any differs)")
    verify.add_argument("file", type=_target, metavar="FILE|URL")

    pack = sub.add_parser("evidence-pack", help="zip every evidence file with manifest.csv")
    pack.add_argument("file", type=_target, metavar="FILE|URL")
    pack.add_argument("out", type=Path, metavar="OUT.zip")
    _encrypt_argument(pack)

    report = sub.add_parser("report", help="write the report: PDF, or Word when OUT ends in .docx")
    report.add_argument("file", type=_target, metavar="FILE|URL")
    report.add_argument("out", type=Path, metavar="OUT.pdf|OUT.docx")
    report.add_argument("--draft", action="store_true", help="mark every page DRAFT")
    report.add_argument("--logo", type=Path, metavar="IMAGE", help="a PNG or JPEG for the cover (≤ 4096 px, ≤ 5 MB)")
    report.add_argument(
        "--template",
        type=Path,
        metavar="TEMPLATE.docx",
        help="the firm's Word template for a .docx report (placeholders: docs/word-template.md)",
    )
    _review_comments_argument(report)
    _encrypt_argument(report)

    export = sub.add_parser("export", help="write the client workbook (or, with --questionnaire, a questionnaire)")
    export.add_argument("file", type=_target, metavar="FILE|URL")
    export.add_argument("out", type=Path, metavar="OUT.xlsx")
    export.add_argument(
        "--questionnaire", action="store_true", help="a questionnaire for client staff instead of the deliverable"
    )
    export.add_argument("--respondent", metavar="NAME", help="who the questionnaire is for (with --questionnaire)")
    export.add_argument(
        "--scope", metavar="PILLAR,...", help="pillars the questionnaire asks about (with --questionnaire)"
    )
    _review_comments_argument(export)
    _encrypt_argument(export)

    imp = sub.add_parser(
        "import", help="read a filled questionnaire (or a deliverable workbook) back: show and apply its differences"
    )
    imp.add_argument("file", type=_target, metavar="FILE|URL")
    imp.add_argument("workbook", type=Path, metavar="IN.xlsx")
    imp.add_argument("--dry-run", action="store_true", help="show the differences, change nothing")
    imp.add_argument(
        "--respondent", metavar="NAME", help="who answered (required for a deliverable; overrides the file's name)"
    )
    imp.add_argument(
        "--force-engagement", action="store_true", help="accept a workbook exported from another engagement"
    )
    imp.add_argument("--by", metavar="NAME", help="who imported it (default: login name)")

    baseline = sub.add_parser("baseline", help="freeze the assessment as a named baseline (or list, delete them)")
    baseline.add_argument("file", type=_target, metavar="FILE|URL")
    baseline.add_argument("name", nargs="?", metavar="NAME", help="e.g. 'Initial assessment 2026-11'")
    baseline.add_argument("--list", action="store_true", help="list the baselines")
    baseline.add_argument("--delete", metavar="NAME", help="delete a baseline")
    baseline.add_argument("--json", action="store_true", help="with --list: JSON")
    baseline.add_argument("--by", metavar="NAME", help="who froze it (default: login name)")

    compare = sub.add_parser("compare", help="progress: the stage of each function then (baseline or file) and now")
    compare.add_argument("file", type=_target, metavar="FILE|URL")
    against = compare.add_mutually_exclusive_group()
    against.add_argument("--baseline", metavar="NAME", help="a baseline of FILE (default: the latest)")
    against.add_argument(
        "--with",
        dest="other",
        type=_target,
        metavar="OTHER.ztmm|URL",
        help="another engagement of the client: a file or a server address",
    )
    compare.add_argument("--force", action="store_true", help="with --with: compare with another client's file")
    compare.add_argument("--json", action="store_true", help="every function in scope with then and now")

    workshop = sub.add_parser("workshop", help="record workshops; while one runs, every edit is tagged with it")
    workshop.add_argument("file", type=_target, metavar="FILE|URL")
    actions = workshop.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    add = actions.add_parser("add", help="record a planned workshop")
    add.add_argument("--date", required=True, metavar="DATE", help="YYYY-MM-DD")
    add.add_argument("--title", required=True)
    add.add_argument("--pillars", metavar="LIST", help="pillars covered, comma-separated (ids or codes)")
    add.add_argument("--functions", metavar="LIST", help="functions covered, comma-separated (ids or codes)")
    add.add_argument("--notes", metavar="TEXT", help="notes (@FILE reads a UTF-8 file)")
    add.add_argument("--attendees", metavar="@FILE", help="name, role, organization per line (tab- or comma-separated)")
    add.add_argument("--by", metavar="NAME", help="who recorded it (default: login name)")
    listing = actions.add_parser("list", help="list the workshops")
    listing.add_argument("--json", action="store_true")
    begin = actions.add_parser("start", help="start a workshop: edits from now on are tagged with it")
    begin.add_argument("id", type=int, metavar="ID")
    begin.add_argument("--by", metavar="NAME")
    end = actions.add_parser("stop", help="stop the running workshop")
    end.add_argument("--by", metavar="NAME")

    merge = sub.add_parser(
        "merge",
        help="bring a colleague's copy of the same engagement into this one (changes, evidence, findings, workshops)",
    )
    merge.add_argument("file", type=_target, metavar="FILE|URL")
    merge.add_argument("other", type=_target, metavar="OTHER.ztmm|URL")
    merge.add_argument("--dry-run", action="store_true", help="show what would be applied and every conflict")
    merge.add_argument("--force", action="store_true", help="merge a file of another engagement")
    merge.add_argument(
        "--theirs", action="append", default=[], metavar="KEY", help="take their value for this conflict (repeat)"
    )
    merge.add_argument("--by", metavar="NAME", help="who merged (default: login name)")
    _team_parsers(sub)
    _finding_parser(sub)
    _action_parser(sub)

    batch = sub.add_parser(
        "batch",
        help="run commands one per line on FILE, opened once (from stdin, or --from SCRIPT)",
        description="Run ztmm commands one per line on FILE, opened once. A line is a command without 'ztmm' and"
        " without the file, e.g. 'assess 1.2 --rate initial=met'; blank lines and lines starting with # are"
        " skipped. Every line is checked before any runs. Each line is saved as it succeeds; the batch stops at"
        " the first line that fails and exits with its code.",
    )
    batch.add_argument("file", type=_target, metavar="FILE|URL")
    batch.add_argument(
        "--from",
        dest="script",
        type=Path,
        metavar="SCRIPT",
        help="read the lines from SCRIPT ('-': stdin, the default)",
    )
    batch.add_argument(
        "--atomic", action="store_true", help="all or nothing: one save at the end, nothing saved when a line fails"
    )
    return parser


# -- passphrases ---------------------------------------------------------------------------

PASSPHRASE_ENV = "ZTMM_PASSPHRASE"
NEW_PASSPHRASE_ENV = "ZTMM_NEW_PASSPHRASE"
EXPORT_PASSPHRASE_ENV = "ZTMM_EXPORT_PASSPHRASE"


def _review_comments_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--review-comments",
        action="store_true",
        help="print the reviewers' comments under each finding (a server engagement; internal, not for the client)",
    )


def _review_comments(args: argparse.Namespace) -> Any:
    """The comments on the engagement's findings when ``--review-comments`` asks for them (read first: a
    refusal comes before any work), else none."""
    if not args.review_comments:
        return ()
    from .services.comments import read_comments

    return read_comments(_comments_url(args.file))


def _encrypt_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--encrypt",
        action="store_true",
        help=f"write an AES-256 zip (OUT ends in .zip; passphrase asked, or {EXPORT_PASSPHRASE_ENV})",
    )


def _new_passphrase(env: str, what: str) -> str:
    """A new passphrase: from ``env``, else typed twice at the terminal."""
    import getpass

    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise BadInput(f"{what} needs a passphrase: set {env} or run in a terminal to type it")
    first = getpass.getpass(f"New passphrase for {what}: ")
    if getpass.getpass("Type it again: ") != first:
        raise BadInput("the two passphrases differ; nothing changed")
    return first


def _export_passphrase(args: argparse.Namespace, out: Path) -> str | None:
    if not getattr(args, "encrypt", False):
        return None
    from .services.sealed import check_passphrase

    return check_passphrase(_new_passphrase(EXPORT_PASSPHRASE_ENV, out.name))


def _ask_passphrase(path: Path, wrong: int) -> Any:
    """The ``ztmm`` command's asker: one try at the terminal (a script sets ZTMM_PASSPHRASE)."""
    import getpass

    from .services.passphrase import Answer
    from .store.connect import PassphraseNeeded, WrongKey

    if wrong:
        raise WrongKey(f"{path.name}: wrong passphrase")
    if not sys.stdin.isatty():
        raise PassphraseNeeded(
            f"{path.name}: an encrypted engagement file; set {PASSPHRASE_ENV} or run in a terminal to type its passphrase"
        )
    return Answer(getpass.getpass(f"Passphrase for {path.name}: "))


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


# -- the consultant's registers: sections, document control, findings, actions -------------

BY_HELP = "who made the change (default: ZTMM_ASSESSOR, the assessor preference, the login name)"


def _register_arguments(props: argparse.ArgumentParser) -> None:
    props.add_argument(
        "--section",
        action="append",
        default=[],
        metavar="NAME=TEXT",
        help="a report section (executive-summary, key-messages, scope, approach, limitations, disclaimer);"
        " TEXT or @FILE; empty TEXT clears (repeat)",
    )
    props.add_argument("--consultancy", metavar="NAME", help="the consultancy issuing the report")
    consultancy_logo = props.add_mutually_exclusive_group()
    consultancy_logo.add_argument(
        "--consultancy-logo",
        type=Path,
        metavar="IMAGE",
        help="the consultancy's logo beside the client's (PNG or JPEG)",
    )
    consultancy_logo.add_argument("--no-consultancy-logo", action="store_true", help="remove the consultancy's logo")
    props.add_argument("--report-version", metavar="V", help="the report's version, e.g. 1.0")
    props.add_argument(
        "--history",
        action="append",
        metavar="VERSION|DATE|AUTHOR|CHANGE",
        help="a line of the version history (repeat; replaces the list; one empty value clears it)",
    )
    props.add_argument(
        "--recipient",
        action="append",
        metavar="NAME|ORGANIZATION|ROLE",
        help="a recipient on the distribution list (repeat; replaces the list; one empty value clears it)",
    )
    props.add_argument("--reviewer", metavar="NAME")
    props.add_argument("--reviewed-on", metavar="DATE", help="YYYY-MM-DD ('' clears)")
    props.add_argument("--approver", metavar="NAME")
    props.add_argument("--approved-on", metavar="DATE", help="YYYY-MM-DD ('' clears)")
    props.add_argument("--paper", metavar="SIZE", help="A4 or Letter: every page of the deliverables")
    props.add_argument("--vendor-neutral", metavar="yes|no", help="leave vendor guidance out of the deliverables")


def _fields(text: str, count: int, what: str, shape: str) -> list[str]:
    parts = [p.strip() for p in text.split("|")]
    if len(parts) > count:
        raise BadInput(f"{what} {text[:60]!r} has more than {count} fields; it must look like {shape}")
    return parts + [""] * (count - len(parts))


def _yes_no(value: str, what: str) -> bool:
    word = value.strip().lower()
    if word in ("yes", "y", "true", "on", "1"):
        return True
    if word in ("no", "n", "false", "off", "0"):
        return False
    raise BadInput(f"{what} takes yes or no, not {value[:20]!r}")


def _control_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The document control arguments given, parsed (validated by the service)."""
    from .core.register import Recipient, VersionLine

    out: dict[str, Any] = {}
    for name in ("consultancy", "report_version", "reviewer", "reviewed_on", "approver", "approved_on", "paper"):
        if getattr(args, name) is not None:
            out[name] = getattr(args, name)
    if args.vendor_neutral is not None:
        out["vendor_neutral"] = _yes_no(args.vendor_neutral, "--vendor-neutral")
    if args.history is not None:
        lines = [h for h in args.history if h.strip()]
        out["history"] = [VersionLine(*_fields(h, 4, "--history", "VERSION|DATE|AUTHOR|CHANGE")) for h in lines]
    if args.recipient is not None:
        people = [r for r in args.recipient if r.strip()]
        out["distribution"] = [Recipient(*_fields(r, 3, "--recipient", "NAME|ORGANIZATION|ROLE")) for r in people]
    return out


def _section_texts(args: argparse.Namespace) -> dict[str, str]:
    from .services.register import check_section, section_key

    texts: dict[str, str] = {}
    for item in args.section:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise BadInput(f"--section {item[:40]!r} must look like NAME=TEXT, e.g. scope=@scope.txt")
        key = section_key(name)
        texts[key] = check_section(key, _text_value(value, f"--section {name.strip()}"))
    return texts


def _finding_options(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    parser.add_argument("--title", required=adding)
    parser.add_argument("--severity", help="low, medium, high, critical" + (" (default medium)" if adding else ""))
    parser.add_argument("--stage", metavar="STAGE", help="the stage it concerns ('' for none)")
    parser.add_argument("--observation", metavar="TEXT", help="TEXT or @FILE")
    parser.add_argument("--risk", metavar="TEXT", help="TEXT or @FILE")
    parser.add_argument("--recommendation", metavar="TEXT", help="TEXT or @FILE")
    parser.add_argument("--owner", metavar="NAME", help="who at the client tracks it")
    parser.add_argument("--due", metavar="DATE", help="YYYY-MM-DD ('' clears)")
    parser.add_argument("--status", help="open, in-progress, resolved, risk-accepted")
    parser.add_argument("--likelihood", metavar="1-5", help="1 rare … 5 almost certain ('' clears)")
    parser.add_argument("--impact", metavar="1-5", help="1 minimal … 5 severe ('' clears)")
    parser.add_argument("--by", metavar="NAME", help=BY_HELP)


def _finding_parser(sub: Any) -> None:
    finding = sub.add_parser("finding", help="add, edit, remove or list findings (the findings register)")
    verbs = finding.add_subparsers(dest="verb", metavar="ACTION", parser_class=_Parser)
    verbs.required = True
    add = verbs.add_parser("add", help="record a finding on a function")
    add.add_argument("file", type=_target, metavar="FILE|URL")
    add.add_argument("function", help="function id or code (1.1)")
    _finding_options(add, adding=True)
    edit = verbs.add_parser("edit", help="change a finding's fields")
    edit.add_argument("file", type=_target, metavar="FILE|URL")
    edit.add_argument("finding", metavar="FINDING-ID", help="its id, a unique start of it, or its number (F-03)")
    _finding_options(edit, adding=False)
    remove = verbs.add_parser("remove", help="delete a finding")
    remove.add_argument("file", type=_target, metavar="FILE|URL")
    remove.add_argument("finding", metavar="FINDING-ID")
    remove.add_argument("--by", metavar="NAME", help=BY_HELP)
    listing = verbs.add_parser("list", help="list the findings in the register's order, with their F-numbers")
    listing.add_argument("file", type=_target, metavar="FILE|URL")
    listing.add_argument("--json", action="store_true")


def _action_options(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    parser.add_argument("--text", required=adding, help="what to do (TEXT or @FILE)")
    parser.add_argument("--phase", required=adding, help="now, next or later")
    parser.add_argument("--effort", required=adding, help="S, M or L")
    parser.add_argument("--stage", metavar="STAGE", help="the stage it helps reach ('' for none)")
    parser.add_argument("--cost", help="an indicative cost band, e.g. '$10k-50k'")
    parser.add_argument("--owner", metavar="NAME")
    parser.add_argument("--after", metavar="ACTION", help="the action it comes after (id or A-number; '' for none)")
    parser.add_argument("--by", metavar="NAME", help=BY_HELP)


def _action_parser(sub: Any) -> None:
    action = sub.add_parser("action", help="add, edit, remove or list the roadmap's actions")
    verbs = action.add_subparsers(dest="verb", metavar="ACTION", parser_class=_Parser)
    verbs.required = True
    add = verbs.add_parser("add", help="add an action to a function")
    add.add_argument("file", type=_target, metavar="FILE|URL")
    add.add_argument("function", help="function id or code (1.1)")
    _action_options(add, adding=True)
    edit = verbs.add_parser("edit", help="change an action's fields")
    edit.add_argument("file", type=_target, metavar="FILE|URL")
    edit.add_argument("action", metavar="ACTION-ID", help="its id, a unique start of it, or its number (A-03)")
    edit.add_argument("--function", help="move it to another function")
    _action_options(edit, adding=False)
    remove = verbs.add_parser("remove", help="delete an action (actions after it no longer depend on it)")
    remove.add_argument("file", type=_target, metavar="FILE|URL")
    remove.add_argument("action", metavar="ACTION-ID")
    remove.add_argument("--by", metavar="NAME", help=BY_HELP)
    listing = verbs.add_parser("list", help="list the actions in roadmap order, with their A-numbers")
    listing.add_argument("file", type=_target, metavar="FILE|URL")
    listing.add_argument("--json", action="store_true")


# -- commands -----------------------------------------------------------------


def cmd_new(args: argparse.Namespace) -> int:
    from .services.engagement import Properties, create_engagement

    properties = _properties(args, Properties(client=args.client))
    key = None
    if args.encrypt:
        from .services import passphrase
        from .store.connect import cipher_module

        cipher_module()  # say so before asking anything when encryption is not available here
        if args.file.exists():
            raise BadInput(f"{args.file}: already exists; choose another name")
        secret = _new_passphrase(PASSPHRASE_ENV, args.file.name)
        key = passphrase.new_key(secret)
    elif args.remember:
        raise BadInput("--remember goes with --encrypt")
    with create_engagement(args.file, properties, key=key) as engagement:
        if key is not None and args.remember:
            passphrase.remember(key, secret)
        what = "encrypted engagement" if key is not None else "engagement"
        print(f"created {engagement.path} ({what} {engagement.meta().id})")
    return EXIT_OK


def cmd_encrypt(args: argparse.Namespace) -> int:
    from .services import encryption
    from .services.engagement import open_engagement
    from .store.connect import cipher_module

    cipher_module()  # say so before anything is opened when encryption is not available here
    with open_engagement(args.file) as engagement:
        if encryption.is_encrypted(engagement):
            raise BadInput(f"{args.file.name} is already encrypted; change its passphrase with 'ztmm rekey'")
        secret = _new_passphrase(PASSPHRASE_ENV, args.file.name)
        encryption.encrypt(engagement, secret, remember=args.remember)
    print(f"encrypted {args.file}")
    return EXIT_OK


def cmd_decrypt(args: argparse.Namespace) -> int:
    from .services import encryption
    from .services.engagement import open_engagement

    with open_engagement(args.file) as engagement:
        encryption.decrypt(engagement)
    print(f"removed the encryption of {args.file}; it is now stored in plaintext")
    return EXIT_OK


def cmd_rekey(args: argparse.Namespace) -> int:
    from .services import encryption
    from .services.engagement import open_engagement

    with open_engagement(args.file) as engagement:
        if not encryption.is_encrypted(engagement):
            raise BadInput(f"{args.file.name} is not encrypted; encrypt it with 'ztmm encrypt'")
        secret = _new_passphrase(NEW_PASSPHRASE_ENV, args.file.name)
        encryption.rekey(engagement, secret, remember=args.remember)
    print(f"changed the passphrase of {args.file}")
    return EXIT_OK


def cmd_set(args: argparse.Namespace) -> int:
    from .services import register
    from .services.logo import load_logo, set_consultancy_logo, set_logo

    # everything from outside is read and checked before anything changes
    new_logo = load_logo(args.logo) if args.logo is not None else None
    new_consultancy_logo = load_logo(args.consultancy_logo) if args.consultancy_logo is not None else None
    sections = _section_texts(args)
    control = _control_changes(args)
    with _open(args.file) as engagement:
        changes = engagement.update_properties(_properties(args, engagement.properties()), by=args.by)
        if new_logo is not None or args.no_logo:
            changes = set_logo(engagement, new_logo, by=args.by) or changes
        if sections:
            changes = register.set_sections(engagement, sections, by=args.by) or changes
        if control:
            changes = register.update_control(engagement, **control, by=args.by) or changes
        if new_consultancy_logo is not None or args.no_consultancy_logo:
            changes = set_consultancy_logo(engagement, new_consultancy_logo, by=args.by) or changes
        if changes:
            engagement.save()
        meta = engagement.meta()
    what = "updated" if changes else "nothing changed in"
    print(f"{what} {args.file}: {meta.client}" + (f" — {meta.title}" if meta.title else ""))
    return EXIT_OK


def _rollup_json(r: Rollup) -> dict[str, Any]:
    """A roll-up's figures as every deliverable shows them (``core.figures``: means rounded half up)."""
    from .core import figures

    shown = figures.rollup_figures(r)
    return {
        "id": r.key,
        "name": r.name,
        "functions": shown.functions,
        "assessed": shown.assessed,
        "not_applicable": shown.not_applicable,
        "scored": shown.scored,
        "score": shown.score_number,
        "score_text": shown.score_text(),
        "level": shown.level.key if shown.level is not None else None,
        "lowest": shown.lowest.key if shown.lowest is not None else None,
        "target_score": shown.target_number,
        "target_text": shown.target_text(),
        "below_target": shown.below_target,
        "distribution": {stage.key: count for stage, count in shown.distribution.items()},
    }


def _progress_json(comparison: Comparison, baseline: BaselineRef | None) -> dict[str, Any]:
    """Progress since the latest baseline, with the figures the deliverables show."""
    from .core import figures

    def change(r: RollupProgress) -> dict[str, Any]:
        shown = figures.rollup_change(r)
        return {
            "id": r.key,
            "name": r.name,
            "then": shown.then.score_number,
            "now": shown.now.score_number,
            "delta": shown.delta_number,
            "delta_text": shown.delta_text,
        }

    return {
        "baseline": asdict(baseline) if baseline is not None else None,
        "counts": figures.movement_counts(comparison).to_json(),
        "overall": change(comparison.overall),
        "pillars": [change(p) for p in comparison.pillars],
        "functions": {f.function.code: figures.movement_word(f) for f in comparison.functions},
    }


def _info_json(engagement: Records) -> dict[str, Any]:
    from .core import figures
    from .core.status import assessment_status
    from .services.progress import progress_since

    meta = engagement.meta()
    assessments = engagement.assessments()
    results: dict[str, FunctionResult] = engagement.results()
    pillars, overall = engagement.rollups()
    functions = []
    for function in engagement.functions_in_scope():
        a, r = assessments[function.id], results[function.id]
        functions.append(
            {
                "id": function.id,
                "code": function.code,
                "name": function.name,
                "pillar": function.pillar_id,
                "stages": [
                    {
                        "stage": stage.key,
                        "rating": a.rating(stage).rating.value if stage is not Stage.TRADITIONAL else None,
                        "comment": a.rating(stage).comment if stage is not Stage.TRADITIONAL else "",
                    }
                    for stage in Stage
                ],
                "current": r.current.key,
                "derived": r.derived.key,
                "overridden": r.overridden,
                "override_reason": r.override_reason or None,
                "target": r.target.key if r.target is not None else None,
                "gap": r.gap,
                "below_target": r.below_target,
                "assessed": r.assessed,
                "applicable": r.applicable,
                "confidence": a.confidence,
                "priority": a.priority,
                "owner": a.owner,
                "status": a.status,  # as recorded ("" when not)
                "assessment_status": assessment_status(a).key,  # as every view and deliverable shows it
                "notes": a.notes,
            }
        )
    data = asdict(meta)
    findings = engagement.findings()
    comparison, baseline = progress_since(engagement)
    return {
        "engagement": data,
        "file": str(engagement.path),
        "encrypted": engagement.encrypted,
        "functions": functions,
        "pillars": [_rollup_json(p) for p in pillars],
        "overall": _rollup_json(overall),
        "findings": len(findings),
        "findings_by_severity": figures.findings_by_severity(f.severity for f in findings),
        "progress": _progress_json(comparison, baseline) if comparison is not None else None,
    }


def cmd_info(args: argparse.Namespace) -> int:
    with _read(args.file) as engagement:
        data = _info_json(engagement)
        data.update(_register_json(engagement))
    if _is_url(args.file):
        data["file"] = str(args.file)  # the address, not the disposable copy it was read from
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return EXIT_OK
    m = data["engagement"]
    print(f"{m['client']}" + (f" — {m['title']}" if m["title"] else ""))
    print(f"  file:       {data['file']}" + ("  (encrypted)" if data["encrypted"] else ""))
    print(f"  engagement: {m['id']}")
    print(f"  assessors:  {', '.join(m['assessors']) or '-'}")
    print(f"  dates:      {m['start_date'] or '-'} to {m['end_date'] or '-'}")
    print(f"  marking:    {m['marking'] or '-'}")
    print(f"  wording:    {WORDINGS[m['wording']]}")
    print(f"  catalog:    {m['catalog_id']} {m['catalog_version']}; guidance: {', '.join(m['guidance_packs']) or '-'}")
    print()
    print(f"{'Pillar':34} {'Score':16} {'Assessed':>9}  T/I/A/O   Below target")
    for p in [*data["pillars"], data["overall"]]:
        score = "not assessed" if p["score"] is None else f"{p['score_text']} ({p['level'].capitalize()})"
        dist = "/".join(str(p["distribution"][s.key]) for s in Stage)
        print(f"{p['name']:34} {score:16} {p['assessed']:>4} of {p['functions']:<3} {dist:9} {p['below_target']}")
    print()
    for f in data["functions"]:
        current = f["current"].capitalize() + (" (override: " + f["override_reason"] + ")" if f["overridden"] else "")
        target = f["target"].capitalize() if f["target"] else "-"
        gap = "" if f["gap"] is None else f", gap {f['gap']}"
        print(f"{f['code']:5} {f['name']}: current {current}, target {target}{gap}")
        for s in f["stages"][1:]:
            if s["rating"] != Rating.NOT_ASSESSED.value or s["comment"]:
                comment = f"  {s['comment']}" if s["comment"] else ""
                print(f"        {s['stage'].capitalize():9} {Rating(s['rating']).label}{comment}")
    return EXIT_OK


def _register_json(engagement: Records) -> dict[str, Any]:
    """``ztmm info --json``: the report's sections, document control and the registers' counts."""
    from .core.register import FINDING_STATUSES, SECTION_KEYS
    from .services.logo import read_consultancy_logo
    from .services.records import count_actions, read_control, read_report_options, read_sections

    sections = read_sections(engagement)
    control = read_control(engagement)
    options = read_report_options(engagement)
    by_status = {status: 0 for status in FINDING_STATUSES}
    for finding in engagement.findings():
        by_status[finding.status] = by_status.get(finding.status, 0) + 1
    return {
        "sections": {key: sections.get(key) for key in SECTION_KEYS},
        "document_control": {
            **asdict(control),
            "paper": options.paper,
            "vendor_neutral": options.vendor_neutral,
            "consultancy_logo": read_consultancy_logo(engagement) is not None,
        },
        "finding_register": by_status,
        "actions": count_actions(engagement),
    }


def cmd_catalog(args: argparse.Namespace) -> int:
    from .services.catalogs import default_library

    library = default_library()
    catalog = library.catalog
    pillars: list[dict[str, Any]] = []
    for pillar in catalog.pillars:
        functions = []
        for function in pillar.functions:
            stages = []
            for stage in Stage:
                guidance = [
                    {
                        "pack": pack.id,
                        "product": rec.product,
                        "action": rec.action,
                        "references": [{"title": ref.title, "url": ref.url} for ref in rec.references],
                    }
                    for pack in library.packs
                    for rec in pack.for_stage(function.id, stage)
                ]
                text = apply_wording(function.stages[stage], args.wording)
                stages.append({"stage": stage.key, "text": text, "guidance": guidance})
            functions.append(
                {
                    "id": function.id,
                    "code": function.code,
                    "name": function.name,
                    "kind": function.kind,
                    "stages": stages,
                }
            )
        pillars.append(
            {
                "id": pillar.id,
                "code": pillar.code,
                "name": pillar.name,
                "kind": pillar.kind,
                "description": apply_wording(pillar.description, args.wording),
                "functions": functions,
            }
        )
    data = {
        "catalog": {
            "id": catalog.id,
            "version": catalog.version,
            "title": catalog.title,
            "publisher": catalog.publisher,
            "published": catalog.published,
        },
        "packs": [
            {"id": p.id, "version": p.version, "title": p.title, "publisher": p.publisher, "licence": p.licence}
            for p in library.packs
        ],
        "pillars": pillars,
    }
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"{catalog.title} {catalog.version} ({catalog.published})")
    for p in library.packs:
        print(f"guidance: {p.title} ({p.id} {p.version}, {p.licence})")
    for entry in pillars:
        print(f"\n{entry['code']} {entry['name']}")
        for f in entry["functions"]:
            count = sum(len(s["guidance"]) for s in f["stages"])
            print(f"  {f['code']:5} {f['name']:58} {f['id']}  ({count} recommendations)")
    return EXIT_OK


def cmd_assess(args: argparse.Namespace) -> int:

    ratings = {}
    for item in args.rate:
        stage, value = _pair(item, "--rate")
        ratings[Stage.parse(stage)] = Rating.parse(value)
    comments = {}
    for item in args.comment:
        stage, value = _pair(item, "--comment")
        comments[Stage.parse(stage)] = _text_value(value, "--comment")
    override = None
    clear = False
    if args.current is not None:
        if args.current.strip().lower() == "derived":
            clear = True
        else:
            if not args.reason or not args.reason.strip():
                raise BadInput("--current needs --reason: an override must say why")
            override = (Stage.parse(args.current), _text_value(args.reason, "--reason"))
    elif args.reason is not None:
        raise BadInput("--reason goes with --current")
    target = Stage.parse(args.target) if args.target is not None else None
    with _open(args.file) as engagement:
        function = engagement.catalog.function(args.function)
        changes = engagement.assess(
            function.id,
            ratings=ratings,
            comments=comments,
            override=override,
            clear_override=clear,
            target=target,
            note=None if args.note is None else _text_value(args.note, "--note"),
            confidence=args.confidence,
            priority=args.priority,
            owner=args.owner,
            status=args.status,
            by=args.by,
        )
        if changes:
            engagement.save()
        result = engagement.results()[function.id]
        from .core.contradictions import override_warning

        warning = override_warning(engagement.assessment(function.id))
    if warning:  # a warning, not a refusal: the window asks, the command says so
        print(f"warning: {function.code}: {warning}", file=sys.stderr)
    state = f"current {result.current.label}" + (" (overridden)" if result.overridden else "")
    if result.target is not None:
        state += f", target {result.target.label}, gap {result.gap}"
    print(f"{function.code} {function.name}: {state}" + ("" if changes else " (nothing changed)"))
    return EXIT_OK


def cmd_attach(args: argparse.Namespace) -> int:
    from .services import evidence

    title = None if args.title is None else _text_value(args.title, "--title")
    if title is not None and len(args.paths) > 1:
        raise BadInput("--title names one file; attach several files without it (each keeps its name)")
    with _open(args.file) as engagement:
        links = [evidence.parse_link(engagement, target) for target in args.to]
        attached = []
        for path in args.paths:  # all or nothing: nothing is saved unless every file went in
            attached.append(evidence.attach(engagement, path, links, title=title, kind=args.kind, by=args.by))
        engagement.save()
    for item in attached:
        e = item.evidence
        notes = []
        if e.size == 0:
            notes.append("empty file")
        if not item.new_bytes:
            notes.append("same bytes as earlier evidence, stored once")
        suffix = f"  ({'; '.join(notes)})" if notes else ""
        print(f"{e.id}  sha256:{e.sha256}  {e.original_name}{suffix}")
    return EXIT_OK


def _evidence_json(item: Any) -> dict[str, Any]:
    data = asdict(item)
    data["links"] = [
        {"function": link.function_id, "stage": link.stage.key if link.stage else None, "finding": link.finding_id}
        for link in item.links
    ]
    return data


def cmd_evidence(args: argparse.Namespace) -> int:
    from .services import evidence

    with _read(args.file) as engagement:
        items = evidence.list_evidence(engagement)
    if args.json:
        print(json.dumps([_evidence_json(e) for e in items], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not items:
        print("no evidence")
    for e in items:
        links = ", ".join(link.describe() for link in e.links)
        print(f"{e.id}  {e.size:>12,} B  sha256:{e.sha256[:16]}…  {e.kind:21} {e.title}  [{links}]")
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    from .services import evidence

    with _open(args.file, readonly=True, evidence_bytes=True) as engagement:
        print(evidence.extract(engagement, args.evidence_id, args.out_dir))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from .services import evidence

    with _read(args.file, evidence_bytes=True) as engagement:
        items = evidence.list_evidence(engagement)
        problems = evidence.verify(engagement, items=items)  # the evidence is listed once
    for problem in problems:
        e = problem.evidence
        print(f"{e.id}  {e.title}: {problem.problem}")
    print(f"{len(items) - len(problems)} of {len(items)} evidence files match their SHA-256")
    return EXIT_PROBLEMS if problems else EXIT_OK


def cmd_evidence_pack(args: argparse.Namespace) -> int:
    from .services import evidence

    secret = _export_passphrase(args, args.out)
    with _open(args.file, readonly=True, evidence_bytes=True) as engagement:
        items = evidence.list_evidence(engagement)
        out = evidence.evidence_pack(engagement, args.out, items=items, passphrase=secret)  # listed once
        count = len(items)
    sealed = ", AES-256 encrypted" if secret is not None else ""
    print(f"{out}  ({count} files and manifest.csv{sealed})")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .services.report import export_report

    comments = _review_comments(args)
    secret = _export_passphrase(args, args.out)
    with _open(args.file, readonly=True) as engagement:
        out = export_report(
            engagement,
            args.out,
            draft=args.draft,
            logo=args.logo,
            template=args.template,
            passphrase=secret,
            review_comments=comments,
        )
    print(out)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .core.progress import no_progress

    args.scope_list = [p.strip() for p in args.scope.split(",") if p.strip()] if args.scope is not None else None
    if args.questionnaire:
        if args.review_comments:
            raise BadInput("--review-comments goes with the deliverable workbook, not a questionnaire")
        from .services.questionnaire import (  # type: ignore[import-not-found, unused-ignore]
            export_questionnaire,
        )

        secret = _export_passphrase(args, args.out)
        with _open(args.file, readonly=True) as engagement:
            out = export_questionnaire(
                engagement,
                args.out,
                respondent=args.respondent,
                scope=args.scope_list,
                progress=no_progress,
                cancel=None,
                passphrase=secret,
            )
        print(f"{out}  (questionnaire)")
        return EXIT_OK
    if args.respondent is not None or args.scope is not None:
        raise BadInput("--respondent and --scope go with --questionnaire")
    from .services.workbook import check_workbook_path, export_workbook

    if args.encrypt:
        from .services.sealed import member_name

        check_workbook_path(Path(member_name(args.out, ".xlsx")))
    else:
        check_workbook_path(args.out)
    comments = _review_comments(args)
    secret = _export_passphrase(args, args.out)
    with _open(args.file, readonly=True) as engagement:
        out = export_workbook(engagement, args.out, passphrase=secret, review_comments=comments)
    print(f"{out}  (deliverable workbook)")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from .services.questionnaire import apply_responses, describe, read_responses

    with _open(args.file, readonly=args.dry_run) as engagement:
        plan = read_responses(engagement, args.workbook, respondent=args.respondent, force=args.force_engagement)
        for diff in plan.differences:
            print(describe(diff))
        for note in plan.problems:
            print(f"note: {note}")
        if plan.differences and not args.dry_run:
            apply_responses(engagement, plan, by=args.by)
            engagement.save()
    disagree = sum(1 for d in plan.differences if d.disagrees_with_rating)
    count = len(plan.differences)
    summary = f"{plan.source_name}: {plan.respondent}, {count} difference{'' if count == 1 else 's'}"
    summary += f" ({disagree} disagree with your rating), {plan.unchanged} unchanged"
    if not count:
        summary += "; nothing to import"
    elif args.dry_run:
        summary += "; dry run, nothing changed"
    else:
        summary += f"; imported into {args.file}"
    print(summary)
    return EXIT_OK


def cmd_baseline(args: argparse.Namespace) -> int:
    from .services import baselines

    chosen = [x for x in (args.name is not None, args.list, args.delete is not None) if x]
    if len(chosen) != 1:
        raise BadInput("give one of: a NAME to freeze, --list, or --delete NAME")
    if args.json and not args.list:
        raise BadInput("--json goes with --list")
    if args.list:
        with _open(args.file, readonly=True) as engagement:
            items = baselines.list_baselines(engagement)
        if args.json:
            listed = [{**asdict(b), "overall_level": b.overall_level.key if b.overall_level else None} for b in items]
            print(json.dumps(listed, indent=2, ensure_ascii=False))
            return EXIT_OK
        if not items:
            print("no baselines")
        for b in items:
            print(f"{b.name}  (frozen {b.created_at} by {b.created_by}; overall {b.score_text})")
        return EXIT_OK
    if args.delete is not None:
        with _open(args.file) as engagement:
            baselines.delete_baseline(engagement, args.delete, by=args.by)
            engagement.save()
        print(f"deleted baseline {args.delete.strip()!r} from {args.file}")
        return EXIT_OK
    name = baselines.check_name(args.name)
    with _open(args.file) as engagement:
        baselines.freeze_baseline(engagement, name, by=args.by)
        engagement.save()
        _, overall = engagement.rollups()
        count = len(engagement.functions_in_scope())
    print(f"froze baseline {name!r} of {args.file}: {count} functions in scope, overall {overall.score_text}")
    return EXIT_OK


@contextlib.contextmanager
def _as_file(target: Any) -> Any:
    """A path to read the engagement ``target`` names from: the file itself, or for a server address
    one snapshot of it in the app's data folder, deleted afterwards."""
    if not _is_url(target):
        yield target
        return
    from .services.server_copy import discard_snapshot, snapshot_file

    path = snapshot_file(target, evidence_bytes=False)  # compared by their records only
    try:
        yield path
    finally:
        discard_snapshot(path)


def _shown(target: Any) -> str:
    """A file's path or a server address as the user may see it (never its password)."""
    return target.display if _is_url(target) else str(target)


def cmd_compare(args: argparse.Namespace) -> int:
    from .services import baselines

    if args.force and args.other is None:
        raise BadInput("--force goes with --with")
    with _open(args.file, readonly=True) as engagement:
        if args.other is not None:
            with _as_file(args.other) as other:
                comparison = baselines.compare_with_file(
                    engagement,
                    other,
                    force=args.force,
                    shown_as=_shown(args.file) if _is_url(args.file) else None,
                    other_shown_as=_shown(args.other) if _is_url(args.other) else None,
                )
        else:
            name = args.baseline
            if name is None:
                existing = baselines.list_baselines(engagement)
                if not existing:
                    raise BadInput(
                        f"{_shown(args.file) if _is_url(args.file) else args.file.name} has no baseline; "
                        "freeze one with 'ztmm baseline FILE NAME' or compare --with another file"
                    )
                name = existing[-1].name
            comparison = baselines.compare_with_baseline(
                engagement, name, shown_as=_shown(args.file) if _is_url(args.file) else None
            )
        meta = engagement.meta()
    if args.json:
        data = {"engagement": {"id": meta.id, "client": meta.client, "file": _shown(args.file)}, **comparison.to_json()}
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"{meta.client}: {comparison.then_label} → {comparison.now_label}")
    for item in comparison.changed:
        print(item.describe())
    print(comparison.summary())
    return EXIT_OK


def _team_parsers(sub: Any) -> None:
    url_help = "postgresql://USER@HOST:PORT/DB?engagement=ID (password: PGPASSWORD, .pgpass or a prompt)"
    publish = sub.add_parser("publish", help="copy an engagement file to a new engagement on a PostgreSQL server")
    publish.add_argument("file", type=Path)
    publish.add_argument("url", metavar="URL", help=url_help)
    checkout = sub.add_parser("checkout", help="copy an engagement from the server to a new file to take offline")
    checkout.add_argument("url", metavar="URL", help=url_help)
    checkout.add_argument("file", type=Path)
    listing = sub.add_parser("engagements", help="list the engagements on a server that you may see")
    listing.add_argument("url", metavar="URL", help=url_help)
    listing.add_argument("--json", action="store_true")
    server = sub.add_parser("server", help="set up a server (the DBA, once) or manage an engagement's members (a lead)")
    verbs = server.add_subparsers(dest="verb", metavar="ACTION", parser_class=_Parser)
    verbs.required = True
    init = verbs.add_parser("init", help="create or upgrade the server's schema (run by the DBA; see docs/server.md)")
    init.add_argument("url", metavar="URL", help=url_help)
    members = verbs.add_parser("members", help="list, add or remove the members of an engagement")
    members.add_argument("url", metavar="URL", help=url_help)
    members.add_argument("action", nargs="?", choices=("add", "remove"), help="add (or change the role of) or remove")
    members.add_argument("login", nargs="?", help="the member's login role on the server (the DBA creates it)")
    members.add_argument("--as", dest="role", choices=("lead", "assessor", "reviewer"), default=None)
    comment = sub.add_parser(
        "comment", help="comment on a finding of an engagement on the server (any member, a reviewer too)"
    )
    comment.add_argument("target", type=_target, metavar="URL", help=url_help)
    comment.add_argument(
        "finding", metavar="FINDING_ID", help="the finding's id or a unique start of it (4+ characters)"
    )
    comment.add_argument("text", metavar="TEXT", help="the comment (@FILE reads it from a UTF-8 file)")
    comments = sub.add_parser("comments", help="list the comments on the findings of an engagement on the server")
    comments.add_argument("target", type=_target, metavar="URL", help=url_help)
    comments.add_argument("--json", action="store_true")


def _server_url(text: str) -> Any:
    from .server.url import parse

    return parse(text)


def cmd_publish(args: argparse.Namespace) -> int:
    from .services import team

    url = _server_url(args.url)
    done = team.publish(args.file, url)
    print(f"published {args.file} to {url.display} ({done.evidence_bytes:,} evidence bytes)")
    return EXIT_OK


def cmd_checkout(args: argparse.Namespace) -> int:
    from .services import team

    url = _server_url(args.url)
    written = team.checkout(url, args.file)
    print(f"checked out {url.display} to {args.file} ({written:,} evidence bytes)")
    return EXIT_OK


def cmd_engagements(args: argparse.Namespace) -> int:
    from .services import team

    listed = team.engagements(_server_url(args.url))
    if args.json:
        print(json.dumps([asdict(item) for item in listed], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not listed:
        print("no engagements you may see on this server")
    for item in listed:
        dates = " to ".join(d for d in (item.start_date, item.end_date) if d) or "no dates"
        title = f" — {item.title}" if item.title else ""
        print(f"{item.id}  {item.client}{title}  ({dates}; {item.progress:.0%} assessed; {item.role or 'member'})")
    return EXIT_OK


def cmd_server(args: argparse.Namespace) -> int:
    from .services import team

    url = _server_url(args.url)
    if args.verb == "init":
        before, after = team.init(url)
        if before == after:
            print(f"{url.display}: the server's schema is up to date ({after})")
        else:
            print(f"{url.display}: the server's schema is now {after}" + (f" (was {before})" if before else ""))
        return EXIT_OK
    if args.action is None:
        for login, role in team.members(url):
            print(f"{login}  {role}")
        return EXIT_OK
    if args.login is None:
        raise UsageError(f"server members {args.action} needs the member's login")
    if args.action == "add":
        if args.role is None:
            raise UsageError("server members add needs --as lead, assessor or reviewer")
        team.set_member(url, args.login, args.role)
        print(f"{args.login} is now {args.role} of {url.engagement}")
        return EXIT_OK
    if args.role is not None:
        raise UsageError("server members remove takes no --as")
    team.set_member(url, args.login, None)
    print(f"removed {args.login} from {url.engagement}")
    return EXIT_OK


ON_SERVER_ONLY = "comments on findings live on the team server"


def _comments_url(target: Any) -> Any:
    """The server address of a comment command; a file has no comments (docs/server.md says why)."""
    if not _is_url(target):
        raise BadInput(f"{target}: {ON_SERVER_ONLY}; give the engagement's URL (postgresql://…?engagement=ID)")
    return target


def cmd_comment(args: argparse.Namespace) -> int:
    from .services.comments import add_comment

    url = _comments_url(args.target)
    done = add_comment(url, args.finding, _text_value(args.text, "the comment"))
    title = f" {done.finding_title!r}" if done.finding_title else ""
    print(f"commented on finding{title} ({done.comment.finding_id}) of {url.engagement} as {done.comment.by}")
    return EXIT_OK


def cmd_comments(args: argparse.Namespace) -> int:
    from .core.comments import by_finding
    from .services.comments import comments_with_findings

    listed, titles = comments_with_findings(_comments_url(args.target))
    grouped = by_finding(listed)
    if args.json:
        out = [
            {"finding": key, "title": titles.get(key, ""), "comments": [asdict(c) for c in group]}
            for key, group in grouped.items()
        ]
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not grouped:
        print("no comments on findings")
    for key, group in grouped.items():
        title = titles.get(key, "(finding removed)")
        print(f"{key[:8]}  {title}")
        for comment in group:
            text = "\n      ".join(comment.text.splitlines())
            print(f"  {comment.date} UTC  {comment.by}: {text}")
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    from .services.merge import apply_merge, plan_merge

    taken = set(args.theirs)
    if _is_url(args.file) or _is_url(args.other):
        from .services import team

        if _is_url(args.file) and _is_url(args.other):
            raise BadInput("merge a file into a server's engagement or the other way round, not two servers")
        merge = team.merge_into_server if _is_url(args.file) else team.merge_from_server
        plan = merge(args.file, args.other, theirs=taken, dry_run=args.dry_run, force=args.force, by=args.by).plan
    else:
        with _open(args.file, readonly=args.dry_run) as engagement:
            plan = plan_merge(engagement, args.other, force=args.force)
            unknown = sorted(taken - {c.key for c in plan.conflicts})
            if unknown:
                raise BadInput(f"no conflict {unknown[0]!r} in this merge (see 'ztmm merge --dry-run')")
            if plan and not args.dry_run:
                apply_merge(engagement, plan, dict.fromkeys(taken, "theirs"), by=args.by)
                engagement.save()
    verb = "would apply" if args.dry_run else "applied"
    for item in plan.one_sided:
        print(f"{verb} {item.describe()}")
    for note in plan.duplicates:
        print(f"skipped {note}")
    for item in plan.conflicts:
        outcome = "took theirs" if item.key in taken else "kept mine"
        if args.dry_run:
            outcome = "would take theirs" if item.key in taken else "would keep mine"
        print(f"conflict {item.label}: mine {item.mine_text}, theirs {item.theirs_text} — {outcome}  [{item.key}]")
    count, conflicts = len(plan.one_sided), len(plan.conflicts)
    summary = f"{plan.other_name}: {count} change{'' if count == 1 else 's'}, "
    summary += f"{conflicts} conflict{'' if conflicts == 1 else 's'}"
    if not plan:
        summary += "; nothing to merge"
    elif args.dry_run:
        summary += "; dry run, nothing changed"
    else:
        summary += f"; merged into {args.file}"
    print(summary)
    return EXIT_OK


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(p for p in (text or "").split(",") if p.strip())


def cmd_workshop(args: argparse.Namespace) -> int:
    from .services import workshops

    if args.action == "list":
        with _open(args.file, readonly=True) as engagement:
            items = workshops.list_workshops(engagement)
        if args.json:
            print(json.dumps([w.to_json() for w in items], indent=2, ensure_ascii=False))
            return EXIT_OK
        if not items:
            print("no workshops")
        for w in items:
            people = len(w.attendees)
            covered = ", ".join(w.pillars + w.functions) or "-"
            print(
                f"{w.id}  {w.date}  {w.title}  [{w.status}]  {people} attendee{'' if people == 1 else 's'}; {covered}"
            )
        return EXIT_OK
    if args.action == "add":
        attendees: tuple[workshops.Attendee, ...] = ()
        if args.attendees is not None:
            if not args.attendees.startswith("@"):
                raise BadInput("--attendees takes @FILE: a file of name, role, organization rows")
            attendees = tuple(workshops.parse_attendees(_text_value(args.attendees, "--attendees")))
        draft = workshops.WorkshopDraft(
            date=args.date,
            title=args.title,
            pillars=_split(args.pillars),
            functions=_split(args.functions),
            notes=_text_value(args.notes, "--notes") if args.notes is not None else "",
            attendees=attendees,
        )
        with _open(args.file) as engagement:
            made = workshops.create_workshop(engagement, draft, by=args.by)
            engagement.save()
        print(f"added workshop {made.id}: {made.label}, {len(made.attendees)} attendee(s), to {args.file}")
        return EXIT_OK
    with _open(args.file) as engagement:
        if args.action == "start":
            done = workshops.start(engagement, args.id, by=args.by)
            what = "started"
        else:
            done = workshops.stop(engagement, by=args.by)
            what = "stopped"
        engagement.save()
    print(f"{what} workshop {done.id}: {done.label} in {args.file}")
    return EXIT_OK


def _find_finding(engagement: Any, text: str) -> str:
    """A finding's id from its id, a unique start of it (4 characters at least) or its number (F-03)."""
    from .services.deliverables import finding_numbers

    wanted = text.strip()
    numbers = {number.casefold(): key for key, number in finding_numbers(engagement).items()}
    if wanted.casefold() in numbers:
        return numbers[wanted.casefold()]
    ids: list[str] = [f.id for f in engagement.findings()]
    if wanted in ids:
        return wanted
    matches = [key for key in ids if key.startswith(wanted.lower())] if len(wanted) >= 4 else []
    if len(matches) == 1:
        return matches[0]
    raise BadInput(f"no finding {wanted[:40]!r} (see 'ztmm finding list')")


def _scale(value: str | None, what: str) -> int | None:
    from .services.engagement import check_scale

    return check_scale(value, what)


def _stage_option(value: str) -> Stage | None:
    return Stage.parse(value) if value.strip() else None


def _finding_draft(args: argparse.Namespace, current: Any) -> Any:
    """``current`` (a FindingDraft) with every field the arguments name replaced."""
    changes: dict[str, Any] = {}
    for name in ("title", "severity", "owner", "status"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    for name in ("observation", "risk", "recommendation"):
        if getattr(args, name) is not None:
            changes[name] = _text_value(getattr(args, name), f"--{name}")
    if args.stage is not None:
        changes["stage"] = _stage_option(args.stage)
    if args.due is not None:
        changes["due_date"] = args.due or None
    if args.likelihood is not None:
        changes["likelihood"] = _scale(args.likelihood, "likelihood")
    if args.impact is not None:
        changes["impact"] = _scale(args.impact, "impact")
    return replace(current, **changes)


def _finding_json(finding: Any, number: str | None, engagement: Any) -> dict[str, Any]:
    from .core.register import risk_rating, risk_score

    function = engagement.catalog.function(finding.function_id)
    return {
        "number": number,
        "id": finding.id,
        "function": function.id,
        "function_code": function.code,
        "stage": finding.stage.key if finding.stage is not None else None,
        "title": finding.title,
        "severity": finding.severity,
        "status": finding.status,
        "owner": finding.owner,
        "due_date": finding.due_date,
        "likelihood": finding.likelihood,
        "impact": finding.impact,
        "risk_score": risk_score(finding.likelihood, finding.impact),
        "risk_rating": risk_rating(finding.likelihood, finding.impact) or None,
        "observation": finding.observation,
        "risk": finding.risk,
        "recommendation": finding.recommendation,
        "created_at": finding.created_at,
        "created_by": finding.created_by,
    }


def cmd_finding(args: argparse.Namespace) -> int:
    from .services.deliverables import finding_numbers
    from .services.engagement import FindingDraft

    if args.verb == "list":
        with _open(args.file, readonly=True) as engagement:
            numbers = finding_numbers(engagement)
            order = {key: n for n, key in enumerate(numbers)}
            ordered = sorted(engagement.findings(), key=lambda f: order.get(f.id, len(order)))
            listed = [_finding_json(f, numbers.get(f.id), engagement) for f in ordered]
        if args.json:
            print(json.dumps(listed, indent=2, ensure_ascii=False))
            return EXIT_OK
        if not listed:
            print("no findings")
        for item in listed:
            due = f", due {item['due_date']}" if item["due_date"] else ""
            owner = f", owner {item['owner']}" if item["owner"] else ""
            risk = f", risk {item['risk_rating']} ({item['risk_score']})" if item["risk_rating"] else ""
            print(
                f"{item['number'] or '(out of scope)'}  {item['id'][:8]}  {item['function_code']:5} {item['severity']:8}"
                f" {item['status']:13} {item['title']}{owner}{due}{risk}"
            )
        return EXIT_OK
    if args.verb == "add":
        draft = _finding_draft(args, FindingDraft(title=args.title, severity=args.severity or "medium"))
        with _open(args.file) as engagement:
            function = engagement.catalog.function(args.function)
            key, _ = engagement.restore_finding(function.id, draft, finding_id=_new_id(), by=args.by)
            engagement.save()
            number = finding_numbers(engagement).get(key)
        print(f"added finding {number or key[:8]} ({key}) to {function.code} {function.name} in {args.file}")
        return EXIT_OK
    with _open(args.file) as engagement:
        key = _find_finding(engagement, args.finding)
        found = next(f for f in engagement.findings() if f.id == key)
        if args.verb == "remove":
            engagement.remove_finding(key, by=args.by)
            engagement.save()
            print(f"removed finding {found.title!r} ({key}) from {args.file}")
            return EXIT_OK
        changes = engagement.update_finding(key, _finding_draft(args, found.draft()), by=args.by)
        if changes:
            engagement.save()
    print(f"{'updated' if changes else 'nothing changed in'} finding {found.title!r} ({key}) in {args.file}")
    return EXIT_OK


def _new_id() -> str:
    import uuid

    return uuid.uuid4().hex


def _action_draft(args: argparse.Namespace, engagement: Any, current: Any) -> Any:
    from .services.actions import find_action

    changes: dict[str, Any] = {}
    for name in ("phase", "effort", "cost", "owner"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.text is not None:
        changes["text"] = _text_value(args.text, "--text")
    if args.stage is not None:
        changes["stage"] = _stage_option(args.stage)
    if args.after is not None:
        changes["after"] = find_action(engagement, args.after) if args.after.strip() else None
    return replace(current, **changes)


def _action_json(line: Any, number: str | None, numbers: dict[str, str]) -> dict[str, Any]:
    return {
        "number": number,
        "id": line.id,
        "function": line.function_id,
        "function_code": line.function_code,
        "stage": line.stage.key if line.stage is not None else None,
        "text": line.text,
        "phase": line.phase,
        "effort": line.effort,
        "cost": line.cost,
        "owner": line.owner,
        "after": line.after,
        "after_number": numbers.get(line.after) if line.after else None,
        "priority": line.priority,
        "gap": line.gap,
    }


def cmd_action(args: argparse.Namespace) -> int:
    from .core.register import action_numbers
    from .services import actions

    if args.verb == "list":
        with _open(args.file, readonly=True) as engagement:
            numbers = action_numbers(actions.action_lines(engagement))
            lines = actions.action_lines(engagement, in_scope_only=False)
        listed = [_action_json(line, numbers.get(line.id), numbers) for line in lines]
        listed.sort(key=lambda item: item["number"] is None)
        if args.json:
            print(json.dumps(listed, indent=2, ensure_ascii=False))
            return EXIT_OK
        if not listed:
            print("no actions")
        for item in listed:
            after = f" (after {item['after_number'] or item['after'][:8]})" if item["after"] else ""
            extra = "".join(f", {name} {item[name]}" for name in ("owner", "cost") if item[name])
            print(
                f"{item['number'] or '(out of scope)'}  {item['id'][:8]}  {item['function_code']:5} {item['phase']:5}"
                f" {item['effort']}  {item['text']}{after}{extra}"
            )
        return EXIT_OK
    with _open(args.file) as engagement:
        if args.verb == "add":
            function = engagement.catalog.function(args.function)
            draft = _action_draft(args, engagement, actions.ActionDraft(text=""))
            key, _ = actions.add_action(engagement, function.id, draft, by=args.by)
            engagement.save()
            number = action_numbers(actions.action_lines(engagement)).get(key)
            print(f"added action {number or key[:8]} ({key}) to {function.code} {function.name} in {args.file}")
            return EXIT_OK
        key = actions.find_action(engagement, args.action)
        found = next(a for a in actions.list_actions(engagement) if a.id == key)
        if args.verb == "remove":
            actions.remove_action(engagement, key, by=args.by)
            engagement.save()
            print(f"removed action {key} from {args.file}")
            return EXIT_OK
        function_key = engagement.catalog.function(args.function).id if args.function is not None else None
        draft = _action_draft(args, engagement, found.draft())
        changes = actions.update_action(engagement, key, draft, function_key=function_key, by=args.by)
        if changes:
            engagement.save()
    print(f"{'updated' if changes else 'nothing changed in'} action {key} in {args.file}")
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from .cli_batch import run_batch

    return run_batch(args)


COMMANDS = {
    "new": cmd_new,
    "encrypt": cmd_encrypt,
    "decrypt": cmd_decrypt,
    "rekey": cmd_rekey,
    "set": cmd_set,
    "info": cmd_info,
    "catalog": cmd_catalog,
    "assess": cmd_assess,
    "attach": cmd_attach,
    "evidence": cmd_evidence,
    "extract": cmd_extract,
    "verify": cmd_verify,
    "evidence-pack": cmd_evidence_pack,
    "report": cmd_report,
    "export": cmd_export,
    "import": cmd_import,
    "baseline": cmd_baseline,
    "compare": cmd_compare,
    "workshop": cmd_workshop,
    "merge": cmd_merge,
    "publish": cmd_publish,
    "checkout": cmd_checkout,
    "engagements": cmd_engagements,
    "server": cmd_server,
    "comment": cmd_comment,
    "comments": cmd_comments,
    "finding": cmd_finding,
    "action": cmd_action,
    "batch": cmd_batch,
}


def _check_arguments(argv: Sequence[str]) -> None:
    for index, arg in enumerate(argv, start=1):
        if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in arg):
            raise BadInput(f"argument {index} is not valid UTF-8 text")


#: Why the commands that are about a file by nature do not take a server address.
_FILE_ONLY = {
    "new": "it creates a file; make the engagement with 'ztmm new FILE' and copy it to the server with 'ztmm publish'",
    "encrypt": "it encrypts a file; on a server, the database's own access control and TLS protect the engagement",
    "decrypt": "it decrypts a file; a server's engagement is not encrypted by a passphrase",
    "rekey": "it changes a file's passphrase; a server's engagement has none",
}


def _refuse_url_where_not_taken(args: argparse.Namespace) -> None:
    """A server address given to a command that takes only a file: say why rather than 'no such file'."""
    for name in ("file", "other"):
        value = getattr(args, name, None)
        if isinstance(value, Path) and str(value).lower().startswith(("postgresql:/", "postgres:/")):
            why = _FILE_ONLY.get(args.command, "it works on a file")
            raise BadInput(f"'{args.command}' does not take a server address: {why}")


def _clean_up() -> None:
    """Delete the working copies earlier killed runs left behind (a command's copies hold nothing to
    recover: a run that did not finish acknowledged nothing; see ``disposable_working_copies``)."""
    from .services.copy_folders import clean_up_left_copies
    from .store.working import orphaned_working_copies  # no database layer: ``ztmm catalog`` opens no file

    with contextlib.suppress(OSError):  # tidying up must never stop the command
        orphans = orphaned_working_copies()  # (deletes the copies nobody will recover on the way)
        clean_up_left_copies(orphans)  # server copies of runs that were killed


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        _check_arguments(args_list)
        args = build_parser().parse_args(args_list)
        from .services import passphrase
        from .store.working import disposable_working_copies

        passphrase.set_asker(_ask_passphrase, _note)
        _clean_up()
        _refuse_url_where_not_taken(args)
        with disposable_working_copies():
            return COMMANDS[args.command](args)
    except ZtmmError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into e.g. head, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as err:  # a bug, not bad input: say so in one line
        if os.environ.get("ZTMM_DEBUG"):
            import traceback

            traceback.print_exc()
        print(f"error: unexpected failure ({type(err).__name__}: {err}); set ZTMM_DEBUG=1 for details", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
