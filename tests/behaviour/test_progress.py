"""RichProgressProcessor: plain lines, live bars and final lines (05 O50)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from hypergraph import END, Graph, RunStatus, interrupt, node, route
from hypergraph.events import (
    NodeEndEvent,
    RichProgressProcessor,
    RunEndEvent,
    RunStartEvent,
)

TIMESTAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ")


class Boom(Exception):
    """A node's own exception type."""


@node(output_name="y")
def add_one(x: int) -> int:
    return x + 1


@node(output_name="z")
def double(y: int) -> int:
    return 2 * y


@node(output_name="y")
def fails_on_two(x: int) -> int:
    if x == 2:
        raise Boom(f"item {x} failed")
    return x + 1


@interrupt(output_name="answer")
def ask(z: int) -> str | None:
    return None


@node(output_name="count")
def tick(count: int) -> int:
    return count + 1


@route(targets=["tick", END])
def again(count: int):
    return "tick" if count < 3 else END


CHAIN = Graph([add_one, double], name="chain")
LOOP = Graph([tick, again], entrypoint="tick", name="loop")
FLAKY = Graph([fails_on_two], name="flaky")
INNER = Graph([add_one, double], name="inner")
NESTED = Graph([INNER.as_node(name="gn")], name="outer")
MAPPED = Graph([INNER.as_node(name="fan").map_over("x")], name="fanout")
PAUSING = Graph([add_one, double, ask], name="review")
FLAKY_INSIDE = Graph([FLAKY.as_node(name="step")], name="wrapper")


def console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    """A rich console writing to a buffer, as a terminal or not."""
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=120), out


def plain(mode: str = "non-tty") -> tuple[RichProgressProcessor, io.StringIO]:
    """A processor writing plain lines to a non-terminal buffer."""
    target, out = console(terminal=False)
    return RichProgressProcessor(force_mode=mode, console=target), out


def live(*, transient: bool = True) -> tuple[RichProgressProcessor, io.StringIO]:
    """A processor drawing live bars into a terminal-like buffer."""
    target, out = console(terminal=True)
    processor = RichProgressProcessor(
        force_mode="tty", transient=transient, console=target
    )
    return processor, out


def messages(out: io.StringIO) -> list[str]:
    """The plain lines without their ``[HH:MM:SS] `` prefix (which every line has)."""
    lines = out.getvalue().splitlines()
    assert all(TIMESTAMP.match(line) for line in lines), lines
    return [TIMESTAMP.sub("", line) for line in lines]


# -- construction ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "tty", "non-tty"])
def test_the_three_force_modes_are_accepted(mode):
    """Each valid ``force_mode`` builds a processor that remembers it."""
    processor = RichProgressProcessor(force_mode=mode, transient=False)
    assert processor.force_mode == mode
    assert processor.transient is False


@pytest.mark.parametrize("mode", ["TTY", "notebook", "", "nontty"])
def test_an_unknown_force_mode_is_a_value_error_naming_the_valid_ones(mode):
    """Anything but auto/tty/non-tty raises ValueError listing the valid values."""
    with pytest.raises(ValueError, match="'auto', 'tty', 'non-tty'"):
        RichProgressProcessor(force_mode=mode)


def test_auto_mode_follows_the_console():
    """``auto`` draws bars on a terminal and writes plain lines elsewhere."""
    terminal, _ = console(terminal=True)
    pipe, _ = console(terminal=False)
    assert RichProgressProcessor(console=terminal).live is True
    assert RichProgressProcessor(console=pipe).live is False
    assert RichProgressProcessor(force_mode="tty", console=pipe).live is True
    assert RichProgressProcessor(force_mode="non-tty", console=terminal).live is False
    notebook = Console(file=io.StringIO(), force_jupyter=True)
    assert RichProgressProcessor(console=notebook).live is True


def test_progress_goes_to_stderr_by_default():
    """Without a console argument the processor writes to standard error."""
    assert RichProgressProcessor().console.stderr is True


