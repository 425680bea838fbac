"""Click options shared by several commands (--db, --json, --output, --verbose)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ("db_option", "json_options", "split_names", "verbose_option")

F = TypeVar("F", bound=Callable[..., Any])


def db_option(func: F) -> F:
    """``--db PATH``."""
    return click.option(
        "--db",
        "db",
        metavar="PATH",
        default=None,
        help="SQLite database file (overrides HYPERGRAPH_DB and pyproject.toml).",
    )(func)


def json_options(func: F) -> F:
    """``--json`` and ``--output FILE``."""
    func = click.option(
        "--output",
        "output",
        metavar="FILE",
        default=None,
        help="Write the JSON envelope to FILE instead of stdout (implies --json).",
    )(func)
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print one JSON object {schema_version, command, generated_at, data}.",
    )(func)


def verbose_option(func: F) -> F:
    """``--verbose/-v``."""
    return click.option(
        "--verbose",
        "-v",
        "verbose",
        is_flag=True,
        help="Show full values, timings, and tracebacks of errors.",
    )(func)


def split_names(text: str | None, *, option: str) -> tuple[str, ...]:
    """``"a, b"`` → ``("a", "b")``.

    Raises:
        click.BadParameter: the list is empty.
    """
    if text is None:
        return ()
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise click.BadParameter(
            f"expected comma-separated names, got {text!r}", param_hint=option
        )
    return names
