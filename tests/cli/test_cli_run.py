"""``hypergraph run`` end to end, through ``python -m hypergraph`` subprocesses."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from clitools import check_envelope, cli, project, side_effects

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A directory holding the test graph module."""
    return project(tmp_path)


def test_no_arguments_prints_help_and_exits_0(root: Path) -> None:
    """CLI1: bare ``python -m hypergraph`` is help, not an error."""
    done = cli(root)
    assert done.code == 0
    assert "Usage: hypergraph" in done.out
    for command in ("run", "map", "graph", "runs"):
        assert command in done.out
    assert done.err == ""


def test_completed_run_prints_status_and_outputs(root: Path) -> None:
    """CLI33: status line, then one indented line per output; exit 0."""
    done = cli(root, "run", "graphs:graph", "x=3")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0] == ""
    assert lines[1] == "Status: completed"
    assert "  y: 6" in lines
    assert "  z: 7" in lines
    assert "Workflow:" not in done.out
    assert done.err == ""
    assert not (root / ".hypergraph").exists()  # nothing persisted without an id


def test_json_envelope_of_a_run(root: Path) -> None:
    """CLI34/CLI70/CLI2: the envelope and data keys; warnings stay on stderr."""
    done = cli(root, "run", "graphs:graph", "--json", "x=3", "k=10", "extra=1")
    assert done.code == 0
    assert done.err.splitlines() == [
        "Warning: Input 'extra' is not used by this graph and is ignored. Inputs: k, x."
    ]
    envelope = check_envelope(done.out, "run")
    data = envelope["data"]
    assert data["status"] == "completed"
    assert data["values"] == {"y": 6, "z": 16}
    assert data["run_id"].startswith("run-")
    assert not {"workflow_id", "error", "error_type", "error_node"} & set(data)


def test_node_failure_under_raise_gives_failed_envelope_and_exit_1(root: Path) -> None:
    """CLI3/CLI34: JSON stays valid, the error is one stderr line, no traceback."""
    done = cli(root, "run", "graphs:outer", "x=-1", "--json")
    assert done.code == 1
    data = check_envelope(done.out, "run")["data"]
    assert data["status"] == "failed"
    assert data["error"] == "negative x"
    assert data["error_type"] == "builtins.ValueError"
    assert data["error_node"] == "inner/double"
    assert done.err.strip() == "Error: ValueError: negative x"
    assert "Traceback" not in done.err


def test_failure_under_continue_is_reported_and_verbose_adds_details(
    root: Path,
) -> None:
    """CLI33: failed status on stdout, Error line on stderr; -v adds traceback."""
    done = cli(
        root, "run", "graphs:graph", "x=-1", "--error-handling", "continue", "-v"
    )
    assert done.code == 1
    assert "Status: failed" in done.out
    assert "Failed node: double" in done.out
    assert "  Duration: " in done.out
    assert "  Steps: 1" in done.out
    assert "Traceback" in done.err
    assert done.err.splitlines()[-1] == "Error: ValueError: negative x"


@pytest.mark.slow
def test_select_and_entrypoint_are_applied_to_the_graph(root: Path) -> None:
    """CLI30: --select narrows outputs; --entrypoint skips upstream nodes."""
    selected = cli(root, "run", "graphs:graph", "x=3", "--select", "y", "--json")
    assert selected.code == 0, selected.err
    assert selected.json()["values"] == {"y": 6}
    side_effects_before = side_effects(root)
    entry = cli(root, "run", "graphs:graph", "y=5", "--entrypoint", "inc", "--json")
    assert entry.code == 0, entry.err
    assert entry.json()["values"] == {"y": 5, "z": 6}  # supplied outputs count
    assert side_effects(root) == side_effects_before  # double never ran


def test_unknown_select_name_is_a_usage_error(root: Path) -> None:
    """CLI3: a bad --select exits 2 with one Error line."""
    done = cli(root, "run", "graphs:graph", "x=3", "--select", "nope")
    assert done.code == 2
    assert done.err.startswith("Error: ValueError: Cannot select 'nope'")
    assert done.out == ""


def test_values_file_then_pairs_override(root: Path) -> None:
    """CLI21: --values is read first, key=value pairs win per key."""
    (root / "params.json").write_text(json.dumps({"x": 1, "k": 10}))
    done = cli(root, "run", "graphs:graph", "--values", "params.json", "x=7", "--json")
    assert done.code == 0, done.err
    assert done.json()["values"] == {"y": 14, "z": 24}


