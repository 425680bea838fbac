"""The ``hypergraph`` command line (spec 05 Part B).

``main(argv)`` runs the CLI and returns its exit code; ``app`` is the click group
(for embedding or testing with ``click.testing.CliRunner``). ``resolve_db_path``
applies the database lookup of the ``runs`` commands and raises :class:`CliError`
when no database is configured.
"""

from __future__ import annotations

from hypergraph.cli._app import app, main
from hypergraph.cli._config import resolve_db_path
from hypergraph.cli._output import CliError

__all__ = ("CliError", "app", "main", "resolve_db_path")
