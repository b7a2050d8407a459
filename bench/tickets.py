"""Tickets (工单): the list, the business calendar and the SLA watcher, each beside a plain
baseline measured in the same run.

    .venv/bin/python bench/tickets.py                        # SQLite, about a minute
    .venv/bin/python bench/tickets.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/kefu_hg

Each figure is printed beside its baseline and the ratio Kefu ÷ baseline (for a rate below
1 is slower; for a time or a count above 1 is more), because the machine is shared and
noisy: only figures from the same run compare. Every database part runs on a fresh database
(SQLite in a temporary directory; with ``--postgres``, a schema of its own, dropped and made
again) migrated with Kefu's migrations, and time is a FrozenClock.

1. the list: ``tickets.service.list_tickets`` (one page of 50, what ``GET /api/v1/tickets``
   and the ticket page read, with each row's SLA state, names and tags) on 10,000 tickets
   opened by ``create_ticket`` over 30 days, with typical filters — open, a team's open
   tickets, SLA warning, SLA breached, my open tickets, a Chinese text search — p50 / p99
   over ``--repeat`` calls, one session each, after ``ANALYZE`` (and the first call of each
   before it: the planner without statistics on the new rows). Baseline: a bare SQLAlchemy
   Core SELECT of the same page (the ticket columns, the same WHERE on the tickets and their
   SLA targets, the same ORDER BY and LIMIT); the bench checks both return the same tickets;
2. the calendar: ``WorkCalendar.add`` for 1,000 SLA targets (starts over a year with its
   holidays, the default policies' minutes), on one calendar and with a new calendar per
   target (as opening a ticket builds one), and ``minutes_between`` (each list row's
   minutes left); baseline: ``datetime + timedelta`` and subtraction;
3. the SLA watcher: ``sla_watch.check_deadlines`` in rounds of 200 until 1,000 due warnings
   were given (each claims its target, notifies the assignee, the supervisors and the duty
   manager, writes the history line and the event); baseline: the bare claim — the same
   conditional ``UPDATE … SET warned_at`` per target, one transaction each.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, create_engine, event, exists, func, not_, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session, sessionmaker

from kefu import migrate
from kefu.accounts import service as accounts
from kefu.accounts.models import Role
from kefu.clock import FrozenClock
from kefu.db import make_engine, make_session_factory
from kefu.events import EventBus
from kefu.shops import service as shops
from kefu.tickets import service as tickets
from kefu.tickets.models import (
    Notification,
    NotificationKind,
    SlaState,
    SlaTarget,
    Ticket,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from kefu.uow import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
# 10:00 on a Monday in Shanghai: inside the default working hours (Mon–Fri 09:00–18:00).
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SLUG = "mianli"
SCHEMA = "kefu_bench_tickets"  # PostgreSQL: each part's fresh schema
PAGE = 50
OPEN = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.PENDING_BUYER,
    TicketStatus.PENDING_INTERNAL,
)
# What shops write in titles: the search below looks for 起球 among them.
TITLES = (
    "质量投诉：{p}洗一次就起球", "包裹破损：{p}外包装压烂", "换码：{p}换大一码",
    "退款申请多日未到账", "发错货：收到的{p}颜色不对", "{p}有异味，要求退货",
    "加急发货：买家周五出差", "付款失败：用券后无法支付", "开具电子发票（公司报销）",
    "赠品没收到：{p}", "少发了一件{p}", "{p}掉色严重", "物流三天没更新", "{p}尺码偏小",
)  # fmt: skip
TAGS = ("质量问题", "补发", "退款", "加急", "差评风险")
PRODUCTS = ("纯棉家居服", "珊瑚绒睡衣", "全棉四件套", "轻薄羽绒服", "加绒卫衣", "竹纤维毛巾")
TEAMS = {
    TicketType.COMPLAINT: "complaints",
    TicketType.AFTERSALE: "aftersale",
    TicketType.FAULT: "promotion",
    TicketType.INTERNAL: "shipping",
    TicketType.OTHER: "aftersale",
}


# --- databases and the report ------------------------------------------------------------------


class Statements:
    """SQL statements the engine sends (an executemany counts once)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


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
            self._schema("DROP SCHEMA IF EXISTS {0} CASCADE", "CREATE SCHEMA {0}")
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
                self._schema("DROP SCHEMA IF EXISTS {0} CASCADE")

    def _schema(self, *statements: str) -> None:
        assert self.postgres is not None
        admin = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for statement in statements:
                connection.execute(sql_text(statement.format(SCHEMA)))
        admin.dispose()


