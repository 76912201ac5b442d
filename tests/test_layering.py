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


def ui_import_graph() -> dict[str, set[str]]:
    """Every module of ``ui/`` and the ``ui/`` modules it imports (at the top, lazily or for typing)."""
    modules = {
        ".".join((*package_of(path), path.stem)) if path.stem != "__init__" else ".".join(package_of(path)): path
        for path in sorted((PACKAGE / "ui").rglob("*.py"))
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for module in imported_modules(path, package_of(path)):
            # ``from .pkg import module`` names a module: keep the longest known prefix.
            while module and module not in modules:
                module = module.rpartition(".")[0]
            if module and module != name and module.count(".") > 1:
                targets.add(module)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def feature_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between the sub-packages of ``ui/`` (a module directly in ``ui/`` is its own node)."""

    def feature(module: str) -> str:
        return ".".join(module.split(".")[:3])

    features: dict[str, set[str]] = {}
    for source, targets in graph.items():
        features.setdefault(feature(source), set()).update(feature(t) for t in targets if feature(t) != feature(source))
    return features


def test_no_import_cycle_between_ui_modules() -> None:
    """Lazy and typing-only imports count: a circle of modules is a circle however it is hidden."""
    assert cycles(ui_import_graph()) == []


def test_no_import_cycle_between_ui_features() -> None:
    """Feature packages depend one way: common ← editing ← features ← shell ← app."""
    assert cycles(feature_graph(ui_import_graph())) == []


def test_the_cycle_check_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
