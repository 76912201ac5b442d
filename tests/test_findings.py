"""Findings: add, edit, remove and put back, each audited; bad drafts refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.services.engagement import FindingDraft, Properties, create_engagement


def test_finding_lifecycle_with_audit(tmp_path: Path) -> None:
    with create_engagement(tmp_path / "f.ztmm", Properties(client="Findings Ltd")) as engagement:
        finding_id, changes = engagement.add_finding(
            "3.1", "Flat depot network", stage=Stage.INITIAL, severity="critical", by="Lead"
        )
        assert changes.functions == {"networks.network_segmentation"} and changes.findings == {finding_id}
        (finding,) = engagement.findings("3.1")
        assert (finding.title, finding.stage, finding.severity, finding.created_by) == (
            "Flat depot network", Stage.INITIAL, "critical", "Lead",
        )  # fmt: skip
        edited = FindingDraft("Flat depot networks", Stage.INITIAL, "All devices share one VLAN", severity="High")
        assert engagement.update_finding(finding_id, edited, by="Lead")
        assert not engagement.update_finding(finding_id, edited, by="Lead")  # no change, nothing recorded
        removed, _ = engagement.remove_finding(finding_id, by="Lead")
        assert engagement.findings() == []
        engagement.restore_finding(removed.function_id, removed.draft(), finding_id=removed.id, by="Lead")
        (back,) = engagement.findings()
        assert (back.id, back.title, back.observation, back.severity) == (
            finding_id, "Flat depot networks", "All devices share one VLAN", "high",
        )  # fmt: skip
        trail = [(e.field, e.old, e.new) for e in engagement.audit_log() if e.entity == "finding"]
        assert trail == [
            ("created", None, "Flat depot network"),
            ("title", "Flat depot network", "Flat depot networks"),
            ("observation", "", "All devices share one VLAN"),
            ("severity", "critical", "high"),
            ("removed", "Flat depot networks", None),
            ("created", None, "Flat depot networks"),
        ]


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        (FindingDraft("  "), "a finding needs a title"),
        (FindingDraft("t", severity="apocalyptic"), "unknown severity 'apocalyptic'"),
        (FindingDraft("x" * 501), "finding title is 501 characters long; the limit is 500"),
        (FindingDraft("t", risk="r" * 100_001), "finding risk is 100,001 characters long"),
    ],
)
def test_bad_findings_are_refused(tmp_path: Path, draft: FindingDraft, message: str) -> None:
    with create_engagement(tmp_path / "f.ztmm", Properties(client="Findings Ltd")) as engagement:
        with pytest.raises(BadInput, match=message):
            engagement.restore_finding("1.1", draft, finding_id="f1")
        with pytest.raises(BadInput, match="unknown function"):
            engagement.add_finding("7.7", "title")
        assert engagement.findings() == []
        assert engagement.audit_log() == []
