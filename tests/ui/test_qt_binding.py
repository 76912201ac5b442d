"""Guard against a Qt binding that corrupts the interpreter.

PySide6 6.12.0 on Python 3.11 released one reference to None on every call of a
method returning nothing (QFont.setBold, QPainter.setPen, QWidget.update, …);
after a few thousand calls the interpreter aborted with 'none_dealloc'. The
project pins a version without the bug; this test fails if one comes back.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QFont

pytestmark = pytest.mark.gui


def test_void_calls_keep_references_to_none_balanced() -> None:
    font = QFont()
    before = sys.getrefcount(None)
    for _ in range(10_000):
        font.setBold(True)
    assert sys.getrefcount(None) - before > -100
