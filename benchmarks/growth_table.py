"""The growth table of ``benchmarks/README.md`` from a storage run's results (issue 17).

    .venv/bin/python benchmarks/growth_table.py [RESULTS.json]

reads ``benchmarks/out/results.json`` (or the file given), takes the rows of ``bench_storage.py``
(``storage: OPERATION, VARIANT`` and ``storage: peak RSS of OPERATION, VARIANT``) and prints one
Markdown table: an operation a row, an evidence variant a column (in the order the run measured
them), each cell the time and, for a process, its peak RSS; the last columns are the largest
variant of each kind against the one without evidence. ``run.py storage`` prints it too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR.parent) not in sys.path:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(BENCH_DIR.parent))

from benchmarks.common import Result  # noqa: E402

OUT = BENCH_DIR / "out" / "results.json"
PREFIX = "storage: "
RSS = "peak RSS of "
NONE = "no evidence"
#: The table's rows: the operation as ``bench_storage.py`` names it, and as the table shows it.
OPERATIONS = (
    ("open for editing", "open for editing"),
    ("open as the window opens (a clone made in the background)", "open as the window opens"),
    ("one edit (Engagement.assess, one rating)", "one edit (a rating)"),
    ("save after one rating, as the window saves", "save after one rating (window)"),
    ("ztmm info", "`ztmm info`"),
    ("ztmm assess (one rating, saved)", "`ztmm assess` (one rating, saved)"),
    ("ztmm verify", "`ztmm verify`"),
    ("ztmm export", "`ztmm export`"),
    ("ztmm report (PDF)", "`ztmm report` (PDF)"),
)


def _split(metric: str) -> tuple[str, str] | None:
    """``(operation, variant)`` of a storage row, or None."""
    if not metric.startswith(PREFIX):
        return None
    operation, _, variant = metric[len(PREFIX) :].rpartition(", ")
    return (operation, variant) if operation else None


def _time(value_ms: float) -> str:
    if value_ms >= 10_000:
        return f"{value_ms / 1000:,.0f} s"
    if value_ms >= 1000:
        return f"{value_ms / 1000:.2f} s"
    if value_ms >= 100:
        return f"{value_ms:.0f} ms"
    return f"{value_ms:.1f} ms"


def render(results: list[Result]) -> str:
    """The Markdown table (empty when there are no storage rows)."""
    times: dict[tuple[str, str], float] = {}
    peaks: dict[tuple[str, str], float] = {}
    variants: list[str] = []
    for result in results:
        parts = _split(result.metric)
        if parts is None:
            continue
        operation, variant = parts
        if operation.startswith(RSS):
            peaks[(operation[len(RSS) :], variant)] = result.value
        elif result.unit == "ms":
            times[(operation, variant)] = result.value
        else:
            continue
        if variant not in variants and not variant.startswith("no evidence ("):
            variants.append(variant)
    if not times:
        return ""
    biggest = {
        kind: [v for v in variants if v.endswith(kind)][-1:] for kind in ("GiB", "items")
    }  # the largest of each kind (they are measured from small to large)
    compared = [v for kind in ("GiB", "items") for v in biggest[kind]]
    header = ["", *variants, *(f"{v} vs none" for v in compared)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for operation, shown in OPERATIONS:
        if not any((operation, v) in times for v in variants):
            continue
        cells = []
        for variant in variants:
            value = times.get((operation, variant))
            peak = peaks.get((operation, variant))
            cell = "–" if value is None else _time(value)
            if peak is not None:
                cell += f" · {peak:,.0f} MiB"
            cells.append(cell)
        for variant in compared:
            value, floor = times.get((operation, variant)), times.get((operation, NONE))
            cells.append("–" if value is None or not floor else f"{value / floor:.2f}×")
        lines.append("| " + " | ".join([shown, *cells]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else OUT
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        print(f"{path}: cannot be read ({err})", file=sys.stderr)
        return 2
    results = [Result.from_json(r) for b in payload.get("benchmarks", []) for r in b.get("results", [])]
    table = render(results)
    if not table:
        print(f"{path}: no storage rows (run benchmarks/run.py storage)", file=sys.stderr)
        return 2
    machine = payload.get("machine", {})
    print(f"Measured {payload.get('generated', '?')[:10]} on {machine.get('cpus', '?')} cores, {machine.get('platform', '?')}, "
          f"SQLite {machine.get('sqlite', '?')}; each cell: median time · peak RSS of the process.\n")  # fmt: skip
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
