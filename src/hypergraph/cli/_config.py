"""Configuration: the nearest pyproject.toml and which database a command uses."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hypergraph.checkpointers import DEFAULT_DB_PATH
from hypergraph.cli._output import CliError

__all__ = (
    "ENV_VAR",
    "Config",
    "configured_db",
    "embedded_default",
    "existing_db",
    "find_pyproject",
    "load_config",
    "resolve_db_path",
)

ENV_VAR = "HYPERGRAPH_DB"
_NO_DATABASE = (
    "No database found. Set --db, HYPERGRAPH_DB env var, or add [tool.hypergraph] "
    "to pyproject.toml."
)


@dataclass(frozen=True)
class Config:
    """What ``[tool.hypergraph]`` of the nearest pyproject.toml says."""

    pyproject: Path | None = None
    has_section: bool = False
    db: Path | None = None
    graphs: dict[str, str] = field(default_factory=dict)


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml``: in ``start``, then in its parents."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(cwd: Path | None = None) -> Config:
    """Read ``[tool.hypergraph]`` (no file or no section gives an empty config).

    Raises:
        CliError: the file is not valid TOML, or a setting has the wrong type.
    """
    path = find_pyproject((cwd or Path.cwd()).resolve())
    if path is None:
        return Config()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CliError(
            f"Cannot read {path}: {exc}",
            hints=["Fix the file's TOML syntax, or run from another directory."],
        ) from exc
    section = document.get("tool", {}).get("hypergraph")
    if not isinstance(section, dict):
        return Config(pyproject=path)
    db = section.get("db")
    if db is not None and not isinstance(db, str):
        raise CliError(
            f"[tool.hypergraph] db in {path} must be a path string, got "
            f"{type(db).__name__}.",
            hints=['Write it as: db = ".hypergraph/runs.db"'],
        )
    graphs = section.get("graphs", {})
    if not isinstance(graphs, dict) or not all(
        isinstance(value, str) for value in graphs.values()
    ):
        raise CliError(
            f"[tool.hypergraph.graphs] in {path} must map names to "
            "'module:attribute' strings.",
            hints=['Write entries as: pipeline = "my_module:graph"'],
        )
    return Config(
        pyproject=path,
        has_section=True,
        # A relative db is relative to the pyproject, not to wherever we run.
        db=None if db is None else _absolute(Path(db).expanduser(), path.parent),
        graphs=dict(graphs),
    )


def _absolute(path: Path, base: Path) -> Path:
    return path if path.is_absolute() else base / path


def embedded_default(cwd: Path | None = None) -> Path:
    """``.hypergraph/runs.db`` under ``cwd`` (00 D-7)."""
    return (cwd or Path.cwd()).resolve() / DEFAULT_DB_PATH


def configured_db(
    explicit: str | os.PathLike[str] | None, config: Config, cwd: Path
) -> Path | None:
    """The database ``run``/``map`` write to, if one is configured (CLI12).

    ``--db``, then ``HYPERGRAPH_DB``, then ``[tool.hypergraph] db``; ``None`` when
    none is set (the caller decides about the embedded default).
    """
    if explicit is not None and str(explicit) != "":
        return _absolute(Path(explicit).expanduser(), cwd)
    env = os.environ.get(ENV_VAR, "")
    if env:
        return _absolute(Path(env).expanduser(), cwd)
    return config.db


def resolve_db_path(
    explicit: str | os.PathLike[str] | None = None,
    *,
    cwd: Path | None = None,
    config: Config | None = None,
) -> Path:
    """The database the ``runs`` commands read (CLI11), as an absolute path.

    First match wins: ``explicit`` (``--db``), env ``HYPERGRAPH_DB``,
    ``[tool.hypergraph] db`` of the nearest pyproject.toml, the embedded default
    ``.hypergraph/runs.db`` under ``cwd`` if that file exists, then
    ``.hypergraph/runs.db`` next to a pyproject.toml that has a
    ``[tool.hypergraph]`` section. The returned file may not exist (except for the
    embedded default); nothing is created.

    Args:
        explicit: A path given on the command line, or ``None``.
        cwd: The directory to resolve from (default: the current directory).
        config: A loaded config (default: read the nearest pyproject.toml).

    Returns:
        The absolute path of the database file.

    Raises:
        CliError: no rule matched (``exit_code`` 2, message "No database
            found. ..."), or pyproject.toml is unreadable.

    Example:
        >>> str(resolve_db_path("/data/x.db"))
        '/data/x.db'
    """
    base = (cwd or Path.cwd()).resolve()
    given = configured_db(explicit, Config(), base)
    if given is not None:
        return given
    config = load_config(base) if config is None else config
    if config.db is not None:
        return config.db
    default = embedded_default(base)
    if default.is_file():
        return default
    if config.has_section and config.pyproject is not None:
        return config.pyproject.parent / DEFAULT_DB_PATH
    raise CliError(_NO_DATABASE)


def existing_db(explicit: str | None, config: Config | None = None) -> Path:
    """:func:`resolve_db_path`, and the file must exist (read commands never create).

    Raises:
        CliError: no database configured, or the resolved file does not exist.
    """
    path = resolve_db_path(explicit, config=config)
    if path.is_dir():
        raise CliError(
            f"Database path is a directory: {path}",
            hints=[f"Point --db at the database file in it, e.g. {path / 'runs.db'}"],
        )
    if not path.is_file():
        raise CliError(
            f"Database not found: {path}",
            hints=[
                "Check the path, or create runs first: hypergraph run <target> "
                "--workflow-id <id>"
            ],
        )
    return path
