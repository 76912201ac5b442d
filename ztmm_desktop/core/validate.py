"""The domain of every value an engagement file stores, one check per record kind (pure).

A colleague's copy is input from outside (SECURITY.md items 20 and 21): before
a merge writes one of its records into the user's own file, the record passes
the check of its kind here, and the file gate may run the same checks on rows
it loads. Each check takes a record as a mapping of column name to value (the
table's own columns; a merge passes what it would write) and returns the first
problem as a short phrase naming the column, or None when the record is sound::

    finding_problem({"stage": "bogus", ...})  ->  "stage 'bogus' is not a stage (…)"

The caller says where the record is ("the other copy's finding 3f2a…: …").
Checks that need the catalog take the known function or pillar ids; None skips
that part. Nothing here touches a file or a database.

The limits and choices the services enforce when a user types a value live here
too, so that what a file may hold and what a user may enter are one rule.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence, Sized
from typing import Any

from .register import EFFORTS, FINDING_STATUSES, MAX_SECTION, PAPER_SIZES, PHASES, SECTION_KEYS
from .responses import Answer
from .stages import RATED_STAGES, Rating, Stage
from .wording import WORDINGS

#: Longest comment, note or reason (characters). Longer text is refused, not cut.
MAX_TEXT = 100_000
#: Longest short field (client, title, owner, names, marking).
MAX_NAME = 500
#: Longest list of version-history lines or recipients.
MAX_LIST = 200
#: Most attendees one workshop lists.
MAX_ATTENDEES = 500
#: Largest logo (bytes) and its longest side (pixels).
MAX_LOGO_BYTES = 5 * 1024 * 1024
MAX_LOGO_SIDE = 4096
#: Largest evidence file a record may claim (bytes): far above any real one, far below 2**63.
MAX_EVIDENCE_SIZE = 2**48

CONFIDENCE = ("", "low", "medium", "high")
PRIORITY = ("", "low", "medium", "high", "critical")
STATUS = ("", "not-started", "in-progress", "done", "not-applicable")
SEVERITY = ("low", "medium", "high", "critical")
EVIDENCE_KINDS = ("document", "screenshot", "configuration-export", "interview-note", "other")
WORKSHOP_STATUSES = ("planned", "running", "held")
LOGO_MEDIA_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}

_SHA256 = re.compile(r"[0-9a-f]{64}")
_STAGE_KEYS = tuple(s.key for s in Stage)
_RATED_KEYS = tuple(s.key for s in RATED_STAGES)
_RATINGS = tuple(r.value for r in Rating)
_ANSWERS = ("", *(a.value for a in Answer))

Row = Mapping[str, Any]
Problem = str | None


# -- single values ---------------------------------------------------------------------------


def shown(value: object, limit: int = 40) -> str:
    """A value as a problem quotes it: short, one line, never the whole of a huge text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value):,} bytes>"
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return " ".join(text.split())


def text_problem(
    value: object, name: str, limit: int = MAX_TEXT, *, required: bool = False, one_line: bool = False
) -> Problem:
    """Text within ``limit`` characters, valid Unicode, no NUL (``required``: not blank)."""
    if not isinstance(value, str):
        return f"{name} is {_type_name(value)}, not text"
    if len(value) > limit:
        return f"{name} is {len(value):,} characters long; the limit is {limit:,}"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        return f"{name} is not valid Unicode text"
    if "\x00" in value:
        return f"{name} contains a NUL character"
    if required and not value.strip():
        return f"{name} is empty"
    if one_line and any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return f"{name} is not one line of text"
    return None


def _type_name(value: object) -> str:
    if value is None:
        return "missing (NULL)"
    if isinstance(value, bytes | bytearray | memoryview):
        return "binary data"
    if isinstance(value, bool):
        return "a yes/no value"
    if isinstance(value, int | float):
        return f"the number {shown(value)}"
    return f"a {type(value).__name__}"


def optional_text_problem(value: object, name: str, limit: int = MAX_NAME) -> Problem:
    return None if value is None else text_problem(value, name, limit)


