"""The simplest end-to-end run through both runners."""

from __future__ import annotations

from hypergraph import Graph, RunStatus, node


@node(output_name="doubled")
def double(x: int) -> int:
    return 2 * x


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


async def test_chain_runs_through_both_runners(runner):
    """A two-node chain wired by name returns both values."""
    result = await runner.run(Graph([double, add_one]), x=3)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"doubled": 6, "result": 7}
