"""Only the build step pyproject.toml cannot express: ship catalog/ and resources/ inside the package.

The app reads its catalog and resources from ``<checkout>/catalog`` and
``<checkout>/resources`` when run from a source checkout (an editable install
included), and from ``ztmm_desktop/_data/`` when installed from a wheel
(``ztmm_desktop/paths.py``). This ``build_py`` copies the two top-level trees
into ``ztmm_desktop/_data/`` of the build, so every wheel carries them; an
editable install leaves them where they are. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA_TREES = ("catalog", "resources")
IGNORED = shutil.ignore_patterns("__pycache__", "*.py[cod]", ".DS_Store")


class build_py_with_data(build_py):
    """``build_py``, then ``catalog/`` and ``resources/`` copied to ``<build>/ztmm_desktop/_data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # pip install -e: paths.py uses the checkout's own trees
            return
        target = Path(self.build_lib) / "ztmm_desktop" / "_data"
        for name in DATA_TREES:
            source = HERE / name
            if not (source.is_dir() and any(source.iterdir())):
                raise SystemExit(f"error: {source} is missing or empty; the package cannot be built without it")
            destination = target / name
            if destination.exists():
                shutil.rmtree(destination)  # a file removed from the source must not linger in the next wheel
            shutil.copytree(source, destination, ignore=IGNORED)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            target = Path(self.build_lib) / "ztmm_desktop" / "_data"
            outputs += [str(p) for p in sorted(target.rglob("*")) if p.is_file()]
        return outputs


setup(cmdclass={"build_py": build_py_with_data})
