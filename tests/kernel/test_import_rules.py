"""The import rules of docs/architecture.md, read from the source (AST): boundaries cannot leak silently.

No service imports another service; the kernel (`kaohe`) imports no service and not the gateway; the
gateway imports no service; shipped code imports neither the demo, the benchmarks nor the tests.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("kaohe", "services", "gateway")
NOT_SHIPPED = ("demo", "bench", "tests")


def modules(package: str) -> Iterator[tuple[str, Path]]:
    """(dotted module name, path) of every Python file under a top-level package."""
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imported(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, at any depth, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name
            for alias in node.names:  # `from services import scoring` imports services.scoring
                yield node.lineno, f"{name}.{alias.name}"


def owner(name: str) -> str:
    """The component a module belongs to: `services.<svc>`, or the top-level package."""
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "services" and len(parts) > 1 else parts[0]


def forbidden(importer: str, target: str) -> str | None:
    """Why `importer` may not import `target`, or None when it may."""
    mine, theirs = owner(importer), owner(target)
    top = theirs.split(".")[0]
    if top in NOT_SHIPPED:
        return f"shipped code imports {top}"
    if mine.startswith("services.") and theirs.startswith("services.") and mine != theirs:
        return "a service imports another service"
    if mine == "kaohe" and top in ("services", "gateway"):
        return "the kernel imports a component"
    if mine == "gateway" and top == "services":
        return "the gateway imports a service"
    return None


def violations() -> list[str]:
    found = []
    for package in SHIPPED:
        for module, path in modules(package):
            for line, target in imported(module, path):
                why = forbidden(module, target)
                if why and target.split(".")[0] in (*SHIPPED, *NOT_SHIPPED):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {why} ({target})")
    return sorted(set(found))


def test_no_boundary_is_crossed() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("importer", "target", "why"),
    [
        ("services.scoring.store", "services.indicators.domain.scheme", "a service imports another service"),
        ("services.scoring.store", "services", None),
        ("services.scoring.store", "services.scoring.model", None),
        ("kaohe.cli", "gateway.auth", "the kernel imports a component"),
        ("kaohe.demo", "services.indicators", "the kernel imports a component"),
        ("gateway.graphql.units", "services.indicators.models", "the gateway imports a service"),
        ("gateway.app", "tests.support", "shipped code imports tests"),
        ("services.rewards.domain.apply", "kaohe.contracts.standards", None),
        ("gateway.app", "kaohe.registry", None),
    ],
)
def test_the_rules(importer: str, target: str, why: str | None) -> None:
    assert forbidden(importer, target) == why


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    path = tmp_path / "store.py"
    source = "from ..indicators import domain\nfrom . import model\n\n\ndef f():\n    import gateway.auth\n"
    path.write_text(source)
    got = {name for _, name in imported("services.scoring.store", path)}
    assert {"services.indicators.domain", "services.scoring.model", "gateway.auth"} <= got
