"""Workshops: recording them, pasting attendees, tagging the edits made while one runs, ``ztmm workshop``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from ztmm_desktop.core.errors import BadInput, EngagementFileError
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import workshops
from ztmm_desktop.services.engagement import Engagement, FindingDraft, Properties, create_engagement, open_engagement
from ztmm_desktop.services.workshops import Attendee, WorkshopDraft, WorkshopTag

INITIAL, ADVANCED = Stage.INITIAL, Stage.ADVANCED
MET, PARTIAL = Rating.MET, Rating.PARTIAL

PASTED = "Name\tRole\tOrganisation\r\nAttendee One\tCISO\tClient Ltd\r\n\r\nAttendee Two\tArchitect\tPartner Co\r\n"


@pytest.fixture
def engagement(tmp_path: Path) -> Iterator[Engagement]:
    with create_engagement(tmp_path / "client.ztmm", Properties(client="Contoso Ltd")) as opened:
        yield opened


def identity_day(engagement: Engagement, title: str = "Identity deep dive") -> workshops.Workshop:
    draft = WorkshopDraft(
        date="2026-12-01",
        title=title,
        pillars=("identity",),
        functions=("1.1", "identity.authentication", "1.2"),
        notes="On site",
        attendees=tuple(workshops.parse_attendees(PASTED)),
    )
    return workshops.create_workshop(engagement, draft, by="Consultant")


# -- recording -------------------------------------------------------------------------------


def test_a_workshop_is_recorded_with_attendees_and_coverage(engagement: Engagement) -> None:
    made = identity_day(engagement)
    assert made.status == "planned" and made.started_at is None
    assert made.pillars == ("identity",)
    assert made.functions == ("identity.authentication", "identity.identity_stores")  # ids, each once, model order
    assert made.attendees == (
        Attendee("Attendee One", "CISO", "Client Ltd"),
        Attendee("Attendee Two", "Architect", "Partner Co"),
    )
    assert workshops.list_workshops(engagement) == [made]
    assert made.label == "Identity deep dive (2026-12-01)"


def test_editing_a_workshop_changes_fields_and_attendees(engagement: Engagement) -> None:
    made = identity_day(engagement)
    draft = WorkshopDraft(
        "2026-12-02", "Identity, day two", ("identity", "devices"), (), "", (Attendee("Attendee Three"),)
    )
    assert workshops.update_workshop(engagement, made.id, draft) is True
    assert workshops.update_workshop(engagement, made.id, draft) is False  # nothing changed
    again = workshops.get_workshop(engagement, made.id)
    assert (again.date, again.title, again.pillars, again.attendees) == (
        "2026-12-02",
        "Identity, day two",
        ("identity", "devices"),
        (Attendee("Attendee Three"),),
    )
    assert workshops.set_attendees(engagement, made.id, [Attendee("A", "B", "C")]) is True
    assert workshops.get_workshop(engagement, made.id).attendees == (Attendee("A", "B", "C"),)


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        (WorkshopDraft("2026-02-30", "Day"), "is not a date"),
        (WorkshopDraft("", "Day"), "needs a date"),
        (WorkshopDraft("2026-12-01", "  "), "needs a title"),
        (WorkshopDraft("2026-12-01", "Day", pillars=("moon",)), "unknown pillar"),
        (WorkshopDraft("2026-12-01", "Day", functions=("9.9",)), "unknown function"),
        (WorkshopDraft("2026-12-01", "x" * 501), "limit is 500"),
        (WorkshopDraft("2026-12-01", "Day", attendees=(Attendee(""),)), "attendee 1 has no name"),
    ],
)
def test_bad_workshops_are_refused_and_nothing_changes(
    engagement: Engagement, draft: WorkshopDraft, message: str
) -> None:
    before = engagement.audit_log()
    with pytest.raises(BadInput, match=message):
        workshops.create_workshop(engagement, draft)
    assert workshops.list_workshops(engagement) == []
    assert engagement.audit_log() == before


# -- pasting attendees -----------------------------------------------------------------------


def test_pasted_rows_skip_the_header_and_blank_lines() -> None:
    assert workshops.parse_attendees(PASTED) == [
        Attendee("Attendee One", "CISO", "Client Ltd"),
        Attendee("Attendee Two", "Architect", "Partner Co"),
    ]


def test_comma_separated_rows_with_quotes_and_missing_cells() -> None:
    text = 'name,job title,company\n"Attendee, One",CISO,"Client Ltd"\nAttendee Two\n\nAttendee Three,,Partner Co,\n'
    assert workshops.parse_attendees(text) == [
        Attendee("Attendee, One", "CISO", "Client Ltd"),
        Attendee("Attendee Two", "", ""),
        Attendee("Attendee Three", "", "Partner Co"),
    ]


def test_a_first_row_of_people_is_not_mistaken_for_a_header() -> None:
    assert workshops.parse_attendees("Attendee One\tCISO\tClient\n") == [Attendee("Attendee One", "CISO", "Client")]
    assert workshops.parse_attendees("") == [] and workshops.parse_attendees("\n\t\t\n") == []


def test_bad_rows_are_reported_with_their_line_numbers() -> None:
    text = "Name\tRole\tOrganisation\nAttendee One\tCISO\tClient\n\tArchitect\tClient\n\nA\tB\tC\tD\nOK\t\x01\t\n"
    with pytest.raises(BadInput) as caught:
        workshops.parse_attendees(text)
    message = str(caught.value)
    assert "3 bad rows" in message
    assert "line 3: no name" in message
    assert "line 5: 4 cells (expected name, role, organization)" in message
    assert "line 6:" in message and "\n" not in message


# -- running and tagging --------------------------------------------------------------------


def test_edits_are_tagged_only_while_a_workshop_runs(engagement: Engagement) -> None:
    day = identity_day(engagement)
    engagement.assess("1.1", ratings={INITIAL: MET}, comments={INITIAL: "before the workshop"})
    assert workshops.tags(engagement, "1.1") == {}

    started = workshops.start(engagement, day.id)
    assert started.running and started.started_at and workshops.running(engagement) == started
    engagement.assess("1.1", ratings={ADVANCED: PARTIAL}, comments={INITIAL: "said in the room"})
    finding_id, _ = engagement.add_finding("1.1", "No phishing-resistant MFA", stage=ADVANCED)
    stopped = workshops.stop(engagement)
    assert stopped.status == "held" and stopped.ended_at and workshops.running(engagement) is None

    engagement.assess("1.2", ratings={INITIAL: MET})  # after the workshop: untagged
    tag = WorkshopTag(day.id, "Identity deep dive", "2026-12-01")
    assert workshops.tags(engagement, "identity.authentication") == {
        ("advanced", "rating"): tag,
        ("initial", "comment"): tag,  # the Initial rating was made before the workshop
        ("finding", finding_id): tag,
    }
    assert workshops.tags(engagement, "1.2") == {}
    assert tag.label == "Identity deep dive (2026-12-01)"


def test_the_latest_change_decides_the_tag(engagement: Engagement) -> None:
    day = identity_day(engagement)
    workshops.start(engagement, day.id)
    engagement.assess("1.1", ratings={INITIAL: MET})
    finding_id, _ = engagement.add_finding("1.1", "Gap")
    workshops.stop(engagement)
    engagement.assess("1.1", ratings={INITIAL: PARTIAL})  # changed afterwards, outside any workshop
    engagement.update_finding(finding_id, FindingDraft("Gap, reworded"))
    assert workshops.tags(engagement, "1.1") == {}


def test_one_workshop_runs_at_a_time(engagement: Engagement) -> None:
    first, second = identity_day(engagement), identity_day(engagement, "Devices")
    workshops.start(engagement, first.id)
    with pytest.raises(BadInput, match=r"Identity deep dive \(2026-12-01\) is running; stop it"):
        workshops.start(engagement, second.id)
    with pytest.raises(BadInput, match="already running"):
        workshops.start(engagement, first.id)
    workshops.stop(engagement)
    with pytest.raises(BadInput, match="no workshop is running"):
        workshops.stop(engagement)
    workshops.start(engagement, second.id)
    assert [w.status for w in workshops.list_workshops(engagement)] == ["held", "running"]
    workshops.stop(engagement)
    again = workshops.start(engagement, first.id)  # resumed after a break
    assert again.running and again.ended_at is None


def test_the_running_workshop_is_stored_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "client.ztmm"
    with create_engagement(path, Properties(client="Contoso Ltd")) as engagement:
        day = identity_day(engagement)
        workshops.start(engagement, day.id)
        engagement.save()
    with open_engagement(path) as engagement:
        running = workshops.running(engagement)
        assert running is not None and running.id == day.id
        engagement.assess("1.1", ratings={INITIAL: MET})
        assert set(workshops.tags(engagement, "1.1")) == {("initial", "rating")}
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError):  # the file itself refuses a second running workshop
        conn.execute(
            "INSERT INTO workshop (id, uid, date, title, pillars, functions, notes, status)"
            " VALUES (9, 'u9', '2026-12-02', 'x', '[]', '[]', '', 'running')"
        )
    conn.close()


def test_deleting_a_workshop(engagement: Engagement) -> None:
    planned, used = identity_day(engagement, "Cancelled"), identity_day(engagement)
    workshops.delete_workshop(engagement, planned.id)
    assert [w.title for w in workshops.list_workshops(engagement)] == ["Identity deep dive"]
    workshops.start(engagement, used.id)
    with pytest.raises(BadInput, match="is running; stop it before deleting"):
        workshops.delete_workshop(engagement, used.id)
    engagement.assess("1.1", ratings={INITIAL: MET})
    workshops.stop(engagement)
    with pytest.raises(BadInput, match="cannot be deleted"):
        workshops.delete_workshop(engagement, used.id)
    with pytest.raises(BadInput, match="no workshop 99"):
        workshops.delete_workshop(engagement, 99)


def test_a_read_only_engagement_cannot_start_a_workshop(tmp_path: Path) -> None:
    path = tmp_path / "client.ztmm"
    with create_engagement(path, Properties(client="Contoso Ltd")) as engagement:
        day = identity_day(engagement)
        engagement.save()
    with open_engagement(path, readonly=True) as engagement, pytest.raises(EngagementFileError, match="read-only"):
        workshops.start(engagement, day.id)


# -- the command line -----------------------------------------------------------------------


def test_cli_add_list_start_stop(tmp_path: Path) -> None:
    path = tmp_path / "client.ztmm"
    create_engagement(path, Properties(client="Contoso Ltd")).close()
    sheet = tmp_path / "attendees.tsv"
    sheet.write_text(PASTED, encoding="utf-8")
    added = run_cli(
        "workshop", path, "add", "--date", "2026-12-01", "--title", "Identity deep dive",
        "--pillars", "identity,2", "--attendees", f"@{sheet}", "--by", "Consultant",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added workshop 1: Identity deep dive (2026-12-01), 2 attendee(s)" in added.stdout
    assert run_cli("workshop", path, "start", "1").returncode == 0
    assert run_cli("assess", path, "1.1", "--rate", "initial=met").returncode == 0
    stopped = run_cli("workshop", path, "stop")
    assert stopped.returncode == 0 and "stopped workshop 1" in stopped.stdout
    listed = run_cli("workshop", path, "list")
    assert listed.stdout.startswith("1  2026-12-01  Identity deep dive  [held]  2 attendees; identity, devices")
    [data] = json.loads(run_cli("workshop", path, "list", "--json").stdout)
    assert data["status"] == "held" and data["attendees"][0] == {
        "name": "Attendee One",
        "role": "CISO",
        "organisation": "Client Ltd",
    }
    with open_engagement(path, readonly=True) as engagement:  # the CLI's edit was tagged too
        assert set(workshops.tags(engagement, "1.1")) == {("initial", "rating")}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "--date", "30/11/2026", "--title", "Day"), "is not a date like 2026-11-30"),
        (("add", "--date", "2026-12-01", "--title", "Day", "--pillars", "moon"), "unknown pillar 'moon'"),
        (("add", "--date", "2026-12-01", "--title", "Day", "--attendees", "Attendee One"), "--attendees takes @FILE"),
        (("add", "--date", "2026-12-01", "--title", "Day", "--attendees", "@missing.tsv"), "cannot read"),
        (("start", "7"), "no workshop 7"),
        (("start", "one"), "invalid int value"),
        (("stop",), "no workshop is running"),
        (("dance",), "invalid choice"),
    ],
)
def test_cli_bad_input_is_one_line_and_changes_nothing(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    path = tmp_path / "client.ztmm"
    create_engagement(path, Properties(client="Contoso Ltd")).close()
    before = path.read_bytes()
    result = run_cli("workshop", path, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert path.read_bytes() == before


def test_cli_bad_attendee_rows_name_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "client.ztmm"
    create_engagement(path, Properties(client="Contoso Ltd")).close()
    sheet = tmp_path / "attendees.csv"
    sheet.write_text("name,role,organisation\nAttendee One,CISO,Client\n,Architect,Client\n", encoding="utf-8")
    result = run_cli("workshop", path, "add", "--date", "2026-12-01", "--title", "Day", "--attendees", f"@{sheet}")
    assert result.returncode == 2 and "line 3: no name" in result.stderr
    assert "no workshops" in run_cli("workshop", path, "list").stdout


def test_a_workshop_put_back_keeps_its_id_and_uid_and_a_second_running_one_is_refused(tmp_path: Path) -> None:
    """What the window's undo relies on: a deleted workshop comes back as itself; start and stop go back."""
    with create_engagement(tmp_path / "client.ztmm", Properties(client="Contoso Ltd")) as engagement:
        day = identity_day(engagement)
        workshops.delete_workshop(engagement, day.id)
        assert workshops.restore_workshop(engagement, day) == day
        with pytest.raises(BadInput, match=r"already in client\.ztmm"):
            workshops.restore_workshop(engagement, day)
        other = identity_day(engagement, "Devices day")
        workshops.start(engagement, other.id)
        before = engagement.audit_log()
        with pytest.raises(
            BadInput, match=r"Devices day \(2026-12-01\) is running; stop it before starting Identity deep dive"
        ):
            workshops.set_status(engagement, day.id, workshops.RUNNING, "2026-12-01T09:00:00+00:00", None)
        assert engagement.audit_log() == before and workshops.running(engagement) == workshops.get_workshop(
            engagement, other.id
        )
        assert workshops.set_status(engagement, other.id, workshops.PLANNED, None, None)
        assert workshops.get_workshop(engagement, other.id).status == workshops.PLANNED
