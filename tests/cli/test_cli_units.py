"""In-process checks of the CLI's pure parts: parsing, targets, JSON, help text."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import sys
import uuid
from pathlib import Path

import pytest

from hypergraph import Graph, node
from hypergraph.cli import CliError, main
from hypergraph.cli._config import Config
from hypergraph.cli._execute import choose_runner
from hypergraph.cli._inputs import (
    build_values,
    load_target,
    parse_literal,
    parse_pairs,
    parse_values_source,
)
from hypergraph.cli._output import envelope, format_size, to_jsonable, truncate
from hypergraph.cli._runs import parse_since


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5),
        ("3.14", 3.14),
        ("[1,2]", [1, 2]),
        ("{'a': 1}", {"a": 1}),
        ("True", True),
        ("None", None),
        ("hello", "hello"),
        ("", ""),
        ("1 +", "1 +"),
    ],
)
def test_parse_literal(text: str, expected: object) -> None:
    """CLI21: Python literals, falling back to the raw string."""
    assert parse_literal(text) == expected


def test_pairs_and_layering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI21: key=value (first '=' splits), --values file/JSON, pairs win."""
    assert parse_pairs(["a=1", "b=x=y", "inner.verdict=ok"]) == {
        "a": 1,
        "b": "x=y",
        "inner.verdict": "ok",
    }
    for bad in ("x", "=5"):
        with pytest.raises(CliError, match=f"^Expected key=value, got '{bad}'$"):
            parse_pairs([bad])
    monkeypatch.chdir(tmp_path)
    Path("v.json").write_text('{"a": 1, "b": [1, 2]}')
    assert parse_values_source("v.json") == {"a": 1, "b": [1, 2]}
    assert build_values('{"a": 1, "b": 2}', ["b=3"]) == {"a": 1, "b": 3}
    with pytest.raises(
        CliError, match=r"^'\{x' is not valid JSON and not a file path$"
    ):
        parse_values_source("{x")
    with pytest.raises(
        CliError, match=r"^--values must be a JSON object \(got list\)$"
    ):
        parse_values_source("[1, 2]")
    Path("bad.json").write_text("{oops")
    with pytest.raises(CliError, match=r"--values file 'bad\.json' is not valid JSON"):
        parse_values_source("bad.json")


