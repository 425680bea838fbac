"""Configuration and database resolution (CLI10-CLI12), graph ls/inspect (CLI50-51)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clitools import check_envelope, cli, project

from hypergraph.cli import CliError, resolve_db_path
from hypergraph.cli._config import load_config

PYPROJECT = """
[project]
name = "demo"

[tool.hypergraph]
db = "data/runs.db"

[tool.hypergraph.graphs]
demo = "graphs:graph"
"""


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No HYPERGRAPH_DB from the outer environment."""
    monkeypatch.delenv("HYPERGRAPH_DB", raising=False)
    return monkeypatch


def test_nearest_pyproject_and_relative_db(tmp_path: Path) -> None:
    """CLI10: parents are searched; a relative db is relative to that file."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    config = load_config(sub)
    assert config.pyproject == (tmp_path / "pyproject.toml").resolve()
    assert config.db == tmp_path.resolve() / "data" / "runs.db"
    assert config.graphs == {"demo": "graphs:graph"}


def test_no_section_is_an_empty_config(tmp_path: Path) -> None:
    """CLI10: a pyproject.toml without [tool.hypergraph] configures nothing."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    config = load_config(tmp_path)
    assert (config.has_section, config.db, config.graphs) == (False, None, {})


def test_invalid_settings_are_reported(tmp_path: Path) -> None:
    """A broken pyproject.toml or a non-string db is a clear error."""
    (tmp_path / "pyproject.toml").write_text("[tool.hypergraph\n")
    with pytest.raises(CliError, match="Cannot read"):
        load_config(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.hypergraph]\ndb = 5\n")
    with pytest.raises(CliError, match="must be a path string, got int"):
        load_config(tmp_path)


def test_resolution_order(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    """CLI11: --db, env, [tool.hypergraph] db, embedded default, convention."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    root = tmp_path.resolve()
    assert resolve_db_path("x.db", cwd=root) == root / "x.db"
    clean_env.setenv("HYPERGRAPH_DB", "/elsewhere/env.db")
    assert resolve_db_path("x.db", cwd=root) == root / "x.db"
    assert resolve_db_path(cwd=root) == Path("/elsewhere/env.db")
    clean_env.delenv("HYPERGRAPH_DB")
    assert resolve_db_path(cwd=root) == root / "data" / "runs.db"
    (tmp_path / "pyproject.toml").write_text("[tool.hypergraph]\n")
    assert resolve_db_path(cwd=root) == root / ".hypergraph" / "runs.db"  # convention
    sub = root / "sub"
    (sub / ".hypergraph").mkdir(parents=True)
    (sub / ".hypergraph" / "runs.db").touch()
    assert resolve_db_path(cwd=sub) == sub / ".hypergraph" / "runs.db"  # embedded


def test_nothing_configured_raises(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    """CLI11: no rule matches → CliError with the documented message, exit 2."""
    with pytest.raises(CliError) as caught:
        resolve_db_path(cwd=tmp_path)
    assert caught.value.exit_code == 2
    assert caught.value.message == (
        "No database found. Set --db, HYPERGRAPH_DB env var, or add "
        "[tool.hypergraph] to pyproject.toml."
    )


@pytest.mark.slow
def test_read_commands_never_create_a_database(tmp_path: Path) -> None:
    """CLI11: missing databases exit 2 and nothing is created."""
    none = cli(tmp_path, "runs")
    assert none.code == 2
    assert none.err.splitlines()[0] == (
        "Error: No database found. Set --db, HYPERGRAPH_DB env var, or add "
        "[tool.hypergraph] to pyproject.toml."
    )
    missing = cli(tmp_path, "runs", "ls", HYPERGRAPH_DB="gone.db")
    assert missing.code == 2
    expected = tmp_path.resolve() / "gone.db"
    assert missing.err.splitlines()[0] == f"Error: Database not found: {expected}"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.slow
def test_registered_graph_from_a_subdirectory(tmp_path: Path) -> None:
    """CLI10/CLI12/CLI20: registry names and the configured db work below root."""
    root = project(tmp_path)
    (root / "pyproject.toml").write_text(PYPROJECT)
    sub = root / "sub"
    sub.mkdir()
    done = cli(sub, "run", "demo", "x=3", "--workflow-id", "w1", "--json")
    assert done.code == 0, done.err
    assert done.err == ""  # configured database: no announcement
    assert (root / "data" / "runs.db").is_file()
    assert not (sub / ".hypergraph").exists()
    listed = cli(sub, "runs", "ls", "--json")
    assert [run["id"] for run in listed.json()] == ["w1"]
    unknown = cli(sub, "run", "nope")
    assert unknown.code == 2
    assert unknown.err.splitlines()[0] == (
        "Error: 'nope' not found in [tool.hypergraph.graphs]"
    )
    assert '    nope = "my_module:graph"' in unknown.err.splitlines()


@pytest.mark.slow
def test_graph_ls(tmp_path: Path) -> None:
    """CLI50: registry table, JSON, and the empty-registry message."""
    root = project(tmp_path)
    empty = cli(root, "graph", "ls")
    assert (empty.code, empty.out.splitlines()[0]) == (
        0,
        "No graphs registered in pyproject.toml.",
    )
    assert "[tool.hypergraph.graphs]" in empty.out
    (root / "pyproject.toml").write_text(PYPROJECT)
    listed = cli(root, "graph", "ls")
    assert listed.out.splitlines()[0] == "Registered graphs (1):"
    assert "demo" in listed.out
    assert "graphs:graph" in listed.out
    data = check_envelope(cli(root, "graph", "ls", "--json").out, "graph.ls")["data"]
    assert data == {"graphs": {"demo": "graphs:graph"}}


@pytest.mark.slow
def test_graph_inspect(tmp_path: Path) -> None:
    """CLI51: header, node table, inputs; JSON shape."""
    root = project(tmp_path)
    done = cli(root, "graph", "inspect", "graphs:graph")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0] == "Graph: demo | 2 nodes | 1 edge"
    assert "Required inputs: x" in lines
    assert "Optional inputs: k (default: 1)" in lines
    as_json = cli(root, "graph", "inspect", "graphs:graph", "--json")
    data = check_envelope(as_json.out, "graph.inspect")["data"]
    assert data["name"] == "demo"
    assert data["nodes"] == [
        {"name": "double", "type": "FunctionNode", "inputs": ["x"], "outputs": ["y"]},
        {"name": "inc", "type": "FunctionNode", "inputs": ["y", "k"], "outputs": ["z"]},
    ]
    assert (data["node_count"], data["edge_count"]) == (2, 1)
    assert data["required_inputs"] == ["x"]
    assert data["optional_inputs"] == {"k": 1}
    assert data["entrypoints"] == []
