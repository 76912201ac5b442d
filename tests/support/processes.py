"""Another process holding an engagement open, as a second app instance would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ztmm_desktop.services.engagement import open_engagement
    e = open_engagement(Path(sys.argv[1]))
    print("ready", flush=True)
    time.sleep(120)
    """
)


@contextmanager
def held_open(path: Path) -> Iterator[subprocess.Popen[str]]:
    """A child process that has ``path`` open for editing until the block ends (then SIGKILLed)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ)
    )
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield holder
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