def choice_problem(value: object, name: str, allowed: Sequence[str], what: str = "") -> Problem:
    if isinstance(value, str) and value in allowed:
        return None
    names = ", ".join(a or repr(a) for a in allowed)
    return f"{name} {shown(value)} is not {what or 'one of: ' + names}"


def stage_problem(value: object, name: str, *, optional: bool = True, rated: bool = False) -> Problem:
    if value is None and optional:
        return None
    allowed = _RATED_KEYS if rated else _STAGE_KEYS
    if isinstance(value, str) and value in allowed:
        return None
    return f"{name} {shown(value)} is not a{' rated' if rated else ''} stage (expected one of: {', '.join(allowed)})"


def date_problem(value: object, name: str, *, optional: bool = True) -> Problem:
    """A date as the app stores it: ``YYYY-MM-DD`` (None when ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, str) and len(value) == 10:
        try:
            if dt.date.fromisoformat(value).isoformat() == value:
                return None
        except ValueError:
            pass
    return f"{name} {shown(value)} is not a date like 2026-11-30"


def integer_problem(value: object, name: str, low: int, high: int, *, optional: bool = False) -> Problem:
    if value is None and optional:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return None
    return f"{name} {shown(value)} is not a whole number from {low:,} to {high:,}"


def flag_problem(value: object, name: str) -> Problem:
    """A yes/no column: SQLite stores it as 0 or 1."""
    return None if value in (0, 1) and not isinstance(value, float) else f"{name} {shown(value)} is not 0 or 1"


def sha256_problem(value: object, name: str = "sha256") -> Problem:
    if isinstance(value, str) and _SHA256.fullmatch(value):
        return None
    return f"{name} {shown(value)} is not a SHA-256 (64 lowercase hex digits)"


def json_list_problem(
    value: object, name: str, *, known: Collection[str] | None = None, item_limit: int = MAX_NAME
) -> Problem:
    """A JSON array of strings (each in ``known`` when given)."""
    items = _json(value)
    if not isinstance(items, list):
        return f"{name} {shown(value)} is not a JSON list"
    for item in items:
        problem = text_problem(item, f"an item of {name}", item_limit)
        if problem:
            return problem
        if known is not None and item not in known:
            return f"{name} names {shown(item)}, which the catalog does not have"
    return None


def _json(value: object) -> object:
    if not isinstance(value, str):
        return _NOT_JSON
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return _NOT_JSON


_NOT_JSON = object()


def _function_problem(value: object, name: str, function_ids: Collection[str] | None) -> Problem:
    problem = text_problem(value, name, MAX_NAME, required=True)
    if problem is None and function_ids is not None and value not in function_ids:
        return f"{name} {shown(value)} is not a function of the catalog"
    return problem


def first(problems: Iterable[Problem]) -> Problem:
    """The first problem of a lazily evaluated sequence (later checks may assume earlier ones passed)."""
    for problem in problems:
        if problem:
            return problem
    return None


# -- the engagement record -------------------------------------------------------------------

PROPERTY_COLUMNS = ("client", "title", "assessors", "scope", "start_date", "end_date", "marking", "wording")
CONTROL_COLUMNS = (
    "consultancy", "report_version", "reviewer", "reviewed_on", "approver", "approved_on", "paper", "vendor_neutral",
)  # fmt: skip


def engagement_problem(row: Row, pillar_ids: Collection[str] | None = None) -> Problem:
    """The engagement's properties, and its document control when ``row`` holds it (schema 7)."""
    problem = first(
        (
            text_problem(row["client"], "client", MAX_NAME, required=True),
            text_problem(row["title"], "title", MAX_NAME),
            text_problem(row["marking"], "marking", MAX_NAME),
            json_list_problem(row["assessors"], "assessors"),
            json_list_problem(row["scope"], "scope", known=pillar_ids),
            None if _json(row["scope"]) else "scope names no pillar",
            date_problem(row["start_date"], "start date"),
            date_problem(row["end_date"], "end date"),
            choice_problem(row["wording"], "wording", tuple(WORDINGS)),
        )
    )
    if problem:
        return problem
    if row["start_date"] and row["end_date"] and row["end_date"] < row["start_date"]:
        return "the end date is before the start date"
    if "consultancy" not in row:
        return None
    return first(
        (
            *(text_problem(row[n], n.replace("_", " "), MAX_NAME) for n in ("consultancy", "report_version")),
            *(text_problem(row[n], n, MAX_NAME) for n in ("reviewer", "approver")),
            date_problem(row["reviewed_on"], "reviewed on"),
            date_problem(row["approved_on"], "approved on"),
            choice_problem(row["paper"], "paper size", PAPER_SIZES),
            flag_problem(row["vendor_neutral"], "vendor neutral"),
        )
    )


