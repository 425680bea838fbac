"""CLI test helpers: a graph module to import, a subprocess runner, JSON checks."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

GRAPHS = """
from pathlib import Path

from hypergraph import Graph, interrupt, node

SIDE = Path(__file__).with_name("side.txt")


@node(output_name="y")
def double(x: int) -> int:
    if x < 0:
        raise ValueError("negative x")
    with SIDE.open("a") as handle:
        handle.write(f"{x}\\n")
    return 2 * x


@node(output_name="z")
def inc(y: int, k: int = 1) -> int:
    return y + k


graph = Graph([double, inc], name="demo")
outer = Graph([graph.as_node(name="inner")], name="outer")


@node(output_name="y")
async def adouble(x: int) -> int:
    return 2 * x


async_graph = Graph([adouble], name="async_demo")


@interrupt(output_name="verdict")
def review(y: int) -> str | None:
    return None


paused = Graph([double, review], name="review")


@node(output_name="tags")
def tags(x: int) -> object:
    return {"odd" if x % 2 else "even"}


weird = Graph([tags], name="weird")
not_a_graph = 5
"""


@dataclass(frozen=True)
class Result:
    """What one CLI invocation printed and returned."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as the JSON envelope; returns its ``data``."""
        return check_envelope(self.out)["data"]


def project(root: Path) -> Path:
    """Write the graph module into ``root`` and return ``root``."""
    (root / "graphs.py").write_text(GRAPHS, encoding="utf-8")
    return root


def cli(cwd: Path, *args: str, **env: str) -> Result:
    """Run ``python -m hypergraph ARGS`` in ``cwd`` (no HYPERGRAPH_DB unless given)."""
    environ = {k: v for k, v in os.environ.items() if k != "HYPERGRAPH_DB"}
    environ.update(env)
    environ["PYTHONIOENCODING"] = "utf-8"
    done = subprocess.run(
        [sys.executable, "-m", "hypergraph", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def check_envelope(text: str, command: str | None = None) -> dict[str, Any]:
    """Parse a JSON envelope and check its fixed keys (CLI70)."""
    envelope: dict[str, Any] = json.loads(text)
    assert set(envelope) == {"schema_version", "command", "generated_at", "data"}
    assert envelope["schema_version"] == 2
    if command is not None:
        assert envelope["command"] == command
    moment = dt.datetime.fromisoformat(envelope["generated_at"])
    assert moment.utcoffset() == dt.timedelta(0)
    return envelope


def side_effects(root: Path) -> list[str]:
    """Inputs ``double`` executed with, in order (empty if it never ran)."""
    path = root / "side.txt"
    return path.read_text(encoding="utf-8").split() if path.exists() else []
