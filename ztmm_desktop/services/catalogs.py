"""The shipped catalog and guidance packs, loaded and validated once per process."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from ..core.catalog import Catalog, GuidancePack
from ..core.catalog_load import load_catalog, load_pack
from ..paths import catalog_dir

CATALOG_FILE = "cisa-ztmm-v2.yaml"
GUIDANCE_FOLDER = "guidance"


@dataclass(frozen=True)
class Library:
    """The catalog and every guidance pack that applies to it."""

    catalog: Catalog
    packs: tuple[GuidancePack, ...]

    def pack(self, pack_id: str) -> GuidancePack | None:
        return next((p for p in self.packs if p.id == pack_id), None)


def load_library(root: Path) -> Library:
    catalog = load_catalog(root / CATALOG_FILE)
    return Library(catalog=catalog, packs=load_packs(root, catalog))


def load_packs(root: Path, catalog: Catalog) -> tuple[GuidancePack, ...]:
    guidance = root / GUIDANCE_FOLDER
    packs = []
    if guidance.is_dir():
        for folder in sorted(p for p in guidance.iterdir() if (p / "pack.yaml").is_file()):
            packs.append(load_pack(folder, catalog))
    return tuple(packs)


@functools.cache
def default_catalog() -> Catalog:
    """The shipped catalog without its guidance packs (what ``ztmm info`` needs: loading the packs
    costs more than starting Python)."""
    return load_catalog(catalog_dir() / CATALOG_FILE)


@functools.cache
def default_library() -> Library:
    catalog = default_catalog()
    return Library(catalog=catalog, packs=load_packs(catalog_dir(), catalog))
