"""The domain checks of each record kind (core.validate): a sound record passes, each bad value is named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ztmm_desktop.core import validate as v

FUNCTIONS = {"identity.authentication", "devices.policy_enforcement"}
PILLARS = {"identity", "devices"}
SHA = "ab" * 32

SOUND: dict[str, tuple[Any, dict[str, Any]]] = {
    "engagement": (
        lambda row: v.engagement_problem(row, PILLARS),
        {
            "client": "Contoso Ltd", "title": "", "marking": "", "assessors": '["Lead assessor"]',
            "scope": '["identity"]', "start_date": "2026-11-02", "end_date": None, "wording": "cisa",
            "consultancy": "", "report_version": "1.0", "reviewer": "", "reviewed_on": None, "approver": "",
            "approved_on": "2026-12-01", "paper": "A4", "vendor_neutral": 0,
        },
    ),
    "logo": (v.logo_problem, {"name": "logo.png", "media_type": "image/png", "data": b"\x89PNG\r\n\x1a\n..."}),
    "function": (
        lambda row: v.function_problem(row, FUNCTIONS),
        {
            "function_id": "identity.authentication", "target": "optimal", "override_stage": "initial",
            "override_reason": "pilot only", "notes": "", "confidence": "high", "priority": "", "status": "done",
            "owner": "IAM team",
        },
    ),
    "stage": (
        lambda row: v.stage_rating_problem(row, FUNCTIONS),
        {"function_id": "identity.authentication", "stage": "initial", "rating": "met", "comment": "MFA"},
    ),
    "finding": (
        lambda row: v.finding_problem(row, FUNCTIONS),
        {
            "function_id": "identity.authentication", "stage": None, "title": "Legacy protocols",
            "observation": "", "risk": "", "recommendation": "", "severity": "high", "created_at": "2026-11-02",
            "created_by": "Lead", "owner": "", "due_date": "2027-01-31", "status": "open", "likelihood": 3,
            "impact": None,
        },
    ),
    "action": (
        lambda row: v.action_problem(row, FUNCTIONS),
        {
            "function_id": "identity.authentication", "stage": "advanced", "text": "Enforce MFA", "phase": "now",
            "effort": "M", "cost": "", "owner": "", "after_id": None, "created_at": "", "created_by": "",
        },
    ),
    "evidence": (
        v.evidence_problem,
        {
            "sha256": SHA, "title": "MFA policy", "description": "", "original_name": "mfa.png",
            "media_type": "image/png", "size": 12, "kind": "screenshot", "captured_at": "", "captured_by": "",
            "created_at": "",
        },
    ),
    "link": (
        lambda row: v.evidence_link_problem(row, FUNCTIONS),
        {"function_id": "identity.authentication", "stage": "initial", "finding_id": None},
    ),
    "blob": (lambda row: v.blob_problem(row, 4), {"sha256": SHA, "size": 9, "chunks": 3, "chunk_key": "k1"}),
    "response": (
        lambda row: v.response_problem(row, FUNCTIONS),
        {
            "function_id": "identity.authentication", "stage": "advanced", "respondent": "CISO", "role": "",
            "answer": "dont-know", "comment": "", "source_name": "q.xlsx", "source_sha256": "",
        },
    ),
    "baseline": (
        v.baseline_problem,
        {
            "name": "Initial", "created_at": "", "created_by": "", "catalog_version": "2.0", "scope": "[]",
            "rollups": "{}",
        },
    ),
    "baseline_function": (
        lambda row: v.baseline_function_problem(row, FUNCTIONS),
        {
            "function_id": "identity.authentication", "current": "initial", "derived": "initial",
            "overridden": 0, "override_reason": "", "target": None,
            "ratings": json.dumps({"initial": {"rating": "met", "comment": ""}}),
        },
    ),
    "workshop": (
        v.workshop_problem,
        {"date": "2026-12-01", "title": "Identity", "pillars": "[]", "functions": "[]", "notes": "",
         "status": "planned"},
    ),
    "section": (v.section_problem, {"key": "scope", "text": "All of it"}),
    "report_version": (
        v.report_version_problem,
        {"version": "1.0", "date": "2026-12-01", "author": "", "change": "First issue"},
    ),
    "distribution": (v.distribution_problem, {"name": "CISO", "organisation": "", "role": ""}),
}  # fmt: skip

BAD: list[tuple[str, dict[str, Any], str]] = [
    ("engagement", {"client": "  "}, "client is empty"),
    ("engagement", {"client": None}, "client is missing (NULL), not text"),
    ("engagement", {"client": b"Contoso"}, "client is binary data, not text"),
    ("engagement", {"scope": "identity"}, "scope 'identity' is not a JSON list"),
    ("engagement", {"scope": '["moon"]'}, "scope names 'moon', which the catalog does not have"),
    ("engagement", {"scope": "[]"}, "scope names no pillar"),
    ("engagement", {"assessors": None}, "assessors None is not a JSON list"),
    ("engagement", {"start_date": "2026-13-01"}, "start date '2026-13-01' is not a date"),
    ("engagement", {"start_date": "2026-12-01", "end_date": "2026-11-01"}, "end date is before the start date"),
    ("engagement", {"wording": "pirate"}, "wording 'pirate' is not one of"),
    ("engagement", {"paper": "A3"}, "paper size 'A3' is not one of: A4, Letter"),
    ("engagement", {"vendor_neutral": 7}, "vendor neutral 7 is not 0 or 1"),
    ("engagement", {"title": "x" * 501}, "title is 501 characters long; the limit is 500"),
    ("engagement", {"marking": "a\x00b"}, "marking contains a NUL character"),
    ("engagement", {"title": "\ud800"}, "title is not valid Unicode text"),
    ("logo", {"media_type": "image/gif"}, "logo type 'image/gif' is not image/png or image/jpeg"),
    ("logo", {"data": "text"}, "logo data is a str, not an image"),
    ("logo", {"data": b"GIF89a"}, "logo data is not a PNG image"),
    ("logo", {"data": b"\x89PNG\r\n\x1a\n" + bytes(6 * 1024 * 1024)}, "logo is 6,291,464 bytes"),
    ("function", {"function_id": "identity.telepathy"}, "function 'identity.telepathy' is not a function"),
    ("function", {"target": "bogus"}, "target 'bogus' is not a stage"),
    ("function", {"override_reason": " "}, "the override has no reason"),
    ("function", {"confidence": "extreme"}, "confidence 'extreme' is not one of"),
    ("stage", {"stage": "traditional"}, "stage 'traditional' is not a rated stage"),
    ("stage", {"rating": "excellent"}, "rating 'excellent' is not one of"),
    ("finding", {"stage": "bogus"}, "stage 'bogus' is not a stage"),
    ("finding", {"severity": "apocalyptic"}, "severity 'apocalyptic' is not one of"),
    ("finding", {"status": "forgotten"}, "status 'forgotten' is not one of"),
    ("finding", {"likelihood": 6}, "likelihood 6 is not a whole number from 1 to 5"),
    ("finding", {"impact": True}, "impact True is not a whole number"),
    ("finding", {"due_date": "soon"}, "due date 'soon' is not a date"),
    ("finding", {"title": ""}, "title is empty"),
    ("action", {"phase": "someday"}, "phase 'someday' is not one of: now, next, later"),
    ("action", {"effort": "XL"}, "effort 'XL' is not one of: S, M, L"),
    ("action", {"text": 42}, "text is the number 42, not text"),
    ("evidence", {"sha256": "abc"}, "sha256 'abc' is not a SHA-256"),
    ("evidence", {"size": "big"}, "size 'big' is not a whole number"),
    ("evidence", {"size": -1}, "size -1 is not a whole number"),
    ("evidence", {"size": 2**63 - 1}, "size 9223372036854775807 is not a whole number"),
    ("evidence", {"kind": "selfie"}, "kind 'selfie' is not one of"),
    ("evidence", {"original_name": ""}, "file name is empty"),
    ("link", {"function_id": None, "finding_id": None, "stage": None}, "names neither a function nor a finding"),
    ("link", {"function_id": None, "finding_id": "f1"}, "a stage without its function"),
    ("link", {"stage": "bogus"}, "linked stage 'bogus' is not a stage"),
    ("link", {"function_id": "nowhere"}, "linked function 'nowhere' is not a function"),
    ("blob", {"chunks": 2}, "chunks 2 does not match the size (3 expected)"),
    ("blob", {"size": -5}, "size -5 is not a whole number"),
    ("response", {"answer": "maybe"}, "answer 'maybe' is not one of"),
    ("response", {"source_sha256": "xyz"}, "source sha256 'xyz' is not a SHA-256"),
    ("response", {"respondent": ""}, "respondent is empty"),
    ("baseline", {"rollups": "[]"}, "rollups '[]' is not a JSON object"),
    ("baseline", {"scope": "{"}, "scope '{' is not a JSON list"),
    ("baseline_function", {"current": "bogus"}, "current stage 'bogus' is not a stage"),
    ("baseline_function", {"ratings": "nope"}, "ratings 'nope' is not a JSON object"),
    ("baseline_function", {"ratings": '{"traditional": {}}'}, "ratings name 'traditional'"),
    ("baseline_function", {"ratings": '{"initial": {"rating": "wow"}}'}, "the rating of initial 'wow'"),
    ("baseline_function", {"ratings": "[" * 100_000}, "is not a JSON object"),
    ("baseline_function", {"overridden": 2}, "overridden 2 is not 0 or 1"),
    ("workshop", {"status": "party"}, "status 'party' is not one of"),
    ("workshop", {"date": ""}, "date '' is not a date"),
    ("workshop", {"title": "two\nlines"}, "title is not one line of text"),
    ("workshop", {"functions": '[1, 2]'}, "an item of functions is the number 1, not text"),
    ("section", {"key": "appendix"}, "section 'appendix' is not one of"),
    ("section", {"text": "x" * 20_001}, "is 20,001 characters long"),
    ("report_version", {"date": ""}, "version date '' is not a date"),
    ("report_version", {"version": " "}, "version is empty"),
    ("distribution", {"name": ""}, "recipient name is empty"),
]  # fmt: skip


@pytest.mark.parametrize("kind", sorted(SOUND))
def test_a_sound_record_of_each_kind_passes(kind: str) -> None:
    check, row = SOUND[kind]
    assert check(row) is None


@pytest.mark.parametrize(("kind", "change", "message"), BAD, ids=[f"{k}-{m[:30]}" for k, _, m in BAD])
def test_each_value_out_of_its_domain_is_named(kind: str, change: dict[str, Any], message: str) -> None:
    check, row = SOUND[kind]
    problem = check({**row, **change})
    assert problem is not None and message in problem, problem
    assert "\n" not in problem and len(problem) < 200


def test_a_workshop_running_in_another_copy_may_be_refused_as_running() -> None:
    _, row = SOUND["workshop"]
    assert v.workshop_problem({**row, "status": "running"}) is None
    assert "status 'running' is not one of: planned, held" in str(
        v.workshop_problem({**row, "status": "running"}, running=False)
    )


def test_attendees_as_a_merge_carries_them() -> None:
    assert v.attendees_problem('[["Ann", "CISO", "Contoso"]]') is None
    assert v.attendees_problem("[1]") == "an attendee is not [name, role, organisation]"
    assert v.attendees_problem('[["", "", ""]]') == "attendee name is empty"
    assert v.attendees_problem(json.dumps([["a", "", ""]] * 501)) == "501 attendees; a workshop lists at most 500"
    assert v.attendees_problem(None) == "attendees are not a JSON list"


def test_huge_values_are_quoted_short() -> None:
    problem = v.text_problem(123, "comment")
    assert problem == "comment is the number 123, not text"
    assert v.shown("x" * 10_000) == "'" + "x" * 38 + "…"
    assert v.shown(b"\x00" * 5000) == "<5,000 bytes>"
