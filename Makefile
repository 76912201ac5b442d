# ZTMM Workbench. `make run` and `make test` bootstrap .venv from pyproject.toml
# on a fresh machine with Python 3.11+ and nothing else.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PACKAGE_STAMP := $(VENV)/.package-stamp
BUNDLE := dist/ztmm-workbench
FILE ?=

.PHONY: run test lint typecheck pytest bench screenshots package clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (none found on PATH)"; exit 2; }
	@bash tools/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/ztmm-desktop $(if $(FILE),"$(FILE)",--demo)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m ztmm_desktop.ui.shell.screenshots docs/screenshots

# The one-folder application bundle (PyInstaller), then its smoke test: the self-test of the
# window, `ztmm catalog --json`, the version, the size and the start time; then the Linux
# release archive (the bundle with install.sh, the menu entry, the file type and the icons).
$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,package]'
	@touch $(PACKAGE_STAMP)

package: $(PACKAGE_STAMP)
	rm -rf $(BUNDLE) "dist/ZTMM Workbench.app" build/ztmm-workbench
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build packaging/ztmm-workbench.spec
	$(BIN)/python packaging/check_bundle.py $(BUNDLE)
	$(BIN)/python packaging/release.py $(BUNDLE) --out dist

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
