"""Live conversations under load: buyers' messages stored and delivered to the desk.

Starts a real Kefu server (one process, SQLite in a temporary directory) and, as the
baseline, a bare Starlette websocket echo server served by uvicorn the same way; drives
both with the same client code, the same connections and the same offered load, and prints
Kefu's figures beside the baseline's. See bench/README.md.

    .venv/bin/python bench/conversations.py --buyers 50 --agents 5 --rate 50 --seconds 5
    .venv/bin/python bench/conversations.py    # the target: 1,000 buyers at 1,000 msg/s

Phases, each driven by every buyer connection:

* ``open``: every buyer sends its first message (creating its conversation), paced at
  ``--rate`` in aggregate;
* ``steady``: ``--rate`` messages a second in aggregate for ``--seconds``, each buyer
  sending every ``buyers / rate`` seconds (the server lets a buyer send a burst of 10,
  then 1 a second);
* ``burst``: every buyer sends ``--burst`` messages at once (the rate limiter's burst),
  for the maximum throughput.

A message is *stored* when its buyer gets the ``ack``; it is *delivered* when the owner's
desk (which receives every conversation of the shop) gets its ``message`` frame. Latency
is from just before the buyer's send to that moment. The baseline's echo counts as both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any, Literal

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Origin

VENV_BIN = Path(sys.executable).parent
SHOP = "bench"
PASSWORD = "bench-password-" + "x" * 8  # a throwaway shop in a temporary directory
BODY = "请问这件羊毛衫还有 M 码吗？什么时候发货"
DESK_CAPACITY_MAX = 50  # the desk API's upper bound for an agent's capacity
QUIET_S = 1.0  # a phase is over when nothing arrived for this long (and nothing is pending)
CONNECT_CONCURRENCY = 50

Kind = Literal["paced", "burst"]


# --- what the workers are told and what they report -----------------------------------


@dataclass(frozen=True)
class DeskSpec:
    cookie: str
    measures: bool  # records every buyer message it receives (the owner's desk)


@dataclass(frozen=True)
class WorkerSpec:
    echo: bool  # the baseline: frames come back to the buyer that sent them
    ws_base: str
    origin: str
    buyers: list[tuple[int, str]]  # (buyer number, path and query of its websocket)
    desk_path: str
    desks: list[DeskSpec]
    compression: bool
    receipts: bool  # desks answer each buyer message with "delivered", as desk.js does
    use_uvloop: bool


@dataclass(frozen=True)
class Phase:
    letter: str  # first character of every client_msg_id of the phase
    name: str
    kind: Kind
    total_buyers: int
    rate: float = 0.0  # paced: messages a second, all buyers together
    seconds: float = 0.0  # paced: how long
    size: int = 0  # burst: messages per buyer
    start_ns: int = 0
    drain_max_s: float = 90.0

    @property
    def end_ns(self) -> int:
        return self.start_ns + int(self.seconds * 1e9)


@dataclass
class PhaseRecord:
    """What one worker saw of one phase. Times are time.monotonic_ns(), one clock for all."""

    sends: dict[str, int] = field(default_factory=dict)
    acks: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)  # measuring desk (or echo)
    duplicates: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    desk_counts: dict[int, int] = field(default_factory=dict)  # other desks: frames received
    buyer_echoes: int = 0  # "message" frames of their own message on the buyer's socket

    def error(self, code: str, sample: str) -> None:
        self.errors[code] += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(sample[:400])


@dataclass
class PhaseDone:
    cpu_s: float
    frames: int


@dataclass
class Connected:
    buyers: int
    desks: int
    failures: list[str]
    seconds: float


@dataclass
class WorkerResult:
    records: dict[str, PhaseRecord]
    closed: list[str]  # connections the server closed, with their close codes
    buyers_open: int
    desks_open: int


# --- the load worker (one asyncio loop; runs in a process of its own) ------------------


class Worker:
    def __init__(self, spec: WorkerSpec, pipe: Pipe) -> None:
        self.spec = spec
        self.pipe = pipe
        self.records: dict[str, PhaseRecord] = {}
        self.current = "-"  # letter of the running phase, for frames without a client id
        self.buyers: dict[int, ClientConnection] = {}
        self.desks: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.closed: list[str] = []
        self.last_frame_ns = time.monotonic_ns()
        self.frames = 0
        self.ready = 0
        self.stopping = False

    def record(self, letter: str) -> PhaseRecord:
        rec = self.records.get(letter)
        if rec is None:
            rec = self.records[letter] = PhaseRecord()
        return rec

    async def from_parent(self) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, self.pipe.recv)

    async def run(self) -> None:
        connected = await self.connect_all()
        self.pipe.send(connected)
        while True:
            command = await self.from_parent()
            if isinstance(command, Phase):
                self.pipe.send(await self.run_phase(command))
            else:  # "finish"
                self.stopping = True
                result = WorkerResult(
                    records=self.records,
                    closed=self.closed,
                    buyers_open=sum(1 for ws in self.buyers.values() if ws.close_code is None),
                    desks_open=sum(1 for ws in self.desks if ws.close_code is None),
                )
                await self.close_all()
                self.pipe.send(result)
                return

    # connections

    async def open(self, path: str, cookie: str | None) -> ClientConnection:
        return await connect(
            self.spec.ws_base + path,
            origin=Origin(self.spec.origin) if cookie is not None else None,
            additional_headers={"Cookie": cookie} if cookie else None,
            compression="deflate" if self.spec.compression else None,
            proxy=None,
            open_timeout=60,
            ping_interval=None,  # browsers do not ping; the server's pings are answered
            max_queue=None,  # like a browser: never stop reading
        )

    async def connect_all(self) -> Connected:
        started = time.monotonic()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        failures: list[str] = []

        async def desk(spec: DeskSpec) -> None:
            async with gate:
                try:
                    ws = await self.open(self.spec.desk_path, spec.cookie)
                except (OSError, WebSocketException, TimeoutError) as exc:
                    failures.append(f"desk: {exc!r}")
                    return
            self.desks.append(ws)
            reader = self.measuring_desk if spec.measures else self.counting_desk
            self.readers.append(asyncio.create_task(reader(ws, len(self.desks))))

        async def buyer(number: int, path: str) -> None:
            async with gate:
                try:
                    ws = await self.open(path, None)
                except (OSError, WebSocketException, TimeoutError) as exc:
                    failures.append(f"buyer {number}: {exc!r}")
                    return
            self.buyers[number] = ws
            self.readers.append(asyncio.create_task(self.buyer_reader(ws, number)))

        # Desks first, so the agents are online when the first conversations are routed.
        await asyncio.gather(*(desk(d) for d in self.spec.desks))
        await asyncio.gather(*(buyer(n, p) for n, p in self.spec.buyers))
        expected = len(self.spec.desks) + len(self.spec.buyers)
        deadline = time.monotonic() + 30
        while not self.spec.echo and self.ready < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # every Kefu socket says "ready" first
        return Connected(
            buyers=len(self.buyers),
            desks=len(self.desks),
            failures=failures[:10] + ([f"... {len(failures)} in all"] if failures[10:] else []),
            seconds=time.monotonic() - started,
        )

    async def close_all(self) -> None:
        for task in self.readers:
            task.cancel()
        sockets = [*self.buyers.values(), *self.desks]
        gate = asyncio.Semaphore(200)

        async def close(ws: ClientConnection) -> None:
            async with gate:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), 5)

        await asyncio.gather(*(close(ws) for ws in sockets))

    def lost_connection(self, who: str, ws: ClientConnection) -> None:
        if not self.stopping:
            self.closed.append(
                f"{who} closed by the server: code {ws.close_code} {ws.close_reason!r}"
            )

    # readers

    def _seen(self) -> int:
        now = time.monotonic_ns()
        self.last_frame_ns = now
        self.frames += 1
        return now

    async def buyer_reader(self, ws: ClientConnection, number: int) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in ws:
                now = self._seen()
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "ack":
                    cid = frame["client_msg_id"]
                    self.record(cid[0]).acks[cid] = now
                elif kind == "send":  # the echo baseline: stored and delivered at once
                    cid = frame["client_msg_id"]
                    rec = self.record(cid[0])
                    rec.acks[cid] = now
                    rec.deliveries[cid] = now
                elif kind == "message":
                    self.record(frame["message"]["client_msg_id"][0]).buyer_echoes += 1
                elif kind == "ready":
                    self.ready += 1
                elif kind == "error":
                    cid = frame.get("client_msg_id") or self.current
                    self.record(cid[0]).error(frame.get("code", "?"), f"buyer {number}: {text!s}")
        self.lost_connection(f"buyer {number}", ws)

    async def measuring_desk(self, ws: ClientConnection, number: int) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in ws:
                now = self._seen()
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "message":
                    message = frame["message"]
                    if message["sender_type"] != "customer":
                        continue
                    cid = message["client_msg_id"]
                    rec = self.record(cid[0])
                    if cid in rec.deliveries:
                        rec.duplicates += 1
                    else:
                        rec.deliveries[cid] = now
                    if self.spec.receipts:
                        await self.delivered(ws, message)
                elif kind == "ready":
                    self.ready += 1
                elif kind == "error":
                    cid = frame.get("client_msg_id") or self.current
                    self.record(cid[0]).error(frame.get("code", "?"), f"desk {number}: {text!s}")
        self.lost_connection(f"desk {number}", ws)

    async def counting_desk(self, ws: ClientConnection, number: int) -> None:
        """An agent's desk: counts the buyer messages it receives, without decoding them
        (the server encodes frames with "type" first and no spaces)."""
        marker = b'"client_msg_id":"'
        with contextlib.suppress(ConnectionClosed):
            while True:
                data = await ws.recv(decode=False)
                self._seen()
                if data.startswith(b'{"type":"message"') and b'"sender_type":"customer"' in data:
                    at = data.find(marker) + len(marker)
                    rec = self.record(chr(data[at]))
                    rec.desk_counts[number] = rec.desk_counts.get(number, 0) + 1
                    if self.spec.receipts:
                        await self.delivered(ws, json.loads(data)["message"])
                elif data.startswith(b'{"type":"ready"'):
                    self.ready += 1
                elif data.startswith(b'{"type":"error"'):
                    text = data.decode()
                    frame = json.loads(text)
                    cid = frame.get("client_msg_id") or self.current
                    self.record(cid[0]).error(frame.get("code", "?"), f"desk {number}: {text}")
        self.lost_connection(f"desk {number}", ws)

    @staticmethod
    async def delivered(ws: ClientConnection, message: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(
                json.dumps(
                    {
                        "type": "delivered",
                        "conversation_id": message["conversation_id"],
                        "seq": message["seq"],
                    }
                )
            )

    # load

    async def send(self, ws: ClientConnection, number: int, letter: str, k: int) -> None:
        cid = f"{letter}{number}-{k}"
        now = time.monotonic_ns()
        frame = json.dumps(
            {"type": "send", "client_msg_id": cid, "body": f"{BODY} #{k} @{now}"},
            ensure_ascii=False,
        )
        rec = self.record(letter)
        rec.sends[cid] = now
        try:
            await ws.send(frame)
        except ConnectionClosed:
            rec.error("send_failed", f"buyer {number}: {cid} on a closed socket")

    async def drive(self, number: int, ws: ClientConnection, phase: Phase) -> None:
        if phase.kind == "burst":
            await sleep_until(phase.start_ns)
            for k in range(phase.size):
                await self.send(ws, number, phase.letter, k)
            return
        # Buyer n sends at start + n/rate, then every buyers/rate seconds.
        interval = phase.total_buyers / phase.rate * 1e9
        at, k = phase.start_ns + number / phase.rate * 1e9, 0
        while at < phase.end_ns:
            await sleep_until(int(at))
            await self.send(ws, number, phase.letter, k)
            k += 1
            at += interval

    def pending(self) -> int:
        rec = self.records.get(self.current)
        if rec is None:
            return 0
        return len(rec.sends) - len(rec.acks) - sum(rec.errors.values())

    async def run_phase(self, phase: Phase) -> PhaseDone:
        self.current = phase.letter
        self.record(phase.letter)
        cpu, frames = time.process_time(), self.frames
        await asyncio.gather(*(self.drive(n, ws, phase) for n, ws in self.buyers.items()))
        await sleep_until(phase.end_ns if phase.kind == "paced" else phase.start_ns)
        # Then until every message is acked (or refused) and the sockets went quiet; a
        # worker with desks only knows no better than quiet. Late frames still count.
        deadline = time.monotonic() + phase.drain_max_s
        while time.monotonic() < deadline:
            quiet = (time.monotonic_ns() - self.last_frame_ns) / 1e9
            if self.pending() <= 0 and quiet > QUIET_S:
                break
            await asyncio.sleep(0.05)
        return PhaseDone(
            cpu_s=time.process_time() - cpu,
            frames=self.frames - frames,
        )


async def sleep_until(at_ns: int) -> None:
    delay = (at_ns - time.monotonic_ns()) / 1e9
    if delay > 0:
        await asyncio.sleep(delay)


def worker_main(spec: WorkerSpec, pipe: Pipe) -> None:
    raise_open_files(len(spec.buyers) + len(spec.desks) + 100)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if spec.use_uvloop:
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(Worker(spec, pipe).run())


# --- servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed and soft != resource.RLIM_INFINITY:
        target = hard if hard == resource.RLIM_INFINITY else max(soft, min(hard, needed * 2))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < needed:
        print(f"warning: open file limit {soft} < {needed} needed (hard limit {hard})")


class Server:
    """A server in a subprocess, its log in a file; CPU time and peak RSS from /proc."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log: Path, port: int
    ) -> None:
        self.name, self.log, self.port = name, log, port
        self.base = f"http://127.0.0.1:{port}"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 (our own venv's programs)
                argv,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/healthz", timeout=2, trust_env=False).is_success:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /healthz in {timeout:.0f} s")

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return math.nan

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def serve_echo(port: int) -> None:
    """The baseline: a bare Starlette app echoing each text frame, served like Kefu."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.send_text(await websocket.receive_text())

    async def healthz(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/healthz", healthz), WebSocketRoute("/echo", echo)])
    # The same defaults as `kefu serve` (uvloop, httptools, websockets-sansio, deflate).
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", server_header=False)


def kefu_env(tmp: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        KEFU_DATABASE_URL=f"sqlite:///{tmp}/bench.db",
        KEFU_SECRET_KEY=secrets.token_urlsafe(30)[:40],
        KEFU_DATA_DIR=str(tmp),
        KEFU_LOG_LEVEL="WARNING",
        KEFU_LOG_FORMAT="json",
        KEFU_HOST="127.0.0.1",
        KEFU_PORT=str(port),
        # Every simulated buyer comes from 127.0.0.1: lift the per-address limit on new
        # anonymous visitors (a real shop's buyers come from many addresses).
        KEFU_NEW_VISITORS_PER_MINUTE="1000000",
    )
    return env


def kefu_cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(  # noqa: S603 (our own venv's kefu)
        [str(VENV_BIN / "kefu"), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"kefu {' '.join(args[:1])} failed: {done.stderr or done.stdout}")


def cookie_header(client: httpx.AsyncClient) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)


async def prepare_kefu(
    base: str, *, agents: int, buyers: int, bot: bool = False
) -> tuple[list[str], list[str]]:
    """Agents in team presale with room for every buyer; their desk cookies (the owner's
    first), and one visitor token per buyer. ``bot``: the shop's bot receives each buyer
    first (it has no FAQ: it greets, asks twice, then hands the buyer to presale)."""
    capacity = min(DESK_CAPACITY_MAX, max(5, math.ceil(buyers / max(agents, 1))))

    async def login(email: str) -> tuple[httpx.AsyncClient, str]:
        client = httpx.AsyncClient(base_url=base, timeout=60, trust_env=False)
        reply = await client.post(
            "/api/v1/auth/login", json={"shop": SHOP, "email": email, "password": PASSWORD}
        )
        reply.raise_for_status()
        return client, str(reply.json()["csrf_token"])

    owner, csrf = await login("owner@bench.test")
    try:
        if bot:
            (
                await owner.patch(
                    "/api/v1/bot/settings",
                    headers={"X-CSRF-Token": csrf},
                    json={"enabled": True, "work_start": "00:00", "work_end": "23:59"},
                )
            ).raise_for_status()
        teams = (await owner.get("/api/v1/teams")).raise_for_status().json()
        presale = next(t["id"] for t in teams if t["code"] == "presale")
        # With the bot, buyers reach whichever team their intent belongs to.
        team_ids = [t["id"] for t in teams] if bot else [presale]
        for i in range(agents):
            created = await owner.post(
                "/api/v1/agents",
                headers={"X-CSRF-Token": csrf},
                json={
                    "email": f"agent{i}@bench.test",
                    "display_name": f"客服{i:02d}",
                    "password": PASSWORD,
                    "role": "agent",
                    "team_ids": team_ids,
                },
            )
            created.raise_for_status()
            (
                await owner.put(
                    f"/api/v1/desk/agents/{created.json()['id']}/capacity",
                    headers={"X-CSRF-Token": csrf},
                    json={"capacity": capacity},
                )
            ).raise_for_status()
        cookies = [cookie_header(owner)]
    finally:
        await owner.aclose()
    for i in range(agents):
        client, _ = await login(f"agent{i}@bench.test")
        cookies.append(cookie_header(client))
        await client.aclose()

    gate = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=base, timeout=60, trust_env=False) as http:

        async def session() -> str:
            async with gate:
                reply = await http.post(f"/api/v1/widget/{SHOP}/session", json={})
                return str(reply.raise_for_status().json()["visitor_token"])

        tokens = await asyncio.gather(*(session() for _ in range(buyers)))
    return cookies, tokens


async def desk_overview(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60, trust_env=False) as http:
        reply = await http.post(
            "/api/v1/auth/login",
            json={"shop": SHOP, "email": "owner@bench.test", "password": PASSWORD},
        )
        reply.raise_for_status()
        overview: dict[str, Any] = (await http.get("/api/v1/desk/overview")).json()
        return overview


# --- one run: a server, the workers, the phases ---------------------------------------


@dataclass
class PhaseFigures:
    name: str
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    lost: int = 0  # stored (acked) and never delivered to the measuring desk
    unacked: int = 0  # sent, neither acked nor refused
    duplicates: int = 0
    buyer_echoes: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    offered_per_s: float = math.nan
    stored_per_s: float = math.nan
    delivered_per_s: float = math.nan
    ack_p50: float = math.nan
    ack_p99: float = math.nan
    p50: float = math.nan
    p99: float = math.nan
    max: float = math.nan
    server_cpu: float = math.nan
    server_cpu_ms_per_msg: float = math.nan
    client_cpu: list[float] = field(default_factory=list)
    client_frames_per_s: float = math.nan
    desk_min: int | None = None  # buyer messages the least served agent desk received
    desk_max: int | None = None


@dataclass
class RunFigures:
    name: str
    buyers_held: int = 0
    desks_held: int = 0
    buyers_open_at_end: int = 0
    desks_open_at_end: int = 0
    connect_s: float = math.nan
    connect_failures: list[str] = field(default_factory=list)
    phases: dict[str, PhaseFigures] = field(default_factory=dict)
    peak_rss_mib: float = math.nan
    closed: list[str] = field(default_factory=list)
    server_exit: int | None = None
    server_log: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    return values[min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))]


def phase_figures(
    phase: Phase, records: list[PhaseRecord], done: list[PhaseDone], server_cpu: float, wall: float
) -> PhaseFigures:
    fig = PhaseFigures(name=phase.name)
    sends: dict[str, int] = {}
    acks: dict[str, int] = {}
    deliveries: dict[str, int] = {}
    desk_counts: Counter[int] = Counter()
    for rec in records:
        sends.update(rec.sends)
        acks.update(rec.acks)
        for cid, at in rec.deliveries.items():
            deliveries[cid] = min(at, deliveries.get(cid, at))
        fig.duplicates += rec.duplicates
        fig.buyer_echoes += rec.buyer_echoes
        fig.errors.update(rec.errors)
        fig.error_samples.extend(rec.error_samples[: 5 - len(fig.error_samples)])
        desk_counts.update(rec.desk_counts)
    fig.sent, fig.acked = len(sends), sum(1 for cid in acks if cid in sends)
    fig.delivered = sum(1 for cid in deliveries if cid in sends)
    fig.lost = sum(1 for cid in acks if cid not in deliveries)
    refused = sum(fig.errors.values())
    fig.unacked = max(0, fig.sent - fig.acked - refused)
    if sends:
        first, last = min(sends.values()), max(sends.values())
        if phase.kind == "paced":
            fig.offered_per_s = fig.sent / max(phase.seconds, (last - first) / 1e9)
        elif last > first:
            fig.offered_per_s = fig.sent / ((last - first) / 1e9)
        if acks:
            fig.stored_per_s = fig.acked / max(1e-9, (max(acks.values()) - first) / 1e9)
        if deliveries:
            span = (max(deliveries.values()) - first) / 1e9
            fig.delivered_per_s = fig.delivered / max(1e-9, span)
    ack_ms = sorted((acks[c] - sends[c]) / 1e6 for c in acks if c in sends)
    lat_ms = sorted((deliveries[c] - sends[c]) / 1e6 for c in deliveries if c in sends)
    fig.ack_p50, fig.ack_p99 = percentile(ack_ms, 50), percentile(ack_ms, 99)
    fig.p50, fig.p99 = percentile(lat_ms, 50), percentile(lat_ms, 99)
    fig.max = lat_ms[-1] if lat_ms else math.nan
    fig.server_cpu = 100 * server_cpu / wall if wall else math.nan
    fig.server_cpu_ms_per_msg = 1000 * server_cpu / fig.acked if fig.acked else math.nan
    fig.client_cpu = [100 * d.cpu_s / wall for d in done] if wall else []
    fig.client_frames_per_s = sum(d.frames for d in done) / wall if wall else math.nan
    if desk_counts:
        fig.desk_min, fig.desk_max = min(desk_counts.values()), max(desk_counts.values())
    return fig


@dataclass
class Options:
    buyers: int
    agents: int
    rate: float
    seconds: float
    burst: int
    client_procs: int
    compression: bool
    receipts: bool
    use_uvloop: bool
    py_spy: str | None
    profile_phase: str
    profile_seconds: float
    samples: Path | None
    bot: bool = False


def split_workers(
    opts: Options, echo: bool, base: str, paths: list[str], desk_path: str, desks: list[DeskSpec]
) -> list[WorkerSpec]:
    """One process: everything. More: desks in the first, buyers shared by the others."""
    ws_base = base.replace("http://", "ws://")
    buyers = list(enumerate(paths))
    common: dict[str, Any] = {
        "echo": echo,
        "ws_base": ws_base,
        "origin": base,
        "desk_path": desk_path,
        "compression": opts.compression,
        "receipts": opts.receipts,
        "use_uvloop": opts.use_uvloop,
    }
    if opts.client_procs <= 1:
        return [WorkerSpec(buyers=buyers, desks=desks, **common)]
    shares = opts.client_procs - 1
    return [
        WorkerSpec(buyers=[], desks=desks, **common),
        *(WorkerSpec(buyers=buyers[i::shares], desks=[], **common) for i in range(shares)),
    ]


def run_load(
    opts: Options,
    server: Server,
    specs: list[WorkerSpec],
    fig: RunFigures,
    profile_to: Path | None,
    samples: Path | None,
) -> None:
    ctx = multiprocessing.get_context("spawn")
    pipes: list[Pipe] = []
    procs = []
    for spec in specs:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker_main, args=(spec, child), daemon=True)
        proc.start()
        pipes.append(parent)
        procs.append(proc)

    def gather(timeout: float) -> list[Any]:
        replies = []
        for pipe, proc in zip(pipes, procs, strict=True):
            if not pipe.poll(timeout):
                raise RuntimeError(f"client worker {proc.pid} did not answer in {timeout:.0f} s")
            replies.append(pipe.recv())
        return replies

    try:
        connected: list[Connected] = gather(600)
        fig.buyers_held = sum(c.buyers for c in connected)
        fig.desks_held = sum(c.desks for c in connected)
        fig.connect_s = max(c.seconds for c in connected)
        fig.connect_failures = [f for c in connected for f in c.failures]
        say(
            f"{fig.name}: {fig.buyers_held} buyers and {fig.desks_held} desks connected "
            f"in {fig.connect_s:.1f} s"
        )
        n = opts.buyers
        phases = [
            Phase("o", "open", "paced", n, rate=opts.rate, seconds=n / opts.rate),
            Phase("s", "steady", "paced", n, rate=opts.rate, seconds=opts.seconds),
        ]
        if opts.burst > 0:
            phases.append(Phase("b", "burst", "burst", n, size=opts.burst))
        done_by_phase: dict[str, tuple[Phase, list[PhaseDone], float, float]] = {}
        for phase in phases:
            if phase.kind == "burst":
                time.sleep(3)  # the buyers' token buckets fill up again
            start_ns = time.monotonic_ns() + 300_000_000
            timed = Phase(**{**phase.__dict__, "start_ns": start_ns})
            cpu0, wall0 = server.cpu_seconds(), time.monotonic()
            spy = None
            if opts.py_spy and profile_to and phase.name == opts.profile_phase:
                spy = start_profile(opts.py_spy, server.proc.pid, profile_to, opts)
            say(f"{fig.name}: phase {phase.name}")
            for pipe in pipes:
                pipe.send(timed)
            done: list[PhaseDone] = gather(phase.seconds + phase.drain_max_s + 120)
            done_by_phase[phase.letter] = (
                timed,
                done,
                server.cpu_seconds() - cpu0,
                time.monotonic() - wall0,
            )
            if spy is not None:
                spy.wait(60)
        fig.peak_rss_mib = server.peak_rss_mib()
        for pipe in pipes:
            pipe.send("finish")
        results: list[WorkerResult] = gather(120)
        for phase_, done, server_cpu, wall in done_by_phase.values():
            records = [r.records.get(phase_.letter, PhaseRecord()) for r in results]
            fig.phases[phase_.name] = phase_figures(phase_, records, done, server_cpu, wall)
            if samples is not None:
                write_samples(samples, fig.name, phase_, records)
        fig.closed = [c for r in results for c in r.closed]
        fig.buyers_open_at_end = sum(r.buyers_open for r in results)
        fig.desks_open_at_end = sum(r.desks_open for r in results)
        if len(fig.closed) > 10:
            fig.closed = [*fig.closed[:10], f"... {len(fig.closed)} in all"]
    finally:
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()


def write_samples(path: Path, run: str, phase: Phase, records: list[PhaseRecord]) -> None:
    """One line per message: when it was sent, acked and delivered, in ms from the phase's
    start (empty when it never was)."""
    acks: dict[str, int] = {}
    deliveries: dict[str, int] = {}
    for rec in records:
        acks.update(rec.acks)
        deliveries.update(rec.deliveries)
    new = not path.exists()
    with path.open("a") as out:
        if new:
            out.write("run,phase,client_msg_id,sent_ms,acked_ms,delivered_ms\n")
        for rec in records:
            for cid, sent in rec.sends.items():
                at = [sent, acks.get(cid), deliveries.get(cid)]
                ms = ["" if t is None else f"{(t - phase.start_ns) / 1e6:.3f}" for t in at]
                out.write(f"{run},{phase.name},{cid},{','.join(ms)}\n")


def start_profile(
    py_spy: str, pid: int, out: Path, opts: Options
) -> subprocess.Popen[bytes] | None:
    seconds = max(1, round(opts.profile_seconds))
    return subprocess.Popen(  # noqa: S603 (the py-spy the user named)
        [
            *(py_spy, "record", "--pid", str(pid), "--duration", str(seconds)),
            *("--rate", "100", "--format", "raw", "--nonblocking", "--output", str(out)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def summarise_profile(path: Path, seconds: float, top: int = 15) -> list[str]:
    """py-spy's collapsed stacks → where the server's threads were busy: the functions most
    often on top of the stack (self) and on it at all (inclusive), as a share of samples.

    uvloop calls callbacks from C, so the event loop's stacks often start at the callback;
    a stack through anyio's WorkerThread.run is a worker thread (database work)."""
    if not path.exists():
        return [f"(no profile at {path}: did py-spy have permission to attach?)"]
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        names = []
        for frame in stack.split(";"):
            match = FRAME.match(frame)
            if match is None:
                continue
            file = match["file"]
            for marker in ("site-packages/", "/src/", "lib/python3.11/"):
                if marker in file:
                    file = file.split(marker, 1)[1]
                    break
            names.append(f"{match['fn']} ({file})")
        if not names:
            continue
        total += count
        if "WorkerThread.run" in stack:
            threads["worker threads"] += count
        elif stack.startswith("Thread._bootstrap"):
            threads["other threads"] += count
        else:
            threads["event loop"] += count
        own[names[-1]] += count
        for name in set(names):
            inclusive[name] += count
    if not total:
        return ["(empty profile)"]
    split = ", ".join(f"{k} {100 * c / total:.0f}%" for k, c in threads.most_common())
    lines = [
        f"{total} busy samples in {seconds:.0f} s at 100/s ({split}); self time:",
        *(f"  {100 * c / total:5.1f}%  {name}" for name, c in own.most_common(top)),
        "inclusive, Kefu's own functions:",
    ]
    ours = [(n, c) for n, c in inclusive.most_common() if "(kefu/" in n][:top]
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in ours]
    lines.append("inclusive, libraries (below the server's entry points):")
    skip = ("threading.py", "click/", "uvicorn/main.py", "uvicorn/server.py", "_compat.py")
    libs = [
        (n, c)
        for n, c in inclusive.most_common()
        if "(kefu/" not in n and "runners.py" not in n and not any(s in n for s in skip)
    ]
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in libs[:top]]
    return lines


