"""The report's own words and its document control: sections, version history,
distribution, reviewer and approver, paper size and vendor-neutral flag (the
consultancy's logo beside the client's is kept by ``logo.py``).

Every change is one edit of the engagement (``Engagement.edit``) with an audit row
per changed field, on the engagement record: ``section:<key>`` for a section,
the column's name for document control, ``history`` and ``distribution`` (JSON
of the whole list). Each returns ``Changes(metadata=True)``
when something changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from sqlmodel import col, select

from ..core.errors import BadInput
from ..core.register import (
    MAX_SECTION,
    PAPER_SIZES,
    SECTION_KEYS,
    SECTION_TITLES,
    Recipient,
    VersionLine,
)
from ..core.validate import MAX_LIST
from ..store.schema import DistributionRow, EngagementRow, ReportVersionRow, SectionRow
from .engagement import MAX_NAME, MAX_TEXT, Changes, Engagement, _parse_date, check_text
from .records import ReportOptions as ReportOptions
from .records import read_control as read_control
from .records import read_report_options as read_report_options
from .records import read_sections as read_sections

SECTION_FIELD = "section:"


def section_key(name: str) -> str:
    """A section's key from what a person types: ``key_messages``, ``key-messages``, ``Key messages``."""
    word = "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())
    if word in SECTION_KEYS:
        return word
    by_title = {"_".join(title.lower().split()): key for key, title in SECTION_TITLES.items()}
    if word in by_title:
        return by_title[word]
    names = ", ".join(key.replace("_", "-") for key in SECTION_KEYS)
    raise BadInput(f"unknown section {name.strip()[:60]!r} (expected one of: {names})")


def check_section(key: str, text: str) -> str:
    return check_text(text, f"section {key.replace('_', '-')}", MAX_SECTION)


# -- sections ------------------------------------------------------------------------------


def set_sections(engagement: Engagement, texts: Mapping[str, str], *, by: str | None = None) -> Changes:
    """Replace the text of each section named (keys or names as :func:`section_key` reads them); "" clears."""
    wanted = {section_key(name): check_section(section_key(name), text) for name, text in texts.items()}
    if not wanted:
        return Changes()
    key = engagement.meta().id
    with engagement.edit(by) as (session, audit):
        changed = False
        for name, text in wanted.items():
            row = session.get(SectionRow, name)
            old = row.text if row is not None else ""
            if not audit.record("engagement", key, SECTION_FIELD + name, old, text):
                continue
            changed = True
            if not text.strip():
                if row is not None:
                    session.delete(row)
            elif row is None:
                session.add(SectionRow(key=name, text=text))
            else:
                row.text = text
        if not changed:
            session.rollback()
    return Changes(metadata=True) if changed else Changes()


def set_section(engagement: Engagement, name: str, text: str, *, by: str | None = None) -> Changes:
    return set_sections(engagement, {name: text}, by=by)


# -- document control ----------------------------------------------------------------------


def paper_size(value: str) -> str:
    for size in PAPER_SIZES:
        if value.strip().casefold() == size.casefold():
            return size
    raise BadInput(f"unknown paper size {value.strip()[:30]!r} (expected one of: {', '.join(PAPER_SIZES)})")


def check_history(lines: Iterable[VersionLine]) -> tuple[VersionLine, ...]:
    out = []
    for n, line in enumerate(lines, start=1):
        what = f"version history line {n}"
        if not line.version.strip():
            raise BadInput(f"{what} has no version")
        date = _parse_date(line.date, f"the date of {what}")
        if date is None:
            raise BadInput(f"{what} has no date")
        out.append(
            VersionLine(
                version=check_text(line.version.strip(), f"the version of {what}", MAX_NAME),
                date=date,
                author=check_text(line.author.strip(), f"the author of {what}", MAX_NAME),
                change=check_text(line.change.strip(), f"the change of {what}", MAX_TEXT),
            )
        )
    if len(out) > MAX_LIST:
        raise BadInput(f"the version history has {len(out)} lines; the limit is {MAX_LIST}")
    return tuple(out)


