"""Size and start time of the application bundle ``dist/ztmm-workbench`` (built by ``make package``).

The floor is the least any PySide6 widgets app costs packaged the same way: a
"hello window" (a ``QMainWindow`` holding a ``QTreeView`` of 45 rows, 1440×900)
frozen by the same PyInstaller in this run with its defaults
(``pyinstaller --onedir``). Both start on Qt's ``offscreen`` platform.

* **Size**: the bytes of every file in the bundle against those of the hello
  bundle.
* **Start to window**: wall time from starting ``ztmm-desktop --self-test`` to
  its ``ok  window opened`` line (the bootloader, Python, Qt, the app's
  imports, building the demo engagement from its description into a fresh
  private data folder, and the workbench shown with every pillar and function)
  against starting the hello bundle to its window shown (``isExposed``).
  Also, informational: the same self-test started from the source checkout
  (``python -m ztmm_desktop.ui.app --self-test``), which tells what freezing
  adds or saves, and the whole self-test (exports included).

Runs alternate; the first of each is a warm-up (page cache) and is not counted.
Skipped when there is no bundle or no PyInstaller (``make package`` provides both).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from benchmarks.common import Result, median, ms

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "ztmm-workbench"
RUNS = 5
BUILD_TIMEOUT = 400

HELLO = textwrap.dedent(
    """
    import sys

    from PySide6.QtCore import QEventLoop
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QMainWindow, QTreeView

    app = QApplication(sys.argv)
    window = QMainWindow()
    model = QStandardItemModel()
    for row in range(45):
        model.appendRow(QStandardItem(f"row {row}"))
    tree = QTreeView()
    tree.setModel(model)
    window.setCentralWidget(tree)
    window.resize(1440, 900)
    window.show()
    while window.windowHandle() is None or not window.windowHandle().isExposed():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    print("ok  window opened", flush=True)
    """
)


def _check_bundle():  # type: ignore[no-untyped-def]
    """``packaging/check_bundle.py`` as a module (``packaging/`` is not a package)."""
    spec = importlib.util.spec_from_file_location("check_bundle", ROOT / "packaging" / "check_bundle.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def skip_reason() -> str | None:
    """Why this benchmark cannot run here (``run.py`` skips it and says so), or None."""
    name = "ztmm-desktop.exe" if os.name == "nt" else "ztmm-desktop"
    if not (BUNDLE / name).is_file():
        return f"no bundle at {BUNDLE.relative_to(ROOT)} (make package builds it)"
    if importlib.util.find_spec("PyInstaller") is None:
        return "PyInstaller is not installed (make package installs it)"
    return None


def build_hello(workdir: Path) -> Path:
    script = workdir / "hello.py"
    script.write_text(HELLO, encoding="utf-8")
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--onedir", "--log-level", "WARN", "--name", "hello"]
    command += ["--distpath", str(workdir / "dist"), "--workpath", str(workdir / "build")]
    command += ["--specpath", str(workdir), str(script)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir, timeout=BUILD_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"building the hello bundle failed: {done.stderr[-2000:]}")
    return workdir / "dist" / "hello"


def run(workdir: Path) -> list[Result]:
    reason = skip_reason()
    if reason is not None:
        raise RuntimeError(reason)
    check = _check_bundle()
    hello = build_hello(workdir)
    env = check.clean_env(workdir / "data")
    env["QT_QPA_PLATFORM"] = "offscreen"
    commands = {
        "bundle": [str(check.executable(BUNDLE, "ztmm-desktop")), "--self-test"],
        "hello": [str(check.executable(hello, "hello"))],
        "source": [sys.executable, "-m", "ztmm_desktop.ui.app", "--self-test"],
    }
    to_window: dict[str, list[float]] = {name: [] for name in commands}
    whole: dict[str, list[float]] = {name: [] for name in commands}
    for attempt in range(RUNS + 1):
        for name, command in commands.items():
            window, total, output, code = check.time_to_line(command, check.WINDOW_LINE, env, workdir)
            if code != 0 or window != window:
                raise RuntimeError(f"{' '.join(command)} exited {code} without its window line:\n{output[-2000:]}")
            if attempt:
                to_window[name].append(window)
                whole[name].append(total)
    size, hello_size = check.bundle_bytes(BUNDLE), check.bundle_bytes(hello)
    return [
        Result("bundle: size of dist/ztmm-workbench", size / 2**20, hello_size / 2**20, "MiB"),
        Result(
            "bundle: start to window on the demo, median",
            ms(median(to_window["bundle"])),
            ms(median(to_window["hello"])),
            "ms",
        ),
        Result(
            "bundle: start to window, bundle vs source checkout, median",
            ms(median(to_window["bundle"])),
            ms(median(to_window["source"])),
            "ms",
        ),
        Result("bundle: whole self-test, median", median(whole["bundle"]), None, "s"),
    ]