# -- non-TTY: node lines outside maps --------------------------------------------------


async def test_plain_mode_logs_each_node_then_the_final_line(runner):
    """Outside maps every node logs started/completed, then the run's final line."""
    processor, out = plain()
    await runner.run(CHAIN, x=1, event_processors=[processor])
    assert messages(out) == [
        "▶ add_one started",
        "✓ add_one completed",
        "▶ double started",
        "✓ double completed",
        "✓ chain completed!",
    ]


async def test_auto_mode_on_a_pipe_writes_plain_lines(runner):
    """``auto`` on a non-terminal console behaves like ``non-tty``."""
    processor, out = plain("auto")
    await runner.run(CHAIN, x=1, event_processors=[processor])
    assert messages(out)[-1] == "✓ chain completed!"


async def test_plain_mode_marks_a_failed_node_and_the_failed_run(runner):
    """A failing node logs ``FAILED`` and the final line carries the error."""
    processor, out = plain()
    result = await runner.run(
        FLAKY, x=2, error_handling="continue", event_processors=[processor]
    )
    assert result.status is RunStatus.FAILED
    assert messages(out) == [
        "▶ fails_on_two started",
        "✗ fails_on_two FAILED",
        "✗ flaky failed: item 2 failed",
    ]


async def test_plain_mode_final_line_is_written_when_the_run_raises(runner):
    """With ``error_handling="raise"`` the failure line is written before the raise."""
    processor, out = plain()
    with pytest.raises(Boom):
        await runner.run(FLAKY, x=2, event_processors=[processor])
    assert messages(out)[-1] == "✗ flaky failed: item 2 failed"


async def test_plain_mode_reports_a_paused_run(runner):
    """A run that stops at an interrupt ends with the paused line."""
    processor, out = plain()
    result = await runner.run(PAUSING, x=1, event_processors=[processor])
    assert result.status is RunStatus.PAUSED
    assert messages(out)[-2:] == ["▶ ask started", "‖ review paused"]


async def test_plain_mode_logs_the_nodes_of_a_nested_graph(runner):
    """Nodes of a nested (unmapped) graph are outside maps, so they are logged."""
    processor, out = plain()
    await runner.run(NESTED, x=1, event_processors=[processor])
    assert messages(out) == [
        "▶ gn started",
        "▶ add_one started",
        "✓ add_one completed",
        "▶ double started",
        "✓ double completed",
        "✓ gn completed",
        "✓ outer completed!",
    ]


async def test_an_unnamed_graph_is_called_graph_in_the_final_line(runner):
    """The final line needs a name: an unnamed graph reads as ``graph``."""
    processor, out = plain()
    await runner.run(Graph([add_one]), x=1, event_processors=[processor])
    assert messages(out)[-1] == "✓ graph completed!"


# -- non-TTY: map milestones -----------------------------------------------------------


async def test_a_twenty_item_map_logs_each_milestone_once(runner):
    """Items log no node lines; 10/25/50/75/100 % are each logged exactly once."""
    processor, out = plain()
    await runner.map(
        CHAIN, x=list(range(20)), map_over="x", event_processors=[processor]
    )
    assert messages(out) == [
        "◈ chain: 10% (2/20)",
        "◈ chain: 25% (5/20)",
        "◈ chain: 50% (10/20)",
        "◈ chain: 75% (15/20)",
        "◈ chain: 100% (20/20)",
        "✓ chain completed!",
    ]


async def test_a_jump_past_several_milestones_logs_only_the_highest(runner):
    """With three items each item jumps past milestones; only the highest shows."""
    processor, out = plain()
    await runner.map(CHAIN, x=[1, 2, 3], map_over="x", event_processors=[processor])
    assert messages(out) == [
        "◈ chain: 25% (1/3)",
        "◈ chain: 50% (2/3)",
        "◈ chain: 100% (3/3)",
        "✓ chain completed!",
    ]