def test_target_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """CLI20: the four lookup errors, each exit 2 with its message."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    name = f"cli_target_{uuid.uuid4().hex}"
    Path(f"{name}.py").write_text(
        "from hypergraph import Graph, node\n"
        "@node(output_name='y')\n"
        "def f(x: int) -> int:\n"
        "    return x\n"
        "graph = Graph([f], name='g')\n"
        "number = 5\n"
    )
    request.addfinalizer(lambda: sys.modules.pop(name, None))
    assert isinstance(load_target(f"{name}:graph", Config()), Graph)
    cases = {
        "missing_mod_xyz:graph": "Could not import module 'missing_mod_xyz': No module",
        f"{name}:nope": f"Module '{name}' has no attribute 'nope'",
        f"{name}:number": f"'{name}:number' is not a Graph instance (got int)",
        "pipeline": "'pipeline' not found in [tool.hypergraph.graphs]",
    }
    for target, message in cases.items():
        with pytest.raises(CliError) as caught:
            load_target(target, Config())
        assert caught.value.message.startswith(message)
        assert caught.value.exit_code == 2
    registry = Config(graphs={"pipeline": f"{name}:graph"})
    assert load_target("pipeline", registry).name == "g"


def test_runner_choice() -> None:
    """CLI31: --runner wins; otherwise async only for async/interrupt graphs."""

    @node(output_name="y")
    def sync_node(x: int) -> int:
        return x

    @node(output_name="y")
    async def async_node(x: int) -> int:
        return x

    assert choose_runner(Graph([sync_node]), None) == "sync"
    assert choose_runner(Graph([async_node]), None) == "async"
    assert choose_runner(Graph([async_node]), "sync") == "sync"


def test_json_rendering() -> None:
    """CLI70: envelope fields; non-JSON values rendered with str()."""
    data = {"when": dt.datetime(2026, 1, 2, tzinfo=dt.UTC), "s": {3}, 1: (1, 2.5)}
    assert to_jsonable(data) == {
        "when": "2026-01-02T00:00:00+00:00",
        "s": "{3}",
        "1": [1, 2.5],
    }
    assert to_jsonable(float("nan")) == "nan"
    wrapped = envelope("runs.ls", [])
    assert wrapped["schema_version"] == 2
    assert wrapped["command"] == "runs.ls"
    moment = dt.datetime.fromisoformat(str(wrapped["generated_at"]))
    assert moment.utcoffset() == dt.timedelta(0)
    json.dumps(wrapped)


def test_small_formatters() -> None:
    """CLI63 sizes, --since parsing and truncation."""
    assert [format_size(v) for v in ([1, 2], {"a": 1}, "hi", 12, None)] == [
        "2 items",
        "1 keys",
        "2B",
        "2B",
        "—",
    ]
    assert format_size("x" * 1331) == "1.3KB"
    now = dt.datetime(2026, 1, 8, tzinfo=dt.UTC)
    assert parse_since("2w", now=now) == now - dt.timedelta(weeks=2)
    assert parse_since("30s", now=now) == now - dt.timedelta(seconds=30)
    with pytest.raises(CliError, match="Invalid --since '1y'"):
        parse_since("1y")
    assert truncate("abcdef", 4) == "abc…"


COMMAND_FLAGS = {
    ("run",): [
        "--values",
        "--select",
        "--entrypoint",
        "--max-iterations",
        "--error-handling",
        "--runner",
        "--db",
        "--workflow-id",
        "--json",
        "--output",
        "--verbose",
    ],
    ("map",): [
        "--map-over",
        "--values",
        "--map-mode",
        "--select",
        "--error-handling",
        "--max-concurrency",
        "--runner",
        "--db",
        "--workflow-id",
        "--json",
        "--output",
        "--verbose",
    ],
    ("graph", "ls"): ["--json", "--output"],
    ("graph", "inspect"): ["--json", "--output"],
    ("runs",): ["--db", "--json", "--output"],
    ("runs", "ls"): [
        "--status",
        "--graph",
        "--since",
        "--parent",
        "--all",
        "--view",
        "--sort",
        "--traces",
        "--limit",
    ],
    ("runs", "show"): ["--step", "--values", "--errors", "--node"],
    ("runs", "values"): ["--superstep", "--key", "--full"],
    ("runs", "steps"): ["--node", "--values", "--full", "--all", "--limit"],
    ("runs", "search"): ["--field", "--limit"],
    ("runs", "stats"): ["--db", "--json", "--output"],
    ("runs", "checkpoint"): ["--superstep", "--deep"],
    ("runs", "lineage"): ["--deep", "--max-runs"],
}


def test_help_documents_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    """CLI1: --help of each command lists its flags; exit 0."""
    for command, flags in COMMAND_FLAGS.items():
        assert main([*command, "--help"]) == 0
        text = capsys.readouterr().out
        for flag in flags:
            assert flag in text, (command, flag)


def test_usage_errors_exit_2_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """CLI2/CLI3: unknown commands and options are one Error line, exit 2."""
    assert main(["frobnicate"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("Error: No such command 'frobnicate'")
    assert main(["runs", "ls", "--bogus"]) == 2
    assert capsys.readouterr().err.startswith("Error: No such option '--bogus'")
    assert main(["graph"]) == 0  # a group without subcommand shows its help
    assert "inspect" in capsys.readouterr().out


def test_console_script_points_at_main() -> None:
    """D-6: the ``hypergraph`` command is hypergraph.cli:main."""
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert [ep.value for ep in scripts if ep.name == "hypergraph"] == [
        "hypergraph.cli:main"
    ]
