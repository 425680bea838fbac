"""The benchmark scripts still run and compute the right answers (never timed here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.slow
def test_benchmarks_run_at_tiny_sizes():
    """run_all.py --small exercises every workload; each asserts its own results."""
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run_all.py"), "--small"],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for workload in ("W1", "W2a", "W2b", "W3", "W4", "W5", "W6", "M1"):
        assert workload in completed.stdout