def logo_problem(row: Row) -> Problem:
    """A logo row (client's or consultancy's): its name, type and bytes as far as they can be told
    without decoding the image (the services decode it too)."""
    problem = first(
        (
            text_problem(row["name"], "logo name", MAX_NAME, required=True),
            choice_problem(row["media_type"], "logo type", tuple(LOGO_MEDIA_TYPES), "image/png or image/jpeg"),
        )
    )
    if problem:
        return problem
    data = row["data"]
    if not isinstance(data, bytes):
        return f"logo data is {_type_name(data)}, not an image"
    if len(data) > MAX_LOGO_BYTES:
        return f"logo is {len(data):,} bytes; the limit is {MAX_LOGO_BYTES:,}"
    if not data.startswith(LOGO_MEDIA_TYPES[row["media_type"]]):
        return f"logo data is not a {row['media_type'].partition('/')[2].upper()} image"
    return None


def section_problem(row: Row) -> Problem:
    return first(
        (
            choice_problem(row["key"], "section", SECTION_KEYS),
            text_problem(row["text"], f"section {str(row['key']).replace('_', '-')}", MAX_SECTION),
        )
    )


def report_version_problem(row: Row) -> Problem:
    """One line of the version history."""
    return first(
        (
            text_problem(row["version"], "version", MAX_NAME, required=True),
            date_problem(row["date"], "version date", optional=False),
            text_problem(row["author"], "version author", MAX_NAME),
            text_problem(row["change"], "version change", MAX_TEXT),
        )
    )


def distribution_problem(row: Row) -> Problem:
    """One recipient of the report."""
    return first(
        (
            text_problem(row["name"], "recipient name", MAX_NAME, required=True),
            text_problem(row["organisation"], "recipient organization", MAX_NAME),
            text_problem(row["role"], "recipient role", MAX_NAME),
        )
    )


def list_length_problem(items: Sized, what: str, limit: int = MAX_LIST) -> Problem:
    return f"{what} has {len(items):,} entries; the limit is {limit:,}" if len(items) > limit else None


# -- functions and stages --------------------------------------------------------------------


def function_problem(row: Row, function_ids: Collection[str] | None = None) -> Problem:
    """A function's assessment (``function_assessment``)."""
    return first(
        (
            _function_problem(row["function_id"], "function", function_ids),
            stage_problem(row["target"], "target"),
            stage_problem(row["override_stage"], "override"),
            text_problem(row["override_reason"], "override reason"),
            None
            if row["override_stage"] is None or str(row["override_reason"]).strip()
            else "the override has no reason",
            text_problem(row["notes"], "notes"),
            choice_problem(row["confidence"], "confidence", CONFIDENCE),
            choice_problem(row["priority"], "priority", PRIORITY),
            choice_problem(row["status"], "status", STATUS),
            text_problem(row["owner"], "owner", MAX_NAME),
        )
    )


def stage_rating_problem(row: Row, function_ids: Collection[str] | None = None) -> Problem:
    """A stage's rating and comment (``stage_rating``)."""
    return first(
        (
            _function_problem(row["function_id"], "function", function_ids),
            stage_problem(row["stage"], "stage", optional=False, rated=True),
            choice_problem(row["rating"], "rating", _RATINGS),
            text_problem(row["comment"], "comment"),
        )
    )


