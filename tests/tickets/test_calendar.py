"""Working-time arithmetic as a shop would check it on its wall clock: lunch breaks,
weekends, 春节 and 国庆 with their 调休 Saturdays, the shop's own days, zones other than
Shanghai (with summer time), calendar time; and the shop's calendar settings."""

from __future__ import annotations

import random
import time as timer
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.errors import Invalid, NotFound
from kefu.shops import service as shops
from kefu.tickets import calendar
from kefu.tickets.calendar import ROUND_THE_CLOCK, WorkCalendar
from kefu.tickets.models import DayKind
from kefu.tickets.work_hours import DEFAULT_WEEK
from tests.factories import UowFactory, make_shop

SHANGHAI = ZoneInfo("Asia/Shanghai")
LUNCH_WEEK = {day: [("09:00", "12:00"), ("13:30", "18:00")] for day in range(1, 6)}


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def office(**options: object) -> WorkCalendar:
    return WorkCalendar.from_hours(
        timezone=str(options.pop("timezone", "Asia/Shanghai")),
        weekly_hours=options.pop("weekly_hours", DEFAULT_WEEK),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def local(moment: datetime, zone: ZoneInfo = SHANGHAI) -> datetime:
    return moment.astimezone(zone)


# --- the arithmetic ----------------------------------------------------------------------


def test_an_hour_inside_the_day_and_across_the_evening() -> None:
    cal = office()
    assert local(cal.add(sh(2026, 11, 23, 10, 0), 60)) == sh(2026, 11, 23, 11, 0)
    # Monday 17:00 + 2 working hours: one tonight, one tomorrow morning.
    assert local(cal.add(sh(2026, 11, 23, 17, 0), 120)) == sh(2026, 11, 24, 10, 0)
    # Exactly the rest of the day: due at closing time, not at 09:00 tomorrow.
    assert local(cal.add(sh(2026, 11, 23, 17, 0), 60)) == sh(2026, 11, 23, 18, 0)


def test_the_lunch_break_does_not_count() -> None:
    cal = office(weekly_hours=LUNCH_WEEK)
    assert local(cal.add(sh(2026, 11, 23, 11, 30), 60)) == sh(2026, 11, 23, 14, 0)
    assert cal.minutes_between(sh(2026, 11, 23, 11, 0), sh(2026, 11, 23, 14, 0)) == 90
    assert not cal.is_open(sh(2026, 11, 23, 12, 45))
    assert cal.is_open(sh(2026, 11, 23, 13, 30))
    # Started during lunch: the clock runs from 13:30.
    assert local(cal.add(sh(2026, 11, 23, 12, 10), 30)) == sh(2026, 11, 23, 14, 0)


def test_the_weekend_is_skipped() -> None:
    cal = office()
    friday = sh(2026, 11, 27, 17, 30)
    assert local(cal.add(friday, 60)) == sh(2026, 11, 30, 9, 30)  # Monday
    assert cal.minutes_between(friday, sh(2026, 11, 30, 9, 30)) == 60
    # A ticket opened on Saturday starts counting on Monday morning.
    assert local(cal.add(sh(2026, 11, 28, 15, 0), 30)) == sh(2026, 11, 30, 9, 30)


def test_spring_festival_2026_and_its_working_saturday() -> None:
    cal = office()
    # Friday 2026-02-13 17:00 + 2 working hours: 17–18, then Saturday the 14th (调休上班).
    assert local(cal.add(sh(2026, 2, 13, 17, 0), 120)) == sh(2026, 2, 14, 10, 0)
    # From the last working hour before the holiday, nine days of 春节 are skipped.
    assert local(cal.add(sh(2026, 2, 14, 17, 0), 120)) == sh(2026, 2, 24, 10, 0)
    assert cal.minutes_between(sh(2026, 2, 14, 17, 0), sh(2026, 2, 24, 10, 0)) == 120
    assert not cal.is_open(sh(2026, 2, 18, 10, 0))
    assert cal.is_open(sh(2026, 2, 28, 10, 0))  # the second 调休 Saturday


def test_national_day_2026() -> None:
    cal = office()
    assert local(cal.add(sh(2026, 9, 30, 17, 0), 120)) == sh(2026, 10, 8, 10, 0)
    assert cal.is_open(sh(2026, 10, 10, 11, 0))  # Saturday worked
    assert not cal.is_open(sh(2026, 10, 11, 11, 0))  # Sunday, not
    assert cal.minutes_between(sh(2026, 9, 30, 9, 0), sh(2026, 10, 11, 0, 0)) == 4 * 540


def test_a_make_up_day_works_the_hours_of_a_normal_weekday() -> None:
    cal = office(weekly_hours={**LUNCH_WEEK, 1: []})  # closed on Mondays: Tuesday's hours
    assert cal.periods_on(date(2026, 2, 14)) == ((540, 720), (810, 1080))


def test_holidays_can_be_switched_off() -> None:
    cal = office(cn_holidays=False)
    assert local(cal.add(sh(2026, 2, 13, 17, 0), 120)) == sh(2026, 2, 16, 10, 0)
    assert not cal.is_open(sh(2026, 2, 14, 10, 0))


def test_the_shops_own_days_win() -> None:
    cal = office(
        own_days={
            date(2026, 11, 24): DayKind.HOLIDAY,  # 店休 on a Tuesday
            date(2026, 2, 14): DayKind.HOLIDAY,  # not working the 调休 Saturday after all
            date(2026, 2, 16): DayKind.WORKDAY,  # but open on a 春节 day
        }
    )
    assert local(cal.add(sh(2026, 11, 23, 17, 0), 120)) == sh(2026, 11, 25, 10, 0)
    assert local(cal.add(sh(2026, 2, 13, 17, 0), 120)) == sh(2026, 2, 16, 10, 0)


def test_another_zone_with_summer_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cal = office(timezone="Europe/Berlin", cn_holidays=False)
    friday = datetime(2026, 3, 27, 17, 0, tzinfo=berlin)  # summer time starts on Sunday
    due = cal.add(friday, 120)
    assert local(due, berlin) == datetime(2026, 3, 30, 10, 0, tzinfo=berlin)
    assert due.utcoffset() == timedelta(0) and due.hour == 8  # 10:00 CEST is 08:00 UTC
    # Around the clock on the night the clocks go forward, one wall hour does not exist:
    # Saturday noon to Sunday noon lasts 23 hours, and 24 hours end at 13:00.
    nights = office(
        timezone="Europe/Berlin", weekly_hours={d: [("00:00", "24:00")] for d in range(1, 8)}
    )
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=berlin)
    sunday = datetime(2026, 3, 29, 12, 0, tzinfo=berlin)
    assert nights.minutes_between(saturday, sunday) == 23 * 60
    assert local(nights.add(saturday, 24 * 60), berlin) == datetime(
        2026, 3, 29, 13, 0, tzinfo=berlin
    )


