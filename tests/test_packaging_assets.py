"""The desktop integration a user relies on: icons in every size asked for, .ztmm files known as engagements
and opened by the app, installers that name the files the build makes."""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import plistlib
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree
from PIL import Image

from tests.conftest import ROOT
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.app import APP_NAME, ICON_NAME

ICONS = ROOT / "resources" / "icons"
HICOLOR = ICONS / "hicolor"
LINUX = ROOT / "packaging" / "linux"
WINDOWS = ROOT / "packaging" / "windows"
MACOS = ROOT / "packaging" / "macos"

MIME_TYPE = "application/x-ztmm-engagement"
DOCUMENT_ICON = "application-x-ztmm-engagement"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
THEME_ICONS = [(ICON_NAME, "apps"), (DOCUMENT_ICON, "mimetypes")]
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
SVG_NS = "{http://www.w3.org/2000/svg}"

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="a Linux installer")


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # keys are case-sensitive
    parser.read(LINUX / "ztmm-workbench.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def mime_type() -> Element:
    tree = ElementTree.parse(LINUX / "ztmm-workbench-mime.xml")
    found = [t for t in tree.getroot().iter(f"{MIME_NS}mime-type") if t.get("type") == MIME_TYPE]
    assert len(found) == 1, "the MIME package declares the engagement type once"
    return found[0]


def is_blank(image: Image.Image) -> bool:
    return image.getchannel("A").getextrema()[1] == 0


# Icons


@pytest.mark.parametrize(("name", "context"), THEME_ICONS)
def test_each_theme_icon_is_there_in_every_size(name: str, context: str) -> None:
    for size in PNG_SIZES:
        path = HICOLOR / f"{size}x{size}" / context / f"{name}.png"
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size == (size, size), path
            assert image.mode == "RGBA", path
            assert not is_blank(image.convert("RGBA")), path
    scalable = HICOLOR / "scalable" / context / f"{name}.svg"
    assert scalable.read_bytes() == (ICONS / f"{name}.svg").read_bytes(), "run tools/make_icons.py"


def test_the_svg_icons_are_plain_drawings() -> None:
    """No scripts, no links to other files: safe for any viewer, and the same picture everywhere."""
    svgs = sorted(ICONS.rglob("*.svg"))
    assert {p.name for p in svgs} >= {f"{ICON_NAME}.svg", f"{DOCUMENT_ICON}.svg"}
    for path in svgs:
        root = ElementTree.parse(path).getroot()
        assert root.tag == f"{SVG_NS}svg", path
        for element in root.iter():
            tag = element.tag.rpartition("}")[2]
            assert tag not in {"script", "foreignObject", "image", "a", "style"}, (path, tag)
            for attribute, value in element.attrib.items():
                local = attribute.rpartition("}")[2]
                assert not local.startswith("on"), (path, attribute)
                if local == "href":
                    assert value.startswith("#"), (path, value)
                assert "url(" not in value or value.startswith("url(#"), (path, value)


@pytest.mark.parametrize(
    ("ico", "name", "context"),
    [("ztmm-workbench.ico", ICON_NAME, "apps"), ("ztmm-engagement.ico", DOCUMENT_ICON, "mimetypes")],
)
def test_the_windows_icons_hold_every_size(ico: str, name: str, context: str) -> None:
    with Image.open(WINDOWS / ico) as image:
        assert image.format == "ICO"
        assert image.info["sizes"] == {(size, size) for size in ICO_SIZES}
        for size in ICO_SIZES:
            frame = image.ico.getimage((size, size)).convert("RGBA")  # type: ignore[attr-defined]
            assert frame.size == (size, size)
            with Image.open(HICOLOR / f"{size}x{size}" / context / f"{name}.png") as png:
                assert frame.tobytes() == png.convert("RGBA").tobytes(), f"{ico} at {size} px"


def test_the_macos_icon_holds_every_size_finder_asks_for() -> None:
    with Image.open(MACOS / "ztmm-workbench.icns") as image:
        assert image.format == "ICNS"
        pixels = set()
        for width, height, scale in image.info["sizes"]:
            entry = image.icns.getimage((width, height, scale))  # type: ignore[attr-defined]
            assert entry.size == (width * scale, height * scale)
            assert not is_blank(entry.convert("RGBA"))
            pixels.add(width * scale)
        assert pixels >= {32, 64, 128, 256, 512, 1024}


# Linux


def test_the_menu_entry_starts_the_app_with_a_file_and_its_icon() -> None:
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == APP_NAME
    assert entry["GenericName"] and entry["Comment"]
    assert entry["Exec"].split() == ["ztmm-desktop", "%f"]
    assert entry["TryExec"] == "ztmm-desktop"
    assert entry["Terminal"] == "false"
    assert "Office" in entry["Categories"].split(";")
    assert entry["Keywords"].endswith(";")
    # The icon and the window: the app names itself APP_NAME (the X11 window class) and ICON_NAME (Wayland).
    assert entry["Icon"] == ICON_NAME
    assert entry["StartupWMClass"] == APP_NAME
    assert (HICOLOR / "48x48" / "apps" / f"{ICON_NAME}.png").is_file()
    # It opens the type the MIME package declares.
    assert entry["MimeType"].endswith(";")
    assert MIME_TYPE in entry["MimeType"].split(";")
    assert mime_type().get("type") in entry["MimeType"].split(";")


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-validate is not installed")
def test_the_menu_entry_passes_desktop_file_validate() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(LINUX / "ztmm-workbench.desktop")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_the_mime_package_names_and_draws_engagement_files() -> None:
    declared = mime_type()
    assert declared.findtext(f"{MIME_NS}comment") == "ZTMM engagement"
    assert [g.get("pattern") for g in declared.iter(f"{MIME_NS}glob")] == ["*.ztmm"]
    # A sub-class of SQLite, so sniffing the SQLite header does not overrule the name.
    assert [s.get("type") for s in declared.iter(f"{MIME_NS}sub-class-of")] == ["application/vnd.sqlite3"]
    icon = declared.find(f"{MIME_NS}icon")
    assert icon is not None and icon.get("name") == DOCUMENT_ICON
    for size in PNG_SIZES:
        assert (HICOLOR / f"{size}x{size}" / "mimetypes" / f"{DOCUMENT_ICON}.png").is_file()


def magic_matches(rules: Element, head: bytes) -> bool:
    """Whether any of the <match> rules under ``rules`` fits ``head`` (string matches; nested ones must all fit)."""
    for rule in rules.findall(f"{MIME_NS}match"):
        assert rule.get("type") == "string", "only string matches are used"
        value = rule.get("value", "").encode("ascii")
        offset = int(rule.get("offset", "0"))
        fits = head[offset : offset + len(value)] == value
        children = rule.findall(f"{MIME_NS}match")
        if fits and (not children or magic_matches(rule, head)):
            return True
    return False


def test_an_engagement_file_is_recognised_by_content_and_plain_sqlite_is_not(tmp_path: Path) -> None:
    magic = mime_type().find(f"{MIME_NS}magic")
    assert magic is not None
    assert int(magic.get("priority", "50")) > 50, "above the plain SQLite rule"
    engagement = tmp_path / "renamed"
    create_engagement(engagement, Properties(client="Contoso", scope=("identity",))).close()
    plain = tmp_path / "plain.db"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    assert magic_matches(magic, engagement.read_bytes()[:100])
    assert not magic_matches(magic, plain.read_bytes()[:100])


@pytest.fixture
def mime_database(tmp_path: Path) -> Iterator[Path]:
    if shutil.which("update-mime-database") is None:
        pytest.skip("update-mime-database is not installed")
    share = tmp_path / "share"
    (share / "mime" / "packages").mkdir(parents=True)
    shutil.copy(LINUX / "ztmm-workbench-mime.xml", share / "mime" / "packages" / "ztmm-workbench.xml")
    result = subprocess.run(["update-mime-database", str(share / "mime")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr and "Warning" not in result.stderr, result.stderr
    yield share


@posix_only
def test_the_file_manager_calls_an_engagement_an_engagement(mime_database: Path, tmp_path: Path) -> None:
    """What GIO (GNOME Files and most other file managers) says an engagement file is, with the type installed."""
    assert f"{MIME_TYPE}:*.ztmm" in (mime_database / "mime" / "globs2").read_text()
    assert f"{MIME_TYPE} application/vnd.sqlite3" in (mime_database / "mime" / "subclasses").read_text()
    if shutil.which("gio") is None:
        pytest.skip("gio is not installed")
    named = tmp_path / "client.ztmm"
    create_engagement(named, Properties(client="Contoso", scope=("identity",))).close()
    renamed = tmp_path / "client-copy"
    shutil.copy(named, renamed)
    system = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    env = {**os.environ, "XDG_DATA_DIRS": f"{mime_database}:{system}", "XDG_DATA_HOME": str(tmp_path / "home")}
    for path in (named, renamed):
        result = subprocess.run(
            ["gio", "info", "--attributes=standard::content-type", str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert f"standard::content-type: {MIME_TYPE}" in result.stdout, (path.name, result.stdout)


# install.sh


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A stand-in for dist/ztmm-workbench: the two programs (each prints its name) and a library folder."""
    folder = tmp_path / "dist" / "ztmm-workbench"
    (folder / "_internal").mkdir(parents=True)
    (folder / "_internal" / "old-library.so").write_text("")
    for name in ("ztmm-desktop", "ztmm"):
        program = folder / name
        program.write_text(f'#!/bin/sh\necho "{name} $*"\n')
        program.chmod(program.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


def install_sh(*args: str | Path, home: Path, destdir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "DESTDIR"}
    env["HOME"] = str(home)  # never the real ~/.local
    if destdir is not None:
        env["DESTDIR"] = str(destdir)
    return subprocess.run(
        ["bash", str(LINUX / "install.sh"), *map(str, args)], capture_output=True, text=True, env=env, timeout=120
    )


def installed_files(prefix: Path) -> set[str]:
    """What under ``prefix`` is ZTMM Workbench's, relative to it (the MIME database files are shared)."""
    return {str(p.relative_to(prefix)) for p in prefix.rglob("*") if "ztmm" in str(p.relative_to(prefix))}


@posix_only
def test_install_sh_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n", str(LINUX / "install.sh")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    text = (LINUX / "install.sh").read_text()
    assert "set -euo pipefail" in text
    assert os.access(LINUX / "install.sh", os.X_OK)


@posix_only
def test_install_sh_puts_the_app_in_the_menu_and_uninstall_takes_it_out(bundle: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "my apps"  # a space: everything must be quoted
    result = install_sh("--prefix", prefix, "--bundle", bundle, home=tmp_path)
    assert result.returncode == 0, result.stderr

    for name in ("ztmm-desktop", "ztmm"):
        link = prefix / "bin" / name
        assert link.is_symlink() and link.resolve() == (prefix / "lib" / "ztmm-workbench" / name).resolve()
        run = subprocess.run([str(link), "hello"], capture_output=True, text=True, timeout=60)
        assert run.stdout == f"{name} hello\n"
    assert (prefix / "lib" / "ztmm-workbench" / "_internal" / "old-library.so").is_file()

    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment, method-assign]
    entry.read(prefix / "share" / "applications" / "ztmm-workbench.desktop", encoding="utf-8")
    assert entry["Desktop Entry"]["Exec"] == f'"{prefix}/bin/ztmm-desktop" %f'  # works without it on PATH
    assert entry["Desktop Entry"]["TryExec"] == f"{prefix}/bin/ztmm-desktop"
    assert entry["Desktop Entry"]["Icon"] == ICON_NAME

    packaged = prefix / "share" / "mime" / "packages" / "ztmm-workbench.xml"
    assert packaged.read_bytes() == (LINUX / "ztmm-workbench-mime.xml").read_bytes()
    if shutil.which("update-mime-database"):
        assert f"{MIME_TYPE}:*.ztmm" in (prefix / "share" / "mime" / "globs2").read_text()
    theme = prefix / "share" / "icons" / "hicolor"
    for name, context in THEME_ICONS:
        for size in PNG_SIZES:
            assert (theme / f"{size}x{size}" / context / f"{name}.png").is_file()
        assert (theme / "scalable" / context / f"{name}.svg").is_file()

    # Installing a new version replaces the old bundle, leftovers included.
    (bundle / "_internal" / "old-library.so").unlink()
    assert install_sh("--prefix", prefix, "--bundle", bundle, home=tmp_path).returncode == 0
    assert not (prefix / "lib" / "ztmm-workbench" / "_internal" / "old-library.so").exists()

    unrelated = prefix / "share" / "icons" / "hicolor" / "48x48" / "apps" / "other-app.png"
    unrelated.write_bytes(b"")
    result = install_sh("--prefix", prefix, "--uninstall", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert installed_files(prefix) == set()
    assert unrelated.exists()
    if (prefix / "share" / "mime" / "globs2").exists():
        assert "ztmm" not in (prefix / "share" / "mime" / "globs2").read_text()
    assert bundle.is_dir(), "the source bundle is left alone"


@posix_only
def test_install_sh_installs_for_the_user_by_default(bundle: Path, tmp_path: Path) -> None:
    result = install_sh("--bundle", bundle, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".local" / "bin" / "ztmm").resolve() == (
        tmp_path / ".local" / "lib" / "ztmm-workbench" / "ztmm"
    ).resolve()
    assert (tmp_path / ".local" / "share" / "applications" / "ztmm-workbench.desktop").is_file()


@posix_only
def test_install_sh_with_destdir_stages_files_for_a_package(bundle: Path, tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    result = install_sh("--prefix", "/usr", "--bundle", bundle, home=tmp_path, destdir=stage)
    assert result.returncode == 0, result.stderr
    assert os.readlink(stage / "usr" / "bin" / "ztmm-desktop") == "/usr/lib/ztmm-workbench/ztmm-desktop"
    desktop = (stage / "usr" / "share" / "applications" / "ztmm-workbench.desktop").read_text()
    assert "\nExec=/usr/bin/ztmm-desktop %f\n" in desktop
    assert (stage / "usr" / "share" / "icons" / "hicolor" / "16x16" / "apps" / f"{ICON_NAME}.png").is_file()
    assert not (stage / "usr" / "share" / "mime" / "globs2").exists(), "caches are the package manager's job"


@posix_only
def test_the_release_archive_installs_from_where_it_is_unpacked(bundle: Path, tmp_path: Path) -> None:
    """What a consultant downloads: unpack, ./install.sh, and the app is in the menu with its file type."""
    release = _load_release()
    archive = release.make_archive(bundle, tmp_path / "out", release="9.8.7", machine="x86_64")
    assert archive.name == "ztmm-workbench-9.8.7-linux-x86_64.tar.gz"
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="tar")
    unpacked = tmp_path / "unpacked" / "ztmm-workbench-9.8.7"
    assert os.access(unpacked / "ztmm-workbench" / "ztmm-desktop", os.X_OK)  # modes survive the archive
    prefix = tmp_path / "prefix"
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("DESTDIR", None)
    done = subprocess.run(
        [str(unpacked / "install.sh"), "--prefix", str(prefix)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    run = subprocess.run([str(prefix / "bin" / "ztmm"), "--version"], capture_output=True, text=True, timeout=60)
    assert run.stdout == "ztmm --version\n"  # the unpacked bundle, not a checkout's dist/
    assert (prefix / "share" / "applications" / "ztmm-workbench.desktop").is_file()
    assert (prefix / "share" / "mime" / "packages" / "ztmm-workbench.xml").is_file()
    assert (prefix / "share" / "icons" / "hicolor" / "48x48" / "mimetypes" / f"{DOCUMENT_ICON}.png").is_file()


def test_a_release_archive_of_no_bundle_is_refused(tmp_path: Path) -> None:
    release = _load_release()
    with pytest.raises(SystemExit, match="is not a built bundle"):
        release.make_archive(tmp_path / "nothing", tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def _load_release():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("release", ROOT / "packaging" / "release.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@posix_only
@pytest.mark.parametrize("problem", ["no bundle", "not a bundle", "someone else's ztmm"])
def test_install_sh_refuses_and_installs_nothing(problem: str, bundle: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    if problem == "no bundle":
        shutil.rmtree(bundle)
    elif problem == "not a bundle":
        (bundle / "ztmm").unlink()
    else:
        (prefix / "bin").mkdir(parents=True)
        (prefix / "bin" / "ztmm").write_text("#!/bin/sh\n")
    result = install_sh("--prefix", prefix, "--bundle", bundle, home=tmp_path)
    assert result.returncode != 0
    assert result.stderr.startswith("install.sh: error: "), result.stderr
    assert installed_files(prefix) <= {"bin/ztmm"}
    if problem == "someone else's ztmm":
        assert (prefix / "bin" / "ztmm").read_text() == "#!/bin/sh\n"


# Windows


def inno_defines(text: str) -> dict[str, str]:
    return dict(re.findall(r'^#define (\w+) "([^"]*)"$', text, re.MULTILINE))


def test_the_windows_setup_installs_the_bundle_the_spec_builds_and_opens_ztmm_files_with_it() -> None:
    text = (WINDOWS / "ztmm-workbench.iss").read_text(encoding="utf-8")
    defines = inno_defines(text)
    spec = (ROOT / "packaging" / "ztmm-workbench.spec").read_text(encoding="utf-8")
    # The names the PyInstaller spec gives its output.
    assert 'NAME = "ztmm-workbench"' in spec and 'name="ztmm-desktop"' in spec
    assert defines["AppExeName"] == "ztmm-desktop.exe"
    assert defines["BundleDir"].replace("\\", "/").endswith("/dist/ztmm-workbench")
    assert 'Source: "{#BundleDir}\\*"' in text and "recursesubdirs" in text
    # The version only comes from the build.
    assert "AppVersion" not in defines
    assert re.search(r"^#ifndef AppVersion\s*\n\s*#error ", text, re.MULTILINE)
    assert "OutputBaseFilename=ztmm-workbench-{#AppVersion}-setup" in text
    assert re.search(r"^AppId=\{\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$", text, re.MULTILINE)
    # Icons that exist.
    setup_icon = re.search(r"^SetupIconFile=(.+)$", text, re.MULTILINE)
    assert setup_icon and (WINDOWS / setup_icon.group(1)).is_file()
    assert (WINDOWS / defines["DocumentIcon"]).is_file()
    assert 'Source: "{#DocumentIcon}"; DestDir: "{app}"' in text
    # The association: .ztmm -> the ProgId -> its icon and "open" with the app.
    assert defines["DocumentExtension"] == ".ztmm"
    registry = text.split("[Registry]", 1)[1].split("\n[", 1)[0]
    extension_key = 'Subkey: "Software\\Classes\\{#DocumentExtension}"; ValueType: string; ValueName: ""; '
    assert extension_key + 'ValueData: "{#DocumentProgId}"' in registry
    assert defines["DocumentProgId"] == "ZTMMWorkbench.Engagement"
    assert 'ValueData: "{app}\\{#DocumentIcon},0"' in registry
    assert 'Subkey: "Software\\Classes\\{#DocumentProgId}\\shell\\open\\command"' in registry
    assert 'ValueData: """{app}\\{#AppExeName}"" ""%1"""' in registry
    assert all(line.startswith("Root: HKA;") for line in registry.splitlines() if line.startswith("Root:"))
    assert "ChangesAssociations=yes" in text
    assert "PrivilegesRequiredOverridesAllowed=dialog" in text and "DefaultDirName={autopf}\\" in text


# macOS


def test_the_macos_bundle_opens_ztmm_files_and_leaves_the_version_to_the_build() -> None:
    settings = json.loads((MACOS / "bundle.json").read_text(encoding="utf-8"))
    assert not {"CFBundleShortVersionString", "CFBundleVersion"} & settings.keys()
    assert settings["CFBundleIdentifier"] and settings["CFBundleName"] == APP_NAME
    exported = {t["UTTypeIdentifier"]: t for t in settings["UTExportedTypeDeclarations"]}
    (document,) = settings["CFBundleDocumentTypes"]
    (uti,) = document["LSItemContentTypes"]
    tags = exported[uti]["UTTypeTagSpecification"]
    assert tags["public.filename-extension"] == ["ztmm"]
    assert tags["public.mime-type"] == [MIME_TYPE]
    assert "public.data" in exported[uti]["UTTypeConformsTo"]
    assert document["CFBundleTypeRole"] == "Editor" and document["LSHandlerRank"] == "Owner"
    entitlements = plistlib.loads((MACOS / "entitlements.plist").read_bytes())
    assert entitlements and all(value is True for value in entitlements.values())
    assert (MACOS / "ztmm-workbench.icns").is_file()
