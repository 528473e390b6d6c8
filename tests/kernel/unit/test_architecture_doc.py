"""docs/architecture.md's tree names files that exist (a renamed or deleted module must leave the map too)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "architecture.md"


def listed() -> list[str]:
    """Paths named in the tree block: roots end with '/', children are indented two spaces per level."""
    text = DOC.read_text()
    block = text.split("## The tree, a line per file", 1)[1].split("```", 2)[1]
    out: list[str] = []
    stack: list[str] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.strip().split("  ")[0].strip()
        stack = [*stack[:depth], name.rstrip("/")]
        out.append("/".join(stack) + ("/" if name.endswith("/") else ""))
    return out


def test_every_listed_file_exists() -> None:
    paths = listed()
    assert {"kaohe/", "gateway/"} <= set(paths)
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"docs/architecture.md lists what is not in the tree: {missing}"
