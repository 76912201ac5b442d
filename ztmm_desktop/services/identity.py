"""Who the assessor is: the name written in the audit trail and on the deliverables.

The consultant sets a preference (name and organisation) once; it is kept as JSON
in the app's settings folder (:func:`ztmm_desktop.paths.config_dir`). Who made an
edit or prepares a deliverable is, first one that is given: ``--by`` (or the
window's explicit name), the ``ZTMM_ASSESSOR`` environment variable, the
preference's name, and only then the operating system's login name. So when a
name was given, the login name never reaches a deliverable or the audit trail.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import BadInput
from ..paths import config_dir
from ..store.lock import current_user

ENV_ASSESSOR = "ZTMM_ASSESSOR"
PREFERENCE_FILE = "assessor.json"
#: Longest name or organisation (characters), the same as other short fields.
MAX_IDENTITY = 500


@dataclass(frozen=True)
class AssessorPreference:
    """The consultant's own name and organisation ("" when not set)."""

    name: str = ""
    organisation: str = ""


def preference_path() -> Path:
    return config_dir() / PREFERENCE_FILE


def _clean(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise BadInput(f"the assessor {what} must be text")
    text = " ".join(value.split())
    if len(text) > MAX_IDENTITY:
        raise BadInput(f"the assessor {what} is {len(text):,} characters long; the limit is {MAX_IDENTITY:,}")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise BadInput(f"the assessor {what} is not valid Unicode text")
    return text


def read_preference() -> AssessorPreference:
    """The stored preference; an absent, unreadable or damaged file is no preference."""
    try:
        data = json.loads(preference_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return AssessorPreference()
    if not isinstance(data, dict):
        return AssessorPreference()
    try:
        return AssessorPreference(
            name=_clean(data.get("name", ""), "name"), organisation=_clean(data.get("organisation", ""), "organisation")
        )
    except BadInput:
        return AssessorPreference()


def write_preference(preference: AssessorPreference) -> AssessorPreference:
    """Store the preference (written whole, then moved into place); returns it cleaned."""
    clean = AssessorPreference(_clean(preference.name, "name"), _clean(preference.organisation, "organisation"))
    path = preference_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(
            json.dumps({"name": clean.name, "organisation": clean.organisation}, ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
        os.replace(temporary, path)
    except OSError as err:
        raise BadInput(f"cannot store the assessor preference in {path.parent} ({err.strerror or err})") from None
    return clean


def given_assessor(by: str | None = None) -> str:
    """The name given explicitly, by the environment or the preference; "" when none was."""
    for candidate in (by, os.environ.get(ENV_ASSESSOR), read_preference().name):
        if candidate is not None and candidate.strip():
            return candidate.strip()
    return ""


def resolve_assessor(by: str | None = None) -> str:
    """``by`` > ``ZTMM_ASSESSOR`` > the preference's name > the OS login name."""
    return given_assessor(by) or current_user()


def assessor_organisation() -> str:
    """The preference's organisation ("" when not set)."""
    return read_preference().organisation
