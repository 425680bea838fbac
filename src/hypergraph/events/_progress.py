"""RichProgressProcessor: live progress bars or plain progress lines (spec 05 O50)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

from rich import progress as rp
from rich.console import Console
from rich.markup import escape

from hypergraph._events import TypedEventProcessor
from hypergraph.results import RunStatus

if TYPE_CHECKING:
    from hypergraph._events import (
        InterruptEvent,
        NodeEndEvent,
        NodeErrorEvent,
        NodeStartEvent,
        RunEndEvent,
        RunStartEvent,
    )

__all__ = ("ForceMode", "RichProgressProcessor")

ForceMode = Literal["auto", "tty", "non-tty"]
_MODES: Final = ("auto", "tty", "non-tty")
_MILESTONES: Final = (10, 25, 50, 75, 100)


@dataclass(slots=True)
class _Run:
    """One run span: where it sits in the tree and, for a map, its item counts."""

    graph: str
    depth: int
    in_map: bool  # a map item, or anything beneath one: too many to show
    map_span: str | None = None  # the map-level span this run is an item of
    is_map: bool = False
    total: int = 0
    done: int = 0
    failed: int = 0
    milestone: int = 0
    task: rp.TaskID | None = None


@dataclass(slots=True)
class _Node:
    """One node span and the run span it belongs to."""

    run_span: str
    depth: int
    in_map: bool
    task: rp.TaskID | None = None


def _label(graph_name: str) -> str:
    return graph_name or "graph"


def _task(progress: rp.Progress, task: rp.TaskID) -> rp.Task:
    return next(t for t in progress.tasks if t.id == task)


class RichProgressProcessor(TypedEventProcessor):
    """Show the progress of runs and maps with ``rich``.

    In a terminal (or a Jupyter notebook) it draws live, nested bars: ``📦``
    for top-level nodes, ``🌳`` for nested graph runs and ``🗺️`` for maps, then
    prints one final line. Elsewhere (CI logs, files) it writes plain lines
    ``[HH:MM:SS] <message>``; inside maps it only reports the 10/25/50/75/100 %
    milestones so a large batch stays readable.

    Args:
        transient: Remove the bars when the top-level run ends.
        force_mode: ``"auto"`` (detect from the console), ``"tty"`` (live bars)
            or ``"non-tty"`` (plain lines).
        console: Where to write (default: a ``rich`` console on stderr).

    Raises:
        ValueError: ``force_mode`` is not one of the three values.

    Example:
        >>> import io
        >>> from hypergraph import Graph, SyncRunner, node
        >>> def inc(x: int) -> int: return x + 1
        >>> graph = Graph([node(inc, output_name="y")], name="g")
        >>> out = io.StringIO()
        >>> console = Console(file=out)
        >>> progress = RichProgressProcessor(force_mode="non-tty", console=console)
        >>> _ = SyncRunner().run(graph, x=1, event_processors=[progress])
        >>> out.getvalue().splitlines()[-1][11:]
        '✓ g completed!'
    """

    def __init__(
        self,
        *,
        transient: bool = True,
        force_mode: ForceMode = "auto",
        console: Console | None = None,
    ) -> None:
        if force_mode not in _MODES:
            valid = ", ".join(map(repr, _MODES))
            raise ValueError(f"force_mode must be one of {valid}; got {force_mode!r}")
        self.transient = transient
        self.force_mode: ForceMode = force_mode
        self.console = console if console is not None else Console(stderr=True)
        if force_mode == "auto":
            # rich renders live displays in notebooks too (through ipywidgets).
            self.live = self.console.is_terminal or self.console.is_jupyter
        else:
            self.live = force_mode == "tty"
        self._reset()

    def _reset(self) -> None:
        self._runs: dict[str, _Run] = {}
        self._nodes: dict[str, _Node] = {}
        self._node_bars: dict[tuple[str, str], rp.TaskID] = {}
        self._root: str | None = None
        self._progress: rp.Progress | None = None

    # -- output ---------------------------------------------------------------------
    def _line(self, message: str, timestamp: float) -> None:
        when = datetime.fromtimestamp(timestamp) if timestamp > 0 else datetime.now()
        # Names are user text: never let rich read them as markup or emoji codes.
        self.console.print(
            f"[{when:%H:%M:%S}] {message}",
            markup=False,
            emoji=False,
            highlight=False,
            soft_wrap=True,
        )

    def _bar(self, depth: int, text: str, total: int | None) -> rp.TaskID | None:
        if self._progress is None:
            return None
        return self._progress.add_task("  " * depth + text, total=total)

    def _describe(self, task: rp.TaskID | None, suffix: str) -> None:
        if self._progress is None or task is None:
            return
        description = _task(self._progress, task).description
        self._progress.update(task, description=description + suffix)

    # -- runs -----------------------------------------------------------------------
    def on_run_start(self, event: RunStartEvent) -> None:
        """Place the run in the tree; open a bar for a map or a nested graph."""
        parent = event.parent_span_id or ""
        parent_run, parent_node = self._runs.get(parent), self._nodes.get(parent)
        if parent_run is not None and parent_run.is_map:
            run = _Run(event.graph_name, parent_run.depth, True, map_span=parent)
        elif parent_node is not None:
            run = _Run(event.graph_name, parent_node.depth + 1, parent_node.in_map)
        else:
            run = _Run(event.graph_name, 0, False)
            if self._root is None:
                self._root = event.span_id
                self._start()
        run.is_map, run.total = event.is_map, event.map_size or 0
        self._runs[event.span_id] = run
        if run.in_map:
            return
        name = escape(_label(event.graph_name))
        if event.is_map:
            run.task = self._bar(run.depth, f"🗺️  {name}", run.total)
        elif parent_node is not None:
            run.task = self._bar(run.depth, f"🌳 {name}", None)

    def _start(self) -> None:
        if not self.live:
            return
        self._progress = rp.Progress(
            rp.SpinnerColumn(),
            rp.TextColumn("{task.description}"),
            rp.BarColumn(),
            rp.MofNCompleteColumn(),
            rp.TimeElapsedColumn(),
            console=self.console,
            transient=self.transient,
        )
        self._progress.start()

    def on_run_end(self, event: RunEndEvent) -> None:
        """Count a map item, close a nested graph's bar, or finish the display."""
        run = self._runs.pop(event.span_id, None)
        if run is None:
            return
        failed = event.status == RunStatus.FAILED
        if run.map_span is not None:
            self._item_done(self._runs.get(run.map_span), failed, event.timestamp)
        elif run.task is not None and not run.is_map and self._progress is not None:
            done = int(_task(self._progress, run.task).completed)
            self._progress.update(run.task, total=max(done, 1), completed=max(done, 1))
            if failed:
                self._describe(run.task, " [bold red]FAILED[/]")
        if event.span_id == self._root:
            self._finish(event)

    def _item_done(self, batch: _Run | None, failed: bool, timestamp: float) -> None:
        if batch is None:
            return
        batch.done += 1
        batch.failed += int(failed)
        if batch.in_map:
            return
        if self._progress is not None:
            if batch.task is not None:
                name = escape(_label(batch.graph))
                suffix = f" ({batch.failed} failed)" if batch.failed else ""
                text = "  " * batch.depth + f"🗺️  {name}{suffix}"
                self._progress.update(batch.task, advance=1, description=text)
        elif batch.total > 0:
            percent = batch.done * 100 // batch.total
            passed = [m for m in _MILESTONES if batch.milestone < m <= percent]
            if passed:
                # A jump past several milestones reports only the highest one.
                batch.milestone = passed[-1]
                message = f"◈ {_label(batch.graph)}: {passed[-1]}% "
                self._line(f"{message}({batch.done}/{batch.total})", timestamp)

    def _finish(self, event: RunEndEvent) -> None:
        name = _label(event.graph_name)
        if event.status == RunStatus.COMPLETED:
            text, style = f"✓ {name} completed!", "bold green"
        elif event.status == RunStatus.PAUSED:
            text, style = f"‖ {name} paused", "bold yellow"
        else:
            reason = f": {event.error}" if event.error else ""
            text, style = f"✗ {name} failed{reason}", "bold red"
        if self._progress is not None:
            self._progress.stop()
            self.console.print(
                text, style=style, markup=False, emoji=False, highlight=False
            )
        else:
            self._line(text, event.timestamp)
        self._reset()

    # -- nodes ----------------------------------------------------------------------
    def on_node_start(self, event: NodeStartEvent) -> None:
        """Log the start, or open (or extend) the node's bar."""
        run_span = event.parent_span_id or ""
        run = self._runs.get(run_span)
        depth, in_map = (run.depth, run.in_map) if run is not None else (0, False)
        node = _Node(run_span, depth, in_map)
        self._nodes[event.span_id] = node
        if in_map:
            return
        if self._progress is None:
            self._line(f"▶ {event.node_name} started", event.timestamp)
        elif depth == 0:
            key = (run_span, event.node_name)
            task = self._node_bars.get(key)
            if task is None:
                task = self._bar(0, f"📦 {escape(event.node_name)}", 1)
                if task is not None:
                    self._node_bars[key] = task
            else:
                # A node that runs again (a cycle) grows its bar instead of a new one.
                total = _task(self._progress, task).total or 0
                self._progress.update(task, total=total + 1)
            node.task = task

    def on_node_end(self, event: NodeEndEvent) -> None:
        """Log the completion, or advance the node's (or nested graph's) bar."""
        node = self._nodes.pop(event.span_id, None)
        if node is None or node.in_map:
            return
        if self._progress is None:
            self._line(f"✓ {event.node_name} completed", event.timestamp)
            return
        run = self._runs.get(node.run_span)
        task = node.task if node.depth == 0 else (run.task if run else None)
        if task is not None:
            self._progress.advance(task)

    def on_node_error(self, event: NodeErrorEvent) -> None:
        """Log the failure, or mark the node's bar as failed."""
        node = self._nodes.pop(event.span_id, None)
        if node is None or node.in_map:
            return
        if self._progress is None:
            self._line(f"✗ {event.node_name} FAILED", event.timestamp)
        elif node.depth == 0:
            self._describe(node.task, " [bold red]FAILED[/]")

    def on_interrupt(self, event: InterruptEvent) -> None:
        """Forget the paused node: it ends without a NodeEndEvent."""
        self._nodes.pop(event.span_id, None)

    def shutdown(self) -> None:
        """Remove any display left open (a call that ended without its RunEnd)."""
        if self._progress is not None:
            self._progress.stop()
        self._reset()
