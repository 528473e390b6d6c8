"""The Dockerfile: the project's CLI on slim Python, installed from the lock, non-root, no baked settings."""

from __future__ import annotations

import re

from packaging.specifiers import SpecifierSet

from tests.infra.common import (
    DOCKERIGNORE,
    allowed_vars,
    dockerfile_entrypoint,
    dockerfile_stages,
    pyproject,
    stage_base,
)


def test_dockerfile_entrypoint_is_the_project_cli() -> None:
    entry = dockerfile_entrypoint()
    assert entry == ["kaohe"]
    assert entry[0] in pyproject()["project"]["scripts"], "ENTRYPOINT is not a console script"


def test_dockerfile_runtime_is_slim_python_matching_the_project() -> None:
    _, stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage build expected (builder + runtime)"
    base = stage_base(stages[-1])
    assert base.startswith("python:") and "slim" in base, base
    version = re.match(r"python:(\d+\.\d+)", base)
    assert version and version[1] in SpecifierSet(pyproject()["project"]["requires-python"])
    # The venv copied from the builder links to the builder's interpreter: same base image.
    assert all(stage_base(s) == base for s in stages), "builder and runtime use different Pythons"
    assert any(instr == "COPY" and "--from=" in rest for instr, rest in stages[-1])


def test_dockerfile_installs_from_the_lock() -> None:
    _, stages = dockerfile_stages()
    builder = [step for stage in stages[:-1] for step in stage]
    runs = [rest for instr, rest in builder if instr == "RUN"]
    syncs = [r for r in runs if "uv sync" in r]
    assert syncs, "no `uv sync` in the builder"
    for r in syncs:
        assert "--frozen" in r or "--locked" in r, f"not installed from uv.lock: {r}"
        assert "--no-dev" in r, f"dev dependencies in the image: {r}"
    assert any("--no-editable" in r for r in syncs), "project must be installed as a wheel"
    assert any(re.search(r"\buv==\d+\.\d+\.\d+", r) for r in runs), "uv version not pinned"
    copied = " ".join(rest for instr, rest in builder if instr == "COPY")
    assert "uv.lock" in copied.split() or re.search(r"(^|\s)\.(\s|$)", copied)


def test_dockerfile_copies_everything_the_wheel_needs() -> None:
    _, stages = dockerfile_stages()
    sources = {
        src.rstrip("/")
        for instr, rest in stages[0]
        if instr == "COPY"
        for src in [a for a in rest.split() if not a.startswith("--")][:-1]
    }
    project = pyproject()
    needed = {"pyproject.toml", "uv.lock", project["project"]["readme"]}
    needed |= set(project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    if "." not in sources:
        assert needed <= sources, f"builder does not COPY {sorted(needed - sources)}"
    ignored = {
        line.strip().strip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert not (needed & ignored), f".dockerignore drops {sorted(needed & ignored)}"
    assert {".venv", ".kaohe", ".git"} <= ignored, "local state must stay out of the build context"


def test_dockerfile_runs_as_non_root_without_baked_settings() -> None:
    _, stages = dockerfile_stages()
    users = [rest for instr, rest in stages[-1] if instr == "USER"]
    assert users, "runtime stage runs as root"
    uid = users[-1].split(":")[0]
    # Numeric, so Kubernetes' runAsNonRoot can verify it.
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]!r}"
    # Configuration (and so any secret) comes from the runtime environment only.
    baked = set()
    for stage in stages:
        for instr, rest in stage:
            if instr in ("ENV", "ARG"):
                baked |= {m.upper() for m in re.findall(r"(?:^|\s)([A-Za-z_]\w*)=", rest)}
                if "=" not in rest:
                    baked.add(rest.split()[0].upper())
    assert not baked & allowed_vars(None), f"image sets app settings {sorted(baked & allowed_vars(None))}"


def test_the_image_ships_no_harness() -> None:
    """Tests, benchmarks (which start servers with the tests' harness) and the demo stay out of the image."""
    _, stages = dockerfile_stages()
    sources = {
        src.rstrip("/")
        for instr, rest in stages[0]
        if instr == "COPY"
        for src in [a for a in rest.split() if not a.startswith("--")][:-1]
    }
    packages = set(pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    dev_only = {"tests", "bench", "demo"}
    assert not packages & dev_only, f"the wheel packages {sorted(packages & dev_only)}"
    assert not sources & dev_only, f"the image copies {sorted(sources & dev_only)}"
