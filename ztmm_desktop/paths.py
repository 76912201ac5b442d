"""Where things live: the shipped catalog and resources, and the per-user data folder."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def catalog_dir() -> Path:
    """``catalog/`` of a source checkout, or the copy installed with the package."""
    return _first_existing(_PACKAGE.parent / "catalog", _PACKAGE / "_data" / "catalog")


def resources_dir() -> Path:
    return _first_existing(_PACKAGE.parent / "resources", _PACKAGE / "_data" / "resources")


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
