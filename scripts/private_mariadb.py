"""
A throwaway MariaDB server (its own data directory and free port on 127.0.0.1), for tests
and benchmarks that crash, configure or replicate a server: the machine's own server is
never touched. Needs mariadbd and mariadb-install-db (Debian's mariadb-server package).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {seconds} s")


class PrivateMariaDB:
    """A server in ``folder`` with the given extra mariadbd ``options`` (root, no password)."""

    def __init__(self, folder: Path, *options: str):
        self.folder = Path(folder)
        self.options = options
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.folder}/data",
                "--user=root",
                "--skip-test-db",
                "--auth-root-authentication-method=normal",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("mariadbd") or "/usr/sbin/mariadbd",
                "--no-defaults",
                f"--datadir={self.folder}/data",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.folder}/mysqld.sock",
                "--user=root",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=32M",
                f"--log-error={self.folder}/error.log",
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)  # a crash, not a clean shutdown
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
