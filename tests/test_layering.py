"""The layering of ARCHITECTURE.md, checked on every run (imports point down only)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ztmm_desktop"


def imported_modules(path: Path, package: tuple[str, ...] = ()) -> set[str]:
    """Absolute names of every module ``path`` imports; ``package`` resolves relative imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.add(node.module or "")
                continue
            base = package[: len(package) - node.level + 1]
            if node.module:
                found.add(".".join((*base, node.module)))
            else:
                found.update(".".join((*base, alias.name)) for alias in node.names)
    return found


def package_of(path: Path) -> tuple[str, ...]:
    return ("ztmm_desktop", *path.relative_to(PACKAGE).parent.parts)


def offenders(folder_filter: str, forbidden: tuple[str, ...], outside: bool) -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        inside = relative.startswith(folder_filter)
        if inside == outside:
            continue
        for module in imported_modules(path, package_of(path)):
            if module.split(".")[0] in forbidden:
                bad.append(f"{relative} imports {module}")
    return bad


def test_qt_is_imported_only_in_ui() -> None:
    assert offenders("ui/", ("PySide6", "shiboken6"), outside=True) == []


def test_core_imports_neither_qt_nor_sql() -> None:
    assert offenders("core/", ("PySide6", "sqlalchemy", "sqlmodel", "sqlite3"), outside=False) == []


def test_the_checker_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text(
        "import PySide6.QtCore\nfrom sqlmodel import Session\nfrom ..ui import window\n", encoding="utf-8"
    )
    found = imported_modules(sample, ("ztmm_desktop", "services"))
    assert found == {"PySide6.QtCore", "sqlmodel", "ztmm_desktop.ui"}


def test_services_never_import_the_ui() -> None:
    bad = [
        f"{p.relative_to(PACKAGE)}"
        for p in PACKAGE.rglob("*.py")
        if not p.relative_to(PACKAGE).as_posix().startswith("ui/")
        and any(m.startswith("ztmm_desktop.ui") for m in imported_modules(p, package_of(p)))
    ]
    assert bad == []
