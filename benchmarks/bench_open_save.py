"""Opening and saving the large engagement, and the memory that takes.

``open_engagement`` checks the file (magic, ids, ``quick_check``), takes the
lock beside it and copies it with the backup API into a working copy;
``Engagement.save`` copies the working copy with the backup API to a temp file
beside the document, fsyncs it and atomically replaces the document. The
floor of both is what any durable whole-file copy costs: ``shutil.copyfile``
of the same file plus ``os.fsync``. Runs alternate with floor copies.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import (
    Result,
    copy_and_fsync,
    current_rss_mib,
    large_engagement,
    median,
    ms,
    peak_rss_mib,
    timed,
)
from ztmm_desktop.services.engagement import Engagement, open_engagement

OPENS = 9
SAVES = 15


def _open_close(document: Path) -> float:
    holder: list[Engagement] = []
    seconds = timed(lambda: holder.append(open_engagement(document)))
    holder[0].close()
    return seconds


def run(workdir: Path) -> list[Result]:
    baseline_rss = current_rss_mib()  # interpreter + app imports, nothing opened
    document = large_engagement(workdir)
    size_kib = document.stat().st_size / 1024
    floor_copy = workdir / "floor-copy.ztmm"

    # warm up caches (page cache, catalog, SQLAlchemy compiled statements)
    _open_close(document)
    copy_and_fsync(document, floor_copy)

    opens: list[float] = []
    open_floors: list[float] = []
    for _ in range(OPENS):
        opens.append(_open_close(document))
        open_floors.append(timed(lambda: copy_and_fsync(document, floor_copy)))

    saves: list[float] = []
    save_floors: list[float] = []
    with open_engagement(document) as engagement:
        engagement.save()
        for _ in range(SAVES):
            saves.append(timed(engagement.save))
            save_floors.append(timed(lambda: copy_and_fsync(document, floor_copy)))

    return [
        Result("open large engagement, median", ms(median(opens)), ms(median(open_floors)), "ms", "≤ 5×"),
        Result("save large engagement, median", ms(median(saves)), ms(median(save_floors)), "ms", "≤ 3×"),
        Result(
            "peak RSS after open/save (floor: RSS at start)",
            peak_rss_mib(),
            baseline_rss,
            "MiB",
            note="informational",
        ),
        Result("large engagement file size", size_kib, None, "KiB", note="informational"),
    ]