def _in_schema(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET search_path TO {SCHEMA}")
    cursor.close()
    dbapi_connection.commit()  # SET is transactional: a later rollback would undo it


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


# --- the shop --------------------------------------------------------------------------------


@dataclass
class Shop:
    id: int
    teams: dict[str, int]  # by code
    agents: dict[str, list[int]]  # team code → its agents
    supervisor: int


def make_shop(factory: sessionmaker[Session], clock: FrozenClock) -> Shop:
    """A shop with two agents in each team besides the owner and a supervisor."""
    with UnitOfWork(factory, EventBus(), clock) as uow:
        shop = shops.create_shop(uow, slug=SLUG, name="棉里旗舰店", timezone="Asia/Shanghai")
        teams = {team.code: team.id for team in shops.list_teams(uow.session, shop_id=shop.id)}
        made: dict[str, list[int]] = {}
        lead = 0
        people = [("owner", Role.OWNER, list(teams)), ("lead", Role.SUPERVISOR, list(teams))]
        people += [(f"{code}{n}", Role.AGENT, [code]) for code in teams for n in (1, 2)]
        for name, role, codes in people:
            agent = accounts.create_agent(
                uow, shop_id=shop.id, email=f"{name}@{SLUG}.test", display_name=name,
                password=secrets.token_urlsafe(16), role=role,
                team_ids=[teams[code] for code in codes], commit=False,
            )  # fmt: skip
            if role is Role.AGENT:
                made.setdefault(codes[0], []).append(agent.id)
            elif role is Role.SUPERVISOR:
                lead = agent.id
        uow.commit()
    return Shop(id=shop.id, teams=teams, agents=made, supervisor=lead)


# --- 1. the list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    filter: tickets.TicketFilter
    viewer: int | None = None


def fill(factory: sessionmaker[Session], shop: Shop, count: int, now: datetime) -> float:
    """``count`` tickets opened by ``create_ticket`` over the 30 days before ``now`` (each on
    its own moment's clock, so its SLA deadlines are real), then most of the older ones
    solved or closed and a few waiting for the buyer, as a shop's history looks. Returns
    tickets created per second."""
    rng = random.Random(6)  # noqa: S311 (seeded data, not secrets)
    moments = sorted(now - timedelta(minutes=rng.uniform(1, 30 * 24 * 60)) for _ in range(count))
    clock = FrozenClock(moments[0])
    started = time.perf_counter()
    with UnitOfWork(factory, EventBus(), clock) as uow:
        for number, moment in enumerate(moments, start=1):
            clock.set(moment)
            kind = rng.choice(list(TEAMS))
            team = TEAMS[kind]
            tickets.create_ticket(
                uow, shop_id=shop.id, type=kind,
                title=rng.choice(TITLES).format(p=rng.choice(PRODUCTS)),
                description="买家在聊天里说明了情况，订单和照片已附上。",
                priority=rng.choice([TicketPriority.NORMAL] * 3 + [TicketPriority.HIGH]),
                team_id=shop.teams[team],
                assignee_id=rng.choice(shop.agents[team]) if rng.random() < 0.8 else None,
                tags=rng.sample(TAGS, rng.randint(0, 2)),
                actor_agent_id=shop.supervisor, commit=False,
            )  # fmt: skip
            if number % 500 == 0:
                uow.commit()
        uow.commit()
    rate = count / (time.perf_counter() - started)
    # History: older tickets mostly settled (their clocks met), a few waiting on the buyer.
    with factory() as session:
        ids = list(session.scalars(select(Ticket.id).order_by(Ticket.id)))
        older = ids[: int(len(ids) * 0.8)]
        settled = [i for i in older if rng.random() < 0.85]
        waiting = [i for i in older if i not in set(settled) and rng.random() < 0.3]
        for chunk in _chunks(settled, 500):
            status = rng.choice([TicketStatus.SOLVED, TicketStatus.CLOSED])
            session.execute(update(Ticket).where(Ticket.id.in_(chunk)).values(status=status))
            session.execute(
                update(SlaTarget)
                .where(SlaTarget.ticket_id.in_(chunk))
                .values(state=SlaState.MET, met_at=SlaTarget.due_at)
            )
        for chunk in _chunks(waiting, 500):
            session.execute(
                update(Ticket).where(Ticket.id.in_(chunk)).values(status=TicketStatus.PENDING_BUYER)
            )
            session.execute(
                update(SlaTarget)
                .where(SlaTarget.ticket_id.in_(chunk))
                .values(state=SlaState.PAUSED, remaining_minutes=60, paused_at=now)
            )
        session.commit()
    return rate


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def baseline_page(session: Session, shop_id: int, case: Case, now: datetime) -> list[int]:
    """The same page by one Core SELECT: the tickets' own columns, no names, tags or clocks."""
    t = Ticket.__table__.c
    where = [t.shop_id == shop_id]
    f = case.filter
    if f.open_only:
        where.append(t.status.in_([s.value for s in OPEN]))
    if f.team_id is not None:
        where.append(t.team_id == f.team_id)
    if f.assignee == "me":
        where.append(t.assignee_id == case.viewer)
    if f.q:
        where.append(t.search_text.contains(f.q))
    if f.sla is not None:
        s = SlaTarget.__table__.c
        mine = s.ticket_id == t.id
        late = or_(s.breached_at.is_not(None), s.due_at <= now)
        active = s.state == SlaState.ACTIVE.value
        breached = or_(
            exists().where(mine, active, late),
            exists().where(mine, s.state == SlaState.PAUSED.value, s.breached_at.is_not(None)),
        )
        if f.sla == "breached":
            where.append(breached)
        else:
            warned = exists().where(mine, active, not_(late), s.warn_at <= now)
            where.append(and_(not_(breached), warned))
    columns = (t.id, t.number, t.type, t.title, t.status, t.priority, t.team_id,
               t.assignee_id, t.requester_customer_id, t.created_at, t.updated_at)  # fmt: skip
    rows = session.execute(
        select(*columns).where(*where).order_by(t.updated_at.desc(), t.id.desc()).limit(PAGE)
    ).all()
    return [row.id for row in rows]


@dataclass
class Calls:
    """One filter's calls: milliseconds and statements, Kefu's and the baseline's."""

    ours: list[float]
    base: list[float]
    sql_ours: int = 0
    sql_base: int = 0
    same: bool = True
    rows: int = 0


def call(
    factory: sessionmaker[Session],
    counter: Statements,
    shop: Shop,
    case: Case,
    now: datetime,
    into: Calls,
) -> None:
    """list_tickets and the baseline's SELECT once each, a session each (as a request)."""
    before = counter.count
    started = time.perf_counter()
    with factory() as session:
        page = tickets.list_tickets(
            session, shop_id=shop.id, filter=case.filter, viewer_agent_id=case.viewer,
            now=now, limit=PAGE,
        )  # fmt: skip
    middle = time.perf_counter()
    into.sql_ours += counter.count - before
    before = counter.count
    with factory() as session:
        bare = baseline_page(session, shop.id, case, now)
    done = time.perf_counter()
    into.sql_base += counter.count - before
    into.ours.append(1000 * (middle - started))
    into.base.append(1000 * (done - middle))
    into.same = into.same and [row.id for row in page] == bare
    into.rows = len(page)


def list_part(backend: Backend, count: int, repeat: int) -> tuple[list[Row], str]:
    now = START
    with backend.fresh("list") as engine:
        factory = make_session_factory(engine)
        shop = make_shop(factory, FrozenClock(now - timedelta(days=31)))
        progress(f"{backend.name}: opening {count:,} tickets by create_ticket")
        created = fill(factory, shop, count, now)
        me, team = shop.agents["aftersale"][0], shop.teams["aftersale"]
        cases = (
            Case("open", tickets.TicketFilter(open_only=True)),
            Case("售后's open", tickets.TicketFilter(open_only=True, team_id=team)),
            Case("SLA warning", tickets.TicketFilter(sla="warning")),
            Case("SLA breached", tickets.TicketFilter(sla="breached")),
            Case("my open", tickets.TicketFilter(open_only=True, assignee="me"), viewer=me),
            Case("text 起球", tickets.TicketFilter(q="起球")),
        )
        counter = Statements(engine)
        # The first call of each, before the planner has statistics on the new rows (a
        # SQLite database never gets them unless someone runs ANALYZE).
        progress(f"{backend.name}: the list before ANALYZE")
        first = {case.name: Calls([], []) for case in cases}
        for case in cases:
            call(factory, counter, shop, case, now, first[case.name])
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        progress(f"{backend.name}: the list, {repeat} calls per filter")
        rows = [Row(f"setup: create_ticket, tickets/s ({count:,})", f"{created:,.0f}")]
        checks = []
        for case in cases:
            warm = Calls([], [])
            for _ in range(5):
                call(factory, counter, shop, case, now, Calls([], []))
            for _ in range(repeat):
                call(factory, counter, shop, case, now, warm)
            same = warm.same and first[case.name].same
            checks.append(f"{case.name}: {warm.rows} rows {'same' if same else 'DIFFERENT'}")
            p50 = (statistics.median(warm.ours), statistics.median(warm.base))
            p99 = (quantile(warm.ours, 99), quantile(warm.base, 99))
            cold = first[case.name]
            rows.append(
                Row(
                    f"{case.name} ({warm.rows} rows): p50 / p99, ms",
                    f"{p50[0]:.2f} / {p99[0]:.2f}",
                    f"{p50[1]:.2f} / {p99[1]:.2f}",
                    f"{ratio(p50[0], p50[1])} / {ratio(p99[0], p99[1])}",
                )
            )
            rows.append(
                Row(
                    "… statements per call; before ANALYZE, ms",
                    f"{warm.sql_ours / repeat:.0f}; {cold.ours[0]:,.1f}",
                    f"{warm.sql_base / repeat:.0f}; {cold.base[0]:,.1f}",
                    ratio(cold.ours[0], cold.base[0]),
                )
            )
    return rows, "; ".join(checks)


# --- 2. the calendar ---------------------------------------------------------------------------

POLICY_MINUTES = (30, 60, 120, 240, 480, 540, 1440, 2880, 4320)
WEEK = {day: [("09:00", "18:00")] for day in range(1, 6)}
LUNCH_WEEK = {day: [("09:00", "12:00"), ("13:30", "18:00")] for day in range(1, 6)}


def calendar_part(targets: int, repeat: int) -> list[Row]:
    rng = random.Random(2026)  # noqa: S311 (seeded data, not secrets)
    year = datetime(2026, 1, 1, tzinfo=UTC)
    cases = [
        (year + timedelta(minutes=rng.randrange(365 * 24 * 60)), rng.choice(POLICY_MINUTES))
        for _ in range(targets)
    ]

    def calendar(week: dict[int, list[tuple[str, str]]]) -> tickets.WorkCalendar:
        return tickets.WorkCalendar.from_hours(
            timezone="Asia/Shanghai", weekly_hours=week, cn_holidays=True
        )

    def timed(action: Callable[[], object]) -> float:
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            action()
            runs.append(time.perf_counter() - started)
        return statistics.median(runs)

    def plain() -> object:
        return [start + timedelta(minutes=minutes) for start, minutes in cases]

    rows = []
    base = timed(plain)
    for label, week in (("Mon–Fri 09–18", WEEK), ("with a lunch break", LUNCH_WEEK)):
        shared = calendar(week)
        warm = timed(lambda: [shared.add(start, minutes) for start, minutes in cases])  # noqa: B023
        cold = timed(lambda: [calendar(week).add(start, minutes) for start, minutes in cases])  # noqa: B023
        rows.append(
            Row(
                f"add, one calendar ({label}): µs per target",
                f"{1e6 * warm / targets:.1f}",
                f"{1e6 * base / targets:.2f}",
                ratio(warm, base),
            )
        )
        rows.append(
            Row(
                "… a new calendar per target (as opening a ticket): µs",
                f"{1e6 * cold / targets:.1f}",
                f"{1e6 * base / targets:.2f}",
                ratio(cold, base),
            )
        )
    shared = calendar(WEEK)
    dues = [shared.add(start, minutes) for start, minutes in cases]
    nows = [start + timedelta(minutes=rng.randrange(1, 5000)) for start, _ in cases]
    between = timed(lambda: [shared.minutes_between(n, d) for n, d in zip(nows, dues, strict=True)])
    minus = timed(lambda: [(d - n).total_seconds() // 60 for n, d in zip(nows, dues, strict=True)])
    rows.append(
        Row(
            "minutes_between (a list row's minutes left): µs",
            f"{1e6 * between / targets:.1f}",
            f"{1e6 * minus / targets:.2f}",
            ratio(between, minus),
        )
    )
    return rows


# --- 3. the SLA watcher ------------------------------------------------------------------------


def watcher_part(backend: Backend, count: int, limit: int) -> list[Row]:
    with backend.fresh("watcher") as engine:
        factory = make_session_factory(engine)
        clock = FrozenClock(START)
        shop = make_shop(factory, clock)
        progress(f"{backend.name}: {count:,} after-sales tickets to warn of")
        # After-sales: first response within 240 working minutes, warned 30 before.
        with UnitOfWork(factory, EventBus(), clock) as uow:
            for number in range(count):
                tickets.create_ticket(
                    uow, shop_id=shop.id, type=TicketType.AFTERSALE, title=f"换码 {number}",
                    team_id=shop.teams["aftersale"],
                    assignee_id=shop.agents["aftersale"][number % 2],
                    actor_agent_id=shop.supervisor, commit=False,
                )  # fmt: skip
            uow.commit()
        clock.advance(timedelta(minutes=211))  # 13:31: every first response is due at 14:00
        now = clock.now()
        with factory() as session:
            due = list(
                session.scalars(
                    select(SlaTarget.id)
                    .where(SlaTarget.warn_at <= now, SlaTarget.due_at > now)
                    .order_by(SlaTarget.id)
                )
            )
        counter = Statements(engine)

        # The baseline: the bare claim of each target, a transaction each.
        started = time.perf_counter()
        for target_id in due:
            with factory() as session:
                session.execute(
                    update(SlaTarget)
                    .where(
                        SlaTarget.id == target_id,
                        SlaTarget.warned_at.is_(None),
                        SlaTarget.state == SlaState.ACTIVE,
                        SlaTarget.warn_at <= now,
                        SlaTarget.due_at > now,
                    )
                    .values(warned_at=now)
                )
                session.commit()
        base = time.perf_counter() - started
        base_sql = counter.count
        with factory() as session:
            started = time.perf_counter()
            session.execute(update(SlaTarget).values(warned_at=None))
            session.commit()
            reset = time.perf_counter() - started

        before = counter.count
        warned = 0
        rounds = []
        started = time.perf_counter()
        while True:
            round_started = time.perf_counter()
            with UnitOfWork(factory, EventBus(), clock) as uow:
                given, _breaches = tickets.check_deadlines(uow, now=now, limit=limit)
            rounds.append(time.perf_counter() - round_started)
            warned += given
            if given < limit:
                break
        ours = time.perf_counter() - started
        ours_sql = counter.count - before
        with factory() as session:
            told = (
                session.scalar(
                    select(func.count(Notification.id)).where(
                        Notification.kind == NotificationKind.SLA_WARNING
                    )
                )
                or 0
            )
            claimed = session.scalar(
                select(func.count(SlaTarget.id)).where(SlaTarget.warned_at.is_not(None))
            )
    check = "ok" if warned == claimed == len(due) == count else "WRONG"
    return [
        Row(
            f"warnings/s (rounds of {limit})",
            f"{warned / ours:,.0f}",
            f"{len(due) / base:,.0f}",
            ratio(warned / ours, len(due) / base),
        ),
        Row(
            "round p50 / max, ms",
            f"{1000 * statistics.median(rounds):,.0f} / {1000 * max(rounds):,.0f}",
        ),
        Row(
            "SQL statements per warning",
            f"{ours_sql / max(warned, 1):.1f}",
            f"{base_sql / max(len(due), 1):.1f}",
            ratio(ours_sql / max(warned, 1), base_sql / max(len(due), 1)),
        ),
        Row("… one UPDATE of all targets instead (reset), ms", "", f"{1000 * reset:,.1f}"),
        Row(
            "warned, warning notifications (check)",
            f"{warned:,}, {told:,} {check}",
            f"{len(due):,} claimed",
        ),
    ]


# --- main --------------------------------------------------------------------------------------


def run(backend: Backend, args: argparse.Namespace) -> str:
    parts = []
    list_rows, checks = list_part(backend, args.tickets, args.repeat)
    parts.append(
        table(
            f"1. list_tickets, a page of {PAGE} of {args.tickets:,} tickets "
            f"({args.repeat} calls each)\n   check: {checks}",
            list_rows,
        )
    )
    if backend.name == "sqlite" or args.only_postgres:  # pure Python: once is enough
        progress(f"calendar: {args.targets:,} targets")
        parts.append(
            table(
                f"2. WorkCalendar: {args.targets:,} SLA targets (median of {args.repeat} runs)",
                calendar_part(args.targets, args.repeat),
            )
        )
    progress(f"{backend.name}: SLA watcher, {args.warnings:,} warnings")
    parts.append(
        table(
            f"3. sla_watch.check_deadlines: {args.warnings:,} due warnings",
            watcher_part(backend, args.warnings, args.limit),
        )
    )
    return f"\n== {backend.name} ==\n" + "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Ticket list, calendar and SLA watcher beside plain baselines "
        "(bench/README.md)."
    )
    parser.add_argument("--tickets", type=int, default=10_000, help="tickets in the list part")
    parser.add_argument("--repeat", type=int, default=100, help="calls per list filter")
    parser.add_argument("--targets", type=int, default=1000, help="SLA targets for the calendar")
    parser.add_argument("--warnings", type=int, default=1000, help="due SLA warnings")
    parser.add_argument("--limit", type=int, default=200, help="warnings per watcher round")
    parser.add_argument("--postgres", metavar="URL", help="also on PostgreSQL (own schema)")
    parser.add_argument("--only-postgres", action="store_true", help="skip SQLite")
    args = parser.parse_args(argv)
    # As `kefu serve` runs (src/kefu/cli.py).
    gc.set_threshold(20_000, 20, 10)
    print(
        f"Kefu tickets: {args.tickets:,} tickets, {args.targets:,} calendar targets, "
        f"{args.warnings:,} warnings\n"
        f"revision {revision()}; load average before: {load()} on {os.cpu_count()} cores",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-tickets-"))
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
