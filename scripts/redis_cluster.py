"""
A throwaway Redis Cluster on loopback ports, for the tests (ElastiCache cluster mode, locally).

    python scripts/redis_cluster.py run [--masters 3] [--replicas 0] -- COMMAND...

starts the cluster in a temporary folder, runs COMMAND with REDIS_URL pointing at it
(``redis://127.0.0.1:PORT/0?cluster=true``), then stops every server and removes the
folder; it exits with COMMAND's exit code. ``make test`` runs the cache tests this way.
Tests that need a cluster of their own (failover) use ``RedisCluster`` from here.

Only redis-server and redis-cli (Debian's redis-server package) are needed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _free_ports(count: int) -> list[int]:
    # A cluster node also listens on port + 10000 (the cluster bus), so both must be free.
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + 10000 < 65536 and port not in ports and _is_free(port + 10000):
            ports.append(port)
    return ports


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class RedisCluster:
    """``masters`` primaries, each with ``replicas`` replicas, on free loopback ports."""

    def __init__(self, folder: Path, *, masters: int = 3, replicas: int = 0, node_timeout_ms: int = 1000):
        self.folder = Path(folder)
        self.masters, self.replicas = masters, replicas
        self.node_timeout_ms = node_timeout_ms
        self.ports = _free_ports(masters * (1 + replicas))
        self.processes: dict[int, subprocess.Popen] = {}
        # Frozen nodes (pause()): alive, but asking them anything would hang.
        self.paused: set[int] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0?cluster=true"

    def start(self) -> None:
        for port in self.ports:
            self.start_node(port)
        create = [
            "redis-cli",
            "--cluster",
            "create",
            *(f"127.0.0.1:{port}" for port in self.ports),
            "--cluster-replicas",
            str(self.replicas),
            "--cluster-yes",
        ]
        done = subprocess.run(create, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {done.stdout}{done.stderr}")
        self.wait_until_ok()

    def start_node(self, port: int) -> None:
        folder = self.folder / str(port)
        folder.mkdir(parents=True, exist_ok=True)
        self.processes[port] = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(folder),
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                str(self.node_timeout_ms),
                # A shard that is down (a failover in progress) must not stop the others
                # from answering for their slots; ElastiCache behaves this way too.
                "--cluster-require-full-coverage",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.cli(port, "PING", check=False) == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {port} did not start")

    def cli(self, port: int, *args: str, check: bool = True) -> str:
        # Values may hold binary bytes (the hero cache's checksums): shown escaped, not decoded.
        done = subprocess.run(
            ["redis-cli", "-p", str(port), *args],
            capture_output=True,
            encoding="utf-8",
            errors="backslashreplace",
            timeout=20,
        )
        if check and done.returncode != 0:
            raise RuntimeError(done.stderr)
        return done.stdout.strip()

    def wait_until_ok(self, seconds: float = 30) -> None:
        """
        Until every live node says the cluster is ok, and every live replica has synced with
        its primary: a replica that never synced is not eligible to replace its primary.
        """
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            live = self._live()
            ok = all("cluster_state:ok" in self.cli(port, "CLUSTER", "INFO", check=False) for port in live)
            replication = [self.cli(port, "INFO", "replication", check=False) for port in live]
            synced = all("master_link_status:up" in info for info in replication if "role:slave" in info)
            if ok and synced:
                return
            time.sleep(0.1)
        raise RuntimeError("the cluster did not reach cluster_state:ok with every replica in sync")

    def primaries(self) -> list[int]:
        """Ports of the live nodes that are primaries now (they change on failover)."""
        roles = {port: self.cli(port, "INFO", "replication", check=False) for port in self._live()}
        return [port for port, role in roles.items() if "role:master" in role]

    def replica_of(self, primary: int) -> list[int]:
        """Ports of the live replicas of ``primary``."""
        return [
            port
            for port in self._live()
            if port != primary
            and f"master_port:{primary}" in self._lines(self.cli(port, "INFO", "replication", check=False))
        ]

    @staticmethod
    def _lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines()]

    def wait_for_promotion(self, replica: int, seconds: float = 30) -> None:
        """Until ``replica`` has replaced its failed primary and the cluster is ok again."""
        deadline = time.monotonic() + seconds
        while replica not in self.primaries():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the replica on port {replica} was not promoted in {seconds} s")
            time.sleep(0.1)
        self.wait_until_ok()

    def owner(self, slot: int) -> int:
        """The port of the primary that serves ``slot`` now (from CLUSTER NODES)."""
        for line in self._lines(self.cli(self.primaries()[0], "CLUSTER", "NODES")):
            fields = line.split()
            if "master" not in fields[2].split(","):
                continue
            for served in fields[8:]:
                first, _, last = served.partition("-")
                if first.isdigit() and int(first) <= slot <= int(last or first):
                    return int(fields[1].split("@")[0].rsplit(":", 1)[1])
        raise RuntimeError(f"no primary serves slot {slot}")

    def move_slot(self, slot: int, to: int) -> None:
        """Reshard: move ``slot`` and its keys to the primary on port ``to``, as redis-cli --cluster does."""
        source = self.owner(slot)
        source_id, target_id = self.cli(source, "CLUSTER", "MYID"), self.cli(to, "CLUSTER", "MYID")
        self.cli(to, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", source_id)
        self.cli(source, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", target_id)
        while keys := self.cli(source, "CLUSTER", "GETKEYSINSLOT", str(slot), "100").split():
            self.cli(source, "MIGRATE", "127.0.0.1", str(to), "", "0", "5000", "KEYS", *keys)
        for port in self.primaries():
            self.cli(port, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id)
        self.wait_until_ok()

    def _live(self) -> list[int]:
        """Ports of the nodes that run and answer (not killed, not paused)."""
        return [
            port
            for port, process in self.processes.items()
            if process.poll() is None and port not in self.paused
        ]

    def revive(self) -> None:
        """Restart the nodes killed so far: a former primary rejoins as its successor's replica."""
        for port, process in list(self.processes.items()):
            if process.poll() is not None:
                self.start_node(port)
        self.wait_until_ok()

    def pause(self, port: int) -> None:
        """Freeze one node (SIGSTOP): it neither answers nor replicates until resume()."""
        self.processes[port].send_signal(signal.SIGSTOP)
        self.paused.add(port)

    def resume(self, port: int) -> None:
        self.processes[port].send_signal(signal.SIGCONT)
        self.paused.discard(port)

    def kill(self, port: int) -> None:
        """Stop one node the way a crash would."""
        self.processes[port].send_signal(signal.SIGKILL)
        self.processes[port].wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/redis_cluster.py")
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="start a cluster, run a command with REDIS_URL set to it, stop it")
    run.add_argument("--masters", type=int, default=3)
    run.add_argument("--replicas", type=int, default=0)
    run.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        print("redis-server and redis-cli are needed: apt-get install redis-server", file=sys.stderr)
        return 2

    folder = Path(tempfile.mkdtemp(prefix="heroapp-redis-cluster-"))
    cluster = RedisCluster(folder, masters=args.masters, replicas=args.replicas)
    try:
        cluster.start()
        print(
            f"Redis Cluster: {args.masters} primaries, {args.replicas} replica(s) each, at {cluster.url}",
            file=sys.stderr,
        )
        return subprocess.run(command, env={**os.environ, "REDIS_URL": cluster.url}).returncode
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
