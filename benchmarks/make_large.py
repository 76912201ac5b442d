"""Build a large, realistic engagement through the services (deterministic).

All 40 functions in scope, the three rated stages of each rated with a
realistic mix and a comment of a few hundred characters, targets, a few
overrides with reasons, notes, 400 findings spread over the functions, and
(optionally) 5,000 evidence files totalling 1 GiB.

    python benchmarks/make_large.py OUT.ztmm [--no-evidence] [--base BASE.ztmm]

Everything goes through ``create_engagement``, ``Engagement.assess``,
``Engagement.add_finding`` and ``evidence.attach_stream`` (one committed
transaction each), exactly as the UI and the CLI write. To grow the engagement
later (deliverables), add a step function ``(engagement, rng, plan) -> None``
to ``STEPS``; a step that makes the file big belongs in ``EVIDENCE_STEPS`` too,
so that the benchmarks that do not need the bytes can skip it.

With ``--base``, the engagement as it is before the evidence steps is saved
there as well (``save``, then ``save_as`` OUT): both variants in one build.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import math
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ztmm_desktop.core.catalog import Function
from ztmm_desktop.core.stages import RATED_STAGES, Rating, Stage
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement
from ztmm_desktop.services.evidence import EvidenceLink, attach_stream

SEED = 20_251_130
FINDINGS = 400
OVERRIDES = 4
EVIDENCE_ITEMS = 5_000
EVIDENCE_BYTES = 1 << 30  # exactly 1 GiB over all items
EVIDENCE_LARGE = 10  # of the items, big files of 20-60 MB (exports, recordings); the rest 10-500 KB
SMALL_BYTES = (10_000, 500_000)
LARGE_BYTES = (20_000_000, 60_000_000)
POOL_BYTES = 64 << 20  # random bytes every evidence file is cut from (> the largest file)
ATTACH_WINDOW = 500  # items at the start and at the end whose median attach time is reported
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
    seed: int = SEED
    levels: dict[str, Stage] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    evidence_bytes: int = 0
    attach_seconds: list[float] = field(default_factory=list)  # of each evidence item, in order


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
    _add_findings(engagement, rng, plan, range(1, FINDINGS + 1))


def _add_findings(engagement: Engagement, rng: random.Random, plan: Plan, numbers: range) -> None:
    weights = [4 - int(plan.levels[f.id]) for f in plan.functions]
    for number in numbers:
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


def grow_findings(source: Path, target: Path, total: int, *, seed: int = SEED) -> Path:
    """A copy of the large engagement ``source`` at ``target`` with ``total`` findings in all (seeded).

    The findings added are made as ``step_findings`` makes them (through ``Engagement.add_finding``, one
    committed transaction each), on the functions' current stages, numbered on from the existing ones.
    """
    shutil.copyfile(source, target)
    with open_engagement(target) as engagement:
        functions = engagement.functions_in_scope()
        results = engagement.results()
        plan = Plan(functions=functions, seed=seed, levels={f.id: results[f.id].current for f in functions})
        have = len(engagement.findings())
        _add_findings(engagement, random.Random(seed + total), plan, range(have + 1, total + 1))
        engagement.save()
    return target


# -- evidence ------------------------------------------------------------------------

#: kind -> (title, file suffix, media type); small files are mostly screenshots and configuration exports.
_SMALL_KINDS = {
    "screenshot": ("Screenshot", "png", "image/png"),
    "configuration-export": ("Configuration export", "json", "application/json"),
    "document": ("Policy extract", "pdf", "application/pdf"),
    "interview-note": ("Interview notes", "txt", "text/plain"),
    "other": ("Log sample", "csv", "text/csv"),
}
_SMALL_WEIGHTS = (45, 30, 12, 8, 5)
_LARGE_KINDS = (
    ("document", "Architecture pack", "pdf", "application/pdf"),
    ("configuration-export", "Full tenant configuration export", "zip", "application/zip"),
    ("other", "Walkthrough recording", "mp4", "video/mp4"),
)


def evidence_sizes(rng: random.Random) -> list[int]:
    """``EVIDENCE_ITEMS`` sizes summing to exactly ``EVIDENCE_BYTES``, in attach order.

    Small files are log-uniform in ``SMALL_BYTES`` (many screenshots of a few
    dozen KB, fewer large exports); the big ones share what is left, each
    within ``LARGE_BYTES``, and are spread through the order.
    """
    low, high = (math.log(b) for b in SMALL_BYTES)
    small = [round(math.exp(rng.uniform(low, high))) for _ in range(EVIDENCE_ITEMS - EVIDENCE_LARGE)]
    rest = EVIDENCE_BYTES - sum(small)
    share, extra = divmod(rest, EVIDENCE_LARGE)
    large = [share + (1 if i < extra else 0) for i in range(EVIDENCE_LARGE)]
    for i in range(0, EVIDENCE_LARGE - 1, 2):  # spread them out in pairs, keeping the sum
        shift = rng.randint(0, min(share - LARGE_BYTES[0], LARGE_BYTES[1] - share - 1))
        large[i] -= shift
        large[i + 1] += shift
    if not all(LARGE_BYTES[0] <= n <= LARGE_BYTES[1] for n in large):
        raise AssertionError(f"big evidence files outside {LARGE_BYTES}: {large}")
    sizes = small
    for n in large:
        sizes.insert(rng.randrange(len(sizes) + 1), n)
    assert len(sizes) == EVIDENCE_ITEMS and sum(sizes) == EVIDENCE_BYTES
    return sizes


def _links(rng: random.Random, plan: Plan) -> list[EvidenceLink]:
    """One to three links: mostly a function's stage, sometimes the function, sometimes a finding."""
    links: list[EvidenceLink] = []
    for _ in range(rng.choices((1, 2, 3), weights=(6, 3, 1))[0]):
        function = rng.choice(plan.functions)
        roll = rng.random()
        if roll < 0.6:
            link = EvidenceLink(function.id, rng.choice(RATED_STAGES))
        elif roll < 0.85 or not plan.findings:
            link = EvidenceLink(function.id)
        else:
            link = EvidenceLink(finding_id=rng.choice(plan.findings))
        if link not in links:
            links.append(link)
    return links


