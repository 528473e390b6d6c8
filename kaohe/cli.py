"""`kaohe` command line: up, demo, serve, migrate, token, dlq."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from kaohe import logs, natsauth, registry
from kaohe.devstack import StackError
from kaohe.identity import Role
from kaohe.settings import COMPONENTS
from kaohe.tokens import issue_dev_token

DEMO_MODULE = "demo.__main__"
ROLES = [r.value for r in Role]
DATA_DIR = Path(os.environ.get("KAOHE_DATA_DIR", Path.cwd() / ".kaohe" / "data"))


def _say(msg: str) -> None:
    print(f"[kaohe] {msg}", flush=True)


def app_from_env() -> object:
    """uvicorn factory for worker processes: the component comes from KAOHE_SERVE_COMPONENT."""
    from kaohe.runtime import create_app
    from kaohe.settings import load

    settings, infra = load(os.environ["KAOHE_SERVE_COMPONENT"])
    logs.configure(settings.log_level, settings.log_json)
    return create_app(settings, infra)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kaohe.settings import load

    settings, _ = load(args.component)
    workers = args.workers or settings.workers
    os.environ["KAOHE_SERVE_COMPONENT"] = args.component
    logs.configure(settings.log_level, settings.log_json)
    common = dict(
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s),
        access_log=False,
    )
    if workers > 1:  # separate processes sharing the port; each runs its own runtime (RPC, consumers)
        uvicorn.run("kaohe.cli:app_from_env", factory=True, workers=workers, **common)  # type: ignore[arg-type]
    else:
        uvicorn.run(app_from_env(), **common)  # type: ignore[arg-type]
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from kaohe import migrate

    url = os.environ.get("DATABASE_URL")
    if not url:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    migrate.upgrade(url)
    _say(f"migrations applied: {', '.join(migrate.MIGRATED)}")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from kaohe.stack import Ports, Stack

    logs.configure("INFO")  # stack.component.* events (restarts) as JSON lines on stderr
    stack = Stack(DATA_DIR, Ports.defaults(dict(os.environ)), progress=_say)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    # SIGINT too: a shell starts background jobs with SIGINT ignored, and Python keeps it ignored.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        stack.start()
        g = stack.gateway_url
        _say(f"data directory: {DATA_DIR}")
        _say(f"GraphQL (GraphiQL in a browser): {g}/graphql")
        # what `kaohe migrate`, `kaohe dlq` and psql need; a URL given from outside is not echoed in full
        db = stack.urls["database"]
        _say(f"DATABASE_URL={_redact(db) if os.environ.get('DATABASE_URL') else db}")
        _say(f"NATS_URL={stack.urls['nats']}  S3_ENDPOINT={stack.urls['s3']}")
        for c in COMPONENTS:
            base = f"http://127.0.0.1:{stack.ports.components[c]}"
            _say(f"{c:<12} {base}/healthz  {base}/readyz  {base}/metrics")
        _say("development token: `kaohe token --role assessment_office --org /`  · Ctrl-C stops everything")
        stack.supervise()  # a component that dies is restarted with backoff; the others keep running
        return 0
    except KeyboardInterrupt:
        _say("stopping…")
        return 0
    finally:
        stack.stop()
        _say("stopped")


def cmd_demo(args: argparse.Namespace) -> int:
    """The demo lives in the top-level `demo` package (a client of the public APIs, not shipped)."""
    import importlib

    try:
        demo = importlib.import_module(DEMO_MODULE)  # by name: the kernel depends on no client of itself
    except ModuleNotFoundError:
        _say("the demo is not installed here: run `python -m demo` from a checkout of the repository")
        return 2
    argv = [flag for flag, on in (("--skeleton-only", args.skeleton_only), ("--keep", args.keep)) if on]
    return int(demo.main(argv))


def cmd_token(args: argparse.Namespace) -> int:
    org = args.org
    if not (org.startswith("/") and org.endswith("/") and "//" not in org):
        hint = "/" + "/".join(x for x in org.split("/") if x) + "/"
        print(
            f"kaohe token: --org must be an org subtree path: / or the unit ids from the root, each followed "
            f"by '/', e.g. /14/1405/ (got {org!r}; did you mean {hint}?)",
            file=sys.stderr,
        )
        return 2
    if args.ttl <= 0:
        print("kaohe token: --ttl must be a positive number of seconds", file=sys.stderr)
        return 2
    try:
        token = issue_dev_token(
            registry.settings_class("gateway")(),
            user_id=args.user,
            roles=args.role,
            org_path=org,
            indicator_codes=args.indicator,
            ttl_s=args.ttl,
        )
    except RuntimeError as e:  # production: the gateway accepts only its identity provider's tokens
        print(
            f"kaohe token: {e}; get a token from the identity provider (KAOHE_GATEWAY_JWKS_URL)",
            file=sys.stderr,
        )
        return 2
    print(token)
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    """List a service's dead-lettered events (its dead_letter table), or replay one onto the event stream."""
    from kaohe import dlq
    from kaohe.settings import InfraSettings, effective_database_url

    comp, infra = registry.settings_class(args.service)(), InfraSettings()
    try:
        url = effective_database_url(comp, infra)
    except ValueError:
        env = f"KAOHE_{args.service.upper()}_DATABASE_URL"
        print(f"kaohe dlq: no database: set DATABASE_URL (or {env}); `kaohe up` prints it", file=sys.stderr)
        return 2
    if args.replay is None:
        rows = asyncio.run(dlq.listed(url, args.service, args.limit))
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        if not rows:
            _say(f"no dead letters in {args.service}")
        return 0
    if not infra.nats_url:
        print("kaohe dlq --replay: no NATS: set NATS_URL; `kaohe up` prints it", file=sys.stderr)
        return 2
    identity = _admin_identity()
    try:
        said = asyncio.run(
            dlq.replay(
                url,
                infra.nats_url,
                identity,
                service=args.service,
                ref=args.replay,
                settings=comp,
                force=args.force,
            )
        )
    except dlq.ReplayError as e:
        print(f"kaohe dlq --replay: {e}", file=sys.stderr)
        return 1
    _say(said)
    return 0


