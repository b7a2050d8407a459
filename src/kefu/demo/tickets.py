"""The demo shop's tickets (工单): SLA policies and the business calendar, custom fields,
shifts with their duty managers, saved views, and a dozen tickets told as stories
(:mod:`kefu.demo.ticket_stories`) — complaints and after-sales from the scripted chats, a
fault report, an internal request, escalations, a merged duplicate, and the handover report
of the last evening shift.

Written in the seeder's transaction, like the rest of the demo, and through the ticket
services. Each step runs with the unit of work's clock set to the moment it happened: an
SLA deadline is counted on the calendar from the ticket's opening, so moving creation times
back afterwards (as the rest of the demo does) would leave every deadline wrong; on the
demo's clock, tickets, history, clocks, notifications and the buyers' messages all agree.

After the commit, :func:`run_watchers` does what the app's SLA and handover jobs do on their
first round, so the demo opens with its warning, its breach and its flagged item recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.clock import FrozenClock
from kefu.conversations.models import Message
from kefu.demo.ticket_plot import AFTERSALE, COMPLAINTS, LEAD, OWNER, Plot
from kefu.demo.ticket_stories import STORIES
from kefu.shops import service as shops
from kefu.tickets import service as tickets
from kefu.tickets.models import DayKind, FieldKind, Ticket, TicketType
from kefu.uow import UnitOfWork

# The shop set tickets up before the first of the demo's chats and orders (within 90 days).
SET_UP_AGO: Final = timedelta(days=90)
# 售后 and 投诉 work their tickets Monday to Saturday (the warehouse ships on Saturdays).
WORK_WEEK: Final = {day: [("09:00", "18:00")] for day in range(1, 7)}
STOCKTAKING_IN: Final = timedelta(days=30)  # the warehouse closes a day for stocktaking
# The morning shift acknowledges the evening's handover by 09:30 (it starts at 09:00).
EVENING_ACK_MINUTES: Final = 9 * 60 + 30
# The evening shown handed over is the last one whose acknowledgement time (and the
# handover job's round after it) has passed.
EVENING_SETTLED: Final = timedelta(hours=10)


def write_tickets(uow: UnitOfWork, *, shop_id: int) -> int:
    """Set the demo shop up for tickets and tell its ticket stories. Does not commit.
    Returns how many tickets it has."""
    session = uow.session
    now = uow.clock.now()
    agents = accounts.list_agents(session, shop_id=shop_id)
    people = {agent.email: agent.id for agent in agents}
    teams = {team.code: team.id for team in shops.list_teams(session, shop_id=shop_id)}
    zone = ZoneInfo(shops.get_shop(session, shop_id=shop_id).timezone)
    last_message = _last_message_id(session, shop_id)

    with _clock_at(uow, now - SET_UP_AGO):
        evening_shift_id = _set_up(
            uow, shop_id=shop_id, people=people, teams=teams, closed_on=_local(now, zone)
        )
    plot = Plot(
        uow=uow,
        shop_id=shop_id,
        now=now,
        people=people,
        names={agent.email: agent.display_name for agent in agents},
        teams=teams,
        calendar=tickets.calendar_of(session, shop_id=shop_id),
        zone=zone,
        evening_end=_last_evening_end(now, zone),
        evening_shift_id=evening_shift_id,
    )
    for story in STORIES:
        story(plot)
    # Python's sort is stable: steps of one moment keep the order their story gave them.
    for step in sorted(plot.steps, key=lambda step: step.at):
        with _clock_at(uow, step.at):
            step.action()
    _name_messages(session, shop_id=shop_id, after=last_message)
    session.flush()
    return session.scalar(select(func.count(Ticket.id)).where(Ticket.shop_id == shop_id)) or 0


def run_watchers(uow_factory: Callable[[], UnitOfWork], *, now: datetime) -> None:
    """The SLA job's and the handover job's round at ``now`` (as the app runs them every
    30 and 60 seconds): warnings and breaches that are due, handover items unacknowledged
    in time. Each claims its rows, so running it again, or beside the app, fires nothing
    twice."""
    with uow_factory() as uow:
        tickets.check_deadlines(uow, now=now)
    tickets.flag_overdue(uow_factory, now=now)


@contextmanager
def _clock_at(uow: UnitOfWork, moment: datetime) -> Iterator[None]:
    """The services read the time from the unit of work's clock: set it to the story's
    moment for one step."""
    real = uow.clock
    uow.clock = FrozenClock(moment)
    try:
        yield
    finally:
        uow.clock = real


def _set_up(
    uow: UnitOfWork,
    *,
    shop_id: int,
    people: dict[str, int],
    teams: dict[str, int],
    closed_on: date,
) -> int:
    """Policies, calendar, custom fields, settings, shifts and views. Returns the id of
    投诉's evening shift, whose handover the demo shows."""
    tickets.ensure_policies(uow, shop_id=shop_id)
    tickets.update_calendar(
        uow, shop_id=shop_id, weekly_hours=WORK_WEEK, cn_holidays=True, commit=False
    )
    tickets.set_calendar_day(
        uow, shop_id=shop_id, day=closed_on + STOCKTAKING_IN, kind=DayKind.HOLIDAY,
        name="仓库年终盘点，暂停发货", commit=False,
    )  # fmt: skip
    fields = (
        (TicketType.FAULT, "fault_page", "故障页面", FieldKind.CHOICE,
         ("商品详情页", "购物车", "下单页", "支付页", "优惠券领取页", "其他"), True),
        (TicketType.FAULT, "occurred_at", "发生时间", FieldKind.TEXT, (), True),
        (TicketType.FAULT, "affected_orders", "影响订单数", FieldKind.NUMBER, (), False),
        (TicketType.COMPLAINT, "source", "投诉渠道", FieldKind.CHOICE,
         ("在线聊天", "电话", "微博", "商品评价"), False),
    )  # fmt: skip
    for ticket_type, key, label, kind, choices, required in fields:
        tickets.create_field(
            uow, shop_id=shop_id, ticket_type=ticket_type, key=key, label=label, kind=kind,
            choices=choices, required=required, commit=False,
        )  # fmt: skip
    tickets.update_ticket_settings(uow, shop_id=shop_id, duty_manager_id=people[LEAD], commit=False)
    # A small shop: the lead and the owner take the shifts the team's one agent can't.
    shifts = (
        ("aftersale", "早班", "09:00", "18:00", AFTERSALE, LEAD, 30),
        ("aftersale", "晚班", "18:00", "24:00", OWNER, OWNER, EVENING_ACK_MINUTES),
        ("complaints", "早班", "09:00", "18:00", LEAD, LEAD, 30),
        ("complaints", "晚班", "18:00", "24:00", COMPLAINTS, OWNER, EVENING_ACK_MINUTES),
    )
    evening = 0
    for team, name, start, end, member, manager, ack in shifts:
        shift = tickets.create_shift(
            uow, shop_id=shop_id, team_id=teams[team], name=name, start_time=start,
            end_time=end, member_ids=[people[member]], duty_manager_id=people[manager],
            ack_within_minutes=ack, commit=False,
        )  # fmt: skip
        if (team, name) == ("complaints", "晚班"):
            evening = shift.id
    tickets.create_view(
        uow, shop_id=shop_id, agent_id=people[LEAD], name="即将超时",
        filters={"open_only": True, "sla": "warning"}, shared=True, commit=False,
    )  # fmt: skip
    tickets.create_view(
        uow, shop_id=shop_id, agent_id=people[AFTERSALE], name="我的售后工单",
        filters={"open_only": True, "assignee": "me"}, commit=False,
    )  # fmt: skip
    return evening


def _local(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _last_evening_end(now: datetime, zone: ZoneInfo) -> datetime:
    """The midnight (shop time) ending the last evening shift whose handover the morning
    has had time to take over."""
    midnight = datetime.combine(_local(now, zone), time(0), tzinfo=zone)
    while now - midnight < EVENING_SETTLED:
        midnight = datetime.combine(midnight.date() - timedelta(days=1), time(0), tzinfo=zone)
    return midnight.astimezone(now.tzinfo)


def _last_message_id(session: Session, shop_id: int) -> int:
    query = select(func.max(Message.id)).where(Message.shop_id == shop_id)
    return session.scalar(query) or 0


def _name_messages(session: Session, *, shop_id: int, after: int) -> None:
    """The buyers' messages the stories sent get client ids of the demo's own kind: the
    services name them with random parts, and the same seed must give the same shop."""
    session.flush()
    written = session.execute(
        select(Message.id, Message.seq).where(Message.shop_id == shop_id, Message.id > after)
    ).all()
    for message_id, seq in written:
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(client_msg_id=f"demo-ticket-{seq:03d}")
            .execution_options(synchronize_session=False)
        )
