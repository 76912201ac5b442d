"""Encrypted against plain: open, edit and save of the large engagement with its 1 GiB of evidence.

The same engagement twice in the same run: the plain file, and a copy encrypted
with SQLCipher (what ``ztmm encrypt`` writes). Each round opens, edits and saves
the plain one and then the encrypted one, so disk and CPU noise hit both alike;
the plain engagement is the floor, and the target is the cost of encryption
(issue 16): ≤ 1.3×. The encrypted open includes turning the passphrase into the
key (PBKDF2-HMAC-SHA512, 256,000 rounds) and checking it, as a user's open does.

Set ``ZTMM_BENCH_ENCRYPTION_SMALL=1`` to measure on the engagement without its
evidence (about 1 MB) instead, when building the 1 GiB one takes too long.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from benchmarks.common import Result, large_engagement, median, ms, timed
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import passphrase
from ztmm_desktop.services.engagement import Engagement, open_engagement
from ztmm_desktop.store.connect import Key
from ztmm_desktop.store.document import convert_file

SMALL = bool(os.environ.get("ZTMM_BENCH_ENCRYPTION_SMALL"))
LARGE_EVIDENCE = not SMALL
ROUNDS = 5 if LARGE_EVIDENCE else 9
EDITS = 30
SECRET = "benchmark passphrase"


#: Seconds each encrypted open spent turning the passphrase into the key and checking it.
_KDF: list[float] = []


def _round(document: Path, secret: str | None) -> tuple[float, float, float]:
    """Open (with the passphrase), a median edit, and a save of ``document``: seconds each."""
    holder: list[Engagement] = []

    def open_it() -> None:
        key: Key | None = None
        if secret is not None:
            start = time.perf_counter()
            key = passphrase.try_passphrase(document, secret)
            _KDF.append(time.perf_counter() - start)
        holder.append(open_engagement(document, key=key))

    opened = timed(open_it)
    engagement = holder[0]
    try:
        functions = [f.id for f in engagement.functions_in_scope()]
        ratings = (Rating.MET, Rating.PARTIAL, Rating.NOT_MET)
        edits = [
            timed(
                lambda n=n: engagement.assess(functions[n % len(functions)], ratings={Stage.ADVANCED: ratings[n % 3]})
            )
            for n in range(EDITS)
        ]
        saved = timed(engagement.save)
    finally:
        engagement.close()
    return opened, median(edits), saved


def run(workdir: Path) -> list[Result]:
    plain = large_engagement(workdir, evidence=LARGE_EVIDENCE)
    encrypted = workdir / "large-encrypted.ztmm"
    key = Key.derive(SECRET)
    encrypt_seconds = timed(lambda: convert_file(plain, encrypted, key=None, target_key=key))
    size_mib = plain.stat().st_size / (1 << 20)

    _round(plain, None)  # warm up: page cache, catalog, compiled statements
    _round(encrypted, SECRET)
    samples: dict[str, list[float]] = {name: [] for name in ("open", "edit", "save", "open-p", "edit-p", "save-p")}
    for _ in range(ROUNDS):
        for suffix, document, secret in (("-p", plain, None), ("", encrypted, SECRET)):
            opened, edited, saved = _round(document, secret)
            samples["open" + suffix].append(opened)
            samples["edit" + suffix].append(edited)
            samples["save" + suffix].append(saved)

    def row(name: str, what: str) -> Result:
        return Result(
            f"encrypted {what} ({size_mib:,.0f} MiB engagement), median",
            ms(median(samples[name])),
            ms(median(samples[name + "-p"])),
            "ms",
            "≤ 1.3×",
        )

    total = [o + e + s for o, e, s in zip(samples["open"], samples["edit"], samples["save"], strict=True)]
    total_plain = [o + e + s for o, e, s in zip(samples["open-p"], samples["edit-p"], samples["save-p"], strict=True)]
    return [
        row("open", "open"),
        row("edit", "edit (one rating)"),
        row("save", "save"),
        Result(
            f"encrypted open + edit + save ({size_mib:,.0f} MiB engagement), median",
            ms(median(total)),
            ms(median(total_plain)),
            "ms",
            "≤ 1.3×",
        ),
        Result(
            "of the encrypted open: passphrase to key and its check (PBKDF2, 256,000 rounds), median",
            ms(median(_KDF)),
            None,
            "ms",
            note="informational",
        ),
        Result(
            "encrypting the engagement (ztmm encrypt's copy)", ms(encrypt_seconds), None, "ms", note="informational"
        ),
    ]