# -- the registers -----------------------------------------------------------------------------


def finding_problem(row: Row, function_ids: Collection[str] | None = None) -> Problem:
    return first(
        (
            _function_problem(row["function_id"], "function", function_ids),
            stage_problem(row["stage"], "stage"),
            text_problem(row["title"], "title", MAX_NAME, required=True),
            *(text_problem(row[n], n) for n in ("observation", "risk", "recommendation")),
            choice_problem(row["severity"], "severity", SEVERITY),
            text_problem(row["created_at"], "created at", MAX_NAME),
            text_problem(row["created_by"], "created by", MAX_NAME),
            text_problem(row["owner"], "owner", MAX_NAME),
            date_problem(row["due_date"], "due date"),
            choice_problem(row["status"], "status", FINDING_STATUSES),
            integer_problem(row["likelihood"], "likelihood", 1, 5, optional=True),
            integer_problem(row["impact"], "impact", 1, 5, optional=True),
        )
    )


def action_problem(row: Row, function_ids: Collection[str] | None = None) -> Problem:
    return first(
        (
            _function_problem(row["function_id"], "function", function_ids),
            stage_problem(row["stage"], "stage"),
            text_problem(row["text"], "text", required=True),
            choice_problem(row["phase"], "phase", PHASES),
            choice_problem(row["effort"], "effort", EFFORTS),
            text_problem(row["cost"], "cost", MAX_NAME),
            text_problem(row["owner"], "owner", MAX_NAME),
            optional_text_problem(row["after_id"], "after"),
            text_problem(row["created_at"], "created at", MAX_NAME),
            text_problem(row["created_by"], "created by", MAX_NAME),
        )
    )


# -- evidence ------------------------------------------------------------------------------------


def evidence_problem(row: Row) -> Problem:
    """An evidence record (not its links, not its bytes)."""
    return first(
        (
            sha256_problem(row["sha256"]),
            text_problem(row["title"], "title", MAX_NAME, required=True),
            text_problem(row["description"], "description"),
            text_problem(row["original_name"], "file name", MAX_NAME, required=True),
            text_problem(row["media_type"], "media type", MAX_NAME),
            integer_problem(row["size"], "size", 0, MAX_EVIDENCE_SIZE),
            choice_problem(row["kind"], "kind", EVIDENCE_KINDS),
            text_problem(row["captured_at"], "captured at", MAX_NAME),
            text_problem(row["captured_by"], "captured by", MAX_NAME),
            text_problem(row["created_at"], "created at", MAX_NAME),
        )
    )


def evidence_link_problem(row: Row, function_ids: Collection[str] | None = None) -> Problem:
    """What a piece of evidence supports: a function (and a stage of it), or a finding."""
    function_id, stage, finding_id = row["function_id"], row["stage"], row["finding_id"]
    if function_id is None and finding_id is None:
        return "a link names neither a function nor a finding"
    if function_id is None and stage is not None:
        return "a link names a stage without its function"
    return first(
        (
            None if function_id is None else _function_problem(function_id, "linked function", function_ids),
            stage_problem(stage, "linked stage"),
            optional_text_problem(finding_id, "linked finding"),
        )
    )


def blob_problem(row: Row, chunk_size: int) -> Problem:
    """Stored bytes: their hash, size and the number of ``chunk_size`` chunks that hold them."""
    problem = first(
        (
            sha256_problem(row["sha256"]),
            integer_problem(row["size"], "size", 0, MAX_EVIDENCE_SIZE),
            text_problem(row["chunk_key"], "chunk key", MAX_NAME, required=True),
        )
    )
    if problem:
        return problem
    expected = math.ceil(row["size"] / chunk_size)
    if row["chunks"] != expected or isinstance(row["chunks"], bool):
        return f"chunks {shown(row['chunks'])} does not match the size ({expected:,} expected)"
    return None


# -- questionnaire responses and baselines ---------------------------------------------------------


