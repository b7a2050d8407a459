"""Staff notifications: worded in the reader's language, only for active colleagues of the
shop, announced after commit, listed newest first and marked read by their owner only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kefu.accounts import service as accounts
from kefu.accounts.models import Role
from kefu.clock import FrozenClock
from kefu.errors import Invalid, NotFound
from kefu.events import EventBus
from kefu.tickets import notifications
from kefu.tickets.events import NotificationCreated
from kefu.tickets.models import NotificationKind
from tests.factories import ShopWithStaff, UowFactory, make_agent, make_shop_with_staff

WORDS = {"zh-CN": "王芳 在工单 #1001 中提到了你", "en": "王芳 mentioned you on ticket #1001"}


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


def _set_locale(uow_factory: UowFactory, shop_id: int, agent_id: int, locale: str) -> None:
    with uow_factory() as uow:
        accounts.update_agent(
            uow, shop_id=shop_id, agent_id=agent_id, acting_agent_id=None, locale=locale
        )


def test_each_agent_reads_the_notification_in_their_own_language(
    uow_factory: UowFactory, alpha: ShopWithStaff, bus: EventBus
) -> None:
    shop_id = alpha.shop.id
    _set_locale(uow_factory, shop_id, alpha.supervisor.id, "en")
    with bus.capture() as events, uow_factory() as uow:
        rows = notifications.notify(
            uow,
            shop_id=shop_id,
            agent_ids=[alpha.agent.id, alpha.supervisor.id],
            kind=NotificationKind.MENTION,
            text=WORDS,
            link="/tickets/7",
        )
        assert events == []  # nothing is announced before the commit
        uow.commit()
    # The agent has no language of their own: the shop's (zh-CN) applies.
    assert {r.agent_id: r.text for r in rows} == {
        alpha.agent.id: WORDS["zh-CN"],
        alpha.supervisor.id: WORDS["en"],
    }
    created = [e for e in events if isinstance(e, NotificationCreated)]
    assert [(e.agent_id, e.text, e.link, e.kind) for e in created] == [
        (alpha.agent.id, WORDS["zh-CN"], "/tickets/7", "mention"),
        (alpha.supervisor.id, WORDS["en"], "/tickets/7", "mention"),
    ]
    assert [e.notification_id for e in created] == [r.id for r in rows]


def test_plain_text_is_the_same_for_everybody(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    _set_locale(uow_factory, alpha.shop.id, alpha.agent.id, "en")
    with uow_factory() as uow:
        rows = notifications.notify(
            uow,
            shop_id=alpha.shop.id,
            agent_ids=[alpha.agent.id],
            kind=NotificationKind.HANDOVER,
            text="早班交班报告待确认",
        )
        uow.commit()
    assert [r.text for r in rows] == ["早班交班报告待确认"]


def test_repeats_count_once_and_deactivated_or_foreign_agents_get_nothing(
    uow_factory: UowFactory, alpha: ShopWithStaff, bus: EventBus
) -> None:
    shop_id = alpha.shop.id
    beta = make_shop_with_staff(uow_factory, "beta")
    gone = make_agent(uow_factory, alpha.shop, email="gone@alpha.test", name="离职")
    with uow_factory() as uow:
        accounts.update_agent(
            uow, shop_id=shop_id, agent_id=gone.id, acting_agent_id=alpha.owner.id, is_active=False
        )
    with bus.capture() as events, uow_factory() as uow:
        rows = notifications.notify(
            uow,
            shop_id=shop_id,
            agent_ids=[alpha.agent.id, gone.id, beta.agent.id, alpha.agent.id],
            kind=NotificationKind.ASSIGNED,
            text=WORDS,
        )
        uow.commit()
    assert [r.agent_id for r in rows] == [alpha.agent.id]
    assert [e.agent_id for e in events if isinstance(e, NotificationCreated)] == [alpha.agent.id]
    with uow_factory() as uow:
        assert (
            notifications.unread_count(uow.session, shop_id=beta.shop.id, agent_id=beta.agent.id)
            == 0
        )
        assert notifications.unread_count(uow.session, shop_id=shop_id, agent_id=gone.id) == 0


def test_nobody_to_tell_writes_nothing(uow_factory: UowFactory, alpha: ShopWithStaff) -> None:
    with uow_factory() as uow:
        assert (
            notifications.notify(
                uow, shop_id=alpha.shop.id, agent_ids=[], kind=NotificationKind.MENTION, text="x"
            )
            == []
        )


def test_a_rolled_back_change_leaves_no_notification_and_announces_none(
    uow_factory: UowFactory, alpha: ShopWithStaff, bus: EventBus
) -> None:
    with bus.capture() as events, uow_factory() as uow:
        notifications.notify(
            uow,
            shop_id=alpha.shop.id,
            agent_ids=[alpha.agent.id],
            kind=NotificationKind.MENTION,
            text=WORDS,
        )
        # no commit: the change that caused it failed
    assert events == []
    with uow_factory() as uow:
        assert (
            notifications.list_notifications(
                uow.session, shop_id=alpha.shop.id, agent_id=alpha.agent.id
            )
            == []
        )


def test_long_text_is_cut_to_fit_with_an_ellipsis(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    with uow_factory() as uow:
        [row] = notifications.notify(
            uow,
            shop_id=alpha.shop.id,
            agent_ids=[alpha.agent.id],
            kind=NotificationKind.SLA_WARNING,
            text="很" * 400,
        )
        uow.commit()
    assert len(row.text) == notifications.MAX_TEXT_LENGTH
    assert row.text.endswith("…")


def _three(uow_factory: UowFactory, alpha: ShopWithStaff, clock: FrozenClock) -> list[int]:
    ids = []
    for n in range(3):
        with uow_factory() as uow:
            [row] = notifications.notify(
                uow,
                shop_id=alpha.shop.id,
                agent_ids=[alpha.agent.id],
                kind=NotificationKind.ASSIGNED,
                text=f"工单 #{1001 + n} 已分配给你",
            )
            uow.commit()
            ids.append(row.id)
        clock.advance(timedelta(minutes=1))
    return ids


def test_the_list_is_newest_first_and_unread_only_hides_what_was_read(
    uow_factory: UowFactory, alpha: ShopWithStaff, clock: FrozenClock
) -> None:
    first, second, third = _three(uow_factory, alpha, clock)
    shop_id, agent_id = alpha.shop.id, alpha.agent.id
    with uow_factory() as uow:
        listed = notifications.list_notifications(uow.session, shop_id=shop_id, agent_id=agent_id)
        assert [n.id for n in listed] == [third, second, first]
        assert notifications.unread_count(uow.session, shop_id=shop_id, agent_id=agent_id) == 3
    with uow_factory() as uow:
        marked = notifications.mark_read(
            uow, shop_id=shop_id, agent_id=agent_id, notification_ids=[second]
        )
    assert marked == 1
    with uow_factory() as uow:
        unread = notifications.list_notifications(
            uow.session, shop_id=shop_id, agent_id=agent_id, unread_only=True
        )
        assert [n.text for n in unread] == ["工单 #1003 已分配给你", "工单 #1001 已分配给你"]
        [read] = [
            n
            for n in notifications.list_notifications(
                uow.session, shop_id=shop_id, agent_id=agent_id
            )
            if n.id == second
        ]
        assert read.read_at == clock.now()
        limited = notifications.list_notifications(
            uow.session, shop_id=shop_id, agent_id=agent_id, limit=1
        )
        assert [n.id for n in limited] == [third]


def test_mark_all_read_and_marking_again_changes_nothing(
    uow_factory: UowFactory, alpha: ShopWithStaff, clock: FrozenClock
) -> None:
    _three(uow_factory, alpha, clock)
    shop_id, agent_id = alpha.shop.id, alpha.agent.id
    with uow_factory() as uow:
        assert notifications.mark_read(uow, shop_id=shop_id, agent_id=agent_id) == 3
    with uow_factory() as uow:
        assert notifications.mark_read(uow, shop_id=shop_id, agent_id=agent_id) == 0
        assert notifications.unread_count(uow.session, shop_id=shop_id, agent_id=agent_id) == 0


def test_nobody_marks_or_reads_someone_elses_notifications(
    uow_factory: UowFactory, alpha: ShopWithStaff, clock: FrozenClock
) -> None:
    ids = _three(uow_factory, alpha, clock)
    beta = make_shop_with_staff(uow_factory, "beta")
    attempts = [
        (alpha.shop.id, alpha.supervisor.id, ids),  # a colleague of the same shop
        (beta.shop.id, beta.agent.id, ids),  # another shop guessing ids
        (beta.shop.id, alpha.agent.id, ids[:1]),  # the right agent under the wrong shop
        (alpha.shop.id, alpha.agent.id, [ids[0], 999_999]),  # one of them is nobody's
    ]
    for shop_id, agent_id, asked in attempts:
        with uow_factory() as uow, pytest.raises(NotFound) as refused:
            notifications.mark_read(uow, shop_id=shop_id, agent_id=agent_id, notification_ids=asked)
        assert refused.value.key == "errors.tickets.notification_not_found"
    with uow_factory() as uow:
        assert (
            notifications.list_notifications(
                uow.session, shop_id=beta.shop.id, agent_id=alpha.agent.id
            )
            == []
        )
        # Nothing was marked, not even the agent's own id asked with a stranger's.
        assert (
            notifications.unread_count(uow.session, shop_id=alpha.shop.id, agent_id=alpha.agent.id)
            == 3
        )


def test_marking_one_already_read_counts_nothing(
    uow_factory: UowFactory, alpha: ShopWithStaff, clock: FrozenClock
) -> None:
    first, _, _ = _three(uow_factory, alpha, clock)
    for expected in (1, 0):
        with uow_factory() as uow:
            assert (
                notifications.mark_read(
                    uow, shop_id=alpha.shop.id, agent_id=alpha.agent.id, notification_ids=[first]
                )
                == expected
            )


def test_marking_too_many_at_once_is_refused(uow_factory: UowFactory, alpha: ShopWithStaff) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        notifications.mark_read(
            uow,
            shop_id=alpha.shop.id,
            agent_id=alpha.agent.id,
            notification_ids=list(range(1, notifications.MAX_MARK + 2)),
        )
    assert refused.value.key == "errors.tickets.too_many_notifications"


def test_supervisors_of_lists_active_supervisors_then_owners(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    second = make_agent(
        uow_factory, alpha.shop, email="lead2@alpha.test", role=Role.SUPERVISOR, name="副主管"
    )
    retired = make_agent(
        uow_factory, alpha.shop, email="old@alpha.test", role=Role.SUPERVISOR, name="老主管"
    )
    with uow_factory() as uow:
        accounts.update_agent(
            uow,
            shop_id=alpha.shop.id,
            agent_id=retired.id,
            acting_agent_id=alpha.owner.id,
            is_active=False,
        )
    make_shop_with_staff(uow_factory, "beta")  # another shop's supervisors are not ours
    with uow_factory() as uow:
        assert notifications.supervisors_of(uow.session, shop_id=alpha.shop.id) == [
            alpha.supervisor.id,
            second.id,
            alpha.owner.id,
        ]
