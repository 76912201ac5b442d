"""The demo engagement: built from ``resources/demo/demo-engagement.yaml`` on demand.

It is built afresh into the app's data folder each time it is opened, so the
shipped description never goes stale against the file format and the consultant
can play with it freely.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..core.register import Recipient, VersionLine
from ..core.responses import Answer
from ..core.stages import Rating, Stage
from ..paths import data_dir, resources_dir
from ..store.lock import holder_of
from ..store.migrations import SCHEMA_VERSION
from . import register, workshops
from .actions import ActionDraft, add_action
from .baselines import freeze_baseline
from .engagement import Engagement, Properties, create_engagement, open_engagement
from .questionnaire import record_responses
from .workshops import Attendee, WorkshopDraft

DEMO_FILE = "demo-engagement.yaml"
DEMO_BY = "Demo"


def demo_description() -> dict[str, Any]:
    data = yaml.safe_load((resources_dir() / "demo" / DEMO_FILE).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def build_demo(path: Path) -> Engagement:
    """Create the demo engagement at ``path`` and return it open for editing."""
    data = demo_description()
    meta = data["engagement"]
    engagement = create_engagement(
        path,
        Properties(
            client=meta["client"],
            title=meta.get("title", ""),
            assessors=tuple(meta.get("assessors", ())),
            start_date=meta.get("start_date"),
            end_date=meta.get("end_date"),
            marking=meta.get("marking", ""),
            wording=meta.get("wording", "cisa"),
        ),
    )
    try:
        held = []  # (workshop id, pillar ids it covered)
        for item in data.get("workshops", []):
            made = workshops.create_workshop(
                engagement,
                WorkshopDraft(
                    date=item["date"],
                    title=item["title"],
                    pillars=tuple(item.get("pillars", ())),
                    notes=item.get("notes", ""),
                    attendees=tuple(Attendee(*row) for row in item.get("attendees", ())),
                ),
                by=DEMO_BY,
            )
            held.append((made.id, {engagement.catalog.pillar(p).id for p in item.get("pillars", ())}))

        def workshop_of(code: str) -> int | None:
            pillar = engagement.catalog.function(code).pillar_id
            return next((wid for wid, pillars in held if pillar in pillars), None)

        def run_in(code: str) -> None:  # the workshop that covered ``code`` runs while it is rated
            wanted, current = workshop_of(code), workshops.running(engagement)
            if current is not None and current.id != wanted:
                workshops.stop(engagement, by=DEMO_BY)
                current = None
            if wanted is not None and current is None:
                workshops.start(engagement, wanted, by=DEMO_BY)

        for code, spec in data.get("functions", {}).items():
            run_in(str(code))
            ratings = {Stage.parse(s): Rating.parse(r[0]) for s, r in spec.get("ratings", {}).items()}
            comments = {Stage.parse(s): r[1] for s, r in spec.get("ratings", {}).items() if r[1]}
            override = spec.get("override")
            engagement.assess(
                str(code),
                ratings=ratings,
                comments=comments,
                override=(Stage.parse(override[0]), override[1]) if override else None,
                target=Stage.parse(spec["target"]) if "target" in spec else None,
                note=spec.get("notes"),
                confidence=spec.get("confidence"),
                priority=spec.get("priority"),
                owner=spec.get("owner"),
                status=spec.get("status"),
                by=DEMO_BY,
            )
        baseline = data.get("baseline")
        if baseline:  # the earlier state: today's ratings with a few stages lower, frozen, then today's again
            before = {str(code): ratings for code, ratings in baseline.get("before", {}).items()}
            now = {code: engagement.assessment(code) for code in before}
            for code, ratings in before.items():
                engagement.assess(
                    code,
                    ratings={Stage.parse(s): Rating.parse(r[0]) for s, r in ratings.items()},
                    comments={Stage.parse(s): r[1] for s, r in ratings.items()},
                    by=DEMO_BY,
                )
            freeze_baseline(engagement, baseline["name"], by=DEMO_BY)
            for code, ratings in before.items():
                run_in(code)
                stages = [Stage.parse(s) for s in ratings]
                engagement.assess(
                    code,
                    ratings={stage: now[code].rating(stage).rating for stage in stages},
                    comments={stage: now[code].rating(stage).comment for stage in stages},
                    by=DEMO_BY,
                )
        for finding in data.get("findings", []):
            run_in(str(finding["function"]))
            engagement.add_finding(
                str(finding["function"]),
                finding["title"],
                stage=Stage.parse(finding["stage"]) if finding.get("stage") else None,
                observation=finding.get("observation", ""),
                risk=finding.get("risk", ""),
                recommendation=finding.get("recommendation", ""),
                severity=finding.get("severity", "medium"),
                owner=finding.get("owner", ""),
                due_date=finding.get("due_date"),
                status=finding.get("status", "open"),
                likelihood=finding.get("likelihood"),
                impact=finding.get("impact"),
                by=DEMO_BY,
            )
        if workshops.running(engagement) is not None:
            workshops.stop(engagement, by=DEMO_BY)
        for person in data.get("responses", []):
            record_responses(
                engagement,
                person["respondent"],
                (
                    (str(code), Stage.parse(stage), Answer.parse(answer[0]), answer[1])
                    for code, stages in person["answers"].items()
                    for stage, answer in stages.items()
                ),
                role=person.get("role", ""),
                source_name="Questionnaire (demo)",
                by=DEMO_BY,
            )
        _registers(engagement, data)
        engagement.save()
    except BaseException:
        engagement.close()
        raise
    return engagement


def _registers(engagement: Engagement, data: dict[str, Any]) -> None:
    """The report's sections, its document control and the roadmap's actions."""
    register.set_sections(
        engagement, {key: str(text).strip() for key, text in data.get("sections", {}).items()}, by=DEMO_BY
    )
    document = data.get("document")
    if document:
        register.update_control(
            engagement,
            consultancy=document.get("consultancy"),
            report_version=document.get("report_version"),
            history=[VersionLine(*map(str, line)) for line in document.get("history", ())],
            distribution=[Recipient(*map(str, person)) for person in document.get("distribution", ())],
            reviewer=document.get("reviewer"),
            reviewed_on=document.get("reviewed_on"),
            approver=document.get("approver"),
            approved_on=document.get("approved_on"),
            paper=document.get("paper"),
            vendor_neutral=document.get("vendor_neutral"),
            by=DEMO_BY,
        )
    made: dict[str, str] = {}  # the description's key of an action → its id
    for item in data.get("actions", []):
        action_id, _ = add_action(
            engagement,
            str(item["function"]),
            ActionDraft(
                text=item["text"],
                phase=item["phase"],
                effort=item["effort"],
                stage=Stage.parse(item["stage"]) if item.get("stage") else None,
                cost=item.get("cost", ""),
                owner=item.get("owner", ""),
                after=made[item["after"]] if item.get("after") else None,
            ),
            by=DEMO_BY,
        )
        if item.get("key"):
            made[item["key"]] = action_id


def _template(folder: Path) -> Path:
    """The demo built once per demo description and app version, then copied on each open."""
    description = (resources_dir() / "demo" / DEMO_FILE).read_bytes()
    key = hashlib.sha256(description + f"{__version__}/{SCHEMA_VERSION}".encode()).hexdigest()[:16]
    template = folder / f".template-{key}.ztmm"
    if not template.exists():
        for old in folder.glob(".template-*.ztmm"):
            old.unlink()
        building = folder / f".building-{uuid.uuid4().hex}.ztmm"
        build_demo(building).close()
        os.replace(building, template)
    return template


def open_demo() -> Engagement:
    """A fresh copy of the demo engagement in the data folder, open for editing."""
    folder = data_dir() / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Demo engagement.ztmm"
    number = 1
    while holder_of(path) is not None:  # another window has the demo open: leave it alone
        number += 1
        path = folder / f"Demo engagement ({number}).ztmm"
    shutil.copyfile(_template(folder), path)
    return open_engagement(path)
