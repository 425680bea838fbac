"""Output plumbing: the JSON envelope, --output files, rich tables, stderr lines."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import final

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = (
    "SCHEMA_VERSION",
    "CliError",
    "describe_error",
    "echo",
    "emit_json",
    "envelope",
    "error",
    "format_size",
    "hints",
    "json_text",
    "one_line",
    "plural",
    "print_table",
    "to_jsonable",
    "truncate",
    "warn",
)

SCHEMA_VERSION = 2
_WIDE = 200


@final
class CliError(Exception):
    """A failure the CLI reports as one ``Error: ...`` line and an exit code.

    Args:
        message: What was wrong (printed after ``"Error: "``).
        exit_code: ``2`` for usage and lookup errors (the default), ``1`` for
            workflow failures.
        hints: Extra indented lines printed under the error (how to fix it).
    """

    def __init__(
        self, message: str, *, exit_code: int = 2, hints: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.hints = tuple(hints)


def plural(count: int, word: str) -> str:
    """``plural(1, "step") == "1 step"``; ``plural(2, "step") == "2 steps"``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def one_line(text: str) -> str:
    """Collapse a multi-line message into one line."""
    return re.sub(r"\s*\n\s*", " ", text.strip())


def describe_error(exc: BaseException) -> str:
    """``"<Type>: <message>"`` on one line (the CLI's error form)."""
    message = one_line(str(exc))
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending with ``…`` when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def to_jsonable(value: object) -> object:
    """A JSON-safe copy: containers recurse, other non-JSON values become str()."""
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def json_text(value: object, *, indent: int | None = None) -> str:
    """``value`` as JSON text (non-JSON parts rendered with ``str()``)."""
    return json.dumps(to_jsonable(value), indent=indent, ensure_ascii=False)


def envelope(command: str, data: object) -> dict[str, object]:
    """The ``--json`` wrapper of every command (CLI70)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data": to_jsonable(data),
    }


def emit_json(command: str, data: object, output: str | None) -> None:
    """Print the envelope to stdout, or write it to ``output`` (CLI71).

    Raises:
        CliError: the output file cannot be written.
    """
    text = json.dumps(envelope(command, data), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    path = Path(output)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(
            f"Cannot write --output file '{output}': {exc.strerror or exc}",
            hints=["Pass a path in an existing, writable directory."],
        ) from exc
    size = len(text.encode("utf-8")) / 1024
    click.echo(f"Wrote {command} output to {output} ({size:.1f}KB)")


def echo(line: str = "") -> None:
    """One line of human output on stdout."""
    click.echo(line)


def warn(message: str) -> None:
    """One ``Warning: ...`` line on stderr."""
    click.echo(f"Warning: {message}", err=True)


def error(message: str) -> None:
    """One ``Error: ...`` line on stderr."""
    click.echo(f"Error: {message}", err=True)


def hints(lines: Sequence[tuple[str, str]]) -> None:
    """The closing ``→ <command>  <what it shows>`` lines (CLI69)."""
    if not lines:
        return
    width = max(len(command) for command, _ in lines)
    echo()
    for command, what in lines:
        echo(f"  → {command.ljust(width)}  {what}".rstrip())


def _console() -> Console:
    console = Console(
        file=sys.stdout, markup=False, emoji=False, highlight=False, soft_wrap=False
    )
    if not console.is_terminal:
        # Piped output is read by tools and tests: never wrap a row.
        console.width = _WIDE
    return console


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table on stdout (cells are plain text, never markup)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    _console().print(table)


def format_size(value: object) -> str:
    """Size column of ``runs values``: items, keys, or bytes of the text."""
    if isinstance(value, list | tuple):
        return f"{len(value)} items"
    if isinstance(value, Mapping):
        return f"{len(value)} keys"
    if isinstance(value, str | int | float | bool):
        size = len(str(value).encode("utf-8"))
        if size < 1024:
            return f"{size}B"
        if size < 1024 * 1024:
            return f"{size / 1024:.1f}KB"
        return f"{size / (1024 * 1024):.1f}MB"
    return "—"
