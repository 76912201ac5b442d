"""``ztmm batch``: commands one per line on one engagement, with the same results and exit codes as one by one."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli

#: Everything a consultant scripts, with a comment, a blank line and quoted words.
SCRIPT = """\
# ratings from the identity workshop
assess 1.1 --rate initial=met --rate advanced=partial --comment "advanced=FIDO2 for admins only"
assess 1.2 --rate initial=met --target optimal --owner "Identity team"

assess 1.3 --current advanced --reason "Compensating controls reviewed on site"
set --title "Zero trust baseline 2026"
finding add 1.1 --title "Phishable MFA for staff" --severity high --risk "Credential theft"
action add 1.1 --text "Roll out FIDO2 keys" --phase now --effort M
baseline "After workshop 1"
assess 2.1 --rate initial=partial
finding list
"""


def _copy(source: Path, folder: Path) -> Path:
    folder.mkdir()
    target = folder / source.name
    shutil.copyfile(source, target)
    return target


def _state(path: Path) -> dict[str, Any]:
    """What the file holds as ``ztmm`` shows it, without what differs between two copies by nature."""
    shown = run_cli("info", path, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    del data["file"]
    if data["progress"] is not None:
        data["progress"]["baseline"].pop("created_at")
    listed = run_cli("finding", "list", path, "--json")
    assert listed.returncode == 0, listed.stderr
    findings = json.loads(listed.stdout)
    for finding in findings:
        del finding["id"], finding["created_at"]
    actions = run_cli("action", "list", path, "--json")
    assert actions.returncode == 0, actions.stderr
    lines = json.loads(actions.stdout)
    for line in lines:
        del line["id"]
    return {"info": data, "findings": findings, "actions": lines}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _normal(output: str, path: Path) -> str:
    """``output`` without the file's path and the random ids of new findings and actions (whole or short)."""
    return re.sub(r"\b[0-9a-f]{8}(?:[0-9a-f]{24})?\b", "ID", output.replace(str(path), "FILE"))


@pytest.fixture
def engagement(tmp_path: Path) -> Path:
    path = tmp_path / "contoso.ztmm"
    made = run_cli("new", path, "--client", "Contoso Ltd", "--assessor", "Lead assessor")
    assert made.returncode == 0, made.stderr
    return path


def test_a_batch_leaves_the_file_and_prints_as_the_commands_run_one_by_one(engagement: Path, tmp_path: Path) -> None:
    one_by_one, batched = _copy(engagement, tmp_path / "one"), _copy(engagement, tmp_path / "batch")
    printed = []
    for line in SCRIPT.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        command = shlex.split(line)
        at = 2 if command[0] in ("finding", "action") else 1
        done = run_cli(*command[:at], one_by_one, *command[at:])
        assert done.returncode == 0, (line, done.stderr)
        printed.append(done.stdout)

    ran = run_cli("batch", batched, input=SCRIPT)
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == ""
    assert _normal(ran.stdout, batched) == _normal("".join(printed), one_by_one)
    assert _state(batched) == _state(one_by_one)
    state = _state(batched)
    assert state["info"]["engagement"]["title"] == "Zero trust baseline 2026"
    assert [f["title"] for f in state["findings"]] == ["Phishable MFA for staff"]
    assert state["info"]["progress"]["baseline"]["name"] == "After workshop 1"


def test_script_from_a_file_or_stdin_gives_the_same_file(engagement: Path, tmp_path: Path) -> None:
    script = tmp_path / "ratings.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    from_file, from_stdin = _copy(engagement, tmp_path / "file"), _copy(engagement, tmp_path / "stdin")
    assert run_cli("batch", from_file, "--from", script).returncode == 0
    assert run_cli("batch", from_stdin, "--from", "-", input=SCRIPT).returncode == 0
    assert _state(from_file) == _state(from_stdin)
    assert _state(from_file) != _state(engagement)


def test_a_failing_line_stops_the_batch_with_its_exit_code_and_the_lines_before_it_kept(
    engagement: Path, tmp_path: Path
) -> None:
    expected = _copy(engagement, tmp_path / "expected")
    for line in (
        ("assess", expected, "1.1", "--rate", "initial=met"),
        ("assess", expected, "1.2", "--target", "optimal"),
    ):
        assert run_cli(*line).returncode == 0
    script = "assess 1.1 --rate initial=met\nassess 1.2 --target optimal\nassess 1.3 --rate initial=bogus\nassess 1.4 --rate initial=met\n"
    ran = run_cli("batch", engagement, input=script)
    assert ran.returncode == 2  # as 'ztmm assess FILE 1.3 --rate initial=bogus' exits
    lines = ran.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in ran.stderr
    assert lines[0].startswith("line 3: error: unknown rating 'bogus'")
    assert "the lines before it are saved" in lines[0]
    assert _state(engagement) == _state(expected)  # 1.1 and 1.2 saved, 1.3 and 1.4 not


