"""A real, throwaway PostgreSQL server for the store tests (Debian's `postgresql` package).

Runs as the unprivileged `postgres` user when we are root, in a temporary data directory, on a
free loopback port, trust authentication for 127.0.0.1 only, no Unix socket, fsync off (test
data only). `PgServer.start()` raises RuntimeError with the server's own words when it cannot
start, so the tests fail with the reason instead of being skipped.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

START_TIMEOUT_S = 60


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): "
            "apt-get install -y postgresql"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster for a test session; `url(db)` names a database on it."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.port = 0
        self._root = Path(tempfile.mkdtemp(prefix="lienthong-pg-"))
        self.data = self._root / "data"
        self._as_root = os.geteuid() == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        return subprocess.run(
            [*prefix, *args],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
            cwd=self._root,
        )

    def _check(self, proc: subprocess.CompletedProcess[str], what: str) -> None:
        if proc.returncode != 0:
            raise RuntimeError(f"{what} failed ({proc.returncode}): {proc.stderr or proc.stdout}")

    def start(self) -> PgServer:
        if self._as_root:
            pw = pwd.getpwnam("postgres")  # created by the postgresql package
            os.chown(self._root, pw.pw_uid, pw.pw_gid)
        self._check(
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ),
            "initdb",
        )
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port}"
                " -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off"
                " -c full_page_writes=off -c max_connections=100"
            )
            proc = self._run(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self._root / "server.log"),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "start",
            )
            if proc.returncode == 0:
                return self
        log = (self._root / "server.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"pg_ctl start failed: {proc.stderr or proc.stdout}\n{log}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self._root, ignore_errors=True)
