"""Build a large, realistic engagement through the services (deterministic).

All 40 functions in scope, the three rated stages of each rated with a
realistic mix and a comment of a few hundred characters, targets, a few
overrides with reasons, notes, and 400 findings spread over the functions.

    python benchmarks/make_large.py OUT.ztmm

Everything goes through ``create_engagement``, ``Engagement.assess`` and
``Engagement.add_finding`` (one committed transaction each), exactly as the UI
and the CLI write. To grow the engagement later (evidence, deliverables), add a
step function ``(engagement, rng, plan) -> None`` to ``STEPS``.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ztmm_desktop.core.catalog import Function
from ztmm_desktop.core.stages import RATED_STAGES, Rating, Stage
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement

SEED = 20_251_130
FINDINGS = 400
OVERRIDES = 4
ASSESSORS = ("Lead assessor", "Identity assessor", "Infrastructure assessor")
OWNERS = ("IAM team", "Endpoint engineering", "Network operations", "AppSec", "Data governance", "SOC", "CISO office")

# -- text ------------------------------------------------------------------------

_SUBJECTS = (
    "The client",
    "The identity team",
    "Operations staff",
    "The platform group",
    "Interviewed administrators",
    "The security architecture board",
    "Service owners",
    "The SOC",
)
_VERBS = (
    "described",
    "demonstrated",
    "provided screenshots of",
    "could not evidence",
    "partially documented",
    "walked us through",
    "has a roadmap item for",
    "relies on manual review of",
)
_OBJECTS = (
    "phishing-resistant MFA for privileged accounts",
    "conditional access policies scoped to managed devices",
    "an inventory reconciled weekly against the CMDB",
    "micro-segmentation of the payment workloads",
    "automated de-provisioning triggered by HR leavers",
    "continuous device compliance signals fed into access decisions",
    "encryption of data at rest with customer-managed keys",
    "centralised logging with 90-day retention",
    "just-in-time elevation for cloud administrators",
    "data classification labels applied at creation",
    "east-west traffic inspection in the primary data centre",
    "a software bill of materials for internally built applications",
)
_QUALIFIERS = (
    "in production only",
    "for roughly two thirds of the estate",
    "except for legacy on-premises systems",
    "with exceptions approved by email",
    "across all business units",
    "in the pilot region",
    "but without periodic review",
    "and it is monitored by the SOC",
)
_FOLLOW_UPS = (
    "Evidence was sampled for five systems.",
    "No exceptions register was available.",
    "Ownership is clear but funding is not yet approved.",
    "The control is documented in the security standard, revision 4.",
    "Coverage metrics were not available at the time of the interview.",
    "This matches what we observed in the configuration export.",
    "A remediation project is planned for next financial year.",
    "Findings from the previous audit remain open.",
)
_FINDING_TOPICS = (
    "Legacy protocol still enabled",
    "Stale privileged accounts",
    "Unmanaged devices reach internal apps",
    "Flat network segment",
    "Missing log source",
    "Manual access reviews",
    "Unencrypted backup copies",
    "No automated response playbook",
    "Inconsistent data labelling",
    "Shared service account credentials",
    "Incomplete asset inventory",
    "Policy exceptions not tracked",
)


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_QUALIFIERS)}."


def _paragraph(rng: random.Random, low: int = 200, high: int = 450) -> str:
    """Sentences until the text is ``low``..``high`` characters long (a few hundred)."""
    wanted = rng.randint(low, high)
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < wanted:
        parts.append(_sentence(rng) if rng.random() < 0.7 else rng.choice(_FOLLOW_UPS))
    return " ".join(parts)


# -- the plan ----------------------------------------------------------------------


@dataclass
class Plan:
    """What the steps decided, for later steps to build on (e.g. evidence per finding)."""

    functions: list[Function]
    levels: dict[str, Stage] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)


def _ratings_for(rng: random.Random, level: Stage) -> dict[Stage, Rating]:
    """Met up to ``level``, partly met or not met just above, mostly not met beyond."""
    ratings: dict[Stage, Rating] = {}
    for stage in RATED_STAGES:
        if rng.random() < 0.04:
            ratings[stage] = Rating.NOT_APPLICABLE
        elif stage <= level:
            ratings[stage] = Rating.MET if rng.random() < 0.85 else Rating.PARTIAL
        elif stage == level + 1:
            ratings[stage] = Rating.PARTIAL if rng.random() < 0.6 else Rating.NOT_MET
        else:
            ratings[stage] = Rating.NOT_MET if rng.random() < 0.9 else Rating.PARTIAL
    return ratings


def step_assess(engagement: Engagement, rng: random.Random, plan: Plan) -> None:
    """Rate and comment every stage of every function; set target, notes and tracking fields."""
    for function in plan.functions:
        level = rng.choices(list(Stage), weights=(3, 5, 3, 1))[0]
        plan.levels[function.id] = level
        target = Stage(min(Stage.OPTIMAL, max(Stage.ADVANCED, level + 1)))
        engagement.assess(
            function.id,
            ratings=_ratings_for(rng, level),
            comments={stage: _paragraph(rng) for stage in RATED_STAGES},
            target=target,
            note=_paragraph(rng, 80, 300),
            confidence=rng.choice(("low", "medium", "high")),
            priority=rng.choice(("low", "medium", "high", "critical")),
            owner=rng.choice(OWNERS),
            status=rng.choice(("not-started", "in-progress", "in-progress", "done")),
            by=rng.choice(ASSESSORS),
        )


def step_overrides(engagement: Engagement, rng: random.Random, plan: Plan) -> None:
    """A few assessor overrides of the derived stage, each with a reason."""
    for function in rng.sample(plan.functions, OVERRIDES):
        stage = Stage(min(Stage.OPTIMAL, plan.levels[function.id] + 1))
        reason = "Override agreed in the read-out workshop: " + _paragraph(rng, 120, 250)
        engagement.assess(function.id, override=(stage, reason), by=ASSESSORS[0])


def step_findings(engagement: Engagement, rng: random.Random, plan: Plan) -> None:
    """``FINDINGS`` findings, more of them on the less mature functions."""
    weights = [4 - int(plan.levels[f.id]) for f in plan.functions]
    for number in range(1, FINDINGS + 1):
        function = rng.choices(plan.functions, weights=weights)[0]
        level = plan.levels[function.id]
        stage = Stage(level + 1) if level < Stage.OPTIMAL and rng.random() < 0.7 else None
        finding_id, _ = engagement.add_finding(
            function.id,
            f"F-{number:03d} {rng.choice(_FINDING_TOPICS)} ({function.code} {function.name})",
            stage=stage,
            observation=_paragraph(rng, 250, 500),
            risk=_paragraph(rng, 150, 350),
            recommendation=_paragraph(rng, 200, 400),
            severity=rng.choices(("low", "medium", "high", "critical"), weights=(3, 5, 3, 1))[0],
            by=rng.choice(ASSESSORS),
        )
        plan.findings.append(finding_id)


#: The build, in order. Append steps (evidence, deliverables) as the app grows.
STEPS: list[Callable[[Engagement, random.Random, Plan], None]] = [step_assess, step_overrides, step_findings]


def build_large(path: Path, *, seed: int = SEED) -> Path:
    """Create the large engagement at ``path`` (which must not exist), save it and return its path."""
    rng = random.Random(seed)
    properties = Properties(
        client="Northwind Utilities plc",
        title="Zero Trust maturity assessment (benchmark engagement)",
        assessors=ASSESSORS,
        start_date="2026-01-12",
        end_date="2026-03-20",
    )
    with create_engagement(path, properties) as engagement:
        plan = Plan(functions=engagement.functions_in_scope())
        for step in STEPS:
            step(engagement, rng, plan)
        engagement.save()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="engagement file to create (must not exist)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.out.exists():
        parser.error(f"{args.out} already exists")
    build_large(args.out, seed=args.seed)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
