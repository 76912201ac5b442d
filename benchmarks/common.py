"""Shared pieces of the benchmarks: the ``Result`` row, timing and memory helpers.

Every benchmark reports a value *and* a floor measured in the same run on the
same machine; the ratio value/floor is what is compared with the target, so
results from a fast laptop and a slow CI runner stay comparable.
"""

from __future__ import annotations

import math
import os
import re
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Environment variables naming the prebuilt large engagement without and with
#: its 1 GiB of evidence (set by ``run.py``), so the benchmarks that need one
#: link or copy it instead of building it again.
LARGE_ENV = "ZTMM_BENCH_LARGE"
LARGE_EVIDENCE_ENV = "ZTMM_BENCH_LARGE_EVIDENCE"

#: ``≤ 3×`` (a ratio to the floor; ``×``, ``x`` or nothing) or ``≤ 50 ms`` (an absolute limit in the row's unit).
_TARGET = re.compile(r"^\s*(?P<op>≤|<=|≥|>=)\s*(?P<limit>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[^\s0-9.]+)?\s*$")
_RATIO_UNITS = (None, "×", "x")


@dataclass(frozen=True)
class Result:
    """One row of the table: a measured value against its floor and a target ratio.

    ``target`` is text such as ``"≤ 3×"`` (value at most three times the floor)
    or ``"≥ 0.5×"``; an empty target makes the row informational (no verdict).
    A target with the row's unit instead of ``×``, such as ``"≤ 50 ms"``, is an
    absolute limit on the value (for limits of human perception, which do not
    scale with the machine); the floor and ratio are still reported beside it.
    """

    metric: str
    value: float
    floor: float | None
    unit: str
    target: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if not self.target:
            return
        match = _TARGET.match(self.target)
        if match is None:
            raise ValueError(f"{self.metric}: target {self.target!r} is not like '≤ 3×' or '≤ 50 {self.unit}'")
        if match["unit"] not in _RATIO_UNITS and match["unit"] != self.unit:
            raise ValueError(f"{self.metric}: target {self.target!r} is not in the row's unit {self.unit!r}")

    @property
    def absolute(self) -> bool:
        """True when the target is a limit on the value itself (``≤ 50 ms``), not on the ratio."""
        match = _TARGET.match(self.target) if self.target else None
        return match is not None and match["unit"] not in _RATIO_UNITS

    @property
    def ratio(self) -> float | None:
        if self.floor is None or self.floor <= 0:
            return None
        return self.value / self.floor

    @property
    def met(self) -> bool | None:
        """True or False against the target; None for an informational row."""
        match = _TARGET.match(self.target) if self.target else None
        if match is None:
            return None
        measured = self.value if self.absolute else self.ratio
        if measured is None:
            return None
        limit = float(match["limit"])
        return measured <= limit if match["op"] in ("≤", "<=") else measured >= limit

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "floor": self.floor,
            "unit": self.unit,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        floor = data.get("floor")
        return cls(
            metric=str(data["metric"]),
            value=float(data["value"]),
            floor=None if floor is None else float(floor),
            unit=str(data["unit"]),
            target=str(data.get("target", "")),
            note=str(data.get("note", "")),
        )


# -- statistics ------------------------------------------------------------------


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of non-empty ``samples``."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def timed(fn: Callable[[], object]) -> float:
    """Run ``fn`` once; seconds it took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ms(seconds: float) -> float:
    return seconds * 1000.0


# -- files -------------------------------------------------------------------------


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_and_fsync(source: Path, target: Path) -> None:
    """The floor of opening and saving: a plain file copy made durable."""
    shutil.copyfile(source, target)
    fsync_file(target)


def large_engagement(workdir: Path, *, evidence: bool = False) -> Path:
    """The large engagement as a file of its own inside ``workdir``.

    ``evidence=True``: with its 5,000 evidence files (1 GiB); otherwise without
    (about 1 MB). When ``run.py`` prebuilt it, it is hard-linked (no 1 GiB copy
    and no write-back of one during the measurements; the app never writes into
    a document, a save replaces it, so the prebuilt file stays as built) or, where
    links are not possible, copied; else it is built here.
    """
    target = workdir / ("large-evidence.ztmm" if evidence else "large.ztmm")
    prebuilt = os.environ.get(LARGE_EVIDENCE_ENV if evidence else LARGE_ENV)
    if prebuilt and Path(prebuilt).is_file():
        try:
            os.link(prebuilt, target)
        except OSError:
            shutil.copyfile(prebuilt, target)
        return target
    from benchmarks.make_large import build_large

    return build_large(target, evidence=evidence)


# -- memory ------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB.

    On Linux, ``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` of a process
    started with fork + exec also counts the parent's RSS at the fork (the
    kernel carries the old address space's high-water mark over the exec), so a
    child of a big parent would report the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mib() -> float:
    import psutil  # type: ignore[import-untyped,unused-ignore]

    return float(psutil.Process().memory_info().rss) / (1024 * 1024)
