"""Where the shipped data lives: the catalog and resources folders."""

from __future__ import annotations

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