def response_problem(row: Row, function_ids: Collection[str] | None = None) -> Problem:
    return first(
        (
            _function_problem(row["function_id"], "function", function_ids),
            stage_problem(row["stage"], "stage", optional=False, rated=True),
            text_problem(row["respondent"], "respondent", MAX_NAME, required=True),
            text_problem(row["role"], "role", MAX_NAME),
            choice_problem(row["answer"], "answer", _ANSWERS),
            text_problem(row["comment"], "comment"),
            text_problem(row["source_name"], "source", MAX_NAME),
            None if row["source_sha256"] == "" else sha256_problem(row["source_sha256"], "source sha256"),
        )
    )


def baseline_problem(row: Row) -> Problem:
    """A baseline record (its frozen functions are checked one by one)."""
    return first(
        (
            text_problem(row["name"], "name", MAX_NAME, required=True),
            text_problem(row["created_at"], "created at", MAX_NAME),
            text_problem(row["created_by"], "created by", MAX_NAME),
            text_problem(row["catalog_version"], "catalog version", MAX_NAME),
            json_list_problem(row["scope"], "scope"),
            None
            if isinstance(_json(row["rollups"]), dict)
            else f"rollups {shown(row['rollups'])} is not a JSON object",
        )
    )


def baseline_function_problem(row: Row, function_ids: Collection[str] | None = None) -> Problem:
    """One function as its baseline froze it."""
    problem = first(
        (
            _function_problem(row["function_id"], "function", function_ids),
            stage_problem(row["current"], "current stage", optional=False),
            stage_problem(row["derived"], "derived stage", optional=False),
            flag_problem(row["overridden"], "overridden"),
            text_problem(row["override_reason"], "override reason"),
            stage_problem(row["target"], "target"),
        )
    )
    if problem:
        return problem
    ratings = _json(row["ratings"])
    if not isinstance(ratings, dict):
        return f"ratings {shown(row['ratings'])} is not a JSON object"
    for key, value in ratings.items():
        if key not in _RATED_KEYS:
            return f"ratings name {shown(key)}, which is not a rated stage"
        if not isinstance(value, dict):
            return f"the rating of {key} is not a JSON object"
        problem = first(
            (
                choice_problem(value.get("rating", Rating.NOT_ASSESSED.value), f"the rating of {key}", _RATINGS),
                text_problem(value.get("comment", ""), f"the comment of {key}"),
            )
        )
        if problem:
            return problem
    return None


# -- workshops -------------------------------------------------------------------------------------


def workshop_problem(row: Row, *, running: bool = True) -> Problem:
    """A workshop record (``running``: whether 'running' is allowed, as in the file that started it)."""
    statuses = WORKSHOP_STATUSES if running else tuple(s for s in WORKSHOP_STATUSES if s != "running")
    return first(
        (
            date_problem(row["date"], "date", optional=False),
            text_problem(row["title"], "title", MAX_NAME, required=True, one_line=True),
            json_list_problem(row["pillars"], "pillars"),
            json_list_problem(row["functions"], "functions"),
            text_problem(row["notes"], "notes"),
            choice_problem(row["status"], "status", statuses),
        )
    )


def attendee_problem(row: Row) -> Problem:
    return first(
        (
            text_problem(row["name"], "attendee name", MAX_NAME, required=True, one_line=True),
            text_problem(row["role"], "attendee role", MAX_NAME, one_line=True),
            text_problem(row["organisation"], "attendee organisation", MAX_NAME, one_line=True),
        )
    )


def attendees_problem(value: object) -> Problem:
    """A workshop's attendees as a merge carries them: a JSON list of [name, role, organisation]."""
    people = _json(value)
    if not isinstance(people, list):
        return "attendees are not a JSON list"
    if len(people) > MAX_ATTENDEES:
        return f"{len(people):,} attendees; a workshop lists at most {MAX_ATTENDEES}"
    for person in people:
        if not isinstance(person, list) or len(person) != 3:
            return "an attendee is not [name, role, organisation]"
        problem = attendee_problem(dict(zip(("name", "role", "organisation"), person, strict=True)))
        if problem:
            return problem
    return None