def test_atomic_batch_saves_nothing_when_any_line_fails(engagement: Path) -> None:
    before, digest = _state(engagement), _digest(engagement)
    script = "assess 1.1 --rate initial=met\nfinding add 1.1 --title Gap\n\nassess 9.9 --rate initial=met\n"
    ran = run_cli("batch", engagement, "--atomic", input=script)
    assert ran.returncode == 2
    lines = ran.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("line 4: error: unknown function '9.9'")
    assert lines[0].endswith("nothing was saved (--atomic)")
    assert _digest(engagement) == digest
    assert _state(engagement) == before


def test_atomic_batch_saves_every_line_when_all_succeed(engagement: Path, tmp_path: Path) -> None:
    one_by_one = _copy(engagement, tmp_path / "one")
    assert run_cli("batch", one_by_one, input=SCRIPT).returncode == 0
    ran = run_cli("batch", engagement, "--atomic", input=SCRIPT)
    assert ran.returncode == 0, ran.stderr
    assert _state(engagement) == _state(one_by_one)


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            "assess 1.1 --rate initial=met\nfrobnicate 1.1\n",
            "line 2: error: argument COMMAND: invalid choice: 'frobnicate'",
        ),
        (
            "assess 1.1 --rate initial=met\n\n# note\nassess 1.2 --rating initial=met\n",
            "line 4: error: unrecognized arguments",
        ),
        ('assess 1.1 --comment "initial=unterminated\n', "line 1: error: no closing quotation"),
        ("ztmm assess contoso.ztmm 1.1 --rate initial=met\n", "line 1: error: write a line without 'ztmm'"),
        ("new other.ztmm --client X\n", "line 1: error: 'new' cannot run in a batch"),
        ("batch contoso.ztmm\n", "line 1: error: 'batch' cannot run in a batch"),
        ("publish postgresql://db/firm?engagement=x\n", "line 1: error: 'publish' cannot run in a batch"),
        ("server init postgresql://db/firm\n", "line 1: error: 'server' cannot run in a batch"),
        ("comment abcd1234 'looks fine'\n", "line 1: error: 'comment' cannot run in a batch"),
        ("comments\n", "line 1: error: 'comments' cannot run in a batch"),
        ("assess 1.1 --help\n", "line 1: error: --help and --version do not run in a batch"),
        ("info\nassess\n", "line 2: error: the following arguments are required: function"),
    ],
)
def test_a_bad_line_is_named_and_nothing_runs(engagement: Path, script: str, message: str) -> None:
    digest = _digest(engagement)
    ran = run_cli("batch", engagement, input=script)
    assert ran.returncode == 2, ran.stderr
    lines = ran.stderr.splitlines()
    assert len(lines) == 1, ran.stderr
    assert lines[0].startswith(message), lines[0]
    assert lines[0].endswith("nothing was run")
    assert ran.stdout == ""
    assert _digest(engagement) == digest


def test_a_line_that_is_not_utf8_is_named(engagement: Path) -> None:
    digest = _digest(engagement)
    ran = subprocess.run(
        [sys.executable, "-m", "ztmm_desktop.cli", "batch", str(engagement)],
        input=b"info\nassess 1.1 --comment initial=\xff\n",
        capture_output=True,
    )
    assert ran.returncode == 2
    assert ran.stderr.decode().splitlines() == ["line 2: error: not UTF-8 text; nothing was run"]
    assert _digest(engagement) == digest


def test_a_batch_of_reading_commands_runs_on_a_read_only_file(engagement: Path, tmp_path: Path) -> None:
    engagement.chmod(0o444)
    try:
        ran = run_cli("batch", engagement, input="info --json\nfinding list\nverify\n")
    finally:
        engagement.chmod(0o644)
    assert ran.returncode == 0, ran.stderr
    assert "0 of 0 evidence files match their SHA-256" in ran.stdout


def test_an_empty_script_changes_nothing(engagement: Path) -> None:
    digest = _digest(engagement)
    ran = run_cli("batch", engagement, input="# nothing yet\n\n")
    assert ran.returncode == 0
    assert ran.stdout.startswith("no commands to run on")
    assert _digest(engagement) == digest