async def test_a_single_item_map_logs_only_one_hundred_percent(runner):
    """One item passes every milestone at once: a single 100 % line."""
    processor, out = plain()
    await runner.map(CHAIN, x=[1], map_over="x", event_processors=[processor])
    assert messages(out) == ["◈ chain: 100% (1/1)", "✓ chain completed!"]


async def test_failed_items_count_toward_progress_and_fail_the_map(runner):
    """Failed items advance the milestones and the map's final line says how many."""
    processor, out = plain()
    await runner.map(
        FLAKY,
        x=[1, 2, 3, 4],
        map_over="x",
        error_handling="continue",
        event_processors=[processor],
    )
    assert messages(out)[-2:] == [
        "◈ flaky: 100% (4/4)",
        "✗ flaky failed: 1 of 4 items failed",
    ]


async def test_a_mapped_graph_node_logs_milestones_not_inner_nodes(runner):
    """Inside a mapped GraphNode only the milestones appear; the node itself logs."""
    processor, out = plain()
    await runner.run(MAPPED, x=[1, 2, 3, 4], event_processors=[processor])
    assert messages(out) == [
        "▶ fan started",
        "◈ inner: 25% (1/4)",
        "◈ inner: 50% (2/4)",
        "◈ inner: 75% (3/4)",
        "◈ inner: 100% (4/4)",
        "✓ fan completed",
        "✓ fanout completed!",
    ]


async def test_a_reused_processor_starts_fresh_for_each_call(runner):
    """Milestones and nodes are tracked per call, so a second call logs them again."""
    processor, out = plain()
    for _ in range(2):
        await runner.map(CHAIN, x=[1], map_over="x", event_processors=[processor])
    assert messages(out) == ["◈ chain: 100% (1/1)", "✓ chain completed!"] * 2


def test_a_map_started_by_hand_events_reports_milestones():
    """Driven directly with events, the processor counts item ends per map span."""
    processor, out = plain()
    processor.on_event(
        RunStartEvent("m", "s0", graph_name="g", is_map=True, map_size=4)
    )
    for i in range(4):
        processor.on_event(RunStartEvent(f"i{i}", f"s{i + 1}", "s0", graph_name="g"))
    for i in (3, 0, 2, 1):
        processor.on_event(RunEndEvent(f"i{i}", f"s{i + 1}", "s0", graph_name="g"))
    processor.on_event(RunEndEvent("m", "s0", None, graph_name="g"))
    assert messages(out) == [
        "◈ g: 25% (1/4)",
        "◈ g: 50% (2/4)",
        "◈ g: 75% (3/4)",
        "◈ g: 100% (4/4)",
        "✓ g completed!",
    ]


async def test_maps_inside_map_items_stay_silent(runner):
    """Only the outermost map reports milestones; maps inside its items do not."""
    processor, out = plain()
    await runner.map(
        MAPPED, x=[[1, 2], [3, 4]], map_over="x", event_processors=[processor]
    )
    assert messages(out) == [
        "◈ fanout: 50% (1/2)",
        "◈ fanout: 100% (2/2)",
        "✓ fanout completed!",
    ]


async def test_plain_mode_logs_every_pass_of_a_loop(runner):
    """A node that runs several times logs each of its executions."""
    processor, out = plain()
    result = await runner.run(LOOP, count=0, event_processors=[processor])
    assert result["count"] == 3
    assert messages(out).count("✓ tick completed") == 3


def test_events_of_unknown_spans_are_ignored():
    """Ends whose start was never seen (another call's events) change nothing."""
    processor, out = plain()
    processor.on_event(RunEndEvent("r", "s9", None, graph_name="g"))
    processor.on_event(NodeEndEvent("r", "s8", "s9", node_name="n"))
    assert out.getvalue() == ""


def test_shutdown_without_a_run_is_a_no_op():
    """Shutting down an unused processor writes nothing and does not raise."""
    for processor, out in (plain(), live()):
        processor.shutdown()
        assert out.getvalue() == ""


# -- TTY: live bars --------------------------------------------------------------------


