"""The client's logo: set once on the engagement, checked, kept in the file, drawn on the report cover."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import run_cli
from tests.test_cli import assert_refused
from tests.test_report import images
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.services.logo import read_logo


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "client.ztmm"
    create_engagement(path, Properties(client="Contoso", scope=("identity",))).close()
    return path


def test_a_logo_set_on_the_engagement_is_on_every_report_until_removed(document: Path, tmp_path: Path) -> None:
    logo = tmp_path / "brand.png"
    Image.new("RGB", (240, 80), (20, 70, 140)).save(logo)
    assert run_cli("set", document, "--logo", logo).returncode == 0
    logo.unlink()  # kept inside the engagement: the original file is no longer needed
    with open_engagement(document, readonly=True) as engagement:
        stored = read_logo(engagement)
        assert stored is not None and (stored.name, stored.media_type, stored.width) == ("brand.png", "image/png", 240)
        assert [e.field for e in engagement.audit_log()][-1] == "logo"
    assert run_cli("report", document, tmp_path / "with.pdf").returncode == 0
    assert images(tmp_path / "with.pdf") == 1

    assert run_cli("set", document, "--no-logo").returncode == 0
    assert run_cli("report", document, tmp_path / "without.pdf").returncode == 0
    assert images(tmp_path / "without.pdf") == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("not an image"), "logo logo.png is not a PNG or JPEG image"),
        (lambda p: Image.new("RGB", (4097, 8)).save(p, "PNG"), "is 4,097 × 8 pixels; the limit is 4,096 × 4,096"),
        (lambda p: Image.new("RGB", (20, 20)).save(p, "GIF"), "logo logo.png is a GIF image; use a PNG or JPEG"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(6 * 1024 * 1024)), "the limit is 5 MB"),
        (lambda p: p.mkdir(), "no such file"),
    ],
    ids=["text", "huge", "gif", "large-file", "folder"],
)
def test_a_bad_logo_is_refused_and_changes_nothing(document: Path, tmp_path: Path, make: object, message: str) -> None:
    logo = tmp_path / "logo.png"
    make(logo)  # type: ignore[operator]
    before = document.read_bytes()
    assert_refused(run_cli("set", document, "--logo", logo, "--title", "Renamed"), message)
    assert document.read_bytes() == before  # not even the title changed
