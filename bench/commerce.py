"""Commerce intake and the 催付 sender, each beside a plain baseline measured in the same run.

    .venv/bin/python bench/commerce.py                       # SQLite, under a minute
    .venv/bin/python bench/commerce.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/kefu

Each figure is printed beside its baseline and the ratio Kefu ÷ baseline (for rates, the
ratio is Kefu's rate over the baseline's: below 1 is slower), because the machine is shared
and noisy: only figures from the same run compare. Every part runs on a fresh database
(SQLite in a temporary directory; with ``--postgres``, a schema of its own, dropped and
made again) migrated with Kefu's migrations, and time is a FrozenClock.

* batch upsert: ``ingest.upsert_orders`` with batches of 1,000 orders (2 lines each, a new
  buyer each): (a) create, (b) the same batches again, all unchanged, (c) every order moved
  from unpaid to paid; once with nothing on the event bus (the service's own transaction)
  and once with the subscribers the app installs (催付 scheduling, 询单转化), which run
  after each commit. Baseline: the same rows written by SQLAlchemy Core executemany
  (customers, orders, order_lines) in one transaction per batch, no checks and no events;
  for (b), reading the batch's orders and lines; for (c), one executemany UPDATE;
* webhooks: signed ``order.upsert`` deliveries (one new order each) posted one at a time
  through the real app (Starlette's TestClient) to ``/api/v1/hooks/commerce/{shop}``,
  beside a bare Starlette app that only checks the same signature and answers 200;
* 催付: 1,000 due reminders (unpaid orders whose buyers each have a conversation) sent by
  ``sales.service.send_due_reminders`` in rounds of ``--limit``, beside the same number of
  ``conversations.service.send_reply`` pairs (the same words and order cards, one
  transaction per pair, one unit of work per round).

See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import hashlib
import hmac
import io
import json
import os
import pstats
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, event, func, insert, select, text, update

from kefu import migrate
from kefu.clock import FrozenClock
from kefu.commerce import ingest, integration, webhooks
from kefu.commerce import service as commerce
from kefu.commerce.models import Order, OrderStatus
from kefu.commerce.schemas import OrderIn, OrderLineSpec
from kefu.config import Settings
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Message, SenderType
from kefu.db import Base, make_engine, make_session_factory
from kefu.events import EventBus
from kefu.sales import service as sales
from kefu.sales.models import PaymentReminder, ReminderStatus
from kefu.shops import service as shops
from kefu.uow import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1000  # the intake's largest batch
# 10:00 on a Monday in Shanghai: business hours, far from the quiet hours (22:00–08:00).
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SLUG = "mianli"
CATALOGUE = (
    ("PJ-001", "纯棉家居服女长袖两件套", Decimal("129.00")),
    ("SOCK-1", "中筒棉袜", Decimal("19.90")),
)
SCHEMA = "kefu_bench_commerce"  # PostgreSQL: each part's fresh schema


# --- databases ------------------------------------------------------------------------------


class Statements:
    """SQL statements the engine sends: the cost per batch. An executemany counts once;
    SQLAlchemy's batched INSERT … RETURNING (PostgreSQL) once per page of rows; on SQLite
    the ORM inserts one row per statement (in-process: no round trip)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self.inserts = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.count += 1
        self.inserts += statement.lstrip().startswith("INSERT")


@dataclass
class Backend:
    name: str  # sqlite | postgresql
    tmp: Path
    postgres: str | None = None
    made: int = 0

    @contextmanager
    def fresh(self, label: str) -> Iterator[Engine]:
        """A new, migrated database for one part (SQLite file, or a PostgreSQL schema)."""
        self.made += 1
        if self.postgres is None:
            url = f"sqlite:///{self.tmp / f'{self.made:02d}-{label}.db'}"
        else:
            admin = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            admin.dispose()
            url = self.postgres
        engine = make_engine(url)
        if self.postgres is not None:
            # Not ``?options=-csearch_path=…`` in the URL: Alembic's config would read its
            # "%3D" as interpolation (kefu.migrate passes the URL through ConfigParser).
            event.listen(engine, "connect", _in_schema)
        migrate.upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()
            if self.postgres is not None:
                admin = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
                admin.dispose()


