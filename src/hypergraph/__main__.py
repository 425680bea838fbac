"""``python -m hypergraph`` runs the command line (spec 00 D-6)."""

from __future__ import annotations

from hypergraph.cli import main

__all__ = ("main",)

if __name__ == "__main__":
    raise SystemExit(main())
