"""Any user text in notes, comments and finding titles: the report builds, the text comes back, nothing is injected."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.test_report import BIDI_MARKS, images, uris
from ztmm_desktop.core.deliverable import ClientAnswer, Snapshot
from ztmm_desktop.core.register import SECTION_KEYS, ActionLine, DocumentControl, Recipient, Sections, VersionLine
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.paths import fonts_dir
from ztmm_desktop.report.render import render_report
from ztmm_desktop.services.deliverables import build_snapshot
from ztmm_desktop.services.engagement import MAX_NAME, Engagement, FindingDraft, Properties, create_engagement
from ztmm_desktop.services.report import export_report

PAYLOADS = [
    "R&D <b>unclosed",
    'x<y and y>z; <img src="/etc/passwd"/> <a href="file:///etc/passwd">click</a>',
    "&amp; &lt; &#60; &nbsp; <br/> <font name='Courier'>ok</font> <para> </para>",
    "שלום עולם and مرحبا بالعالم",
    "日本語のテキストと中文文本，以及한국어",
    "emoji 😀🦀👍🏽 and ✓ ✗",
    "Łódź, Ős, Кириллица, Ελληνικά",
]
CHARACTERS = st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x00")
USER_TEXT = st.one_of(
    st.text(CHARACTERS, min_size=1, max_size=120),
    st.lists(st.sampled_from(PAYLOADS), min_size=1, max_size=3).map(" ".join),
    st.tuples(st.sampled_from(PAYLOADS), st.text(CHARACTERS, max_size=60)).map(" ".join),
).filter(lambda s: s.strip() != "")
#: Right-to-left letters: pdftotext puts runs of them in reading order, so their place among neutral
#: characters (spaces, punctuation) is compared loosely; everything else must come back in order.
RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
#: What the report must contain in any case: the marking and the body of the page.
CROP = ["-x", "0", "-y", "56", "-W", "596", "-H", "740"]


def canonical(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).translate(BIDI_MARKS)
    return "".join(text.split())


def comes_back(value: str, document: str) -> bool:
    """``value`` is in ``document``: in order, apart from right-to-left letters, which must all be there."""
    wanted, text = canonical(value), canonical(document)
    if Counter(RTL.findall(wanted)) - Counter(RTL.findall(text)):
        return False
    wanted, text = RTL.sub("", wanted), RTL.sub("", text)
    if len(wanted) <= 300:
        return wanted in text
    position = 0  # a long text may be split across pages (the table head repeats in between)
    for chunk in re.findall(".{1,40}", wanted):
        found = text.find(chunk, position)
        if found < 0:
            return False
        position = found + len(chunk)
    return True


def build(engagement: Engagement, out: Path, value: str) -> str:
    engagement.assess("1.1", note=value, comments={Stage.ADVANCED: value}, target=Stage.OPTIMAL)
    finding_id = engagement.findings()[0].id
    engagement.update_finding(finding_id, FindingDraft(value[:MAX_NAME], Stage.INITIAL, value, "", "", "high"))
    export_report(engagement, out)
    done = subprocess.run(["pdftotext", "-raw", *CROP, str(out), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def check(engagement: Engagement, out: Path, value: str) -> None:
    """Build the report with ``value`` as note, comment, finding title and observation; check what came out."""
    text = build(engagement, out, value)
    assert comes_back(value, text), value[:200]  # the note and the comment (the observation too)
    assert comes_back(value[:MAX_NAME], text), value[:200]  # the finding title
    known = {ref.url for pack in engagement.library.packs for rec in pack.recommendations for ref in rec.references}
    assert images(out) == 0
    allowed = ("https://learn.microsoft.com", "https://creativecommons.org")  # the attribution's own links
    assert [u for u in uris(out) if u not in known and not u.startswith(allowed)] == []
    data = out.read_bytes()
    assert b"/Launch" not in data and b"/JavaScript" not in data and b"file:" not in data


def engagement_for(tmp_path: Path) -> Engagement:
    engagement = create_engagement(tmp_path / "property.ztmm", Properties(client="Property Ltd", scope=("identity",)))
    engagement.add_finding("1.1", "placeholder", severity="high")
    return engagement


def test_any_user_text_builds_comes_back_and_injects_nothing(tmp_path: Path) -> None:
    with engagement_for(tmp_path) as engagement:

        @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(USER_TEXT)
        @example(" ".join(PAYLOADS))
        def each(value: str) -> None:
            check(engagement, tmp_path / "report.pdf", value)

        each()


@pytest.mark.slow
@pytest.mark.parametrize(
    "value",
    ["w" * 50_000, "A" + "ź" * 20_000 + " tail " + "漢" * 3_000, "word " * 10_000],
    ids=["50000-character-word", "long-accented-and-cjk-words", "50000-characters-of-words"],
)
def test_very_long_words_and_text_build_complete(tmp_path: Path, value: str) -> None:
    with engagement_for(tmp_path) as engagement:
        check(engagement, tmp_path / "report.pdf", value)


def consultant_snapshot(engagement: Engagement, value: str) -> Snapshot:
    """The engagement's snapshot with ``value`` in every field the consultant and the client write."""
    base = build_snapshot(engagement)
    sheet = base.functions()[0]
    finding = replace(base.findings[0], owner=value, status="in-progress", likelihood=4, impact=4)
    action = ActionLine(
        "a1", sheet.function.id, sheet.function.code, sheet.function.name, Stage.ADVANCED, value, "now", "M",
        cost=value, owner=value, priority="high", gap=1,
    )  # fmt: skip
    answer = ClientAnswer(Stage.ADVANCED, value, value, "Met", value, False)
    sheet = replace(sheet, findings=(finding,), answers=(answer,), actions=(action,))
    pillar = replace(base.pillars[0], functions=(sheet, *base.pillars[0].functions[1:]))
    control = DocumentControl(
        consultancy=value, report_version=value, history=(VersionLine(value, "2026-11-30", value, value),),
        distribution=(Recipient(value, value, value),), reviewer=value, reviewed_on="2026-11-30",
        approver=value, approved_on="2026-11-30",
    )  # fmt: skip
    sections = Sections(**{key: value for key in SECTION_KEYS})
    meta = replace(base.meta, prepared_by=value, prepared_by_organisation=value)
    return replace(
        base, meta=meta, pillars=(pillar, *base.pillars[1:]), findings=(finding,), sections=sections,
        control=control, actions=(action,),
    )  # fmt: skip


def test_any_consultant_text_builds_comes_back_and_injects_nothing(tmp_path: Path) -> None:
    out = tmp_path / "consultant.pdf"
    with engagement_for(tmp_path) as engagement:

        @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(USER_TEXT)
        @example(" ".join(PAYLOADS))
        def each(value: str) -> None:
            render_report(consultant_snapshot(engagement, value), out, fonts_dir=fonts_dir())
            done = subprocess.run(
                ["pdftotext", "-raw", *CROP, str(out), "-"], capture_output=True, text=True, check=True
            )
            assert comes_back(value, done.stdout), value[:200]
            assert images(out) == 0
            allowed = ("https://learn.microsoft.com", "https://creativecommons.org", "https://www.cisa.gov")
            known = {
                ref.url for pack in engagement.library.packs for rec in pack.recommendations for ref in rec.references
            }
            assert [u for u in uris(out) if u not in known and not u.startswith(allowed)] == []
            data = out.read_bytes()  # the text itself is in the metadata (the author): no link may be made of it
            assert b"/Launch" not in data and b"/JavaScript" not in data and b"/URI (file:" not in data

        each()
