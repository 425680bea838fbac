"""``hypergraph runs ...`` over a database filled once per module (CLI60-CLI69).

A few commands run as subprocesses (streams, exit codes, env resolution); the
flag-by-flag checks call ``main()`` in-process, which is much faster.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from clitools import check_envelope, cli

from hypergraph import Graph, SqliteCheckpointer, SyncRunner, interrupt, node
from hypergraph.cli import main

if TYPE_CHECKING:
    from pathlib import Path


@node(output_name="y")
def double(x: int) -> int:
    if x < 0:
        raise ValueError("negative x")
    return 2 * x


@node(output_name="z")
def inc(y: int) -> int:
    return y + 1


@interrupt(output_name="verdict")
def review(y: int) -> str | None:
    return None


GRAPH = Graph([double, inc], name="demo")
PAUSED = Graph([double, review], name="review")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """w1 completed, wfail failed, b1 batch (1 of 3 failed), p1 paused, a fork."""
    path = tmp_path_factory.mktemp("runs") / "runs.db"
    with SqliteCheckpointer(path) as store, SyncRunner(checkpointer=store) as runner:
        runner.run(GRAPH, {"x": 3}, workflow_id="w1")
        runner.run(GRAPH, {"x": -1}, workflow_id="wfail", error_handling="continue")
        runner.map(
            GRAPH,
            {"x": [1, 2, -3]},
            map_over="x",
            workflow_id="b1",
            error_handling="continue",
        )
        runner.run(PAUSED, {"x": 1}, workflow_id="p1")
        runner.run(GRAPH, {"x": 5}, fork_from="w1", workflow_id="w1-fork")
    return path


class Call:
    """In-process ``main()`` with captured streams."""

    def __init__(self, capsys: pytest.CaptureFixture[str], db: Path) -> None:
        self.capsys = capsys
        self.db = str(db)

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["runs", *args, "--db", self.db])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)["data"]


@pytest.fixture
def runs(capsys: pytest.CaptureFixture[str], db: Path) -> Call:
    """``runs(...)`` → ``(exit code, stdout, stderr)``."""
    return Call(capsys, db)


@pytest.mark.slow
def test_dashboard_and_unknown_run_as_subprocesses(db: Path) -> None:
    """CLI60/CLI62: sections, hints, JSON keys; unknown ids exit 2 on stderr."""
    env = {"HYPERGRAPH_DB": str(db)}
    human = cli(db.parent, "runs", **env)
    assert human.code == 0, human.err
    assert "Paused (1 resumable)" in human.out
    assert "Recent (last 4)" in human.out
    assert "Active" not in human.out
    assert "  → hypergraph runs ls" in human.out
    data = check_envelope(cli(db.parent, "runs", "--json", **env).out, "runs")["data"]
    assert set(data) == {"active", "paused", "recent"}
    assert [run["id"] for run in data["paused"]] == ["p1"]
    missing = cli(db.parent, "runs", "show", "nope", **env)
    assert (missing.code, missing.out) == (2, "")
    assert missing.err.splitlines()[0] == "Error: Run 'nope' not found."


def test_ls_lists_top_level_runs_by_default(runs: Call) -> None:
    """CLI61: parents only, header with the total, hint lines."""
    code, out, _ = runs("ls")
    assert code == 0
    assert out.splitlines()[0] == "Runs (5 total)"
    assert "b1" in out
    assert "b1/0" not in out
    assert "  → hypergraph runs show <id>" in out


def test_ls_hierarchy_sort_and_limit(runs: Call) -> None:
    """CLI61: --all/--view all, --parent, --sort, --limit."""
    everything = [r["id"] for r in runs.json("ls", "--all", "--sort", "id")]
    assert everything == sorted(everything)
    assert "b1/2" in everything
    assert [r["id"] for r in runs.json("ls", "--view", "all", "--sort", "id")] == (
        everything
    )
    assert [r["id"] for r in runs.json("ls", "--parent", "b1", "--sort", "id")] == [
        "b1/0",
        "b1/1",
        "b1/2",
    ]
    by_errors = runs.json("ls", "--all", "--sort", "errors")
    assert by_errors[0]["error_count"] == max(r["error_count"] for r in by_errors)
    newest = runs.json("ls", "--limit", "1")
    oldest = runs.json("ls", "--limit", "1", "--sort", "oldest")
    assert (newest[0]["id"], oldest[0]["id"]) == ("w1-fork", "w1")


def test_ls_filters(runs: Call) -> None:
    """CLI61: --status (repeatable), --graph, --since, and their errors."""
    failed = runs.json("ls", "--status", "failed")
    assert sorted(r["id"] for r in failed) == ["b1", "wfail"]
    two = runs.json("ls", "--status", "failed", "--status", "paused")
    assert sorted(r["id"] for r in two) == ["b1", "p1", "wfail"]
    assert [r["id"] for r in runs.json("ls", "--graph", "review")] == ["p1"]
    assert len(runs.json("ls", "--since", "1h")) == 5
    code, out, err = runs("ls", "--status", "bogus")
    assert (code, out) == (2, "")
    assert err.splitlines()[0] == (
        "Error: Unknown status 'bogus'. Use: active, paused, completed, failed"
    )
    code, _, err = runs("ls", "--since", "5x")
    assert code == 2
    assert err.startswith("Error: Invalid --since '5x'")
    code, out, _ = runs("ls", "--graph", "nothing")
    assert (code, out.strip()) == (0, "No runs found matching filters.")


def test_ls_traces_groups_children(runs: Call) -> None:
    """CLI61: --traces lists child runs under their parent."""
    code, out, _ = runs("ls", "--traces")
    assert code == 0
    assert "├─ b1/0" in out
    assert "└─ b1/2" in out
    data = runs.json("ls", "--traces", "--status", "failed", "--graph", "demo")
    batch = next(row for row in data if row["id"] == "b1")
    assert [kid["id"] for kid in batch["children"]] == ["b1/0", "b1/1", "b1/2"]


def test_show_run_steps_lineage_and_children(runs: Call) -> None:
    """CLI62: header, table, lineage line, children summary and hints."""
    code, out, _ = runs("show", "w1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Run: w1 (demo) | completed | 2 steps | ")
    assert any("double" in line and "FunctionNode" in line for line in lines)
    assert "  → hypergraph runs values w1" in out
    assert "  → hypergraph runs stats w1" in out
    _, fork, _ = runs("show", "w1-fork")
    assert "  Lineage: forked from w1" in fork.splitlines()
    _, batch, _ = runs("show", "b1")
    assert "Children: 3 (2 completed, 1 failed)" in batch.splitlines()
    assert "hypergraph runs ls --parent b1" in batch
    _, item, _ = runs("show", "b1/2")
    assert "FAILED: negative x" in item
    assert "  → hypergraph runs show b1/2 --errors" in item
    _, paused, _ = runs("show", "p1")
    assert "Run is paused" in paused


def test_show_filters_and_single_step(runs: Call) -> None:
    """CLI62: --errors, --node, --step N (with --values), unknown step."""
    data = runs.json("show", "b1/2", "--errors")
    assert data["run"]["id"] == "b1/2"
    assert [step["status"] for step in data["steps"]] == ["failed"]
    assert [
        s["node_name"] for s in runs.json("show", "w1", "--node", "inc")["steps"]
    ] == ["inc"]
    code, out, _ = runs("show", "w1", "--step", "0")
    assert code == 0
    assert out.splitlines()[0].startswith("Step [0] double | completed | ")
    assert "  values: {'y': '<int, 1B>'}" in out
    _, full, _ = runs("show", "w1", "--step", "0", "--values")
    assert '"y": 6' in full
    assert runs.json("show", "w1", "--step", "1")["node_name"] == "inc"
    code, _, err = runs("show", "w1", "--step", "9")
    assert code == 2
    assert err.startswith("Error: Step 9 not found in run 'w1'")


def test_values(runs: Call) -> None:
    """CLI63: table, --key, --full, --superstep, unknown key, JSON."""
    code, out, _ = runs("values", "w1")
    assert code == 0
    assert out.splitlines()[0] == "Values: w1 (through step 1)"
    assert any(
        line.split()[:5] == ["y", "int", "1B", "0", "double"]
        for line in out.splitlines()
    )
    assert runs("values", "w1", "--key", "z")[1].strip() == "7"
    code, _, err = runs("values", "w1", "--key", "nope")
    assert code == 2
    assert err.splitlines()[0] == "Error: Key 'nope' not found. Available: y, z"
    assert runs.json("values", "w1") == {
        "run_id": "w1",
        "through_superstep": 1,
        "values": {"y": 6, "z": 7},
    }
    assert runs.json("values", "w1", "--superstep", "0")["values"] == {"y": 6}
    _, paused, _ = runs("values", "p1", "--full")
    assert paused.splitlines()[0].endswith(", paused)")


def test_steps(runs: Call) -> None:
    """CLI64: detail blocks, limit notice, --all, --node, JSON list."""
    code, out, _ = runs("steps", "w1", "--limit", "1")
    assert code == 0
    assert "Step [0] double | completed" in out
    assert "Showing 1 of 2 steps. Use --all to see every step." in out
    assert len(runs.json("steps", "w1", "--limit", "1", "--all")) == 2
    assert [s["node_name"] for s in runs.json("steps", "w1", "--node", "inc")] == [
        "inc"
    ]


def test_search(runs: Call) -> None:
    """CLI65: matches across runs; --field; the no-match message."""
    found = runs.json("search", "negative")
    assert sorted(step["run_id"] for step in found) == ["b1/2", "wfail"]
    code, out, _ = runs("search", "negative")
    assert code == 0
    assert "FAILED" in out
    code, out, _ = runs("search", "negative", "--field", "node_name")
    assert (code, out.strip()) == (0, "No steps matching 'negative'.")


def test_stats(runs: Call) -> None:
    """CLI66: header, table columns, JSON nodes."""
    code, out, _ = runs("stats", "w1")
    assert code == 0
    assert out.splitlines()[0] == "Stats: w1 | completed"
    assert "Cached" in out.splitlines()[1]
    data = runs.json("stats", "w1")
    assert data["run_id"] == "w1"
    assert set(data["nodes"]) == {"double", "inc"}
    assert data["nodes"]["double"]["steps"] == 1


def test_checkpoint(runs: Call) -> None:
    """CLI67: counts, --superstep, --deep, JSON shape."""
    code, out, _ = runs("checkpoint", "w1", "--superstep", "0", "--deep")
    assert code == 0
    assert out.splitlines()[:3] == ["Checkpoint: w1@0", "Values: 1", "Steps: 1"]
    assert "  value: y" in out
    shallow = runs.json("checkpoint", "w1")
    assert shallow == {
        "source_run_id": "w1",
        "source_superstep": None,
        "value_count": 2,
        "step_count": 2,
        "values": None,
        "steps": None,
    }
    deep = runs.json("checkpoint", "w1", "--deep")
    assert deep["values"] == {"y": 6, "z": 7}
    assert len(deep["steps"]) == 2


def test_lineage(runs: Call) -> None:
    """CLI68: header, rows, --deep step lines, JSON, unknown id."""
    code, out, _ = runs("lineage", "w1-fork")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Lineage: selected=w1-fork root=w1"
    assert lines[1].startswith("● w1 [completed] (root)")
    assert "w1-fork" in lines[2]
    assert "<selected>" in lines[2]
    _, deep, _ = runs("lineage", "w1", "--deep")
    assert "steps=2 cached=0 failed=0" in deep
    assert "[0] double | completed" in deep
    data = runs.json("lineage", "w1-fork", "--max-runs", "1")
    assert (data["selected_run_id"], data["root_run_id"]) == ("w1-fork", "w1")
    assert len(data["rows"]) == 1
    assert "steps" not in data["rows"][0]
    code, _, err = runs("lineage", "nope")
    assert code == 2
    assert err.startswith("Error: Run 'nope' not found.")


def test_output_file_and_group_level_db(
    runs: Call, tmp_path: Path, capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    """CLI71 for runs commands; ``runs --db X ls`` passes the db down."""
    target = tmp_path / "runs.json"
    code, out, _ = runs("ls", "--output", str(target))
    assert code == 0
    assert out.startswith(f"Wrote runs.ls output to {target} (")
    assert len(check_envelope(target.read_text(), "runs.ls")["data"]) == 5
    assert main(["runs", "--db", str(db), "show", "w1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["command"] == "runs.show"
