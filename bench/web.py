"""The web detail page under load: gunicorn (2 workers) on loopback, wrk as the load generator."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*, use_cache: bool, seconds: int, hot_ids: int, env: dict) -> dict | None:
    if not shutil.which("wrk"):
        return None
    port = free_port()
    server_env = {
        **env,
        "DEBUG": "false",
        "SECRET_KEY": "benchmark-only-key",
        "ALLOWED_HOSTS": "127.0.0.1",
        "HERO_CACHE_ENABLED": "true" if use_cache else "false",
        "LOG_LEVEL": "WARNING",
        "SECURE_SSL_REDIRECT": "false",
    }  # wrk speaks plain HTTP on loopback
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "heroapp.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT,
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        # Warm up both workers (and, with the cache, the hot ids) before measuring.
        subprocess.run(
            ["wrk", "-t1", "-c4", "-d2s", "-s", str(ROOT / "bench" / "detail.lua"), base],
            env={**os.environ, "HERO_IDS": str(hot_ids)},
            capture_output=True,
            check=True,
        )
        done = subprocess.run(
            [
                "wrk",
                "-t2",
                "-c16",
                f"-d{seconds}s",
                "--latency",
                "-s",
                str(ROOT / "bench" / "detail.lua"),
                base,
            ],
            env={**os.environ, "HERO_IDS": str(hot_ids)},
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> dict:
    def to_us(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
        return float(value) * {"us": 1, "ms": 1000, "s": 1_000_000}[unit]

    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_us": to_us(latency["50"]),
        "p99_us": to_us(latency["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }
