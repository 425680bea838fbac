"""Execute every ```python block of the user docs (docs/*.md).

Each file's blocks run in order in one shared namespace, so a later block can use
what an earlier block defined. A block whose preceding line is the HTML comment
``<!-- skip-test -->`` is not executed. Code is compiled with the markdown file as
its filename and the block's real line numbers, so a failing example points at the
exact line of the doc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hypergraph import SyncRunner

DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"
DOC_FILES = sorted(DOCS_DIR.glob("*.md"))
SKIP_MARKER = "<!-- skip-test -->"
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced python block: its source, first code line (1-based), skip flag."""

    code: str
    line: int
    skip: bool


def extract_blocks(text: str) -> list[CodeBlock]:
    """Return the ```python blocks of a markdown text, in order.

    Fences of other languages are tracked too, so a python fence quoted inside
    them is not mistaken for a real block.
    """
    lines = text.splitlines()
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, info = match["fence"], match["info"].lower()
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        if info in ("python", "py"):
            previous = next(
                (lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()),
                "",
            )
            blocks.append(
                CodeBlock(
                    code="\n".join(lines[start:end]),
                    line=start + 1,
                    skip=previous == SKIP_MARKER,
                )
            )
        i = end + 1
    return blocks


def _close_runners(namespace: dict[str, Any]) -> None:
    for value in list(namespace.values()):
        if isinstance(value, SyncRunner):
            value.close()


def test_docs_exist() -> None:
    """The docs folder holds at least one page with examples."""
    assert DOC_FILES, f"no markdown files in {DOCS_DIR}"
    assert any(extract_blocks(p.read_text(encoding="utf-8")) for p in DOC_FILES)


def test_extractor_honours_skip_marker_and_other_languages() -> None:
    text = "\n".join(
        [
            "```python",
            "a = 1",
            "```",
            "<!-- skip-test -->",
            "```python",
            "raise SystemExit",
            "```",
            "````markdown",
            "```python",
            "not a block",
            "```",
            "````",
            "```bash",
            "pip install hypergraph",
            "```",
        ]
    )
    blocks = extract_blocks(text)
    assert [(b.code, b.line, b.skip) for b in blocks] == [
        ("a = 1", 2, False),
        ("raise SystemExit", 6, True),
    ]


@pytest.mark.parametrize("path", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_doc_examples_run(path: Path) -> None:
    """Run the file's examples top to bottom in one namespace."""
    blocks = extract_blocks(path.read_text(encoding="utf-8"))
    runnable = [b for b in blocks if not b.skip]
    assert runnable, f"{path.name} has no executable python examples"
    namespace: dict[str, Any] = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    try:
        for block in runnable:
            # Pad with blank lines so tracebacks show the line in the .md file.
            source = "\n" * (block.line - 1) + block.code + "\n"
            exec(compile(source, str(path), "exec"), namespace)
    finally:
        _close_runners(namespace)
