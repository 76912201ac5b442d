"""A 1.2 GB evidence file is stored and extracted byte-identical, with bounded memory.

SQLite caps one BLOB near 1 GB, so this proves the chunked store; each step
runs as its own ``ztmm`` process that reports its peak RSS.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SIZE = 1200 * 1024 * 1024 + 12_345  # past SQLite's BLOB limit, and not a whole number of chunks
PEAK_RSS_LIMIT = 300 * 1024 * 1024

MEASURED = (
    "import sys\n"
    "from ztmm_desktop.cli import main\n"
    "code = main(sys.argv[1:])\n"
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking process,
    # so a child of a large test worker would report the worker's size as its own.
    "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
    "print(int(hwm.split()[1]) * 1024, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def ztmm_measured(*args: object) -> tuple[str, int]:
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, int(result.stderr.strip().splitlines()[-1])


def write_big_file(path: Path) -> str:
    """Distinct content in every MiB (so misplaced chunks would show), hashed while written."""
    block = os.urandom(1024 * 1024)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        written = 0
        index = 0
        while written < SIZE:
            data = (index.to_bytes(8, "big") + block[8:])[: SIZE - written]
            handle.write(data)
            digest.update(data)
            written += len(data)
            index += 1
    return digest.hexdigest()


@pytest.mark.slow
def test_a_file_larger_than_a_sqlite_blob_round_trips_in_bounded_memory(tmp_path: Path) -> None:
    source = tmp_path / "disk-image.bin"
    sha = write_big_file(source)
    engagement = tmp_path / "big.ztmm"
    out, _ = ztmm_measured("new", engagement, "--client", "Big Files Ltd")
    out, attach_rss = ztmm_measured("attach", engagement, source, "--to", "2.2")
    evidence_id, stored_sha = out.split()[0], out.split()[1]
    assert stored_sha == f"sha256:{sha}"
    source.unlink()  # make room: from here on the bytes exist only inside the engagement
    folder = tmp_path / "out"
    folder.mkdir()
    out, extract_rss = ztmm_measured("extract", engagement, evidence_id, folder)
    extracted = Path(out.strip())
    assert extracted.stat().st_size == SIZE
    digest = hashlib.sha256()
    with extracted.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == sha
    extracted.unlink()
    out, verify_rss = ztmm_measured("verify", engagement)
    assert out.strip() == "1 of 1 evidence files match their SHA-256"
    print(f"peak RSS MiB: attach {attach_rss >> 20}, extract {extract_rss >> 20}, verify {verify_rss >> 20}")
    assert max(attach_rss, extract_rss, verify_rss) < PEAK_RSS_LIMIT, (attach_rss, extract_rss, verify_rss)
