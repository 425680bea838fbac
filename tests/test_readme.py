"""The README's Quick start stays true: two commands, and the main job really works."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALL = re.compile(r"^python3 -m venv \.venv && \.venv/bin/pip install -q \S+ && ")


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [
        line
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second():
    """One command runs the main job, the other the test suite; CI runs the latter."""
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "hypergraph map" in commands[0]
    assert "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_main_job_runs_as_written(tmp_path: Path):
    """After the install step, the main job's commands succeed on a fresh folder."""
    command = quick_start_commands()[0]
    assert INSTALL.match(command)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    steps = INSTALL.sub("", command).split(" && ")
    outputs = []
    for step in steps:
        argv = shlex.split(step)
        assert argv[0] == ".venv/bin/hypergraph"
        done = subprocess.run(
            [sys.executable, "-m", "hypergraph", *argv[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert "1000 items | 1000 completed" in outputs[0]
    assert "demo" in outputs[1]
    assert "Children: 1000 (1000 completed" in outputs[2]
    assert (tmp_path / ".hypergraph" / "runs.db").exists()
    reviews = json.loads((tmp_path / "examples" / "reviews.json").read_text())
    assert len(reviews["review"]) == 1000
