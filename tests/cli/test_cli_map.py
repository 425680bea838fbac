"""``hypergraph map`` end to end, through ``python -m hypergraph`` subprocesses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from clitools import check_envelope, cli, project, side_effects

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A directory holding the test graph module."""
    return project(tmp_path)


def test_map_reports_every_item_and_exits_1_on_any_failure(root: Path) -> None:
    """CLI42/CLI44: default continue, per-item lines, summary last, exit 1."""
    done = cli(root, "map", "graphs:graph", "--map-over", "x", "x=[1, 2, -3]")
    assert done.code == 1
    lines = done.out.splitlines()
    assert lines[0] == "Map over: x (zip)"
    assert lines[1].startswith("Results: 3 | Duration: ")
    assert lines[2] == ""
    assert "  [0] completed: y=2, z=3" in lines
    assert "  [1] completed: y=4, z=5" in lines
    assert "  [2] failed" in lines
    assert "      Error: ValueError: negative x" in lines
    assert lines[-1].startswith("3 items | 2 completed, 1 failed | ")
    assert done.err.strip() == "Error: 1 of 3 items failed"


def test_map_json_product_with_max_concurrency(root: Path) -> None:
    """CLI40/CLI43: product mode, --max-concurrency, aggregate keys."""
    done = cli(
        root,
        "map",
        "graphs:graph",
        "--map-over",
        "x,k",
        "--map-mode",
        "product",
        "x=[1, 2]",
        "--values",
        '{"k": [10, 20]}',
        "--max-concurrency",
        "2",
        "--json",
    )
    assert done.code == 0, done.err
    data = check_envelope(done.out, "map")["data"]
    assert data["map_over"] == ["x", "k"]
    assert data["map_mode"] == "product"
    assert data["count"] == 4
    assert (data["status"], data["completed_count"], data["failed_count"]) == (
        "completed",
        4,
        0,
    )
    assert data["workflow_id"] is None
    assert isinstance(data["total_duration_ms"], float)
    assert [item["values"]["z"] for item in data["results"]] == [12, 22, 14, 24]
    assert all("workflow_id" not in item for item in data["results"])


def test_map_under_raise_keeps_json_valid_and_exits_1(root: Path) -> None:
    """CLI3/CLI40: --error-handling raise stops the batch; stdout stays JSON."""
    done = cli(
        root,
        "map",
        "graphs:graph",
        "--map-over",
        "x",
        "x=[-1, 2]",
        "--error-handling",
        "raise",
        "--json",
    )
    assert done.code == 1
    data = check_envelope(done.out, "map")["data"]
    assert data["status"] == "failed"
    assert data["error_type"] == "builtins.ValueError"
    assert done.err.strip() == "Error: ValueError: negative x"


@pytest.mark.slow
def test_persisted_map_resumes_and_executes_nothing(root: Path) -> None:
    """CLI41/CLI12: embedded db announced once; the re-run restores every item."""
    args = ("map", "graphs:graph", "--map-over", "x", "x=[1,2,3]")
    first = cli(root, *args, "--workflow-id", "batch-001", "--json")
    assert first.code == 0, first.err
    db = (root / ".hypergraph" / "runs.db").resolve()
    assert first.err.splitlines() == [f"Warning: No database configured; created {db}"]
    data = first.json()
    assert data["workflow_id"] == "batch-001"
    assert [r["workflow_id"] for r in data["results"]] == [
        "batch-001/0",
        "batch-001/1",
        "batch-001/2",
    ]
    assert side_effects(root) == ["1", "2", "3"]
    again = cli(root, *args, "--workflow-id", "batch-001")
    assert again.code == 0, again.err
    assert again.err == ""
    assert side_effects(root) == ["1", "2", "3"]  # nothing executed again
    items = cli(root, "runs", "ls", "--parent", "batch-001", "--json")
    assert items.code == 0, items.err
    assert sorted(run["id"] for run in items.json()) == [
        "batch-001/0",
        "batch-001/1",
        "batch-001/2",
    ]


def test_configured_db_without_workflow_id_warns_on_stderr(root: Path) -> None:
    """CLI2/CLI41: the warning goes to stderr and --json stdout stays valid."""
    done = cli(
        root,
        "map",
        "graphs:graph",
        "--map-over",
        "x",
        "x=[1]",
        "--db",
        "x.db",
        "--json",
    )
    assert done.code == 0, done.err
    assert done.err.splitlines() == [
        "Warning: map checkpointing requires --workflow-id; running without "
        "persistence."
    ]
    assert check_envelope(done.out, "map")["data"]["count"] == 1
    assert not (root / "x.db").exists()


@pytest.mark.slow
def test_map_usage_and_validation_errors_exit_2(root: Path) -> None:
    """CLI40: an invalid mode and a map validation error both exit 2."""
    mode = cli(root, "map", "graphs:graph", "--map-over", "x", "--map-mode", "zap")
    assert mode.code == 2
    assert mode.err.startswith("Error: Invalid value for '--map-mode'")
    lengths = cli(root, "map", "graphs:graph", "--map-over", "x,k", "x=[1,2]", "k=[1]")
    assert lengths.code == 2
    assert lengths.err.startswith("Error: ValueError: map_over parameters must have")


def test_map_with_paused_items_exits_3(root: Path) -> None:
    """CLI44: no failures but paused items → exit 3."""
    done = cli(root, "map", "graphs:paused", "--map-over", "x", "x=[1,2]", "--json")
    assert done.code == 3, done.err
    data = done.json()
    assert data["status"] == "paused"
    assert {item["pause"]["response_key"] for item in data["results"]} == {"verdict"}
