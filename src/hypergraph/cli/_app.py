"""The ``hypergraph`` click group and ``main()``: streams, exit codes, no tracebacks."""

from __future__ import annotations

import contextlib
import sys
import traceback
import warnings
from typing import TYPE_CHECKING

import click
import structlog

from hypergraph.cli import _runs_more, _runs_show  # noqa: F401 - registers commands
from hypergraph.cli._graph import graph_group
from hypergraph.cli._output import CliError, describe_error, error, warn
from hypergraph.cli._run import map_command, run_command
from hypergraph.cli._runs import runs_group

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ("app", "main")

_INTERRUPTED = 130


@click.group(
    "hypergraph",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def app() -> None:
    """hypergraph: run graphs and batches, and inspect persisted runs.

    \b
    Exit codes: 0 success, 1 workflow failure, 2 usage or lookup error,
    3 run paused at an interrupt.
    """


app.add_command(run_command)
app.add_command(map_command)
app.add_command(graph_group)
app.add_command(runs_group)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    warn(" ".join(str(message).split()))


@contextlib.contextmanager
def _cli_environment(verbose: bool) -> Iterator[None]:
    """Library logs and warnings go to stderr while the CLI runs, then restore."""
    configured = structlog.is_configured()
    if not configured:
        structlog.configure(
            logger_factory=structlog.PrintLoggerFactory(sys.stderr),
            wrapper_class=structlog.make_filtering_bound_logger(
                "info" if verbose else "warning"
            ),
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = _show_warning
            yield
    finally:
        if not configured:
            structlog.reset_defaults()


def _report(
    exc: BaseException, message: str, hints: Sequence[str], verbose: bool
) -> None:
    if verbose:
        cause = exc.__cause__ or exc
        traceback.print_exception(cause, file=sys.stderr)
    error(message)
    for hint in hints:
        click.echo(f"  {hint}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hypergraph`` command line and return its exit code.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 success, 1 workflow failure, 2 usage or lookup error, 3 paused.

    Example:
        >>> main(["--help"])  # doctest: +ELLIPSIS
        Usage: hypergraph [OPTIONS] COMMAND [ARGS]...
        ...
        0
    """
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in args or "-v" in args
    if not args:
        args = ["--help"]
    with _cli_environment(verbose):
        try:
            result = app.main(args=args, prog_name="hypergraph", standalone_mode=False)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else "")
            return 0
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            command = (
                ctx.command_path if isinstance(ctx, click.Context) else "hypergraph"
            )
            _report(exc, exc.format_message(), [f"Try '{command} --help'."], verbose)
            return exc.exit_code
        except CliError as exc:
            _report(exc, exc.message, exc.hints, verbose)
            return exc.exit_code
        except (KeyboardInterrupt, click.Abort) as exc:
            _report(exc, "Interrupted.", [], verbose)
            return _INTERRUPTED
        except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
            _report(
                exc,
                describe_error(exc),
                ["Run with --verbose for the traceback."],
                verbose,
            )
            return 1
    return result if isinstance(result, int) else 0
