"""``python -m hypergraph`` and the ``hypergraph`` command (CLI placeholder)."""

from __future__ import annotations

import sys

__all__ = ("main",)

_USAGE = """\
usage: hypergraph <command> [options]

hypergraph's command line (run, map, runs ls, runs show) is not built yet.
Use the Python API meanwhile: see docs/getting-started.md.
"""


def main(argv: list[str] | None = None) -> int:
    """Print usage; exit 0 for no arguments or --help, 2 otherwise."""
    args = sys.argv[1:] if argv is None else argv
    sys.stdout.write(_USAGE)
    return 0 if not args or args[0] in ("-h", "--help") else 2


if __name__ == "__main__":
    raise SystemExit(main())
