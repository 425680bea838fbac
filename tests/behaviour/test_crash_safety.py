"""Crash safety of checkpointed ``map()`` batches (04 §2 D8-D10, §6 D30-D38; 00 §1).

An item counts as completed for resume only once its record is committed. The slow
test SIGKILLs a child process in the middle of a checkpointed batch at seeded kill
points, then checks that the database is intact, that every item committed before
the kill is restored (never executed again), and that the re-run completes the
batch with every item's value exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from hypergraph import Graph, SqliteCheckpointer, SyncRunner, node

if TYPE_CHECKING:
    from pathlib import Path

N_ITEMS = 3000
WORKFLOW_ID = "batch"
POLL_SECONDS = 0.005  # waits on another process's output, never orders our code
GUARD_SECONDS = 30.0  # safety net turning a hung child into a failure

# (seed, mode): "sync" = plain sync node, sequential items; "async" = async node
# with ``await asyncio.sleep(0)`` under ``max_concurrency=8``. The seeds give kill
# points (random.Random(seed).randint(1, N_ITEMS - 1)) spread from the first items
# to ~80% of the batch, leaving the child time to still be running at the kill:
# sync 51, 1188, 1481, 2351; async 7, 975, 1897, 2246.
TRIALS = [
    (31, "sync"),
    (23, "sync"),
    (16, "sync"),
    (6, "sync"),
    (139, "async"),
    (3, "async"),
    (9, "async"),
    (29, "async"),
]

CHILD_SCRIPT = textwrap.dedent(
    """
    import asyncio
    import json
    import sys

    from hypergraph import Graph, SqliteCheckpointer, SyncRunner, node

    db_path, side_path, out_path, mode, n = sys.argv[1:6]
    side = open(side_path, "a", buffering=1)  # line-buffered: each line reaches the OS

    if mode == "sync":

        @node(output_name="value")
        def triple(item: int) -> int:
            side.write(f"{item}\\n")
            return item * 3

        options = {}
    else:

        @node(output_name="value")
        async def triple(item: int) -> int:
            await asyncio.sleep(0)
            side.write(f"{item}\\n")
            return item * 3

        options = {"max_concurrency": 8}

    runner = SyncRunner(checkpointer=SqliteCheckpointer(db_path))
    result = runner.map(
        Graph([triple]),
        map_over="item",
        item=list(range(int(n))),
        workflow_id="batch",
        **options,
    )
    with open(out_path, "w") as out:
        json.dump({"status": str(result.status), "values": result["value"]}, out)
    """
)


@dataclass
class Trial:
    """Paths and settings of one kill-and-resume trial."""

    seed: int
    mode: str
    kill_at: int
    script: Path
    db: Path

    def child(self, side: Path, out: Path) -> list[str]:
        """The command line of one child process for this trial."""
        return [
            sys.executable,
            str(self.script),
            str(self.db),
            str(side),
            str(out),
            self.mode,
            str(N_ITEMS),
        ]

    def describe(self) -> str:
        """Identify the trial in assertion messages."""
        return f"seed={self.seed} mode={self.mode} kill_at={self.kill_at}"


def _count_lines(path: Path) -> int:
    """Number of complete lines the child has written so far."""
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _read_items(path: Path) -> list[int]:
    """Item ids of the complete side-effect lines in ``path``."""
    if not path.exists():
        return []
    text = path.read_text()
    complete = text[: text.rfind("\n") + 1]
    return [int(line) for line in complete.splitlines()]


def _integrity(db: Path) -> str:
    """``PRAGMA integrity_check`` of the database file, via plain sqlite3."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(row[0]) for row in rows)
    finally:
        conn.close()


def _children(db: Path) -> dict[str, str]:
    """Child run id -> status string of the batch, read with a fresh checkpointer."""
    cp = SqliteCheckpointer(db)
    return {
        run.id: str(run.status.value)
        for run in cp.runs(parent_run_id=WORKFLOW_ID, limit=None)
    }


def _kill_mid_batch(trial: Trial, side: Path, tmp: Path) -> int:
    """Start the first run, SIGKILL it after ``kill_at`` items; return its exit code."""
    stderr_path = tmp / "first.stderr"
    with (
        stderr_path.open("wb") as stderr,
        subprocess.Popen(
            trial.child(side, tmp / "first.json"),
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        ) as proc,
    ):
        deadline = time.monotonic() + GUARD_SECONDS
        try:
            while _count_lines(side) < trial.kill_at:
                if proc.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"{trial.describe()}: child never reached the kill point"
                    )
                time.sleep(POLL_SECONDS)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, (
        f"{trial.describe()}: first run was not killed mid-batch "
        f"(exit {proc.returncode}, {_count_lines(side)} items ran): "
        f"{stderr_path.read_text()[-2000:]}"
    )
    return proc.returncode


