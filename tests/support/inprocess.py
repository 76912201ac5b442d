"""Run ``ztmm`` in the test's own process (``cli.main``), as fast as a function call."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from ztmm_desktop.cli import main


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def ztmm(capsys: pytest.CaptureFixture[str], *args: str | os.PathLike[str]) -> Result:
    """``ztmm ARGS`` through the CLI's main function; what it printed and its exit code."""
    capsys.readouterr()
    code = main([os.fspath(a) for a in args])
    out, err = capsys.readouterr()
    return Result(code, out, err)


def assert_refused_in_process(result: Result, message: str) -> None:
    """Exit 2, exactly one line on stderr starting with 'error:', no traceback, nothing on stdout."""
    assert result.code == 2, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), lines[0]
    assert message in lines[0], lines[0]
    assert "Traceback" not in result.err
    assert result.out == ""