@pytest.mark.slow
def test_input_errors_exit_2(root: Path) -> None:
    """CLI21: malformed key=value and bad --values text are usage errors."""
    pair = cli(root, "run", "graphs:graph", "x")
    assert pair.code == 2
    assert pair.err.splitlines()[0] == "Error: Expected key=value, got 'x'"
    bad = cli(root, "run", "graphs:graph", "--values", "{nope")
    assert bad.code == 2
    assert bad.err.splitlines()[0] == (
        "Error: '{nope' is not valid JSON and not a file path"
    )


@pytest.mark.slow
def test_missing_input_and_unknown_target_exit_2(root: Path) -> None:
    """CLI3: validation and lookup errors exit 2 without a traceback."""
    missing = cli(root, "run", "graphs:graph")
    assert missing.code == 2
    assert missing.err.startswith("Error: MissingInputError:")
    assert "Traceback" not in missing.err
    unknown = cli(root, "run", "nosuchmodule:graph")
    assert unknown.code == 2
    assert unknown.err.startswith("Error: Could not import module 'nosuchmodule':")


@pytest.mark.slow
def test_either_runner_runs_any_graph(root: Path) -> None:
    """CLI31: --runner sync runs async nodes; --runner async runs sync ones."""
    sync = cli(root, "run", "graphs:async_graph", "x=2", "--runner", "sync", "--json")
    assert (sync.code, sync.json()["values"]) == (0, {"y": 4})
    asyn = cli(root, "run", "graphs:graph", "x=2", "--runner", "async", "--json")
    assert (asyn.code, asyn.json()["values"]) == (0, {"y": 4, "z": 5})


def test_max_iterations_bounds_the_run(root: Path) -> None:
    """CLI30: a two-step chain with --max-iterations 1 fails (exit 1)."""
    done = cli(root, "run", "graphs:graph", "x=1", "--max-iterations", "1", "--json")
    assert done.code == 1
    assert done.json()["error_type"] == "hypergraph.exceptions.InfiniteLoopError"


@pytest.mark.slow
def test_paused_run_prints_response_key_exits_3_and_resumes(root: Path) -> None:
    """CLI33/CLI12: pause → exit 3 + response key; embedded db created once."""
    paused = cli(root, "run", "graphs:paused", "x=2", "--workflow-id", "p1")
    assert paused.code == 3
    assert "Status: paused" in paused.out
    assert "Response key: verdict" in paused.out
    assert "verdict=<answer> --workflow-id p1" in paused.out
    db = (root / ".hypergraph" / "runs.db").resolve()
    assert paused.err.splitlines() == [f"Warning: No database configured; created {db}"]
    resumed = cli(root, "run", "graphs:paused", "verdict=ok", "--workflow-id", "p1")
    assert resumed.code == 0, resumed.err
    assert '  verdict: "ok"' in resumed.out
    assert resumed.err == ""
    again = cli(root, "run", "graphs:paused", "--workflow-id", "p1", "--json")
    assert again.code == 2  # completed lineages are terminal (strict resume)
    assert again.err.startswith("Error: WorkflowAlreadyCompletedError:")
    assert again.out == ""


def test_configured_db_auto_generates_a_workflow_id(root: Path) -> None:
    """CLI32: with --db and no id, the run is persisted under a generated id."""
    done = cli(root, "run", "graphs:graph", "x=1", "--db", "runs.db", "--json")
    assert done.code == 0, done.err
    assert done.json()["workflow_id"].startswith("run-")
    assert (root / "runs.db").is_file()
    assert done.err == ""  # a configured database is never announced


def test_output_file_gets_the_envelope(root: Path) -> None:
    """CLI71: --output writes the envelope and says where, with its size."""
    done = cli(root, "run", "graphs:weird", "x=3", "--json", "--output", "out.json")
    assert done.code == 0, done.err
    assert done.out.startswith("Wrote run output to out.json (")
    assert done.out.rstrip().endswith("KB)")
    data = check_envelope((root / "out.json").read_text(), "run")["data"]
    assert data["values"] == {"tags": "{'odd'}"}  # a set is not JSON: str()
