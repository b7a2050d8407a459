"""The quality sweep (coach.qa_sweep, every 10 minutes): scores the closed conversations
the subscriber missed and those closed again after their score, in the last days, a few
queries per round; one that fails does not hold the others back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, event, func, select

from kefu.clock import FrozenClock
from kefu.coach import engine, qa_sweep, scoring
from kefu.coach.models import QaScore
from tests.coach.conftest import ChatFactory, CoachStaff, Elsewhere
from tests.factories import UowFactory

ANGRY = "你们的东西质量太差了，我要退款"
REFUND = "那你退款好了"


def scored_ids(uow_factory: UowFactory) -> set[int]:
    with uow_factory() as uow:
        return set(uow.session.scalars(select(QaScore.conversation_id)))


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


def test_the_sweep_scores_what_the_subscriber_missed_once(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff, elsewhere: Elsewhere
) -> None:
    # No subscriber here: closing leaves the conversations unscored, in both shops.
    missed = chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND).close()
    unanswered = chat(agent=staff.aftersale).buyer("在吗").close()
    still_open = chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND)
    assert qa_sweep.sweep(uow_factory) == 2
    assert scored_ids(uow_factory) == {missed.conversation_id, elsewhere.conversation_id}
    assert qa_sweep.sweep(uow_factory) == 0  # nothing new: nothing done
    assert unanswered.conversation_id not in scored_ids(uow_factory)
    assert still_open.conversation_id not in scored_ids(uow_factory)


def test_a_conversation_closed_again_after_its_score_is_scored_again(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    c = chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND).close()
    assert qa_sweep.sweep(uow_factory) == 1
    c.after(20).buyer("还在吗").after(1).reply("在的，抱歉久等了，感谢您，请给五星评价").close()
    with uow_factory() as uow:
        assert scoring.unscored(uow.session, now=uow.clock.now()) == [
            (staff.shop_id, c.conversation_id)
        ]
    assert qa_sweep.sweep(uow_factory) == 1
    with uow_factory() as uow:
        [score] = uow.session.scalars(select(QaScore))
        assert score.reply_count == 2
        assert score.scored_at >= score.closed_at
    assert qa_sweep.sweep(uow_factory) == 0


def test_the_sweep_looks_back_a_week_only(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff, clock: FrozenClock
) -> None:
    old = chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND).close()
    clock.advance(timedelta(days=scoring.SWEEP_DAYS, minutes=1))
    recent = chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND).close()
    assert qa_sweep.sweep(uow_factory) == 1
    assert scored_ids(uow_factory) == {recent.conversation_id}
    assert old.conversation_id not in scored_ids(uow_factory)


def test_a_round_is_bounded_and_its_queries_do_not_grow_with_the_backlog(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff, db: Engine
) -> None:
    for _ in range(3):
        chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND).close()
    assert qa_sweep.sweep(uow_factory, limit=2) == 2
    assert qa_sweep.sweep(uow_factory, limit=2) == 1
    for _ in range(6):
        chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND).close()
    with uow_factory() as uow, counting(db) as statements:
        found = scoring.unscored(uow.session, now=uow.clock.now())
    assert len(found) == 6
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_one_failing_conversation_does_not_stop_the_others(
    uow_factory: UowFactory,
    chat: ChatFactory,
    staff: CoachStaff,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = chat(agent=staff.aftersale).buyer("这句让引擎出错").after(1).reply(REFUND).close()
    fine = chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND).close()
    real = engine.inspect

    def inspect(turns, rules, **options):  # type: ignore[no-untyped-def]
        if any(t.text == "这句让引擎出错" for t in turns):
            raise RuntimeError("engine broke")
        return real(turns, rules, **options)

    monkeypatch.setattr(engine, "inspect", inspect)
    assert qa_sweep.sweep(uow_factory) == 1
    assert scored_ids(uow_factory) == {fine.conversation_id}
    monkeypatch.setattr(engine, "inspect", real)
    assert qa_sweep.sweep(uow_factory) == 1  # fixed: caught up on the next round
    assert broken.conversation_id in scored_ids(uow_factory)


class _Stop(BaseException):
    """Ends the endless loop, as cancelling the task does in the server."""


def test_watch_runs_a_sweep_every_round_and_survives_a_failed_one(
    uow_factory: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    rounds: list[str] = []

    async def sleep(seconds: float) -> None:  # the loop's clock, without waiting
        waits.append(seconds)
        if len(waits) > 3:
            raise _Stop

    def sweep(unit_of_work: object) -> int:
        rounds.append("round")
        if len(rounds) == 1:
            raise RuntimeError("database away")
        return 0

    monkeypatch.setattr(qa_sweep, "asyncio", SimpleNamespace(sleep=sleep))
    monkeypatch.setattr(qa_sweep, "sweep", sweep)
    ended: list[BaseException] = []

    def run() -> None:  # an event loop of its own (a browser test may hold this thread's)
        try:
            asyncio.run(qa_sweep.watch(uow_factory))
        except _Stop as stop:
            ended.append(stop)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert len(ended) == 1
    assert waits == [qa_sweep.CHECK_EVERY] * 4
    assert rounds == ["round"] * 3  # the failed first round did not stop the loop


def test_the_sweep_counts_only_what_it_scored(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND).close()
    with uow_factory() as uow:
        assert scoring.score_unscored(uow, now=uow.clock.now(), shop_id=staff.shop_id) == 1
        assert uow.session.scalar(select(func.count(QaScore.id))) == 1