def step_evidence(engagement: Engagement, rng: random.Random, plan: Plan) -> None:
    """``EVIDENCE_ITEMS`` files, ``EVIDENCE_BYTES`` in all, streamed in with ``evidence.attach_stream``.

    The bytes are cut at random offsets from one pool of seeded random bytes
    (fast: no temp files, no per-file generation) behind a header naming the
    item, so every file is different (no two share a SHA-256; nothing is
    deduplicated). Uses its own generator (seeded from ``plan.seed``), so the
    rest of the engagement is the same with or without this step.
    """
    del rng  # the shared generator is left alone
    own = random.Random(f"{plan.seed}-evidence")
    pool = memoryview(own.randbytes(POOL_BYTES))
    start = dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC)
    names = {f.id: f.name for f in plan.functions}
    for number, size in enumerate(evidence_sizes(own), start=1):
        if size >= LARGE_BYTES[0]:
            kind, label, suffix, media_type = own.choice(_LARGE_KINDS)
        else:
            kind = own.choices(list(_SMALL_KINDS), weights=_SMALL_WEIGHTS)[0]
            label, suffix, media_type = _SMALL_KINDS[kind]
        links = _links(own, plan)
        subject = names.get(links[0].function_id or "", "finding")
        header = f"ZTMM benchmark evidence {number:05d} of seed {plan.seed}\n".encode()
        offset = own.randrange(POOL_BYTES - size + len(header) + 1)
        data = header + pool[offset : offset + size - len(header)]
        captured = start + dt.timedelta(minutes=own.randrange(60 * 24 * 67))
        started = time.perf_counter()
        attach_stream(
            engagement,
            io.BytesIO(data),
            original_name=f"{kind}-{number:05d}.{suffix}",
            expected_size=size,
            links=links,
            title=f"{label} {number:05d}: {subject}",
            kind=kind,
            description=_sentence(own) if own.random() < 0.3 else "",
            media_type=media_type,
            captured_at=captured.isoformat(timespec="seconds"),
            by=own.choice(ASSESSORS),
        )
        plan.attach_seconds.append(time.perf_counter() - started)
        plan.evidence_bytes += size


