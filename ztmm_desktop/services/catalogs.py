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
    guidance = root / GUIDANCE_FOLDER
    packs = []
    if guidance.is_dir():
        for folder in sorted(p for p in guidance.iterdir() if (p / "pack.yaml").is_file()):
            packs.append(load_pack(folder, catalog))
    return Library(catalog=catalog, packs=tuple(packs))


@functools.cache
def default_library() -> Library:
    return load_library(catalog_dir())
