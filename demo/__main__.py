"""`python -m demo` (also `kaohe demo`): start a stack unless one is running, then play the two acts."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path

from demo import act1, act2, documents, rewards, supervision, supervision_q1
from demo.client import DemoError
from kaohe.devstack import StackError
from kaohe.settings import DEFAULT_PORTS
from kaohe.stack import Ports, Stack, gateway_running


def _say(msg: str) -> None:
    print(f"[kaohe] {msg}", flush=True)


def _brief(summary: dict[str, object]) -> dict[str, object]:
    keys = ("units", "indicators", "submissions", "evidence", "approved", "rejected_then_corrected")
    keys += ("pending",)
    return {k: summary[k] for k in keys if k in summary}


def run(*, skeleton_only: bool = False, keep: bool = False) -> int:
    """Play the demo against the running stack on the gateway port, or a fresh one it starts and stops."""
    started = time.monotonic()
    port = int(os.environ.get("KAOHE_GATEWAY_HTTP_PORT", DEFAULT_PORTS["gateway"]))
    stack = None
    try:
        if gateway_running(port):
            _say(f"using the running stack at http://127.0.0.1:{port}")
            url = f"http://127.0.0.1:{port}"
        else:
            run_dir = Path.cwd() / ".kaohe" / "demo"
            shutil.rmtree(run_dir, ignore_errors=True)
            _say(f"starting a fresh stack in {run_dir} (PostgreSQL, NATS JetStream, S3, five components)")
            stack = Stack(run_dir, Ports.free(), progress=_say)
            # the demo runs every sweep it shows explicitly (some as of days in 2026-Q1): a background sweep
            # as of today between two backdated steps would judge a March item by December
            stack.env.setdefault("KAOHE_SUPERVISION_SWEEP_INTERVAL_S", "900")
            stack.start()
            url = stack.gateway_url
        _say("— act 1: the walking skeleton, one value end to end —")
        unit = act1.run(url, progress=_say)
        _say("result, as fetched through GraphQL:")
        print(json.dumps(unit, ensure_ascii=False, indent=2), flush=True)
        if not skeleton_only:
            _say("— act 2: 晋城 '1+4': a city, its scheme and a quarter of reviewed data —")
            t = time.monotonic()
            summary = asyncio.run(act2.seed(url, _say))
            _say(f"seeded in {time.monotonic() - t:.1f}s: {json.dumps(_brief(summary), ensure_ascii=False)}")
            act2.report(act1.client(url), summary, _say)
            bus = (
                supervision_q1.Bus(stack.urls["nats"], stack.identity())
                if stack
                else supervision_q1.bus_from_env()
            )
            supervision.run(url, summary, _say, bus=bus)  # 督考合一: warnings → 督办 → the quarter's ranking
            rewards.run(url, summary, _say)  # 结果运用: the quarter published, applied to pay and cadres
            documents.run(url, summary, _say)  # 公文: the quarter's 考核结果通报 and a 预警单, with links
            act2.try_it(url, summary, _say)
        _say(f"demo finished in {time.monotonic() - started:.1f}s")
        if keep and stack is not None:
            _say("the stack keeps running to try the docs with the tokens above · Ctrl-C stops it")
            stack.supervise()
        return 0
    except DemoError as e:
        _say(f"demo failed: {e}")
        return 1
    except StackError as e:
        _say(f"error: {e}")
        return 2
    except KeyboardInterrupt:
        _say("stopping…")
        return 0
    finally:
        if stack is not None:  # also after a failed start: nothing is left running
            stack.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    p.add_argument("--skeleton-only", action="store_true", help="only act 1: one value end to end")
    p.add_argument("--keep", action="store_true", help="keep the stack it started running afterwards")
    args = p.parse_args(argv)
    return run(skeleton_only=args.skeleton_only, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
