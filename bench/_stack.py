"""Shared by the benchmarks: start the real stack (or use URLs from the environment) in a temp dir."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from kaohe import natsauth
from kaohe.stack import Ports, Stack


def start_infra(progress: bool = True) -> Stack:
    """PostgreSQL, NATS and S3 (embedded unless DATABASE_URL/NATS_URL/S3_ENDPOINT are set), migrated."""
    # SIGTERM (e.g. from `timeout`) would end Python without running `finally`: leave through SystemExit
    # instead, so the caller's `stack.stop()` runs and no server outlives the benchmark.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    say = (lambda m: print(f"[bench] {m}", file=sys.stderr, flush=True)) if progress else (lambda m: None)
    data = Path(tempfile.mkdtemp(prefix="kaohe-bench-"))
    stack = Stack(data, Ports.free(), progress=say)
    stop = stack.stop

    def stop_and_remove() -> None:  # a full-size run leaves gigabytes of data behind otherwise
        try:
            stop()
        finally:
            shutil.rmtree(data, ignore_errors=True)

    stack.stop = stop_and_remove  # type: ignore[method-assign]
    try:
        stack.start_infra()
        stack.migrate()
        # Benchmarks host components and the admin harness in this process: like the test session, the
        # process gets every identity's NATS credentials (child components still get only their own).
        for identity, password in stack.nats_passwords.items():
            os.environ.update(natsauth.env_for(identity, password))
    except BaseException:
        stack.stop()
        raise
    return stack


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(figures: dict[str, Any]) -> None:
    """The last line of every benchmark: one JSON object."""
    print(json.dumps(figures, ensure_ascii=False), flush=True)