def _admin_identity() -> natsauth.Identity | None:
    """The operators' NATS identity: KAOHE_ADMIN_NATS_* or the `kaohe up` stack's in KAOHE_DATA_DIR."""
    if (ident := natsauth.admin_identity()) is not None:
        return ident
    creds = DATA_DIR / "nats-credentials.json"
    if creds.exists():
        password = json.loads(creds.read_text())[natsauth.ADMIN]
        return natsauth.Identity(natsauth.ADMIN, password, natsauth.inbox_prefix(natsauth.ADMIN))
    return None


def _redact(url: str) -> str:
    """The URL with its password replaced by ***."""
    head, sep, host = url.rpartition("@")
    if not sep or "://" not in head:
        return url
    scheme, creds = head.split("://", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="kaohe", description="Kaohe 考核 platform")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up", help="start PostgreSQL, NATS, S3 and the five components; Ctrl-C stops")
    dm = sub.add_parser("demo", help="run the end-to-end scenario (starts a stack unless one is running)")
    dm.add_argument("--skeleton-only", action="store_true", help="only act 1: one value end to end")
    dm.add_argument("--keep", action="store_true", help="keep the stack it started running afterwards")
    s = sub.add_parser("serve", help="run one component")
    s.add_argument("component", choices=COMPONENTS)
    s.add_argument("--workers", type=int, default=0, help="worker processes (default KAOHE_<C>_WORKERS or 1)")
    sub.add_parser("migrate", help="apply every service's migrations to DATABASE_URL")
    t = sub.add_parser("token", help="issue a development JWT")
    t.add_argument("--user", default="dev")
    t.add_argument(
        "--role", action="append", default=[], choices=ROLES, help="repeatable (default assessment_office)"
    )
    t.add_argument("--org", default="/", help="org subtree path: / or e.g. /14/1405/ (ids from the root)")
    t.add_argument("--indicator", action="append", default=[])
    t.add_argument("--ttl", type=int, default=8 * 3600)
    d = sub.add_parser("dlq", help="list a service's dead-lettered events, or replay one")
    d.add_argument("service", choices=COMPONENTS)
    d.add_argument("--limit", type=int, default=50)
    d.add_argument("--replay", metavar="ID", help="publish the dead letter (its id or event id) again")
    d.add_argument("--force", action="store_true", help="with --replay: replay one that was replayed before")
    args = p.parse_args(argv)
    if args.cmd == "token" and not args.role:
        args.role = ["assessment_office"]
    handlers = {
        "up": cmd_up,
        "demo": cmd_demo,
        "serve": cmd_serve,
        "migrate": cmd_migrate,
        "token": cmd_token,
        "dlq": cmd_dlq,
    }
    try:
        return handlers[args.cmd](args)
    except StackError as e:
        _say(f"error: {e}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
