"""The live check as the desk pays for it: ``coach.live.check_draft_for`` (service) and
``POST /api/v1/coach/check`` (HTTP), on SQLite and, with ``--postgres URL``, PostgreSQL,
each beside a baseline measured in the same run.

    .venv/bin/python bench/coach_live.py                          # SQLite only, ~15 s
    .venv/bin/python bench/coach_live.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/kefu_h5
    .venv/bin/python bench/coach.py --only service [--postgres URL]   # the same, from coach.py

The database is a fresh one migrated for the run (PostgreSQL: a temporary database on the
URL's server, dropped afterwards; the URL's own database is left alone). It holds one shop
and a 40-message conversation written through the real services (a complaint, questions,
replies, an order the buyer names), so the check reads what it reads in the desk.

Rows, p50 / p95 over ``--repeat`` calls, alternated with the baseline's:

- service, drafts of 20 / 500 / 5,000 characters (and a 20,000-character paste, judged on
  its first 5,000): a session opened, ``check_draft_for``, closed — what a request does
  inside the route. Baseline: a session opened, a bare SELECT of the conversation's newest
  40 messages, closed. The target is the 5,000-character p95 < 50 ms.
- HTTP (in-process TestClient, a logged-in agent): ``POST /api/v1/coach/check`` with the
  5,000-character draft; baseline ``GET /healthz`` through the same app and client, so the
  ratio is what the check adds to a bare request.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, make_url, select, text

if TYPE_CHECKING:
    from kefu.clock import FrozenClock

TARGET_MS = 50.0
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PASSWORD = "bench horse battery"  # noqa: S105 (the throwaway bench agent's)
_postgres: str | None = None


def use_postgres(url: str | None) -> None:
    """bench/coach.py passes its --postgres here before running the section."""
    global _postgres
    _postgres = url


@dataclass(frozen=True)
class Row:  # the shape bench/coach.py's table() prints
    measure: str
    kefu: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _cuts(samples: list[int]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] / 1e6, cuts[94] / 1e6


def _paired(
    kefu: Callable[[], object], base: Callable[[], object], repeat: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    for _ in range(min(20, repeat)):
        kefu()
        base()
    ours: list[int] = []
    theirs: list[int] = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        kefu()
        ours.append(time.perf_counter_ns() - started)
        started = time.perf_counter_ns()
        base()
        theirs.append(time.perf_counter_ns() - started)
    return _cuts(ours), _cuts(theirs)


def _row(
    measure: str, kefu: tuple[float, float], base: tuple[float, float], target: str = ""
) -> Row:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}×" if b else ""

    return Row(
        measure,
        f"{kefu[0]:.2f} / {kefu[1]:.2f} ms",
        f"{base[0]:.2f} / {base[1]:.2f} ms",
        f"{ratio(kefu[0], base[0])} / {ratio(kefu[1], base[1])}",
        target,
    )


# --- the database ------------------------------------------------------------------------------


@contextmanager
def _database(backend: str) -> Iterator[Engine]:
    from kefu import migrate
    from kefu.db import make_engine

    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            engine = make_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
            migrate.upgrade(engine)
            try:
                yield engine
            finally:
                engine.dispose()
        return
    assert _postgres is not None
    server = make_url(_postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"kefu_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(server.set(database=name).render_as_string(hide_password=False))
        migrate.upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_BUYER = [
    "在吗",
    "你们的东西质量真的太差了，和介绍的差那么多，我要退款！！",
    "订单号 DD20261123001",
    "衣服穿了一次就起球了，这是什么破质量",
    "照片发你了，你看看",
    "那什么时候能给我换？",
    "快递到哪了，怎么还没到",
    "能发顺丰吗",
    "好的，麻烦快点",
    "收到了，这次颜色对了",
]
_AGENT = [
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "亲，非常抱歉给您带来了不好的体验，请您先消消气，麻烦把订单号发给我好吗？",
    "收到，我马上为您核实，请您稍等。",
    "让您久等了，确实是我们的疏忽，如果您同意，我们马上为您换一件新的。",
    "新的一件今天下午就发出，运费由我们承担。",
    "已经为您备注优先发货了，发中通快递。",
    "亲，顺丰需要补差价哦，您看可以吗？",
    "好的，已经为您安排加急处理。",
    "感谢您的理解，还有什么可以帮您的吗？",
    "满意的话麻烦给个五星评价，谢谢亲，祝您生活愉快！",
]


@dataclass(frozen=True)
class World:
    shop_id: int
    agent_id: int
    agent_email: str
    conversation_id: int


def _seed(engine: Engine, clock: FrozenClock) -> World:
    """One shop, an agent of 售后, a buyer with an order, and 40 messages ending on a
    complaint the agent is about to answer."""
    from kefu.accounts import service as accounts
    from kefu.accounts.models import Role
    from kefu.commerce import service as commerce
    from kefu.commerce.models import OrderStatus
    from kefu.conversations import service as conversations
    from kefu.conversations.models import Channel, SenderType
    from kefu.crm import service as crm
    from kefu.db import make_session_factory
    from kefu.events import EventBus
    from kefu.shops import service as shops
    from kefu.uow import UnitOfWork

    factory = make_session_factory(engine)
    bus = EventBus()

    def uow() -> UnitOfWork:
        return UnitOfWork(factory, bus, clock)

    with uow() as u:
        shop = shops.create_shop(u, slug="bench", name="评测旗舰店", timezone="Asia/Shanghai")
        shop_id = shop.id
    with uow() as u:
        team = shops.get_team_by_code(u.session, shop_id=shop_id, code="aftersale").id
        agent = accounts.create_agent(
            u, shop_id=shop_id, email="agent@bench.test", display_name="小刘",
            password=PASSWORD, role=Role.AGENT, team_ids=[team],
        )  # fmt: skip
        agent_id = agent.id
    with uow() as u:
        commerce.create_product(
            u, shop_id=shop_id, sku="COAT-1", title="羊毛双面呢大衣", category="外套",
            price=Decimal("399"), variants=[],
        )  # fmt: skip
    with uow() as u:
        customer = crm.create_customer(u, shop_id=shop_id, name="王芳", gender="F", commit=False)
        commerce.create_order(
            u, shop_id=shop_id, order_no="DD20261123001", customer_id=customer.id,
            lines=[commerce.OrderLineSpec(sku="COAT-1")], status=OrderStatus.PAID,
            created_at=T0, paid_at=T0, ship_to_name="王芳", ship_to_phone="13900000000",
            ship_to_address="杭州市西湖区", commit=False,
        )  # fmt: skip
        conversation = conversations.start_conversation(
            u, shop_id=shop_id, customer_id=customer.id, channel=Channel.WIDGET,
            team_code="aftersale", route=False, commit=False,
        )  # fmt: skip
        conversations.transfer_conversation(
            u, shop_id=shop_id, conversation_id=conversation.id, by_agent_id=None,
            agent_id=agent_id, commit=False,
        )  # fmt: skip
        u.commit()
        conversation_id = conversation.id
    for number in range(39):
        clock.advance(timedelta(seconds=40))
        with uow() as u:
            if number % 2 == 0:
                conversations.receive_message(
                    u, shop_id=shop_id, conversation_id=conversation_id,
                    client_msg_id=f"b{number}", body=_BUYER[(number // 2) % len(_BUYER)],
                )  # fmt: skip
            else:
                conversations.send_reply(
                    u, shop_id=shop_id, conversation_id=conversation_id,
                    client_msg_id=f"a{number}", body=_AGENT[(number // 2) % len(_AGENT)],
                    sender_type=SenderType.AGENT, sender_agent_id=agent_id, sender_name="小刘",
                )  # fmt: skip
    with uow() as u:
        conversations.receive_message(
            u, shop_id=shop_id, conversation_id=conversation_id, client_msg_id="last",
            body="又坏了！质量太差了，我要投诉！",
        )  # fmt: skip
    return World(shop_id, agent_id, "agent@bench.test", conversation_id)


def drafts() -> dict[str, str]:
    paragraph = "".join(_AGENT[1:9])
    long_text = (paragraph * (20_000 // len(paragraph) + 1))[:20_000]
    return {
        "20 chars": "那你退款好了，不满意就退，别的没办法"[:20],
        "500 chars": long_text[:500],
        "5,000 chars": long_text[:5_000],
        "20,000 chars (reads 5,000)": long_text,
    }


# --- the section -------------------------------------------------------------------------------


def _backend_rows(backend: str, repeat: int) -> list[Row]:
    from fastapi.testclient import TestClient

    from kefu.app import create_app
    from kefu.clock import FrozenClock
    from kefu.coach import service as coach
    from kefu.config import Settings
    from kefu.conversations.models import Message
    from kefu.db import make_session_factory
    from kefu.events import EventBus

    rows: list[Row] = []
    with _database(backend) as engine:
        clock = FrozenClock(T0)
        _progress(f"{backend}: writing the shop and its 40-message conversation")
        world = _seed(engine, clock)
        now = clock.now() + timedelta(minutes=1)
        factory = make_session_factory(engine)

        def bare_select() -> object:
            with factory() as session:
                return list(
                    session.scalars(
                        select(Message)
                        .where(
                            Message.shop_id == world.shop_id,
                            Message.conversation_id == world.conversation_id,
                        )
                        .order_by(Message.seq.desc())
                        .limit(40)
                    )
                )

        inside: list[float] = []
        for label, draft in drafts().items():
            _progress(f"{backend}: check_draft_for, {label}")

            def check(draft: str = draft) -> object:
                with factory() as session:
                    result = coach.check_draft_for(
                        session, shop_id=world.shop_id, agent_id=world.agent_id,
                        conversation_id=world.conversation_id, text=draft, now=now,
                    )  # fmt: skip
                    inside.append(result.elapsed_ms)
                    return result

            inside.clear()
            kefu, base = _paired(check, bare_select, repeat)
            target = ""
            if label.startswith("5,000"):
                verdict = "ok" if kefu[1] < TARGET_MS else "MISSED"
                target = f"p95 < {TARGET_MS:g} ms {verdict}"
            rows.append(
                _row(f"{backend} service, {label} (base: SELECT 40 messages)", kefu, base, target)
            )
            reported = statistics.median(inside)
            rows.append(Row(f"{backend}   … elapsed_ms it reports, p50", f"{reported:.2f} ms"))

        _progress(f"{backend}: POST /api/v1/coach/check over HTTP")
        settings = Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            secret_key="bench-secret-key-not-for-production-0123456789",  # noqa: S106
            demo=False,
            log_format="text",
            data_dir=Path(tempfile.mkdtemp(prefix="kefu-bench-")),
        )
        app = create_app(settings, engine=engine, bus=EventBus(), clock=clock)
        with TestClient(app) as client:
            login = client.post(
                "/api/v1/auth/login",
                json={"shop": "bench", "email": world.agent_email, "password": PASSWORD},
            )
            login.raise_for_status()
            headers = {"X-CSRF-Token": login.json()["csrf_token"]}
            body = {"conversation_id": world.conversation_id, "text": drafts()["5,000 chars"]}

            def post() -> object:
                response = client.post("/api/v1/coach/check", json=body, headers=headers)
                assert response.status_code == 200, response.text
                return response

            kefu, base = _paired(post, lambda: client.get("/healthz"), max(50, repeat // 2))
            rows.append(
                _row(f"{backend} HTTP POST /check, 5,000 chars (base: GET /healthz)", kefu, base)
            )
    return rows


def service_section(repeat: int) -> tuple[str, list[Row]]:
    backends = ["sqlite"] + (["postgresql"] if _postgres else [])
    rows: list[Row] = []
    for backend in backends:
        rows.extend(_backend_rows(backend, repeat))
    title = (
        "service: coach.live.check_draft_for after a 40-message conversation "
        f"({', '.join(backends)}), p50 / p95 over {repeat} calls"
    )
    return title, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The live check beside a bare SELECT.")
    parser.add_argument("--repeat", type=int, default=300, help="timed calls per figure")
    parser.add_argument("--postgres", metavar="URL", help="also on this PostgreSQL server")
    args = parser.parse_args(argv)
    use_postgres(args.postgres)
    title, rows = service_section(args.repeat)
    widths = [
        max(len(getattr(r, f)) for r in rows) for f in ("measure", "kefu", "baseline", "ratio")
    ]
    print(title)
    head = ("", "Kefu", "baseline", "Kefu ÷ base")
    print(
        "  "
        + "  ".join(
            h.rjust(w) if i else h.ljust(w)
            for i, (h, w) in enumerate(zip(head, widths, strict=True))
        )
    )
    for r in rows:
        print(
            f"  {r.measure:{widths[0]}}  {r.kefu:>{widths[1]}}  {r.baseline:>{widths[2]}}"
            f"  {r.ratio:>{widths[3]}}  {r.target}".rstrip()
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