#: The build, in order. Append steps (deliverables) as the app grows.
STEPS: list[Callable[[Engagement, random.Random, Plan], None]] = [
    step_assess,
    step_overrides,
    step_findings,
    step_evidence,
]
#: Steps skipped by ``build_large(..., evidence=False)``; they come after all the others.
EVIDENCE_STEPS: frozenset[Callable[[Engagement, random.Random, Plan], None]] = frozenset({step_evidence})


def build_large(
    path: Path,
    *,
    seed: int = SEED,
    evidence: bool = True,
    base: Path | None = None,
    timings: dict[str, float] | None = None,
) -> Path:
    """Create the large engagement at ``path`` (which must not exist), save it and return its path.

    ``evidence=False`` skips ``EVIDENCE_STEPS`` (1 GiB, most of the build time).
    ``base`` (with evidence) also saves the engagement as it is before those
    steps there, so one build makes both variants. ``timings`` receives the
    seconds of each step and of each save, by name.
    """
    rng = random.Random(seed)
    times = timings if timings is not None else {}
    properties = Properties(
        client="Northwind Utilities plc",
        title="Zero Trust maturity assessment (benchmark engagement)",
        assessors=ASSESSORS,
        start_date="2026-01-12",
        end_date="2026-03-20",
    )
    steps = [s for s in STEPS if evidence or s not in EVIDENCE_STEPS]
    first_big = next((i for i, s in enumerate(steps) if s in EVIDENCE_STEPS), len(steps))
    if any(s not in EVIDENCE_STEPS for s in steps[first_big:]):
        raise AssertionError("EVIDENCE_STEPS must come last in STEPS")
    with create_engagement(base if base is not None and evidence else path, properties) as engagement:
        plan = Plan(functions=engagement.functions_in_scope(), seed=seed)
        for number, step in enumerate(steps):
            if number == first_big and base is not None:
                started = time.perf_counter()
                engagement.save()
                engagement.save_as(path)  # continue in the evidence variant; the base stays as saved
                times["save base"] = time.perf_counter() - started
            started = time.perf_counter()
            step(engagement, rng, plan)
            times[step.__name__] = time.perf_counter() - started
        started = time.perf_counter()
        engagement.save()
        times["save"] = time.perf_counter() - started
    if plan.attach_seconds:  # does one attach cost more as the evidence grows?
        window = ATTACH_WINDOW
        times[f"attach median, first {window}"] = statistics.median(plan.attach_seconds[:window])
        times[f"attach median, last {window}"] = statistics.median(plan.attach_seconds[-window:])
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="engagement file to create (must not exist)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-evidence", action="store_true", help="skip the 1 GiB of evidence (EVIDENCE_STEPS)")
    parser.add_argument("--base", type=Path, help="also save the engagement without evidence here")
    args = parser.parse_args(argv)
    for path in (args.out, args.base):
        if path is not None and path.exists():
            parser.error(f"{path} already exists")
    if args.base is not None and args.no_evidence:
        parser.error("--base needs the evidence (without --no-evidence)")
    timings: dict[str, float] = {}
    build_large(args.out, seed=args.seed, evidence=not args.no_evidence, base=args.base, timings=timings)
    for name, seconds in timings.items():
        print(f"time {name}: {seconds:.3f} s")
    for path in (args.base, args.out):
        if path is not None:
            print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