def test_a_period_crossing_the_spring_forward_gap_is_as_long_as_it_really_is() -> None:
    new_york = ZoneInfo("America/New_York")
    cal = office(
        timezone="America/New_York",
        weekly_hours={7: [("01:00", "04:00")]},
        cn_holidays=False,
    )
    sunday = date(2026, 3, 8)  # 02:00 → 03:00
    start = datetime.combine(sunday, datetime.min.time(), tzinfo=new_york)
    assert cal.minutes_between(start, start + timedelta(days=1)) == 120
    assert local(cal.add(start, 90), new_york).strftime("%H:%M") == "03:30"


def test_days_in_new_york_count_in_new_york() -> None:
    new_york = ZoneInfo("America/New_York")
    cal = office(timezone="America/New_York", cn_holidays=False)
    monday = datetime(2026, 11, 23, 17, 0, tzinfo=new_york)  # 06:00 Tuesday in Shanghai
    assert local(cal.add(monday, 120), new_york) == datetime(2026, 11, 24, 10, 0, tzinfo=new_york)


def test_calendar_time_counts_every_minute() -> None:
    start = sh(2026, 2, 13, 17, 0)
    assert local(ROUND_THE_CLOCK.add(start, 120)) == sh(2026, 2, 13, 19, 0)
    assert ROUND_THE_CLOCK.minutes_between(start, sh(2026, 2, 14, 17, 0)) == 1440
    assert ROUND_THE_CLOCK.minutes_between(sh(2026, 2, 14, 17, 0), start) == -1440


def test_counting_back_and_past_the_deadline() -> None:
    cal = office()
    due = sh(2026, 11, 24, 9, 20)
    # 30 working minutes before Tuesday 09:20 is Monday 17:50.
    assert local(cal.add(due, -30)) == sh(2026, 11, 23, 17, 50)
    # How far past a deadline: negative, in working minutes.
    assert cal.minutes_between(due, sh(2026, 11, 24, 10, 0)) == 40
    assert cal.minutes_between(sh(2026, 11, 24, 10, 0), due) == -40