def check_distribution(recipients: Iterable[Recipient]) -> tuple[Recipient, ...]:
    out = []
    for n, person in enumerate(recipients, start=1):
        what = f"recipient {n}"
        if not person.name.strip():
            raise BadInput(f"{what} of the distribution list has no name")
        out.append(
            Recipient(
                name=check_text(person.name.strip(), f"the name of {what}", MAX_NAME),
                organisation=check_text(person.organisation.strip(), f"the organization of {what}", MAX_NAME),
                role=check_text(person.role.strip(), f"the role of {what}", MAX_NAME),
            )
        )
    if len(out) > MAX_LIST:
        raise BadInput(f"the distribution list has {len(out)} recipients; the limit is {MAX_LIST}")
    return tuple(out)


def history_json(lines: Sequence[VersionLine]) -> str:
    return json.dumps([[v.version, v.date, v.author, v.change] for v in lines], ensure_ascii=False)


def distribution_json(people: Sequence[Recipient]) -> str:
    return json.dumps([[p.name, p.organisation, p.role] for p in people], ensure_ascii=False)


_CONTROL_TEXT = ("consultancy", "report_version", "reviewer", "approver")


def update_control(
    engagement: Engagement,
    *,
    consultancy: str | None = None,
    report_version: str | None = None,
    history: Sequence[VersionLine] | None = None,
    distribution: Sequence[Recipient] | None = None,
    reviewer: str | None = None,
    reviewed_on: str | None = None,
    approver: str | None = None,
    approved_on: str | None = None,
    paper: str | None = None,
    vendor_neutral: bool | None = None,
    by: str | None = None,
) -> Changes:
    """Change the document control fields given (None leaves one as it is; "" clears a text or a date)."""
    texts = {
        name: check_text(value.strip(), name.replace("_", " "), MAX_NAME)
        for name, value in (
            ("consultancy", consultancy),
            ("report_version", report_version),
            ("reviewer", reviewer),
            ("approver", approver),
        )
        if value is not None
    }
    dates = {
        name: _parse_date(value, name.replace("_", " "))
        for name, value in (("reviewed_on", reviewed_on), ("approved_on", approved_on))
        if value is not None
    }
    new_history = check_history(history) if history is not None else None
    new_people = check_distribution(distribution) if distribution is not None else None
    new_paper = paper_size(paper) if paper is not None else None
    key = engagement.meta().id
    with engagement.edit(by) as (session, audit):
        row = session.exec(select(EngagementRow)).one()
        changed = False
        for name, value in {**texts, **dates}.items():
            if audit.record("engagement", key, name, getattr(row, name), value):
                setattr(row, name, value)
                changed = True
        if new_paper is not None and audit.record("engagement", key, "paper", row.paper, new_paper):
            row.paper = new_paper
            changed = True
        if vendor_neutral is not None and audit.record(
            "engagement", key, "vendor_neutral", _yes(bool(row.vendor_neutral)), _yes(vendor_neutral)
        ):
            row.vendor_neutral = vendor_neutral
            changed = True
        if new_history is not None:
            old = session.exec(select(ReportVersionRow).order_by(col(ReportVersionRow.position))).all()
            before = [VersionLine(r.version, r.date, r.author, r.change) for r in old]
            if audit.record("engagement", key, "history", history_json(before), history_json(new_history)):
                changed = True
                for r in old:
                    session.delete(r)
                session.flush()
                for n, v in enumerate(new_history):
                    session.add(
                        ReportVersionRow(position=n, version=v.version, date=v.date, author=v.author, change=v.change)
                    )
        if new_people is not None:
            old_people = session.exec(select(DistributionRow).order_by(col(DistributionRow.position))).all()
            before_people = [Recipient(r.name, r.organisation, r.role) for r in old_people]
            if audit.record(
                "engagement", key, "distribution", distribution_json(before_people), distribution_json(new_people)
            ):
                changed = True
                for person in old_people:
                    session.delete(person)
                session.flush()
                for n, p in enumerate(new_people):
                    session.add(DistributionRow(position=n, name=p.name, organisation=p.organisation, role=p.role))
        if not changed:
            session.rollback()
    return Changes(metadata=True) if changed else Changes()


def _yes(value: bool) -> str:
    return "yes" if value else "no"