def _run_trial(trial: Trial, tmp: Path) -> None:
    """Kill the first run at ``kill_at`` items, check the store, re-run and check it."""
    first_side = tmp / "first.side"
    _kill_mid_batch(trial, first_side, tmp)
    ran_before_kill = set(_read_items(first_side))

    # After the kill: intact file, only ACTIVE / COMPLETED rows (no finalization ran).
    assert _integrity(trial.db) == "ok", trial.describe()
    before = _children(trial.db)
    assert set(before.values()) <= {"active", "completed"}, (trial.describe(), before)
    committed = {
        int(run_id.removeprefix(f"{WORKFLOW_ID}/"))
        for run_id, status in before.items()
        if status == "completed"
    }
    assert set(before) <= {f"{WORKFLOW_ID}/{i}" for i in range(N_ITEMS)}, (
        trial.describe()
    )
    assert committed <= ran_before_kill, (
        f"{trial.describe()}: COMPLETED children that never ran: "
        f"{sorted(committed - ran_before_kill)[:20]}"
    )
    parent = SqliteCheckpointer(trial.db).get_run(WORKFLOW_ID)
    assert parent is not None, trial.describe()
    if len(committed) < N_ITEMS:
        assert parent.status == "active", (trial.describe(), parent.status)

    # Resume: the same call in a new process, side effects go to a fresh file.
    second_side = tmp / "second.side"
    out = tmp / "second.json"
    done = subprocess.run(
        trial.child(second_side, out),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        check=False,
    )
    assert done.returncode == 0, (
        f"{trial.describe()}: re-run failed: {done.stderr[-2000:]}"
    )

    result = json.loads(out.read_text())
    assert result["values"] == [item * 3 for item in range(N_ITEMS)], trial.describe()
    assert result["status"].lower().endswith("completed"), (
        trial.describe(),
        result["status"],
    )

    rerun = _read_items(second_side)
    reexecuted = sorted(committed & set(rerun))
    assert not reexecuted, (
        f"{trial.describe()}: {len(reexecuted)} items committed before the kill ran "
        f"again (first: {reexecuted[:20]}; {len(committed)} committed)"
    )
    assert len(rerun) == len(set(rerun)), (
        f"{trial.describe()}: an item ran twice in the re-run"
    )
    assert set(rerun) == set(range(N_ITEMS)) - committed, trial.describe()

    assert _integrity(trial.db) == "ok", trial.describe()
    after = _children(trial.db)
    assert after == {f"{WORKFLOW_ID}/{i}": "completed" for i in range(N_ITEMS)}, (
        trial.describe()
    )
    parent = SqliteCheckpointer(trial.db).get_run(WORKFLOW_ID)
    assert parent is not None, trial.describe()
    assert parent.status == "completed", (trial.describe(), parent.status)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "mode"), TRIALS)
def test_sigkill_mid_batch_loses_no_committed_item_and_reruns_none(
    tmp_path: Path, seed: int, mode: str
) -> None:
    """A batch SIGKILLed mid-way resumes with committed items restored, never re-run."""
    script = tmp_path / "child.py"
    script.write_text(CHILD_SCRIPT)
    kill_at = random.Random(seed).randint(1, N_ITEMS - 1)
    trial = Trial(
        seed=seed, mode=mode, kill_at=kill_at, script=script, db=tmp_path / "runs.db"
    )
    _run_trial(trial, tmp_path)


def test_failed_item_is_the_only_one_rerun_after_fix(tmp_path: Path) -> None:
    """With error_handling="continue" only the failed item re-runs after the fix."""
    db = tmp_path / "runs.db"
    bug = tmp_path / "bug.flag"
    bug.touch()
    executed: list[int] = []

    @node(output_name="value")
    def triple(item: int) -> int:
        executed.append(item)
        if item == 2 and bug.exists():
            raise ValueError("item 2 is broken")
        return item * 3

    graph = Graph([triple])
    items = list(range(5))

    def run_batch() -> list[int | None]:
        runner = SyncRunner(checkpointer=SqliteCheckpointer(db))
        result = runner.map(
            graph,
            map_over="item",
            item=items,
            workflow_id=WORKFLOW_ID,
            error_handling="continue",
        )
        return result["value"]

    assert run_batch() == [0, 3, None, 9, 12]
    assert sorted(executed) == items
    assert _children(db) == {
        "batch/0": "completed",
        "batch/1": "completed",
        "batch/2": "failed",
        "batch/3": "completed",
        "batch/4": "completed",
    }
    first_parent = SqliteCheckpointer(db).get_run(WORKFLOW_ID)
    assert first_parent is not None
    assert first_parent.status == "failed"

    bug.unlink()
    executed.clear()
    assert run_batch() == [0, 3, 6, 9, 12]
    assert executed == [2]
    assert _children(db) == {f"batch/{i}": "completed" for i in items}
    parent = SqliteCheckpointer(db).get_run(WORKFLOW_ID)
    assert parent is not None
    assert parent.status == "completed"
    assert _integrity(db) == "ok"