def test_add_and_minutes_between_are_inverse_and_fast() -> None:
    cals = [
        office(),
        office(weekly_hours=LUNCH_WEEK, own_days={date(2025, 3, 3): DayKind.HOLIDAY}),
        office(timezone="America/New_York", cn_holidays=False),
    ]
    rnd = random.Random(6)
    began = timer.perf_counter()
    for cal in cals:
        for _ in range(400):
            start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
                minutes=rnd.randrange(3 * 365 * 24 * 60), seconds=rnd.randrange(60)
            )
            minutes = rnd.randrange(1, 200_000)
            due = cal.add(start, minutes)
            assert due > start
            assert cal.minutes_between(start, due) == minutes
            assert cal.minutes_between(cal.add(due, -minutes), due) == minutes
    # A year of working minutes is a few years of calendar: still quick.
    year = cals[0].add(sh(2026, 1, 5, 9, 0), 525_600)
    assert cals[0].minutes_between(sh(2026, 1, 5, 9, 0), year) == 525_600
    assert timer.perf_counter() - began < 5


def test_a_calendar_without_hours_refuses_to_count() -> None:
    cal = WorkCalendar(timezone="Asia/Shanghai", week={})
    with pytest.raises(Invalid) as refused:
        cal.add(sh(2026, 11, 23, 10, 0), 60)
    assert refused.value.key == "errors.tickets.sla.no_hours"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        office().add(datetime(2026, 11, 23, 10, 0), 60)  # noqa: DTZ001


# --- the shop's calendar -----------------------------------------------------------------


def test_a_new_shop_works_weekdays_nine_to_six_with_chinese_holidays(
    uow_factory: UowFactory,
) -> None:
    shop = make_shop(uow_factory, "cal-shop")
    with uow_factory() as uow:
        cal = calendar.calendar_of(uow.session, shop_id=shop.id)
        settings = calendar.calendar_settings(uow.session, shop_id=shop.id)
    assert settings.weekly_hours[1] == [("09:00", "18:00")] and settings.weekly_hours[6] == []
    assert settings.cn_holidays and settings.days == []
    assert local(cal.add(sh(2026, 2, 13, 17, 0), 120)) == sh(2026, 2, 14, 10, 0)


def test_the_shop_changes_its_week_and_its_own_days(uow_factory: UowFactory) -> None:
    shop = make_shop(uow_factory, "cal-shop")
    with uow_factory() as uow:
        calendar.update_calendar(
            uow, shop_id=shop.id, weekly_hours={**LUNCH_WEEK, 6: [("10:00", "16:00")]},
            cn_holidays=False,
        )  # fmt: skip
    with uow_factory() as uow:
        calendar.set_calendar_day(
            uow, shop_id=shop.id, day=date(2026, 11, 24), kind=DayKind.HOLIDAY, name="店庆"
        )
        # Marking it again changes it rather than failing.
        calendar.set_calendar_day(
            uow, shop_id=shop.id, day=date(2026, 11, 24), kind=DayKind.HOLIDAY, name="店休"
        )
    with uow_factory() as uow:
        settings = calendar.calendar_settings(uow.session, shop_id=shop.id)
        cal = calendar.calendar_of(uow.session, shop_id=shop.id)
    assert settings.weekly_hours[6] == [("10:00", "16:00")] and not settings.cn_holidays
    assert [(d.day, d.kind, d.name) for d in settings.days] == [
        (date(2026, 11, 24), DayKind.HOLIDAY, "店休")
    ]
    assert local(cal.add(sh(2026, 11, 23, 17, 0), 120)) == sh(2026, 11, 25, 10, 0)
    assert local(cal.add(sh(2026, 11, 28, 15, 30), 60)) == sh(2026, 11, 30, 9, 30)
    with uow_factory() as uow:
        calendar.remove_calendar_day(uow, shop_id=shop.id, day=date(2026, 11, 24))
    with uow_factory() as uow:
        cal = calendar.calendar_of(uow.session, shop_id=shop.id)
        with pytest.raises(NotFound):
            calendar.remove_calendar_day(uow, shop_id=shop.id, day=date(2026, 11, 24))
    assert local(cal.add(sh(2026, 11, 23, 17, 0), 120)) == sh(2026, 11, 24, 10, 0)