def server_log_lines(log: Path) -> list[str]:
    """Warnings and errors the server logged (JSON lines), and anything that is not JSON."""
    found: list[str] = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if line.strip() and not line.startswith("Kefu "):
                found.append(line)
            continue
        if isinstance(entry, dict) and entry.get("level") in ("warning", "error", "critical"):
            found.append(f"{entry.get('level')}: {entry.get('logger')}: {entry.get('msg')}")
            if entry.get("exc"):
                found.append("    " + str(entry["exc"]).splitlines()[-1])
    return found


def stored_in_database(db: Path) -> Counter[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT sender_type, count(*) FROM messages GROUP BY sender_type")
        return Counter({str(kind): int(count) for kind, count in rows})


def run_baseline(opts: Options, tmp: Path) -> RunFigures:
    fig = RunFigures(name="baseline")
    log = tmp / "echo-server.log"
    port = free_port()
    argv = [sys.executable, __file__, "--echo-server", str(port)]
    server = Server("echo server", argv, dict(os.environ), log, port)
    try:
        server.wait_healthy()
        paths = ["/echo"] * opts.buyers
        desks = [DeskSpec(cookie="", measures=False) for _ in range(opts.agents + 1)]
        specs = split_workers(opts, True, server.base, paths, "/echo", desks)
        run_load(opts, server, specs, fig, None, opts.samples)
    finally:
        fig.server_exit = server.stop()
        fig.server_log = server_log_lines(log)
    return fig


def run_kefu(opts: Options, tmp: Path) -> RunFigures:
    fig = RunFigures(name="kefu")
    port = free_port()
    env = kefu_env(tmp, port)
    started = time.monotonic()
    kefu_cli(env, "migrate")
    kefu_cli(env, "create-shop", "--slug", SHOP, "--name", "压测小店")
    owner = ["--email", "owner@bench.test", "--name", "店主", "--role", "owner"]
    kefu_cli(env, "create-agent", "--shop", SHOP, *owner, "--password", PASSWORD)
    log = tmp / "kefu-server.log"
    server = Server("kefu", [str(VENV_BIN / "kefu"), "serve"], env, log, port)
    try:
        server.wait_healthy()
        cookies, tokens = asyncio.run(
            prepare_kefu(server.base, agents=opts.agents, buyers=opts.buyers, bot=opts.bot)
        )
        fig.notes.append(
            f"set-up (migrate, shop, {opts.agents} agents, {opts.buyers} widget sessions): "
            f"{time.monotonic() - started:.1f} s"
        )
        desks = [DeskSpec(cookie=c, measures=i == 0) for i, c in enumerate(cookies)]
        paths = [f"/ws/widget?token={t}" for t in tokens]
        specs = split_workers(opts, False, server.base, paths, "/ws/desk", desks)
        profile = tmp / "kefu-profile.txt" if opts.py_spy else None
        run_load(opts, server, specs, fig, profile, opts.samples)
        overview = asyncio.run(desk_overview(server.base))
        teams = {t["code"]: t for t in overview.get("teams", [])}
        presale = teams.get("presale", {})
        loads = [a["open_count"] for a in overview.get("agents", []) if a.get("team_ids")]
        fig.notes.append(
            f"routing: presale open {presale.get('open')}, queued {presale.get('queued')}; "
            f"agents' open conversations {min(loads, default=0)}–{max(loads, default=0)}"
        )
    finally:
        fig.server_exit = server.stop()
        fig.server_log = server_log_lines(log)
    if opts.py_spy:
        fig.profile = summarise_profile(tmp / "kefu-profile.txt", opts.profile_seconds)
    stored = stored_in_database(tmp / "bench.db")
    acked = sum(p.acked for p in fig.phases.values())
    fig.notes.append(
        f"database: {stored.get('customer', 0)} buyer messages stored, {acked} acked "
        f"(other rows: { {k: v for k, v in stored.items() if k != 'customer'} })"
    )
    return fig


# --- the report ------------------------------------------------------------------------


def revision() -> str:
    git = shutil.which("git")
    if git is None:
        return "?"
    done = subprocess.run(  # noqa: S603 (git, to name what was measured)
        [git, "-C", str(Path(__file__).parent), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def ratio(kefu: float | int | None, base: float | int | None) -> str:
    if kefu is None or base is None or not base:
        return ""
    value = kefu / base
    return f"{value:.2f}×" if math.isfinite(value) else ""


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str] | str] = []

    def heading(self, text: str) -> None:
        self.rows.append(text)

    def row(
        self,
        label: str,
        kefu: float | int | None,
        base: float | int | None,
        digits: int = 0,
        compare: bool = True,
    ) -> None:
        self.rows.append(
            (
                label,
                number(kefu, digits),
                number(base, digits),
                ratio(kefu, base) if compare else "",
            )
        )

    def text(self, row: tuple[str, str, str, str]) -> None:
        self.rows.append(row)

    def render(self) -> str:
        header = ("", "Kefu", "baseline", "Kefu/baseline")
        cells = [header, *(r for r in self.rows if isinstance(r, tuple))]
        widths = [max(len(c[i]) for c in cells) for i in range(4)]

        def line(r: tuple[str, str, str, str]) -> str:
            return "  ".join(
                [r[0].ljust(widths[0])]
                + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
            )

        out = [line(header), "-" * (sum(widths) + 6)]
        for r in self.rows:
            out.append(r if isinstance(r, str) else line(r))
        return "\n".join(out)


PHASE_TITLES = {
    "open": "open: each buyer's first message (starts its conversation), {n} at {rate}/s",
    "steady": "steady: {rate} msg/s offered for {seconds} s",
    "burst": "burst: every buyer sends {burst} at once ({total} messages)",
}


def report(opts: Options, kefu: RunFigures | None, base: RunFigures | None) -> str:
    empty = RunFigures(name="-")
    k, b = kefu or empty, base or empty
    table = Table()
    table.text(
        (
            "connections held (buyers + desks)",
            f"{k.buyers_held} + {k.desks_held}" if kefu else "–",
            f"{b.buyers_held} + {b.desks_held}" if base else "–",
            "",
        )
    )
    table.text(
        (
            "  still open at the end",
            f"{k.buyers_open_at_end} + {k.desks_open_at_end}" if kefu else "–",
            f"{b.buyers_open_at_end} + {b.desks_open_at_end}" if base else "–",
            "",
        )
    )
    table.row("time to connect them all, s", k.connect_s, b.connect_s, 1)
    for name, title in PHASE_TITLES.items():
        kp, bp = k.phases.get(name), b.phases.get(name)
        if kp is None and bp is None:
            continue
        kp, bp = kp or PhaseFigures(name), bp or PhaseFigures(name)
        table.heading(
            "\n"
            + title.format(
                n=opts.buyers,
                rate=number(opts.rate),
                seconds=number(opts.seconds),
                burst=opts.burst,
                total=number(opts.buyers * opts.burst),
            )
        )
        table.row("  offered msg/s (as sent)", kp.offered_per_s, bp.offered_per_s)
        table.row("  stored msg/s (acked; baseline: echoed)", kp.stored_per_s, bp.stored_per_s)
        table.row("  delivered msg/s (owner's desk)", kp.delivered_per_s, bp.delivered_per_s)
        table.row("  ack latency p50, ms", kp.ack_p50, bp.ack_p50, 1)
        table.row("  ack latency p99, ms", kp.ack_p99, bp.ack_p99, 1)
        table.row("  delivery latency p50, ms", kp.p50, bp.p50, 1)
        table.row("  delivery latency p99, ms", kp.p99, bp.p99, 1)
        table.row("  delivery latency max, ms", kp.max, bp.max, 1)
        table.row("  sent", kp.sent, bp.sent, compare=False)
        table.row("  lost (acked, never delivered)", kp.lost, bp.lost, compare=False)
        table.row("  unacked (no ack, no error)", kp.unacked, bp.unacked, compare=False)
        table.row("  error frames", sum(kp.errors.values()), sum(bp.errors.values()), compare=False)
        if kefu:
            table.text(
                (
                    "  agent desks received (min–max)",
                    "–" if kp.desk_min is None else f"{kp.desk_min:,}–{kp.desk_max:,}",
                    "",
                    "",
                )
            )
        table.row("  server CPU, % of one core", kp.server_cpu, bp.server_cpu)
        table.row(
            "  server CPU per message, ms",
            kp.server_cpu_ms_per_msg,
            bp.server_cpu_ms_per_msg,
            2,
        )
        table.text(
            (
                "  client CPU, % of one core",
                "/".join(number(c) for c in kp.client_cpu) or "–",
                "/".join(number(c) for c in bp.client_cpu) or "–",
                "",
            )
        )
        table.row("  client frames received/s", kp.client_frames_per_s, bp.client_frames_per_s)
    table.heading("")
    table.row("server peak RSS (VmHWM), MiB", k.peak_rss_mib, b.peak_rss_mib, 1)
    out = [table.render()]

    if kefu:
        out.append("\n" + verdict(opts, kefu))
    for fig in (kefu, base):
        if fig is not None:
            out.append(details(fig))
    return "\n".join(out)


def verdict(opts: Options, fig: RunFigures) -> str:
    steady = fig.phases.get("steady", PhaseFigures("steady"))
    held = min(fig.buyers_held, fig.buyers_open_at_end)
    target = 1000.0
    checks = [
        (f"{held} buyer connections held to the end (≥ 1,000)", held >= 1000),
        (
            f"stored {number(steady.stored_per_s)} msg/s, delivered "
            f"{number(steady.delivered_per_s)} msg/s (≥ 1,000, within 1 %)",
            min(steady.stored_per_s, steady.delivered_per_s) >= 0.99 * target,
        ),
        (f"delivery p99 {number(steady.p99, 1)} ms (< 100 ms)", steady.p99 < 100),
        (
            f"{steady.lost} lost, {steady.unacked} unacked, {sum(steady.errors.values())} errors",
            steady.lost + steady.unacked + sum(steady.errors.values()) == 0,
        ),
    ]
    lines = [
        "Target (steady phase): 1,000 buyers held; ≥ 1,000 msg/s stored and delivered; p99 < 100 ms"
    ]
    if opts.rate < target or opts.buyers < 1000:
        lines.append("  (this run offers less than the target: the checks cannot all pass)")
    lines += [f"  [{'ok' if ok else 'NO'}] {text}" for text, ok in checks]
    busy = [c for p in fig.phases.values() for c in p.client_cpu if c > 90]
    if busy:
        lines.append(
            f"  note: a client process ran at {max(busy):.0f}% of a core: the client, not only "
            "the server, bounds these figures (the machine has "
            f"{os.cpu_count()} cores for server and client)"
        )
    return "\n".join(lines)


def details(fig: RunFigures) -> str:
    lines = [f"\n{fig.name}:"]
    lines += [f"  {note}" for note in fig.notes]
    for phase in fig.phases.values():
        if phase.errors:
            lines.append(f"  {phase.name}: error frames {dict(phase.errors)}")
            lines += [f"    e.g. {sample}" for sample in phase.error_samples]
        if phase.duplicates:
            lines.append(f"  {phase.name}: {phase.duplicates} duplicate deliveries")
    if fig.connect_failures:
        lines.append("  connections that failed:")
        lines += [f"    {f}" for f in fig.connect_failures]
    if fig.closed:
        lines.append("  connections closed by the server during the run:")
        lines += [f"    {c}" for c in fig.closed]
    if fig.server_exit not in (0, None, -signal.SIGTERM):
        lines.append(f"  the server exited with {fig.server_exit}")
    if fig.server_log:
        counts = Counter(line.split(":", 1)[0] for line in fig.server_log)
        lines.append(f"  server log: {dict(counts)}; first lines:")
        lines += [f"    {line[:300]}" for line in dict.fromkeys(fig.server_log)][:12]
    else:
        lines.append("  server log: no warnings or errors")
    if fig.profile:
        lines.append("  profile of the server (py-spy):")
        lines += [f"    {line}" for line in fig.profile]
    return "\n".join(lines)


def trouble(fig: RunFigures | None) -> bool:
    if fig is None:
        return False
    bad = any(p.lost or p.unacked or p.errors for p in fig.phases.values())
    return bad or bool(fig.server_log or fig.closed or fig.connect_failures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Buyers' messages stored and delivered to the desk, beside a bare "
        "Starlette websocket echo server (see bench/README.md)."
    )
    parser.add_argument("--buyers", type=int, default=1000, help="buyer connections held")
    parser.add_argument("--agents", type=int, default=20, help="agents' desks (team presale)")
    parser.add_argument("--rate", type=float, default=1000, help="messages a second, in all")
    parser.add_argument("--seconds", type=float, default=20, help="length of the steady phase")
    parser.add_argument(
        "--burst", type=int, default=10, help="messages each buyer sends at once (0: no burst)"
    )
    parser.add_argument(
        "--client-procs",
        type=int,
        default=1,
        help="client processes: 1 runs everything; more puts the desks in one and shares "
        "the buyers among the others",
    )
    parser.add_argument(
        "--receipts",
        action="store_true",
        help="desks answer every buyer message with a 'delivered' frame, as desk.js does",
    )
    parser.add_argument(
        "--no-compression", action="store_true", help="no permessage-deflate (browsers use it)"
    )
    parser.add_argument("--no-uvloop", action="store_true", help="plain asyncio in the client")
    parser.add_argument(
        "--only", choices=["kefu", "baseline"], help="run one server only (no ratio)"
    )
    parser.add_argument(
        "--py-spy", metavar="PATH", help="py-spy program: profile the server in the steady phase"
    )
    parser.add_argument("--profile-phase", choices=["open", "steady", "burst"], default="steady")
    parser.add_argument("--profile-seconds", type=float, default=10, help="from its start")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (database, logs)"
    )
    parser.add_argument(
        "--samples", type=Path, metavar="CSV", help="write every message's times to this file"
    )
    parser.add_argument(
        "--bot", action="store_true", help="the shop's bot receives every buyer first"
    )
    parser.add_argument("--echo-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.echo_server:
        serve_echo(args.echo_server)
        return 0

    use_uvloop = not args.no_uvloop
    if use_uvloop:
        try:
            import uvloop  # noqa: F401 (uvicorn[standard] brings it)
        except ImportError:
            use_uvloop = False
    opts = Options(
        buyers=args.buyers,
        agents=args.agents,
        rate=args.rate,
        seconds=args.seconds,
        burst=args.burst,
        client_procs=max(1, args.client_procs),
        compression=not args.no_compression,
        receipts=args.receipts,
        use_uvloop=use_uvloop,
        py_spy=args.py_spy,
        profile_phase=args.profile_phase,
        profile_seconds=args.profile_seconds,
        samples=args.samples,
        bot=args.bot,
    )
    raise_open_files(2 * (opts.buyers + opts.agents) + 200)
    per_buyer = opts.rate / opts.buyers
    print(
        f"Kefu conversations: {opts.buyers} buyers, {opts.agents} agents + the owner's desk; "
        f"{number(opts.rate)} msg/s ({per_buyer:.2f}/s per buyer) for {number(opts.seconds)} s; "
        f"burst {opts.burst} per buyer\nclient: {opts.client_procs} process(es), "
        f"{'uvloop' if use_uvloop else 'asyncio'}, permessage-deflate "
        f"{'on' if opts.compression else 'off'}, desk receipts {'on' if opts.receipts else 'off'}"
        f"{'; server profiled with py-spy (slower)' if opts.py_spy else ''}\n"
        f"revision {revision()}; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores",
        flush=True,
    )
    if per_buyer > 1:
        print("warning: over 1 msg/s per buyer: the server's rate limit will refuse some")

    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    base = kefu = None
    try:
        if args.only != "kefu":
            base = run_baseline(opts, tmp)
        if args.only != "baseline":
            kefu = run_kefu(opts, tmp)
    finally:
        keep = args.keep or trouble(kefu) or (base is None and kefu is None)
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(report(opts, kefu, base))
    if keep:
        print(f"\nserver logs and database kept in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
