"""The Linux release archive a consultant downloads: the bundle and its installer in one ``.tar.gz``.

    .venv/bin/python packaging/release.py [dist/ztmm-workbench] [--out dist]

writes ``dist/ztmm-workbench-<version>-linux-<machine>.tar.gz`` holding one folder
``ztmm-workbench-<version>/`` with

* ``ztmm-workbench/``: the one-folder bundle, as PyInstaller built it (modes and links kept);
* ``install.sh``, ``ztmm-workbench.desktop``, ``ztmm-workbench-mime.xml`` and ``README.md`` of
  ``packaging/linux/``;
* ``icons/hicolor/``: the application and document icons.

``install.sh`` looks beside itself first, so unpacking and running ``./install.sh`` installs
it for the user (menu entry, icons, the ``.ztmm`` file type); ``./ztmm-workbench/ztmm-desktop``
runs it without installing. ``make package`` makes the archive after the bundle passed its
smoke test. The version is the one in ``ztmm_desktop/__init__.py``.
"""

from __future__ import annotations

import argparse
import platform
import re
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "packaging" / "linux"
ICONS = ROOT / "resources" / "icons" / "hicolor"
APP_ID = "ztmm-workbench"
BESIDE_INSTALLER = ("install.sh", "ztmm-workbench.desktop", "ztmm-workbench-mime.xml", "README.md")


def version() -> str:
    text = (ROOT / "ztmm_desktop" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if match is None:
        raise SystemExit("error: no __version__ in ztmm_desktop/__init__.py")
    return match.group(1)


def make_archive(bundle: Path, out: Path, *, release: str | None = None, machine: str | None = None) -> Path:
    """Write the release archive of ``bundle`` into ``out``; return its path."""
    if not (bundle / "ztmm-desktop").is_file() or not (bundle / "ztmm").is_file():
        raise SystemExit(f"error: {bundle} is not a built bundle (no ztmm-desktop and ztmm in it); run make package")
    release = release or version()
    machine = machine or platform.machine().lower() or "unknown"
    top = f"{APP_ID}-{release}"
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{top}-linux-{machine}.tar.gz"
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        for name in BESIDE_INSTALLER:
            archive.add(LINUX / name, arcname=f"{top}/{name}")
        archive.add(ICONS, arcname=f"{top}/icons/hicolor")
        archive.add(bundle, arcname=f"{top}/{APP_ID}")
    partial.replace(target)  # never a half-written archive under the final name
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="release.py", description="Make the Linux release archive of a bundle.")
    parser.add_argument("bundle", nargs="?", type=Path, default=ROOT / "dist" / APP_ID)
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the archive (default: dist)")
    args = parser.parse_args(argv)
    target = make_archive(args.bundle, args.out)
    print(f"release archive: {target} ({target.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
