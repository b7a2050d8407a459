"""Quality reports (coach.qa_reports, qa_lists, qa_periods): averages per agent and team,
trends bucketed at the shop's midnights, frequent problems without the overturned hits,
the worst conversations, an agent's own scores — a few queries whatever the data, and
never another shop's scores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, update

from kefu.clock import FrozenClock
from kefu.coach import service as coach
from kefu.coach.qa_periods import QaRange
from kefu.errors import Invalid
from kefu.shops.models import Shop
from tests.coach.conftest import ChatFactory, CoachStaff, Elsewhere
from tests.coach.qakit import bad_chat, good_chat, hits_of
from tests.factories import UowFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI)


def span(
    uow_factory: UowFactory, staff: CoachStaff, since: date, until: date, period: str = "day"
) -> QaRange:
    with uow_factory() as uow:
        return coach.qa_range(
            uow.session, shop_id=staff.shop_id, now=uow.clock.now(), since=since, until=until,
            period=period,
        )  # fmt: skip


@contextmanager
def counting(db: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db, "before_cursor_execute", count)


MON = date(2026, 11, 23)


def test_trend_days_are_cut_at_the_shops_midnight(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff, clock: FrozenClock
) -> None:
    # 23:30 and 00:30 in Shanghai: the same UTC day (15:30, 16:30), two days of the shop.
    clock.set(local(MON, 23, 29))
    late = bad_chat(uow_factory, chat, staff.aftersale)
    clock.set(local(MON + timedelta(days=1), 0, 29))
    early = good_chat(uow_factory, chat, staff.aftersale)
    assert late.closed_at.astimezone(UTC).date() == early.closed_at.astimezone(UTC).date()
    clock.set(local(MON - timedelta(days=1), 23, 58))  # the evening before the range
    bad_chat(uow_factory, chat, staff.aftersale)
    clock.set(local(MON + timedelta(days=2), 0, 0))  # the midnight after it
    bad_chat(uow_factory, chat, staff.aftersale)

    days = span(uow_factory, staff, MON, MON + timedelta(days=1))
    with uow_factory() as uow:
        trend = coach.agent_trend(
            uow.session, shop_id=staff.shop_id, agent_id=staff.aftersale.id, span=days
        )
        team = coach.team_trend(
            uow.session, shop_id=staff.shop_id, team_id=staff.teams["aftersale"], span=days
        )
    assert [(p.start, p.count, p.average) for p in trend] == [
        (MON, 1, float(late.score)),
        (MON + timedelta(days=1), 1, 100.0),
    ]
    assert team == trend


def test_trend_weeks_run_monday_to_sunday_in_shop_time(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff, clock: FrozenClock
) -> None:
    sunday = MON + timedelta(days=6)
    clock.set(local(MON + timedelta(days=2), 9, 59))
    first = bad_chat(uow_factory, chat, staff.aftersale)
    clock.set(local(sunday, 23, 50))
    second = good_chat(uow_factory, chat, staff.aftersale)
    clock.set(local(sunday + timedelta(days=1), 0, 9))
    third = bad_chat(uow_factory, chat, staff.aftersale)
    weeks = span(uow_factory, staff, MON + timedelta(days=1), sunday + timedelta(days=3), "week")
    assert weeks.buckets == (MON, MON + timedelta(days=7))
    with uow_factory() as uow:
        trend = coach.agent_trend(
            uow.session, shop_id=staff.shop_id, agent_id=staff.aftersale.id, span=weeks
        )
    assert [(p.start, p.count, p.average) for p in trend] == [
        (MON, 2, (first.score + second.score) / 2),
        (MON + timedelta(days=7), 1, float(third.score)),
    ]


def test_a_day_of_25_hours_in_a_zone_with_daylight_saving(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    with uow_factory() as uow:
        uow.session.execute(
            update(Shop).where(Shop.id == staff.shop_id).values(timezone="America/New_York")
        )
        uow.commit()
    fall_back = date(2026, 11, 1)  # summer time ends that night in New York
    days = span(uow_factory, staff, fall_back, fall_back + timedelta(days=1))
    edges = [edge.astimezone(UTC) for edge in days.edges]
    assert edges == [
        datetime(2026, 11, 1, 4, tzinfo=UTC),
        datetime(2026, 11, 2, 5, tzinfo=UTC),
        datetime(2026, 11, 3, 5, tzinfo=UTC),
    ]


def test_the_overview_per_agent_and_team_with_top_and_frequent_problems(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff, elsewhere: Elsewhere
) -> None:
    bad = bad_chat(uow_factory, chat, staff.aftersale)
    good = good_chat(uow_factory, chat, staff.aftersale)
    other = bad_chat(uow_factory, chat, staff.aftersale2)
    presale = good_chat(uow_factory, chat, staff.agent, team_code="presale")
    with uow_factory() as uow:  # another shop's score must never count here
        coach.score_conversation(
            uow, shop_id=elsewhere.staff.shop.id, conversation_id=elsewhere.conversation_id
        )
        coach.review_score(
            uow, shop_id=staff.shop_id, score_id=other.id, reviewer_id=staff.supervisor.id,
            verdicts=[(hits_of(uow_factory, other.id)["refund_first"].id, "overturned", "")],
            comment="",
        )  # fmt: skip
    other_after = other.score + hits_of(uow_factory, other.id)["refund_first"].points
    today = span(uow_factory, staff, MON, MON)
    with uow_factory() as uow:
        overview = coach.quality_overview(uow.session, shop_id=staff.shop_id, span=today)
    assert overview.scores == 4
    assert overview.reviewed == 1 and overview.pending == 3
    assert overview.average == round((bad.score + good.score + other_after + 100) / 4, 1)
    assert overview.lowest == bad.score
    rows = {row.key: row for row in overview.agents}
    assert set(rows) == {staff.aftersale.id, staff.aftersale2.id, staff.agent.id}
    liu = rows[staff.aftersale.id]
    assert (liu.name, liu.conversations, liu.lowest) == ("小刘", 2, bad.score)
    assert liu.average == round((bad.score + 100) / 2, 1)
    assert [(p.count, p.average) for p in liu.trend] == [(2, liu.average)]
    # Each broken once: the costlier first (15, 10, then 5 before 5 by code).
    assert [p.rule_code for p in liu.problems] == [
        "no_apology_angry", "refund_first", "no_closing",
    ]  # fmt: skip
    assert overview.agents[0].key == staff.aftersale.id  # most conversations first
    teams = {row.key: row for row in overview.teams}
    assert teams[staff.teams["aftersale"]].conversations == 3
    assert teams[staff.teams["presale"]].conversations == 1
    assert teams[staff.teams["presale"]].average == 100.0
    assert teams[staff.teams["aftersale"]].name == "售后"
    frequent = {p.rule_code: p for p in overview.problems}
    # 小张's refund was overturned: only 小刘's counts.
    assert (frequent["refund_first"].count, frequent["refund_first"].agents) == (1, 1)
    assert (frequent["no_apology_angry"].count, frequent["no_apology_angry"].agents) == (2, 2)
    assert frequent["refund_first"].rule_name == "首句推退款"
    with uow_factory() as uow:
        alone = coach.frequent_problems(uow.session, shop_id=staff.shop_id, span=today)
        by_team = coach.quality_overview(
            uow.session, shop_id=staff.shop_id, span=today, team_id=staff.teams["presale"]
        )
        by_agent = coach.quality_overview(
            uow.session, shop_id=staff.shop_id, span=today, agent_id=staff.aftersale2.id
        )
    assert alone == overview.problems
    assert [row.key for row in by_team.agents] == [staff.agent.id]
    assert (by_team.scores, by_team.problems) == (1, ())
    assert [row.key for row in by_agent.agents] == [staff.aftersale2.id]
    assert presale.score == 100


def test_worst_conversations_unreviewed_first_then_lowest(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    reviewed = bad_chat(uow_factory, chat, staff.aftersale)
    bad = bad_chat(uow_factory, chat, staff.aftersale2)
    good = good_chat(uow_factory, chat, staff.aftersale)
    with uow_factory() as uow:
        coach.review_score(
            uow, shop_id=staff.shop_id, score_id=reviewed.id, reviewer_id=staff.supervisor.id,
            verdicts=[], comment="看过了",
        )  # fmt: skip
        rows = coach.worst_conversations(
            uow.session, shop_id=staff.shop_id, span=span(uow_factory, staff, MON, MON), limit=10
        )
        two = coach.worst_conversations(
            uow.session, shop_id=staff.shop_id, span=span(uow_factory, staff, MON, MON), limit=2
        )
    assert [r.id for r in rows] == [bad.id, good.id, reviewed.id]
    assert [r.id for r in two] == [bad.id, good.id]
    first = rows[0]
    assert (first.agent_name, first.customer_name, first.team_name) == ("小张", "王芳", "售后")
    assert first.rules[0] == "未先安抚致歉"  # most points first
    assert "首句推退款" in first.rules
    assert rows[2].reviewed and rows[2].comment == "看过了"


def test_my_scores_are_mine_with_unread_reviews(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff, clock: FrozenClock
) -> None:
    old = bad_chat(uow_factory, chat, staff.aftersale)
    clock.advance(timedelta(days=40))
    recent = good_chat(uow_factory, chat, staff.aftersale)
    bad_chat(uow_factory, chat, staff.aftersale2)
    with uow_factory() as uow:
        coach.review_score(
            uow, shop_id=staff.shop_id, score_id=old.id, reviewer_id=staff.supervisor.id,
            verdicts=[], comment="老会话的评语",
        )  # fmt: skip
        now = uow.clock.now()
        last_month = coach.qa_range(uow.session, shop_id=staff.shop_id, now=now)
        mine = coach.my_scores(
            uow.session, shop_id=staff.shop_id, agent_id=staff.aftersale.id, span=last_month
        )
    assert [r.id for r in mine.rows] == [recent.id]  # the default range: the last 30 days
    assert (mine.count, mine.average) == (1, 100.0)
    assert mine.unread == 1  # the review of the older conversation is still news
    assert len(mine.trend) == 30 and mine.trend[-1].count == 1


def test_reports_cost_the_same_few_queries_whatever_the_data(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff, db: Engine
) -> None:
    def run() -> int:
        with uow_factory() as uow, counting(db) as statements:
            whole = coach.qa_range(uow.session, shop_id=staff.shop_id, now=uow.clock.now())
            coach.quality_overview(uow.session, shop_id=staff.shop_id, span=whole)
            coach.frequent_problems(uow.session, shop_id=staff.shop_id, span=whole)
            coach.worst_conversations(uow.session, shop_id=staff.shop_id, span=whole)
            coach.my_scores(
                uow.session, shop_id=staff.shop_id, agent_id=staff.aftersale.id, span=whole
            )
            coach.list_scores(uow.session, shop_id=staff.shop_id, span=whole)
        return len(statements)

    bad_chat(uow_factory, chat, staff.aftersale)
    few = run()
    for agent in (staff.aftersale, staff.aftersale2, staff.agent, staff.supervisor):
        bad_chat(uow_factory, chat, agent)
        good_chat(uow_factory, chat, agent)
    assert run() == few
    assert few <= 16


def test_list_scores_filters(uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff) -> None:
    bad = bad_chat(uow_factory, chat, staff.aftersale)
    good = good_chat(uow_factory, chat, staff.aftersale2)
    with uow_factory() as uow:

        def ids(**filters: object) -> list[int]:
            rows = coach.list_scores(uow.session, shop_id=staff.shop_id, **filters)  # type: ignore[arg-type]
            return [r.id for r in rows]

        assert ids() == [good.id, bad.id]  # newest first
        assert ids(max_score=99) == [bad.id]
        assert ids(min_score=100) == [good.id]
        assert ids(agent_id=staff.aftersale.id) == [bad.id]
        assert ids(team_id=staff.teams["presale"]) == []
        assert ids(status="reviewed") == []
        assert ids(limit=1, offset=1) == [bad.id]
        with pytest.raises(Invalid):
            ids(status="done")


@pytest.mark.parametrize(
    ("since", "until", "period", "key"),
    [
        (date(2026, 11, 23), date(2026, 11, 22), "day", "coach.qa.error.range_order"),
        (date(2025, 1, 1), date(2026, 11, 22), "day", "coach.qa.error.range_length"),
        (None, None, "month", "coach.qa.error.period"),
    ],
)
def test_a_range_that_makes_no_sense_is_refused(
    uow_factory: UowFactory,
    staff: CoachStaff,
    since: date | None,
    until: date | None,
    period: str,
    key: str,
) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        coach.qa_range(
            uow.session, shop_id=staff.shop_id, now=uow.clock.now(), since=since, until=until,
            period=period,
        )  # fmt: skip
    assert refused.value.key == key


def test_the_default_range_is_the_last_thirty_days_of_the_shop(
    uow_factory: UowFactory, staff: CoachStaff, clock: FrozenClock
) -> None:
    clock.set(local(MON, 0, 30))  # 16:30 UTC the day before
    with uow_factory() as uow:
        whole = coach.qa_range(uow.session, shop_id=staff.shop_id, now=uow.clock.now())
    assert (whole.since, whole.until) == (MON - timedelta(days=29), MON)
    assert whole.start == local(MON - timedelta(days=29), 0, 0)
    assert len(whole.buckets) == 30
