"""A realistic engagement for comparing what commands print: the demo (every function in scope,
ratings with comments, findings, a baseline, sections, document control, actions, workshops) with
not-applicable stages, overrides up and down, a consultancy logo and evidence of several sizes
(one of several chunks, an empty file, the same bytes twice) linked to functions, stages and a
finding."""

from __future__ import annotations

import io
from pathlib import Path

from ztmm_desktop.core.stages import RATED_STAGES, Rating, Stage
from ztmm_desktop.services.demo import build_demo
from ztmm_desktop.services.evidence import EvidenceLink, attach
from ztmm_desktop.services.logo import check_logo, set_consultancy_logo

BY = "Fixture"


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 20), (30, 60, 90)).save(out, format="PNG")
    return out.getvalue()


def build_realistic(folder: Path, name: str = "realistic.ztmm") -> Path:
    """Build the engagement in ``folder`` (saved and closed); returns its path."""
    path = folder / name
    with build_demo(path) as engagement:
        functions = engagement.functions_in_scope()
        engagement.assess(
            functions[1].id,
            ratings={Stage.OPTIMAL: Rating.NOT_APPLICABLE},
            comments={Stage.OPTIMAL: "No OT estate."},
            by=BY,
        )
        engagement.assess(functions[7].id, ratings=dict.fromkeys(RATED_STAGES, Rating.NOT_APPLICABLE), by=BY)
        results = engagement.results()
        up = next(f for f in functions[10:] if results[f.id].derived < Stage.OPTIMAL and not results[f.id].overridden)
        down = next(
            f for f in functions[20:] if results[f.id].derived > Stage.TRADITIONAL and not results[f.id].overridden
        )
        engagement.assess(up.id, override=(Stage(results[up.id].derived + 1), "Compensating controls seen"), by=BY)
        engagement.assess(down.id, override=(Stage(results[down.id].derived - 1), "Coverage gaps found"), by=BY)
        set_consultancy_logo(engagement, check_logo(_png(), "consultancy.png"), by=BY)
        files = folder / "evidence-files"
        files.mkdir(exist_ok=True)
        contents = {
            "policy.pdf": b"%PDF-1.4 policy " * 200,
            "export.csv": bytes(range(256)) * 12_000,  # 3 MB: several chunks
            "empty.txt": b"",
            "copy-of-policy.pdf": b"%PDF-1.4 policy " * 200,  # the same bytes as policy.pdf
        }
        finding = engagement.findings()[0]
        links = [
            [EvidenceLink(function_id=functions[0].id)],
            [EvidenceLink(function_id=functions[2].id, stage=Stage.ADVANCED)],
            [EvidenceLink(finding_id=finding.id, function_id=finding.function_id)],
            [EvidenceLink(function_id=functions[0].id), EvidenceLink(function_id=functions[3].id, stage=Stage.INITIAL)],
        ]
        for (file_name, data), link in zip(contents.items(), links, strict=True):
            (files / file_name).write_bytes(data)
            attach(engagement, files / file_name, link, by=BY)
        engagement.save()
    return path