async def test_live_mode_prints_the_completed_line(runner):
    """A completed run in live mode ends with ``✓ <graph> completed!``."""
    processor, out = live()
    await runner.run(CHAIN, x=1, event_processors=[processor])
    assert "✓ chain completed!" in out.getvalue()
    assert not TIMESTAMP.search(out.getvalue())


async def test_live_mode_reports_failed_and_paused_runs(runner):
    """Failed and paused top-level runs get their own final lines."""
    processor, out = live()
    await runner.run(
        FLAKY, x=2, error_handling="continue", event_processors=[processor]
    )
    await runner.run(PAUSING, x=1, event_processors=[processor])
    assert "✗ flaky failed: item 2 failed" in out.getvalue()
    assert "‖ review paused" in out.getvalue()


async def test_live_mode_shows_node_nested_and_map_bars(runner):
    """Kept bars (``transient=False``) show 📦 nodes, 🌳 nested runs and 🗺️ maps."""
    processor, out = live(transient=False)
    await runner.run(NESTED, x=1, event_processors=[processor])
    await runner.run(MAPPED, x=[1, 2, 3], event_processors=[processor])
    text = out.getvalue()
    assert "📦 gn" in text
    assert "🌳 inner" in text
    assert "📦 fan" in text
    assert "🗺️  inner" in text
    assert "3/3" in text


async def test_live_mode_marks_a_failed_nested_graph(runner):
    """A failing nested run marks its 🌳 bar and the outer node's 📦 bar."""
    processor, out = live(transient=False)
    await runner.run(
        FLAKY_INSIDE, x=2, error_handling="continue", event_processors=[processor]
    )
    text = out.getvalue()
    assert "🌳 flaky" in text
    assert "FAILED" in text
    assert "✗ wrapper failed: item 2 failed" in text


async def test_live_mode_grows_a_node_bar_for_each_loop_pass(runner):
    """A node that runs three times keeps one bar counting to 3/3."""
    processor, out = live(transient=False)
    await runner.run(LOOP, count=0, event_processors=[processor])
    assert "3/3" in out.getvalue()
    assert "✓ loop completed!" in out.getvalue()


async def test_live_mode_is_silent_for_maps_inside_map_items(runner):
    """Only the outermost map gets a bar; maps inside its items get none."""
    processor, out = live(transient=False)
    await runner.map(
        MAPPED, x=[[1, 2], [3, 4]], map_over="x", event_processors=[processor]
    )
    text = out.getvalue()
    assert "🗺️  fanout" in text
    assert "🗺️  inner" not in text


def test_shutdown_stops_a_display_left_open():
    """A call that never delivered its final RunEnd has its bars stopped by shutdown."""
    processor, out = live()
    processor.on_event(RunStartEvent("r", "s1", graph_name="g"))
    processor.shutdown()
    processor.on_event(RunStartEvent("r2", "s2", graph_name="g"))
    processor.on_event(RunEndEvent("r2", "s2", graph_name="g"))
    assert "✓ g completed!" in out.getvalue()


async def test_live_map_bar_counts_failed_items(runner):
    """The map bar advances on every item end and notes how many failed."""
    processor, out = live(transient=False)
    await runner.map(
        FLAKY,
        x=[1, 2, 3],
        map_over="x",
        error_handling="continue",
        event_processors=[processor],
    )
    text = out.getvalue()
    assert "🗺️  flaky (1 failed)" in text
    assert "3/3" in text
    assert "✗ flaky failed: 1 of 3 items failed" in text


async def test_live_mode_survives_a_raising_run_and_reuse(runner):
    """A run that raises still ends the display; the processor works again after."""
    processor, out = live()
    with pytest.raises(Boom):
        await runner.run(FLAKY, x=2, event_processors=[processor])
    await runner.run(CHAIN, x=1, event_processors=[processor])
    assert "✗ flaky failed: item 2 failed" in out.getvalue()
    assert "✓ chain completed!" in out.getvalue()
