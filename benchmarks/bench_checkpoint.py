"""W5 of spec 00 §3: a checkpointed batch, every item committed when map() returns.

Floors: plain sqlite3 writing the same rows with one commit per item, and with one
transaction for the whole batch.

    python benchmarks/bench_checkpoint.py [items]
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from _harness import Row, print_table
from hypergraph import Graph, SqliteCheckpointer, SyncRunner, node


def inc(x: int) -> int:
    return x + 1


def dbl(y: int) -> int:
    return y * 2


GRAPH = Graph([node(inc, "y"), node(dbl, "z")], name="w5")


def ours(n: int, folder: Path, attempt: int) -> float:
    checkpointer = SqliteCheckpointer(folder / f"ours-{attempt}.db")
    runner = SyncRunner(checkpointer=checkpointer)
    items = list(range(n))
    start = time.perf_counter()
    result = runner.map(GRAPH, map_over="x", x=items, workflow_id=f"w5-{attempt}")
    elapsed = time.perf_counter() - start
    assert result["z"] == [(x + 1) * 2 for x in items]
    children = checkpointer.runs(parent_run_id=f"w5-{attempt}", limit=None)
    assert len(children) == n
    assert all(r.status == "completed" for r in children)
    runner.close()
    return n / elapsed


def floor(n: int, folder: Path, attempt: int, *, per_item: bool) -> float:
    conn = sqlite3.connect(folder / f"floor-{attempt}-{per_item}.db")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE runs (id TEXT PRIMARY KEY, status TEXT, inputs BLOB)")
    conn.execute(
        "CREATE TABLE steps (run_id TEXT, node TEXT, value BLOB, "
        "PRIMARY KEY (run_id, node))"
    )
    start = time.perf_counter()
    for x in range(n):
        run_id = f"w5/{x}"
        conn.execute("INSERT INTO runs VALUES (?, 'active', ?)", (run_id, str(x)))
        y = inc(x)
        conn.execute("INSERT INTO steps VALUES (?, 'inc', ?)", (run_id, str(y)))
        z = dbl(y)
        conn.execute("INSERT INTO steps VALUES (?, 'dbl', ?)", (run_id, str(z)))
        conn.execute("UPDATE runs SET status = 'completed' WHERE id = ?", (run_id,))
        if per_item:
            conn.commit()
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def measure(n: int = 1000) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        best = max(ours(n, folder, attempt) for attempt in range(3))
        per_item = max(floor(n, folder, a, per_item=True) for a in range(3))
        one_tx = max(floor(n, folder, a, per_item=False) for a in range(3))
    return [
        Row(
            f"W5 checkpointed SyncRunner.map, {n} items",
            best,
            per_item,
            "/s",
            ">= 10000 items/s",
            f"(floor: commit per item; one transaction {one_tx:.0f}/s)",
        )
    ]


if __name__ == "__main__":
    print_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
