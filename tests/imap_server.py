"""A real Dovecot IMAP server on loopback for the mailbox adapter's tests.

`start_dovecot()` writes a self-contained configuration into a fresh temporary directory and
runs `dovecot -F` (foreground, not a daemon) on two free loopback ports: plain IMAP and
implicit TLS (a certificate for 127.0.0.1 signed by a throw-away CA, `ca_file`). One user,
`vanthu`, is kept in a passwd-file with a PLAIN password; mail is a Maildir in the same
directory. Plaintext LOGIN is allowed (loopback only).

Running as root: Dovecot refuses mail processes with UID 0 and runs its login and internal
processes unprivileged, so the config uses the package's `dovenull` (login) and `dovecot`
(internal, and the mail owner, with `first_valid_uid` lowered to it) users, and the directory
is world-traversable. As any other user, everything runs as that user. When Dovecot is not
installed (`apt-get install dovecot-imapd`) or does not come up, this raises with the reason
and the server's log, so the test fails loudly rather than being skipped.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aioimaplib

USERNAME = "vanthu"
PASSWORD = 's3cret "quoted" pass'  # quotes on purpose: LOGIN must escape them


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Dovecot:
    root: Path
    process: subprocess.Popen[bytes]
    port: int
    tls_port: int
    ca_file: str
    host: str = "127.0.0.1"
    username: str = USERNAME
    password: str = PASSWORD

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def make_certificates(root: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 / localhost, with the openssl CLI."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=root, check=True, capture_output=True, timeout=60)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=lienthong test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    (root / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    )
    return root / "ca.pem", root / "server.pem", root / "server.key"


def _users() -> dict[str, str]:
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.getuid())
        return {
            "login": me.pw_name,
            "internal": me.pw_name,
            "mail": me.pw_name,
            "mail_uid": str(me.pw_uid),
        }
    mail = pwd.getpwnam("dovecot")
    return {
        "login": "dovenull",
        "internal": "dovecot",
        "mail": "dovecot",
        "mail_uid": str(mail.pw_uid),
    }


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = lienthong-test-{port}
log_path = {root}/dovecot.log
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = {mail_uid}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail} gid={mail} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal}
  }}
  unix_listener stats-writer {{
    user = {internal}
  }}
}}
"""


def start_dovecot(timeout_s: float = 20.0) -> Dovecot:
    """Start Dovecot and wait until both ports accept connections. Raises RuntimeError."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not Path(binary).exists():
        raise RuntimeError(
            "Dovecot is not installed: run scripts/install-test-deps.sh (apt-get install dovecot-imapd)"
        )
    root = Path(tempfile.mkdtemp(prefix="lienthong-dovecot-"))
    root.chmod(0o755)
    users = _users()
    ca_file, _, _ = make_certificates(root)
    (root / "passwd").write_text(f"{USERNAME}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    mail = root / "mail"
    mail.mkdir()
    shutil.chown(mail, user=users["mail"], group=users["mail"])
    port, tls_port = free_port(), free_port()
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, tls_port=tls_port, **users))
    with (root / "stdout.log").open("wb") as output:
        process = subprocess.Popen(
            [binary, "-F", "-c", str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    server = Dovecot(root, process, port, tls_port, str(ca_file))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "stdout.log").read_text(errors="replace")
            server.stop()
            raise RuntimeError(f"Dovecot exited with {process.returncode}: {log}")
        if all(_accepts(port) for port in (port, tls_port)):
            return server
        time.sleep(0.1)
    log = server.log()
    server.stop()
    raise RuntimeError(f"Dovecot did not listen within {timeout_s} s; log:\n{log}")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@asynccontextmanager
async def imap_client(server: Dovecot) -> AsyncIterator[Any]:
    """A logged-in aioimaplib client on the plain port, for a test to set up and inspect mail."""
    client = aioimaplib.IMAP4(server.host, server.port, timeout=10)
    await client.wait_hello_from_server()
    response = await client.login(server.username, server.password)
    assert response.result == "OK", response
    try:
        yield client
    finally:
        await client.logout()


async def append(server: Dovecot, message: bytes, folder: str = "INBOX") -> None:
    async with imap_client(server) as client:
        response = await client.append(message, mailbox=folder)
        assert response.result == "OK", response


async def create_folder(server: Dovecot, folder: str) -> None:
    async with imap_client(server) as client:
        response = await client.create(folder)
        assert response.result == "OK", response


async def delete_folder(server: Dovecot, folder: str) -> None:
    async with imap_client(server) as client:
        response = await client.delete(folder)
        assert response.result == "OK", response


async def flags_by_uid(server: Dovecot, folder: str = "INBOX") -> dict[int, set[str]]:
    """Every message's flags in `folder`, read over IMAP."""
    async with imap_client(server) as client:
        response = await client.select(folder)
        assert response.result == "OK", response
        response = await client.uid("fetch", "1:*", "(UID FLAGS)")
        found: dict[int, set[str]] = {}
        for line in response.lines:
            text = line.decode() if isinstance(line, bytes) else ""
            if "FETCH" in text and "UID " in text:
                uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                found[uid] = set(text.split("FLAGS (")[1].split(")")[0].split())
        return found


class CuttableProxy:
    """A TCP relay to the IMAP server that a test can cut (every connection, both ways) or
    stall (bytes are swallowed, connections stay open: a server that stopped answering); it
    counts connections and notes when a UID STORE passed."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.connections = 0
        self.stored = asyncio.Event()  # a UID STORE went through
        self.stalled = False
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cut()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def cut(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, tap: bool) -> None:
            try:
                while chunk := await src.read(65536):
                    if tap and b"STORE" in chunk:
                        self.stored.set()
                    if not self.stalled:
                        dst.write(chunk)
                        await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))
