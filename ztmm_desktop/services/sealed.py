"""Deliverables and evidence packs written as AES-256 encrypted ZIPs (``--encrypt``).

The archive is a WinZip AE-2 zip (``pyzipper``): 7-Zip, WinZip, macOS's and
most zip tools open it with the passphrase. The deliverable is rendered into
memory and only its encrypted form is written (through a temp file beside the
target, ``output.written``), so no plaintext copy touches the disk. A zip hides
what its files hold, not their names: an encrypted evidence pack names its files
by evidence id, and their original names are in the (encrypted) manifest.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..core.errors import BadInput
from .output import Inputs, check_output, written

ENV = "ZTMM_EXPORT_PASSPHRASE"
MIN_LENGTH = 8


def check_passphrase(passphrase: str) -> str:
    if len(passphrase) < MIN_LENGTH:
        raise BadInput(f"a passphrase for an encrypted zip needs at least {MIN_LENGTH} characters")
    if len(passphrase.encode("utf-8")) > 1024:
        raise BadInput("a passphrase for an encrypted zip has at most 1024 bytes")
    return passphrase


def member_name(out: Path, default_suffix: str) -> str:
    """The name of the deliverable inside ``out`` (``report.pdf.zip`` holds ``report.pdf``)."""
    if out.suffix.lower() != ".zip":
        raise BadInput(f"{out.name}: an encrypted deliverable is a zip; name it {out.name}.zip")
    inner = out.name[: -len(out.suffix)]
    if not inner:
        raise BadInput(f"{out.name}: name the zip after the deliverable, e.g. report{default_suffix}.zip")
    return inner if Path(inner).suffix else inner + default_suffix


def _module() -> Any:
    try:
        import pyzipper  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise BadInput("encrypted zips are not available here: the pyzipper package is not installed") from None
    return pyzipper


@contextmanager
def archive(out: Path, passphrase: str, *, inputs: Inputs = ()) -> Iterator[Any]:
    """An AES-256 zip being written to ``out`` (all of it or nothing, like every output; ``inputs``
    as ``output.written``: the files it is made from, never replaced)."""
    pyzipper = _module()
    secret = check_passphrase(passphrase).encode("utf-8")
    with (
        written(out, inputs=inputs) as temp,
        pyzipper.AESZipFile(
            temp, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES, allowZip64=True
        ) as zipped,
    ):
        zipped.setpassword(secret)
        zipped.setencryption(pyzipper.WZ_AES, nbits=256)
        yield zipped


@contextmanager
def target(out: Path, passphrase: str | None, member: str, *, inputs: Inputs = ()) -> Iterator[Path | IO[bytes]]:
    """Where a deliverable is rendered: a temp file beside ``out``, or memory sealed into an AES zip.

    Either way it goes through ``output.written(out, inputs=…)``; a target it refuses is
    refused before the deliverable is rendered.
    """
    inputs = tuple(inputs)
    if passphrase is None:
        with written(out, inputs=inputs) as temp:
            yield temp
        return
    check_passphrase(passphrase)
    _module()  # say at once when encrypted zips are not available, before any work
    check_output(out, inputs)  # refused before any work, like a plain output (and checked again on writing)
    buffer = io.BytesIO()
    yield buffer
    with archive(out, passphrase, inputs=inputs) as zipped:
        zipped.writestr(member, buffer.getvalue())


def read_member(path: Path, passphrase: str, name: str) -> bytes:
    """One member of an encrypted zip (for tests and checks)."""
    pyzipper = _module()
    with pyzipper.AESZipFile(path) as zipped:
        zipped.setpassword(passphrase.encode("utf-8"))
        data: bytes = zipped.read(name)
    return data