def _in_schema(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET search_path TO {SCHEMA}")
    cursor.close()
    dbapi_connection.commit()  # SET is transactional: a later rollback would undo it


def settings_for(engine: Engine, tmp: Path) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key=secrets.token_urlsafe(48),
        demo=False,
        log_format="text",
        log_level="WARNING",
        data_dir=tmp / "var",
    )


def app_bus(engine: Engine, clock: FrozenClock, tmp: Path) -> tuple[Any, EventBus]:
    """The app on ``engine`` and its bus, with every subscriber the app installs."""
    from kefu.app import create_app

    bus = EventBus()
    return create_app(settings_for(engine, tmp), engine=engine, bus=bus, clock=clock), bus


@dataclass
class Shop:
    id: int
    products: dict[str, tuple[int, str, Decimal]]  # sku → id, title, price


def make_shop(engine: Engine, clock: FrozenClock) -> Shop:
    factory = make_session_factory(engine)
    with UnitOfWork(factory, EventBus(), clock) as uow:
        shop = shops.create_shop(uow, slug=SLUG, name="棉里旗舰店", timezone="Asia/Shanghai")
        products = {}
        for sku, title, price in CATALOGUE:
            product = commerce.create_product(
                uow,
                shop_id=shop.id,
                sku=sku,
                title=title,
                category="家居服",
                price=price,
                variants=[],
            )
            products[sku] = (product.id, title, price)
        return Shop(id=shop.id, products=products)


# --- the data -------------------------------------------------------------------------------


def order_items(count: int, placed: datetime, *, prefix: str = "B") -> list[OrderIn]:
    """``count`` unpaid orders, each from a new buyer, two lines each."""
    return [
        OrderIn(
            order_no=f"{prefix}{number:08d}",
            customer_external_id=f"{prefix.lower()}-buyer-{number}",
            customer_name="王芳",
            customer_phone="13800001111",
            status="unpaid",
            created_at=placed,
            lines=(
                OrderLineSpec(sku="PJ-001", quantity=1),
                OrderLineSpec(sku="SOCK-1", quantity=2),
            ),
            ship_to_name="王芳",
            ship_to_phone="13800001111",
            ship_to_address="上海市徐汇区漕溪北路 1 号",
        )
        for number in range(count)
    ]


def batches(items: Sequence[OrderIn]) -> list[Sequence[OrderIn]]:
    return [items[start : start + BATCH] for start in range(0, len(items), BATCH)]


def paid(items: Sequence[OrderIn], at: datetime) -> list[OrderIn]:
    return [dataclasses.replace(item, status="paid", paid_at=at) for item in items]


# --- timing and the report ------------------------------------------------------------------


@dataclass
class Phase:
    """One phase's batches: wall time each, statements each, items in all."""

    items: int = 0
    seconds: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    inserts: list[int] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.items / sum(self.seconds) if self.seconds else 0.0

    def ms(self, which: str) -> float:
        values = [1000 * s for s in self.seconds]
        return statistics.median(values) if which == "p50" else max(values)


@dataclass(frozen=True)
class Row:
    measure: str
    kefu: str
    baseline: str = ""
    ratio: str = ""


def ratio(kefu: float, baseline: float) -> str:
    if not baseline:
        return ""
    value = kefu / baseline
    if value >= 100:
        return f"{value:,.0f}×"
    return f"{value:.1f}×" if value >= 10 else f"{value:.2f}×" if value >= 0.1 else f"{value:.3f}×"


def table(title: str, rows: Sequence[Row]) -> str:
    cells = [("", "Kefu", "baseline", "Kefu ÷ base")] + [
        (r.measure, r.kefu, r.baseline, r.ratio) for r in rows
    ]
    widths = [max(len(row[column]) for row in cells) for column in range(4)]
    out = [title]
    for number, row in enumerate(cells):
        figures = "".join(f"  {c.rjust(w)}" for c, w in zip(row[1:], widths[1:], strict=True))
        out.append(f"  {row[0].ljust(widths[0])}{figures}".rstrip())
        if number == 0:
            out.append("  " + "-" * (sum(widths) + 6))
    return "\n".join(out)


