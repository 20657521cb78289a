"""Throwaway PostgreSQL and Redis servers on loopback, for the tests and the benchmarks.

Both come from Debian's packages (``make`` installs them). Each server lives in a temporary
directory on a free port and is stopped, and its directory removed, when the context exits.
PostgreSQL refuses to run as root, so as root the cluster is created and run as ``postgres``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = [Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15")]


class ServerUnavailable(RuntimeError):
    """A server binary is missing or the server did not come up."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerUnavailable(f"server on port {port} exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise ServerUnavailable(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f}s")


def pg_bin(name: str) -> Path:
    for d in PG_BIN_DIRS:
        if (d / name).exists():
            return d / name
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ServerUnavailable(f"PostgreSQL's {name} not found in {PG_BIN_DIRS[-1]}: run `make system-deps`")


@dataclass
class PostgresServer:
    port: int
    datadir: Path
    options: str = ""
    log: Path | None = None

    def stop(self) -> None:
        """Stop the server, dropping every connection (a restart or an outage); ``start()`` brings it back.
        A clean "fast" stop: with this test server's asynchronous commits an immediate one would lose
        the last committed transactions, which a production server (synchronous) never does."""
        subprocess.run(
            _as_postgres([str(pg_bin("pg_ctl")), "-D", str(self.datadir), "-m", "fast", "-w", "stop"]),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        cmd = [str(pg_bin("pg_ctl")), "-D", str(self.datadir), "-o", self.options, "-w", "-t", "60", "start"]
        if self.log is not None:
            cmd[1:1] = ["-l", str(self.log)]
        subprocess.run(_as_postgres(cmd), check=True, capture_output=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster with trust auth on 127.0.0.1, fsync off (tests only)."""
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    tmp = Path(tempfile.mkdtemp(prefix="adwatch-pg-"))
    datadir = tmp / "data"
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        os.chmod(tmp, 0o700)
    port = free_port()
    try:
        subprocess.run(
            _as_postgres(
                [
                    str(initdb),
                    "-D",
                    str(datadir),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        opts = (
            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off "
            "-c synchronous_commit=off -c max_connections=200"
        )
        subprocess.run(
            _as_postgres(
                [
                    str(pg_ctl),
                    "-D",
                    str(datadir),
                    "-o",
                    opts,
                    "-l",
                    str(tmp / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ServerUnavailable(
            f"PostgreSQL did not start: {exc.stderr.strip() or exc.stdout.strip()}"
        ) from exc
    try:
        yield PostgresServer(port=port, datadir=datadir, options=opts, log=tmp / "log")
    finally:
        subprocess.run(
            _as_postgres([str(pg_ctl), "-D", str(datadir), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def redis_server(port: int | None = None) -> Iterator[RedisServer]:
    """A Redis server on 127.0.0.1 that keeps nothing on disk."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise ServerUnavailable("redis-server not found: run `make system-deps`")
    tmp = Path(tempfile.mkdtemp(prefix="adwatch-redis-"))
    port = port or free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(tmp),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, 20, proc)
        yield RedisServer(port=port, proc=proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
