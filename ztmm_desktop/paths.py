"""Where things live: the shipped catalog and resources, and the per-user data folder.

The catalog and resources are found, first one that exists:

1. in a PyInstaller bundle, ``<bundle>/ztmm_desktop/_data/`` (``sys._MEIPASS``);
2. installed from a wheel, ``ztmm_desktop/_data/`` beside this module (``setup.py``
   copies the top-level trees there when it builds);
3. in a source checkout (an editable install included), ``<checkout>/catalog``
   and ``<checkout>/resources``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
#: The folder the catalog and resources are copied to in a wheel and in the bundle.
DATA_FOLDER = "_data"


def _data_roots() -> list[Path]:
    roots = []
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller's bootloader
    if bundle:
        roots.append(Path(bundle) / "ztmm_desktop" / DATA_FOLDER)
    roots.append(_PACKAGE / DATA_FOLDER)
    roots.append(_PACKAGE.parent)
    return roots


def _find(name: str) -> Path:
    candidates = [root / name for root in _data_roots()]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]


def catalog_dir() -> Path:
    """The shipped ``catalog/``: bundled, installed with the package, or of the source checkout."""
    return _find("catalog")


def resources_dir() -> Path:
    """The shipped ``resources/`` (fonts, demo engagement, icons), found like :func:`catalog_dir`."""
    return _find("resources")


def fonts_dir() -> Path:
    """The TrueType fonts the PDF report embeds (with their licences)."""
    return resources_dir() / "fonts"


def data_dir() -> Path:
    """The app's private data folder (working copies, migration backups, settings in tests).

    ``ZTMM_DATA_DIR`` overrides it (tests, portable use).
    """
    override = os.environ.get("ZTMM_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("ZTMM Workbench", appauthor=False))


def config_dir() -> Path:
    """The app's settings folder (the assessor's name and organisation).

    ``ZTMM_DATA_DIR`` overrides it too (tests, portable use): settings then live in it.
    """
    override = os.environ.get("ZTMM_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("ZTMM Workbench", appauthor=False))