@pytest.mark.parametrize(
    ("week", "key", "field"),
    [
        ({1: [("18:00", "09:00")]}, "errors.tickets.sla.overnight", "weekly_hours.1"),
        ({2: [("09:00", "09:00")]}, "errors.tickets.sla.empty_period", "weekly_hours.2"),
        ({3: [("9点", "18:00")]}, "errors.tickets.sla.clock", "weekly_hours.3"),
        ({3: [("24:00", "24:00")]}, "errors.tickets.sla.clock", "weekly_hours.3"),
        ({3: [("09:00", "25:00")]}, "errors.tickets.sla.clock", "weekly_hours.3"),
        (
            {4: [("09:00", "12:00"), ("11:00", "18:00")]},
            "errors.tickets.sla.overlap",
            "weekly_hours.4",
        ),
        (
            {5: [("08:00", "09:00"), ("10:00", "11:00"), ("12:00", "13:00"),
                 ("14:00", "15:00"), ("16:00", "17:00")]},
            "errors.tickets.sla.too_many_periods",
            "weekly_hours.5",
        ),
        ({8: [("09:00", "18:00")]}, "errors.tickets.sla.weekday", "weekly_hours"),
        ({d: [] for d in range(1, 8)}, "errors.tickets.sla.no_hours", "weekly_hours"),
        ({1: [("09:00",)]}, "errors.tickets.sla.period_shape", "weekly_hours.1"),
    ],
)  # fmt: skip
def test_bad_hours_are_refused_and_nothing_is_saved(
    uow_factory: UowFactory, week: dict[int, list[tuple[str, ...]]], key: str, field: str
) -> None:
    shop = make_shop(uow_factory, "cal-shop")
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        calendar.update_calendar(uow, shop_id=shop.id, weekly_hours=week, cn_holidays=False)  # type: ignore[arg-type]
    assert (refused.value.key, refused.value.field) == (key, field)
    with uow_factory() as uow:
        settings = calendar.calendar_settings(uow.session, shop_id=shop.id)
    assert settings.cn_holidays and settings.weekly_hours[1] == [("09:00", "18:00")]


def test_a_night_is_split_at_midnight_and_may_run_to_24_00(uow_factory: UowFactory) -> None:
    shop = make_shop(uow_factory, "cal-shop")
    with uow_factory() as uow:
        calendar.update_calendar(
            uow, shop_id=shop.id,
            weekly_hours={d: [("00:00", "02:00"), ("20:00", "24:00")] for d in range(1, 8)},
        )  # fmt: skip
    with uow_factory() as uow:
        cal = calendar.calendar_of(uow.session, shop_id=shop.id)
    # 23:00 + 2 hours runs through midnight without a break.
    assert local(cal.add(sh(2026, 11, 23, 23, 0), 120)) == sh(2026, 11, 24, 1, 0)


def test_days_outside_the_century_and_another_shops_days(uow_factory: UowFactory) -> None:
    shop = make_shop(uow_factory, "cal-shop")
    other = make_shop(uow_factory, "cal-other")
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        calendar.set_calendar_day(uow, shop_id=shop.id, day=date(2199, 1, 1), kind=DayKind.HOLIDAY)
    assert refused.value.key == "errors.tickets.sla.day_range"
    with uow_factory() as uow:
        calendar.set_calendar_day(
            uow, shop_id=other.id, day=date(2026, 12, 1), kind=DayKind.HOLIDAY
        )
    with uow_factory() as uow:
        assert calendar.list_calendar_days(uow.session, shop_id=shop.id) == []
        with pytest.raises(NotFound):
            calendar.remove_calendar_day(uow, shop_id=shop.id, day=date(2026, 12, 1))
    with uow_factory() as uow, pytest.raises(NotFound):
        calendar.calendar_of(uow.session, shop_id=999_999)


def test_the_shops_zone_is_the_calendars_zone(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        shop = shops.create_shop(uow, slug="cal-berlin", name="柏林店", timezone="Europe/Berlin")
    with uow_factory() as uow:
        cal = calendar.calendar_of(uow.session, shop_id=shop.id)
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 11, 23, 17, 0, tzinfo=berlin)
    assert local(cal.add(start, 120), berlin) == datetime(2026, 11, 24, 10, 0, tzinfo=berlin)
