"""Real processes for the resilience tests: ``mendian serve`` on a free port, and a throwaway
``redis-server`` that a test can kill and start again."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as redis_asyncio


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                if (await client.get(url + "/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            await asyncio.sleep(0.2)


_logs: dict[int, Path] = {}  # server pid → its log file


async def serve(db: Any, **env: str) -> tuple[asyncio.subprocess.Process, str]:
    """``mendian serve`` on the test database (and ``env``), up and answering: (process, URL).
    Its log goes to a file (a pipe nobody reads would fill and block the server); :func:`stop_server`
    returns it."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(
        prefix="mendian-serve-", suffix=".log", dir=os.environ.get("MENDIAN_HOME"), delete=False
    )
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from api.cli import run; run()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=os.environ | {"DATABASE_URL": db.settings.database.as_url()} | env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log,
    )
    _logs[server.pid] = Path(log.name)
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_up(url)
    except BaseException:
        server.kill()
        await server.wait()
        raise
    return server, url


async def stop_server(server: asyncio.subprocess.Process) -> str:
    """SIGTERM, wait (once), and return the server's log."""
    if server.returncode is None:
        server.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(server.wait(), 20)
        except TimeoutError:
            server.kill()
            await server.wait()
    path = _logs[server.pid]
    return path.read_text()


class RedisServer:
    """A throwaway ``redis-server`` (no persistence) on its own port."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.pidfile = directory / f"redis-{self.port}.pid"
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.pidfile),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if self.pidfile.exists() and self.pidfile.read_text().strip():
                break
            time.sleep(0.05)

    def kill(self) -> None:
        os.kill(int(self.pidfile.read_text()), signal.SIGKILL)
        self.pidfile.unlink()

    def stop(self) -> None:
        if self.pidfile.exists():
            self.kill()

    async def client(self) -> redis_asyncio.Redis:
        client = redis_asyncio.from_url(self.url, decode_responses=True)
        for _ in range(100):
            try:
                await client.ping()
                return client
            except Exception:
                await asyncio.sleep(0.05)
        raise AssertionError("redis-server did not start")
