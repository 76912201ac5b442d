"""Wording of the model's texts: CISA's own ("Agency") or "Enterprise".

CISA wrote the model for US federal agencies; private-sector clients expect
"Enterprise", as Microsoft's guidance pages write it. The catalog keeps CISA's
text unchanged and an engagement chooses how it is shown. The substitution is
word-for-word and case-preserving:

    Agency → Enterprise, agency → enterprise,
    Agencies → Enterprises, agencies → enterprises,
    Agency's / Agency’s → Enterprise's / Enterprise’s.

Nothing else changes (in particular "Cybersecurity and Infrastructure Security
Agency" in a publisher line is a proper name and is never passed through here).
"""

from __future__ import annotations

import re

CISA = "cisa"
ENTERPRISE = "enterprise"
WORDINGS: dict[str, str] = {
    CISA: "CISA's own wording (Agency)",
    ENTERPRISE: "Enterprise (private-sector wording)",
}

_AGENCY = re.compile(r"\b([Aa])genc(y|ies)\b")


def _replace(match: re.Match[str]) -> str:
    first = "E" if match.group(1) == "A" else "e"
    return first + ("nterprise" if match.group(2) == "y" else "nterprises")


def apply_wording(text: str, wording: str) -> str:
    """``text`` as the engagement's wording shows it."""
    if wording == ENTERPRISE:
        return _AGENCY.sub(_replace, text)
    return text
