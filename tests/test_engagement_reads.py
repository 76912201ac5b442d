"""What an open engagement reads after its edits is what the file holds.

Assessing a function re-reads only that function (typing commits every pause,
so re-reading everything each time would stall the window); the other reads
it keeps must still be exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement


def as_saved(engagement: Engagement) -> tuple[object, ...]:
    """The same reads from the saved file, opened afresh."""
    engagement.save()
    with open_engagement(engagement.path, readonly=True) as fresh:
        return fresh.assessments(), fresh.results(), fresh.findings(), fresh.meta()


def test_reads_after_assessing_match_the_file(tmp_path: Path) -> None:
    with create_engagement(tmp_path / "reads.ztmm", Properties(client="Reads Ltd")) as engagement:
        engagement.add_finding("1.1", "Legacy protocols allowed", stage=Stage.INITIAL)
        engagement.assess("2.4", ratings={Stage.INITIAL: Rating.MET}, target=Stage.ADVANCED)
        engagement.assessments(), engagement.results(), engagement.findings(), engagement.meta()  # all read
        engagement.assess("1.1", note="Passkeys for admins", comments={Stage.INITIAL: "MFA for all"})
        engagement.assess("1.1", ratings={Stage.INITIAL: Rating.PARTIAL}, owner="IAM team")
        with pytest.raises(BadInput):
            engagement.assess("1.1", override=(Stage.OPTIMAL, "  "))  # refused: nothing changes
        engagement.assess("2.4", note="")  # no change at all
        reads = engagement.assessments(), engagement.results(), engagement.findings(), engagement.meta()
        assert reads == as_saved(engagement)
        assert engagement.assessment("1.1").notes == "Passkeys for admins"
        assert engagement.results()["identity.authentication"].assessed