def quantile(values: Sequence[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def revision() -> str:
    git = shutil.which("git")
    if git is None:
        return "?"
    done = subprocess.run(  # noqa: S603 (git, to name what was measured)
        [git, "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@contextmanager
def profiled(enabled: bool, label: str) -> Iterator[None]:
    """cProfile around the block; the 25 most expensive calls (cumulative) on stderr."""
    if not enabled:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(25)
        print(f"\n--- profile: {label} ---\n{out.getvalue()}", file=sys.stderr)


# --- 1. batch upsert ------------------------------------------------------------------------

PHASES = ("create", "again", "pay")


def kefu_batches(
    backend: Backend, orders: int, *, subscribers: bool, profile: bool
) -> dict[str, Phase]:
    clock = FrozenClock(START)
    label = "upsert-app" if subscribers else "upsert"
    with backend.fresh(label) as engine:
        shop = make_shop(engine, clock)
        bus = app_bus(engine, clock, backend.tmp)[1] if subscribers else EventBus()
        factory = make_session_factory(engine)
        counter = Statements(engine)
        items = order_items(orders, START - timedelta(minutes=1))
        plan = {
            "create": (batches(items), "created"),
            "again": (batches(items), "unchanged"),
            "pay": (batches(paid(items, START)), "updated"),
        }
        phases: dict[str, Phase] = {}
        for name, (chunks, expected) in plan.items():
            phase = phases[name] = Phase()
            with profiled(profile, f"{label}: {name}"):
                for chunk in chunks:
                    before, inserts = counter.count, counter.inserts
                    started = time.perf_counter()
                    with UnitOfWork(factory, bus, clock) as uow:
                        report = ingest.upsert_orders(uow, shop_id=shop.id, items=chunk)
                    phase.seconds.append(time.perf_counter() - started)
                    phase.statements.append(counter.count - before)
                    phase.inserts.append(counter.inserts - inserts)
                    phase.items += len(chunk)
                    if getattr(report, expected) != len(chunk):
                        raise SystemExit(f"{label} {name}: expected {expected}, got {report}")
    return phases


def baseline_batches(backend: Backend, orders: int) -> dict[str, Phase]:
    """The same rows by SQLAlchemy Core: executemany, one transaction per batch."""
    clock = FrozenClock(START)
    tables = Base.metadata.tables
    customers, orders_t, lines_t = tables["customers"], tables["orders"], tables["order_lines"]
    with backend.fresh("upsert-baseline") as engine:
        shop = make_shop(engine, clock)
        counter = Statements(engine)
        items = order_items(orders, START - timedelta(minutes=1))
        now = clock.now()
        phases = {name: Phase() for name in PHASES}

        def timed(phase: Phase, size: int, work: Callable[[Any], None]) -> None:
            before, inserts = counter.count, counter.inserts
            started = time.perf_counter()
            with engine.begin() as connection:
                work(connection)
            phase.seconds.append(time.perf_counter() - started)
            phase.statements.append(counter.count - before)
            phase.inserts.append(counter.inserts - inserts)
            phase.items += size

        def create(chunk: Sequence[OrderIn]) -> Callable[[Any], None]:
            # executemany without RETURNING (SQLite cannot batch INSERT … RETURNING in
            # order), then the new ids read back by the shop's keys: five statements.
            def work(connection: Any) -> None:
                connection.execute(
                    insert(customers),
                    [
                        {
                            "shop_id": shop.id,
                            "external_id": item.customer_external_id,
                            "name": item.customer_name,
                            "phone": item.customer_phone,
                            "created_at": now,
                        }
                        for item in chunk
                    ],
                )
                buyers = dict(
                    connection.execute(
                        select(customers.c.external_id, customers.c.id).where(
                            customers.c.shop_id == shop.id,
                            customers.c.external_id.in_(
                                [item.customer_external_id for item in chunk]
                            ),
                        )
                    ).all()
                )
                rows = []
                for item in chunk:
                    total = sum(
                        (shop.products[ln.sku][2] * ln.quantity for ln in item.lines), Decimal(0)
                    )
                    rows.append(
                        {
                            "shop_id": shop.id,
                            "order_no": item.order_no,
                            "customer_id": buyers[item.customer_external_id],
                            "status": OrderStatus.UNPAID,
                            "items_total": total,
                            "total": total,
                            "ship_to_name": item.ship_to_name,
                            "ship_to_phone": item.ship_to_phone,
                            "ship_to_address": item.ship_to_address,
                            "created_at": item.created_at,
                            "updated_at": now,
                        }
                    )
                connection.execute(insert(orders_t), rows)
                ids = dict(
                    connection.execute(
                        select(orders_t.c.order_no, orders_t.c.id).where(
                            orders_t.c.shop_id == shop.id,
                            orders_t.c.order_no.in_([item.order_no for item in chunk]),
                        )
                    ).all()
                )
                connection.execute(
                    insert(lines_t),
                    [
                        {
                            "shop_id": shop.id,
                            "order_id": ids[item.order_no],
                            "product_id": shop.products[ln.sku][0],
                            "sku": ln.sku,
                            "title": shop.products[ln.sku][1],
                            "quantity": ln.quantity,
                            "unit_price": shop.products[ln.sku][2],
                        }
                        for item in chunk
                        for ln in item.lines
                    ],
                )

            return work

        def read(chunk: Sequence[OrderIn]) -> Callable[[Any], None]:
            def work(connection: Any) -> None:
                numbers = [item.order_no for item in chunk]
                found = connection.execute(
                    select(orders_t).where(
                        orders_t.c.shop_id == shop.id, orders_t.c.order_no.in_(numbers)
                    )
                ).all()
                ids = [row.id for row in found]
                connection.execute(select(lines_t).where(lines_t.c.order_id.in_(ids))).all()

            return work

        def pay(chunk: Sequence[OrderIn]) -> Callable[[Any], None]:
            def work(connection: Any) -> None:
                connection.execute(
                    update(orders_t)
                    .where(
                        orders_t.c.shop_id == bindparam("s"),
                        orders_t.c.order_no == bindparam("n"),
                    )
                    .values(status=OrderStatus.PAID, paid_at=now, updated_at=now),
                    [{"s": shop.id, "n": item.order_no} for item in chunk],
                )

            return work

        for name, step in (("create", create), ("again", read), ("pay", pay)):
            for chunk in batches(items):
                timed(phases[name], len(chunk), step(chunk))
    return phases


def batch_rows(
    kefu: dict[str, Phase], app: dict[str, Phase] | None, base: dict[str, Phase]
) -> list[Row]:
    titles = {
        "create": "(a) create",
        "again": "(b) the same again, unchanged",
        "pay": "(c) unpaid → paid",
    }
    rows: list[Row] = []
    for name, title in titles.items():
        k, b = kefu[name], base[name]
        rows.append(
            Row(
                f"{title}: orders/s",
                f"{k.per_second:,.0f}",
                f"{b.per_second:,.0f}",
                ratio(k.per_second, b.per_second),
            )
        )
        for which in ("p50", "max"):
            rows.append(
                Row(
                    f"  batch {which}, ms",
                    f"{k.ms(which):,.0f}",
                    f"{b.ms(which):,.0f}",
                    ratio(k.ms(which), b.ms(which)),
                )
            )
        k_sql, b_sql = statistics.median(k.statements), statistics.median(b.statements)
        rows.append(
            Row(
                "  SQL statements per batch (INSERTs)",
                f"{k_sql:,.0f} ({statistics.median(k.inserts):,.0f})",
                f"{b_sql:,.0f} ({statistics.median(b.inserts):,.0f})",
                ratio(k_sql, b_sql),
            )
        )
        if app is not None:
            a = app[name]
            a_sql = statistics.median(a.statements)
            rows.append(
                Row(
                    "  with the app's subscribers: orders/s",
                    f"{a.per_second:,.0f}",
                    f"{b.per_second:,.0f}",
                    ratio(a.per_second, b.per_second),
                )
            )
            rows.append(
                Row(
                    "    batch p50 / max, ms",
                    f"{a.ms('p50'):,.0f} / {a.ms('max'):,.0f}",
                    f"{b.ms('p50'):,.0f} / {b.ms('max'):,.0f}",
                    ratio(a.ms("p50"), b.ms("p50")),
                )
            )
            rows.append(
                Row(
                    "    SQL statements per batch",
                    f"{a_sql:,.0f}",
                    f"{b_sql:,.0f}",
                    ratio(a_sql, b_sql),
                )
            )
    return rows


# --- 2. webhooks ----------------------------------------------------------------------------


def delivery_bodies(count: int, placed: datetime) -> list[bytes]:
    bodies = []
    for number in range(count):
        order = {
            "order_no": f"W{number:08d}",
            "customer_external_id": f"w-buyer-{number}",
            "customer_name": "李娜",
            "status": "unpaid",
            "created_at": placed.isoformat(),
            "lines": [{"sku": "PJ-001"}, {"sku": "SOCK-1", "quantity": 2}],
            "ship_to_name": "李娜",
            "ship_to_phone": "13900002222",
            "ship_to_address": "浙江省杭州市西湖区文三路 1 号",
        }
        document = {"event": "order.upsert", "data": order}
        bodies.append(json.dumps(document, ensure_ascii=False).encode())
    return bodies


def post_all(
    client: Any, path: str, secret: str, sent: int, bodies: Sequence[bytes], ids: str = "bench"
) -> tuple[list[float], list[Any]]:
    """Each body signed and posted one at a time; wall-clock milliseconds each."""
    took, answers = [], []
    for number, body in enumerate(bodies):
        headers = {
            "Content-Type": "application/json",
            webhooks.TIMESTAMP_HEADER: str(sent),
            webhooks.SIGNATURE_HEADER: webhooks.sign(secret, sent, body),
            webhooks.DELIVERY_HEADER: f"{ids}-{number:06d}",
        }
        started = time.perf_counter()
        answer = client.post(path, content=body, headers=headers)
        took.append(1000 * (time.perf_counter() - started))
        answers.append(answer)
    return took, answers


def bare_app(secret: str) -> Any:
    """Starlette, one route: the same signature check as Kefu's, then 200."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def hook(request: Request) -> Response:
        body = await request.body()
        stamp = request.headers.get(webhooks.TIMESTAMP_HEADER, "")
        given = request.headers.get(webhooks.SIGNATURE_HEADER, "")
        expected = (
            "sha256="
            + hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(expected, given):
            return JSONResponse({"error": "signature"}, status_code=401)
        return JSONResponse({"status": "applied"})

    return Starlette(routes=[Route("/api/v1/hooks/commerce/{shop}", hook, methods=["POST"])])


def webhook_part(backend: Backend, count: int) -> list[Row]:
    with warnings.catch_warnings():  # Starlette's TestClient on httpx: deprecated, works
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    clock = FrozenClock(START)
    path = f"/api/v1/hooks/commerce/{SLUG}"
    sent = int(clock.now().timestamp())
    bodies = delivery_bodies(count, START - timedelta(minutes=1))
    warm = delivery_bodies(20, START - timedelta(minutes=1))
    with backend.fresh("webhooks") as engine:
        shop = make_shop(engine, clock)
        with UnitOfWork(make_session_factory(engine), EventBus(), clock) as uow:
            secret = integration.commerce_settings(uow, shop_id=shop.id).webhook_secret
        app, _ = app_bus(engine, clock, backend.tmp)
        with TestClient(bare_app(secret)) as client:
            post_all(client, path, secret, sent, warm, ids="warm")
            base, base_answers = post_all(client, path, secret, sent, bodies)
        counter = Statements(engine)
        with TestClient(app) as client:
            # The warm-up's orders are other order numbers' buyers: same shapes, new rows.
            warm_up = [b.replace(b'"W', b'"X').replace(b"w-buyer", b"x-buyer") for b in warm]
            post_all(client, path, secret, sent, warm_up, ids="warm")
            before = counter.count
            ours, answers = post_all(client, path, secret, sent, bodies)
            statements = (counter.count - before) / count
        refused = [a.text for a in answers if a.status_code != 200 or a.json()["created"] != 1]
        refused += [a.text for a in base_answers if a.status_code != 200]
        if refused:
            raise SystemExit(f"webhooks: {len(refused)} refused, e.g. {refused[0][:300]}")
        with engine.connect() as connection:
            stored = connection.scalar(
                select(func.count()).select_from(Order).where(Order.order_no.like("W%"))
            )
    ours_rate, base_rate = count / (sum(ours) / 1000), count / (sum(base) / 1000)
    return [
        Row(
            "deliveries/s (one at a time)",
            f"{ours_rate:,.0f}",
            f"{base_rate:,.0f}",
            ratio(ours_rate, base_rate),
        ),
        Row(
            "p50, ms",
            f"{quantile(ours, 50):.2f}",
            f"{quantile(base, 50):.2f}",
            ratio(quantile(ours, 50), quantile(base, 50)),
        ),
        Row(
            "p99, ms",
            f"{quantile(ours, 99):.2f}",
            f"{quantile(base, 99):.2f}",
            ratio(quantile(ours, 99), quantile(base, 99)),
        ),
        Row("SQL statements per delivery", f"{statements:.1f}", "0"),
        Row("orders stored (check)", f"{stored:,} of {count:,}"),
    ]


# --- 3. 催付 -------------------------------------------------------------------------------


def reminder_part(backend: Backend, count: int, limit: int, profile: bool) -> list[Row]:
    clock = FrozenClock(START)
    with backend.fresh("reminders") as engine:
        shop = make_shop(engine, clock)
        factory = make_session_factory(engine)
        bus = app_bus(engine, clock, backend.tmp)[1]
        quiet = EventBus()  # setting up: no bot answering the buyers' first lines
        progress(f"催付: {count:,} unpaid orders, each buyer with a conversation")
        items = order_items(count, START - timedelta(minutes=1), prefix="R")
        for chunk in batches(items):
            # With the app's subscribers: each OrderCreated schedules its reminder.
            with UnitOfWork(factory, bus, clock) as uow:
                ingest.upsert_orders(uow, shop_id=shop.id, items=chunk)
        with factory() as session:
            buyers = list(
                session.scalars(
                    select(Order.customer_id).where(Order.shop_id == shop.id).order_by(Order.id)
                )
            )
            pending = session.scalar(
                select(func.count())
                .select_from(PaymentReminder)
                .where(PaymentReminder.status == ReminderStatus.PENDING)
            )
        if pending != count:
            raise SystemExit(f"催付: {pending} reminders scheduled, expected {count}")
        with UnitOfWork(factory, quiet, clock) as uow:
            for number, buyer in enumerate(buyers):
                conversations.receive_customer_message(
                    uow,
                    shop_id=shop.id,
                    customer_id=buyer,
                    channel=Channel.WIDGET,
                    client_msg_id=f"hello-{number}",
                    body="在吗？这件有M码吗",
                    commit=False,
                )
                if number % 100 == 99:
                    uow.commit()
            uow.commit()

        clock.advance(timedelta(minutes=31))  # every reminder is due (the default delay: 30)
        counter = Statements(engine)
        rounds: list[float] = []
        sent = 0
        with profiled(profile, "催付 sender"):
            started = time.perf_counter()
            while sent < count:
                round_started = time.perf_counter()
                with UnitOfWork(factory, bus, clock) as uow:
                    this = sales.send_due_reminders(uow, now=clock.now(), limit=limit)
                rounds.append(time.perf_counter() - round_started)
                sent += this
                if this == 0:
                    break
            ours = time.perf_counter() - started
        ours_sql = counter.count / max(sent, 1)

        # The baseline: the same words and cards, by send_reply, into the same conversations.
        with factory() as session:
            said = session.execute(
                select(Message.conversation_id, Message.body, Message.card)
                .where(Message.sender_type == SenderType.BOT)
                .order_by(Message.id)
            ).all()
            recorded = session.scalar(
                select(func.count())
                .select_from(PaymentReminder)
                .where(PaymentReminder.status == ReminderStatus.SENT)
            )
        pairs = [(said[i], said[i + 1]) for i in range(0, len(said) - 1, 2)]
        before = counter.count
        started = time.perf_counter()
        for start in range(0, len(pairs), limit):
            with UnitOfWork(factory, bus, clock) as uow:
                for number, (words, card) in enumerate(pairs[start : start + limit], start):
                    for suffix, line in (("", words), ("-card", card)):
                        conversations.send_reply(
                            uow,
                            shop_id=shop.id,
                            conversation_id=line.conversation_id,
                            client_msg_id=f"baseline-{number}{suffix}",
                            body=line.body,
                            sender_type=SenderType.BOT,
                            sender_agent_id=None,
                            sender_name="棉里旗舰店",
                            card=line.card,
                            commit=False,
                        )
                    uow.commit()
        base = time.perf_counter() - started
        base_sql = (counter.count - before) / max(len(pairs), 1)
    check = "ok" if sent == recorded == count and len(pairs) == count else "WRONG"
    return [
        Row(
            f"reminders/s (rounds of {limit})",
            f"{sent / ours:,.0f}",
            f"{len(pairs) / base:,.0f}",
            ratio(sent / ours, len(pairs) / base),
        ),
        Row(
            "round p50 / max, ms",
            f"{1000 * statistics.median(rounds):,.0f} / {1000 * max(rounds):,.0f}",
        ),
        Row(
            "SQL statements per reminder",
            f"{ours_sql:.1f}",
            f"{base_sql:.1f}",
            ratio(ours_sql, base_sql),
        ),
        Row(
            "sent (check: exactly the count)",
            f"{sent:,} sent, {recorded:,} recorded {check}",
            f"{len(pairs):,} pairs",
        ),
    ]


# --- main -----------------------------------------------------------------------------------


def run(backend: Backend, args: argparse.Namespace) -> str:
    parts: list[str] = []
    profile = set(args.profile or ())
    progress(f"{backend.name}: batch upsert, {args.orders:,} orders (service alone)")
    kefu = kefu_batches(backend, args.orders, subscribers=False, profile="upsert" in profile)
    app = None
    if not args.no_subscribers:
        progress(f"{backend.name}: batch upsert with the app's subscribers")
        app = kefu_batches(backend, args.orders, subscribers=True, profile="app" in profile)
    progress(f"{backend.name}: batch upsert, baseline")
    base = baseline_batches(backend, args.orders)
    parts.append(
        table(
            f"1. batch upsert, {args.orders:,} orders in batches of {BATCH:,} (2 lines each, "
            "new buyers)",
            batch_rows(kefu, app, base),
        )
    )
    progress(f"{backend.name}: webhooks, {args.deliveries:,} deliveries")
    webhook_rows = webhook_part(backend, args.deliveries)
    parts.append(table(f"2. webhooks: {args.deliveries:,} signed order.upsert", webhook_rows))
    progress(f"{backend.name}: 催付, {args.reminders:,} reminders")
    parts.append(
        table(
            f"3. 催付 sender: {args.reminders:,} due reminders (text + order card each)",
            reminder_part(backend, args.reminders, args.limit, "reminders" in profile),
        )
    )
    return f"\n== {backend.name} ==\n" + "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Commerce intake and the 催付 sender beside plain baselines (bench/README.md)."
    )
    parser.add_argument("--orders", type=int, default=5000, help="orders in the batch upsert")
    parser.add_argument("--deliveries", type=int, default=500, help="webhook deliveries")
    parser.add_argument("--reminders", type=int, default=1000, help="due 催付 reminders")
    parser.add_argument("--limit", type=int, default=100, help="reminders per sender round")
    parser.add_argument(
        "--postgres", metavar="URL", help="also on PostgreSQL (a schema of its own)"
    )
    parser.add_argument("--only-postgres", action="store_true", help="skip SQLite")
    parser.add_argument(
        "--no-subscribers", action="store_true", help="skip the upsert with the app's subscribers"
    )
    parser.add_argument(
        "--profile",
        action="append",
        choices=["upsert", "app", "reminders"],
        help="cProfile a part (repeatable); the top calls go to stderr",
    )
    parser.add_argument(
        "--default-gc",
        action="store_true",
        help="CPython's default GC thresholds, not those `kefu serve` sets",
    )
    args = parser.parse_args(argv)
    if not args.default_gc:
        # As `kefu serve` runs (src/kefu/cli.py): with thousands of ORM rows alive per batch,
        # the default thresholds collect the older generations over and over.
        gc.set_threshold(20_000, 20, 10)
    print(
        f"Kefu commerce: {args.orders:,} orders, {args.deliveries:,} webhooks, "
        f"{args.reminders:,} reminders; GC thresholds {gc.get_threshold()}\n"
        f"revision {revision()}; load average before: {load()} on {os.cpu_count()} cores",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-commerce-"))
    started = time.perf_counter()
    try:
        if not args.only_postgres:
            print(run(Backend("sqlite", tmp), args), flush=True)
        if args.postgres:
            url = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
            print(run(Backend("postgresql", tmp, postgres=url), args), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{time.perf_counter() - started:.0f} s; load average after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
