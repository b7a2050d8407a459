"""Two `kefu serve` processes sharing the database and Redis: a buyer on one and an agent
on the other talk normally (issue: fan-out across processes)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, UowFactory, make_shop_with_staff

KEFU = Path(sys.executable).parent / "kefu"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The machine's Redis (127.0.0.1:6379), or a private redis-server when it is missing."""
    default = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(default, socket_connect_timeout=1).ping()
        yield default
        return
    except redis.RedisError:
        pass
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("Redis is not running on 127.0.0.1:6379 and redis-server is not installed")
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path_factory.mktemp("redis"),
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.RedisError:
            if time.monotonic() > deadline:
                server.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(10)


def _serve(
    database_url: str, redis_url: str, data_dir: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "KEFU_DATABASE_URL": database_url,
        "KEFU_REDIS_URL": redis_url,
        "KEFU_SECRET_KEY": TEST_SECRET,
        "KEFU_HOST": "127.0.0.1",
        "KEFU_PORT": str(port),
        "KEFU_DATA_DIR": str(data_dir),
        "KEFU_LOG_LEVEL": "WARNING",
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "server.log"
    process = subprocess.Popen(
        [str(KEFU), "serve"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"kefu serve did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)


def _frame(ws: ClientConnection, frame_type: str) -> dict[str, Any]:
    """The next frame of a type (skipping presence, receipts …), within 10 s."""
    deadline = time.monotonic() + 10
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {frame_type!r} frame within 10 s")
        frame: dict[str, Any] = json.loads(ws.recv(timeout=remaining))
        if frame["type"] == frame_type:
            return frame


def test_buyer_on_one_process_and_agent_on_another_talk(
    database_url: str, redis_url: str, uow_factory: UowFactory, tmp_path: Path
) -> None:
    staff = make_shop_with_staff(uow_factory, "twoproc")
    first, a = _serve(database_url, redis_url, tmp_path / "a")
    second, b = _serve(database_url, redis_url, tmp_path / "b")
    try:
        login = httpx.post(
            f"{b}/api/v1/auth/login",
            json={"shop": "twoproc", "email": staff.agent.email, "password": PASSWORD},
        )
        assert login.status_code == 200, login.text
        cookie = "; ".join(f"{k}={v}" for k, v in login.cookies.items())
        token = httpx.post(f"{a}/api/v1/widget/twoproc/session", json={}).json()["visitor_token"]
        with (
            connect(
                b.replace("http", "ws") + "/ws/desk",
                additional_headers={"Cookie": cookie, "Origin": b},
            ) as agent,
            connect(a.replace("http", "ws") + f"/ws/widget?token={token}") as buyer,
        ):
            assert _frame(agent, "ready")["agent"]["presence"] == "online"
            _frame(buyer, "ready")

            buyer.send(json.dumps({"type": "send", "client_msg_id": "c-1", "body": "在吗?"}))
            stored = _frame(buyer, "ack")["message"]
            arrived = _frame(agent, "message")
            assert arrived["message"]["id"] == stored["id"]
            assert arrived["message"]["body"] == "在吗?"
            # Routed on process A to the agent whose desk is open on process B.
            assert arrived["conversation"]["assignee_id"] == staff.agent.id

            agent.send(json.dumps({"type": "typing", "conversation_id": stored["conversation_id"]}))
            assert _frame(buyer, "typing")["name"] == staff.agent.display_name
            agent.send(
                json.dumps(
                    {
                        "type": "send",
                        "conversation_id": stored["conversation_id"],
                        "client_msg_id": "d-1",
                        "body": "在的,亲",
                    }
                )
            )
            reply = _frame(buyer, "message")
            while reply["message"]["sender_type"] != "agent":
                reply = _frame(buyer, "message")
            assert (reply["message"]["seq"], reply["message"]["body"]) == (2, "在的,亲")
    finally:
        for process in (first, second):
            process.terminate()
            process.wait(15)
