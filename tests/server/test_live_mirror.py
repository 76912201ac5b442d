"""The live mirror without a window (``services.live_mirror``): two working copies of one engagement,
each bound to its own live session, stay in step field by field; a field being typed in is left alone
and its commit meets the other's change as a conflict, resolved either way; a finding made in one is
made in the other; Save of a live copy writes only what is not live, and is not refused by live edits."""

# ruff: noqa: F811  (the team fixtures ``server`` and ``realistic`` are imported, and named by the tests)
from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from tests.server.conftest import realistic, server  # noqa: F401  (the team fixtures)
from tests.support.live import Published, publish, url_with_password
from tests.support.team import Server
from ztmm_desktop.server.live import LiveSession
from ztmm_desktop.server.url import parse
from ztmm_desktop.services import server_copy
from ztmm_desktop.services.live_mirror import Field, LiveMirror
from ztmm_desktop.services.records import Changes

BOUND = 30.0  # seconds a change may take to arrive before the test gives up (a bound, not a measurement)


@dataclass
class _View:
    """What a window would be told, and its UI thread: a queue the test runs."""

    jobs: queue.Queue[Callable[[], None]] = field(default_factory=queue.Queue)
    mirrored: list[Changes] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    conflicts: int = 0
    typing: frozenset[Field] = frozenset()

    def post(self, job: Callable[[], None]) -> None:
        self.jobs.put(job)

    def pump(self) -> None:
        while True:
            try:
                self.jobs.get_nowait()()
            except queue.Empty:
                return

    def mirrored_changes(self, changes: Changes, author: str) -> None:
        self.mirrored.append(changes)

    def conflicts_changed(self) -> None:
        self.conflicts += 1

    def refused(self, text: str) -> None:
        self.refusals.append(text)

    def connection_changed(self) -> None:
        pass


class _Side:
    def __init__(self, url: str) -> None:
        self.copy = server_copy.open_copy(parse(url))
        self.copy.live = True
        self.session = LiveSession.open(url, prompt=None)
        self.view = _View()
        view = self.view

        class Adapter:
            mirrored = staticmethod(view.mirrored_changes)
            conflicts_changed = staticmethod(view.conflicts_changed)
            refused = staticmethod(view.refused)
            connection_changed = staticmethod(view.connection_changed)

        self.mirror = LiveMirror(
            self.session, self.copy.engagement, Adapter(), post=view.post, editing=lambda: view.typing
        )

    def close(self) -> None:
        self.mirror.close()
        self.session.close()
        self.copy.close()


@pytest.fixture
def sides(server: Server, realistic: Path, tmp_path: Path) -> Iterator[tuple[Published, _Side, _Side]]:
    published, more = publish(server, realistic, tmp_path, assessors=2)
    first = _Side(url_with_password(server, more[0], published.engagement))
    second = _Side(url_with_password(server, more[1], published.engagement))
    yield published, first, second
    first.close()
    second.close()


def _until(condition: Callable[[], bool], *sides: _Side) -> None:
    deadline = time.monotonic() + BOUND
    while True:
        for side in sides:
            side.view.pump()
        if condition():
            return
        assert time.monotonic() < deadline, "the change never arrived"
        time.sleep(0.01)


def test_two_copies_stay_in_step_and_a_field_typed_in_on_both_sides_is_a_conflict(
    sides: tuple[Published, _Side, _Side],
) -> None:
    _published, a, b = sides
    function = a.copy.engagement.functions_in_scope()[2].id
    notes: Field = ("function_assessment", function, "notes")

    a.copy.engagement.assess(function, note="Vault reviewed", by="A")
    a.mirror.local_changed()
    _until(lambda: b.copy.engagement.assessment(function).notes == "Vault reviewed", a, b)
    assert b.view.mirrored and function in b.view.mirrored[-1].functions

    b.view.typing = frozenset({notes})  # the second consultant is typing in those notes
    a.copy.engagement.assess(function, note="Vault reviewed twice", by="A")
    a.mirror.local_changed()
    _until(lambda: notes in b.mirror.held_back, a, b)
    assert b.copy.engagement.assessment(function).notes == "Vault reviewed"  # not overwritten under the typing
    b.view.typing = frozenset()
    b.copy.engagement.assess(function, note="Shared admin vault", by="B")  # the typing kept
    b.mirror.local_changed()
    _until(lambda: notes in b.mirror.conflicts, a, b)
    found = b.mirror.conflicts[notes]
    assert (found.theirs, found.mine) == ("Vault reviewed twice", "Shared admin vault")
    assert found.author == a.session.login
    assert b.session.value(*notes) == "Vault reviewed twice"  # nothing written over theirs

    b.mirror.keep_mine(notes)
    _until(lambda: a.copy.engagement.assessment(function).notes == "Shared admin vault", a, b)
    assert b.session.value(*notes) == "Shared admin vault" and not b.mirror.conflicts

    # again, and this time theirs is taken
    b.view.typing = frozenset({notes})
    a.copy.engagement.assess(function, note="Vault gone", by="A")
    a.mirror.local_changed()
    _until(lambda: notes in b.mirror.held_back, a, b)
    b.view.typing = frozenset()
    b.copy.engagement.assess(function, note="Vault kept", by="B")
    b.mirror.local_changed()
    _until(lambda: notes in b.mirror.conflicts, a, b)
    b.mirror.take_theirs(notes)
    _until(lambda: b.copy.engagement.assessment(function).notes == "Vault gone", a, b)
    assert a.copy.engagement.assessment(function).notes == "Vault gone" == b.session.value(*notes)


def test_a_finding_made_in_one_copy_is_made_in_the_other_and_a_save_writes_only_the_rest(
    server: Server, sides: tuple[Published, _Side, _Side]
) -> None:
    published, a, b = sides
    function = a.copy.engagement.functions_in_scope()[0].id
    finding_id, _ = a.copy.engagement.add_finding(function, "Shared admin accounts", severity="high", by="A")
    a.mirror.local_changed()
    _until(lambda: any(f.id == finding_id for f in b.copy.engagement.findings()), a, b)
    shown = next(f for f in b.copy.engagement.findings() if f.id == finding_id)
    assert (shown.title, shown.severity, shown.function_id) == ("Shared admin accounts", "high", function)

    b.copy.engagement.assess(function, note="Seen in the workshop", by="B")
    b.mirror.local_changed()
    _until(lambda: a.copy.engagement.assessment(function).notes == "Seen in the workshop", a, b)
    properties = a.copy.engagement.properties()
    a.copy.engagement.update_properties(replace(properties, title="Second round"))
    written = server_copy.save(a.copy)  # not refused: everyone's live edits are no Save of anyone's
    assert written >= 1
    with LiveSession.open(url_with_password(server, published.lead, published.engagement), prompt=None) as lead:
        assert lead.engagement.meta().title == "Second round"
    audit = server.cluster.sql(
        f'SELECT count(*) FROM "e_{published.engagement}".audit WHERE entity = %s AND key = %s AND field = %s',
        ("finding", finding_id, "created"),
        db=server.db,
    )
    assert audit == [(1,)]  # the live edit's own audit row, not sent again by the Save
