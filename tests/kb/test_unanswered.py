"""Questions the KB could not answer: grouped by meaning, then answered once."""

from __future__ import annotations

import pytest

from kefu.conversations import service as conversations
from kefu.conversations.models import Channel
from kefu.crm import service as crm
from kefu.errors import Conflict, Invalid, NotFound
from kefu.events import EventBus
from kefu.kb import service as kb
from kefu.kb.events import FaqEntryCreated, UnansweredGroupResolved, UnansweredQuestionRecorded
from kefu.kb.models import UnansweredStatus
from tests.factories import ShopWithStaff, make_shop_with_staff
from tests.kb.conftest import UowFactory, add


def _record(uow_factory: UowFactory, shop: ShopWithStaff, *questions: str) -> list[int]:
    groups = []
    for question in questions:
        with uow_factory() as uow:
            recorded = kb.record_unanswered(uow, shop_id=shop.shop.id, text=question)
            assert recorded is not None
            groups.append(recorded.group_id)
    return groups


def _open(uow_factory: UowFactory, shop: ShopWithStaff) -> list[kb.GroupView]:
    with uow_factory() as uow:
        return kb.list_groups(uow.session, shop_id=shop.shop.id).items


def test_questions_that_mean_the_same_are_counted_in_one_group(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus
) -> None:
    with uow_factory() as uow:
        buyer = crm.create_customer(uow, shop_id=shop.shop.id, name="王芳")
        chat = conversations.start_conversation(
            uow, shop_id=shop.shop.id, customer_id=buyer.id, channel=Channel.WIDGET
        )
    with uow_factory() as uow, bus.capture() as events:
        first = kb.record_unanswered(
            uow,
            shop_id=shop.shop.id,
            text="可以开发票吗",
            conversation_id=chat.id,
            customer_id=buyer.id,
        )
    assert first is not None
    assert (first.conversation_id, first.customer_id) == (chat.id, buyer.id)
    assert events == [
        UnansweredQuestionRecorded(
            shop_id=shop.shop.id,
            question_id=first.id,
            group_id=first.group_id,
            new_group=True,
            conversation_id=chat.id,
        )
    ]
    invoices = _record(uow_factory, shop, "能开发票吗", "开发票", "可以开发票吗?")
    washing = _record(uow_factory, shop, "羽绒服能机洗吗", "羽绒服可以机洗吗")
    assert set(invoices) == {first.group_id}
    assert len(set(washing)) == 1 and washing[0] != first.group_id
    groups = _open(uow_factory, shop)
    assert [(g.group.representative, g.group.count) for g in groups] == [
        ("可以开发票吗", 4),  # most asked first
        ("羽绒服能机洗吗", 2),
    ]
    # Examples are the distinct ways it was asked, first asked first.
    assert groups[0].examples == ["可以开发票吗", "能开发票吗", "开发票"]


def test_a_question_in_another_shop_never_joins_this_shops_group(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    other = make_shop_with_staff(uow_factory, "other")
    [mine] = _record(uow_factory, shop, "可以开发票吗")
    [theirs] = _record(uow_factory, other, "可以开发票吗")
    assert mine != theirs
    with uow_factory() as uow:
        with pytest.raises(NotFound):
            kb.get_group(uow.session, shop_id=other.shop.id, group_id=mine)
        with pytest.raises(NotFound):
            kb.ignore_group(uow, shop_id=other.shop.id, group_id=mine)
        with pytest.raises(NotFound):  # another shop's conversation cannot be named either
            kb.record_unanswered(uow, shop_id=shop.shop.id, text="在吗", conversation_id=10**6)


def test_emoji_alone_is_not_recorded_and_long_text_is_cut(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    with uow_factory() as uow:
        assert kb.record_unanswered(uow, shop_id=shop.shop.id, text="😀👍") is None
        assert kb.record_unanswered(uow, shop_id=shop.shop.id, text="???") is None
        long = kb.record_unanswered(uow, shop_id=shop.shop.id, text="问" * 800 + "\n\n吗")
        assert long is not None and len(long.text) == 500


def test_add_a_group_as_a_new_entry_with_its_questions_as_phrasings(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus
) -> None:
    [group_id, *_] = _record(uow_factory, shop, "可以开发票吗", "能开发票吗", "开发票")
    with uow_factory() as uow:
        assert kb.group_questions(uow.session, shop_id=shop.shop.id, group_id=group_id) == [
            "可以开发票吗",
            "能开发票吗",
            "开发票",
        ]
    with uow_factory() as uow, bus.capture() as events:
        entry = kb.resolve_as_new_entry(
            uow,
            shop_id=shop.shop.id,
            group_id=group_id,
            answer="可以的亲,支持电子普通发票~",
            category="发票",
            acting_agent_id=shop.supervisor.id,
        )
    assert entry.questions == ["可以开发票吗", "能开发票吗", "开发票"]
    assert [type(e) for e in events] == [FaqEntryCreated, UnansweredGroupResolved]
    assert events[1] == UnansweredGroupResolved(
        shop_id=shop.shop.id, group_id=group_id, resolution="new_entry", entry_id=entry.id
    )
    assert _open(uow_factory, shop) == []
    with uow_factory() as uow:
        done = kb.get_group(uow.session, shop_id=shop.shop.id, group_id=group_id).group
        assert (done.status, done.entry_id, done.resolved_by_id) == (
            UnansweredStatus.RESOLVED,
            entry.id,
            shop.supervisor.id,
        )
        # Now the bot knows it.
        decision = kb.find_answer(uow.session, shop_id=shop.shop.id, text="能开发票吗")
        assert decision.answer is not None and decision.answer.entry_id == entry.id
        # A group is resolved once.
        with pytest.raises(Conflict):
            kb.ignore_group(uow, shop_id=shop.shop.id, group_id=group_id)


def test_the_phrasings_of_a_new_entry_can_be_edited_first(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    [group_id] = _record(uow_factory, shop, "有实体店吗")
    with uow_factory() as uow:
        with pytest.raises(Invalid) as refused:
            kb.resolve_as_new_entry(uow, shop_id=shop.shop.id, group_id=group_id, answer="  ")
        assert refused.value.field == "answer"
    assert [g.id for g in _open(uow_factory, shop)] == [group_id]  # still open
    with uow_factory() as uow:
        entry = kb.resolve_as_new_entry(
            uow,
            shop_id=shop.shop.id,
            group_id=group_id,
            answer="只有线上店哦",
            questions=["有实体店吗", "线下有店吗", ""],
        )
    assert entry.questions == ["有实体店吗", "线下有店吗"]


def test_add_a_group_as_phrasings_of_the_nearest_entry(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus
) -> None:
    ship = add(uow_factory, shop, ["什么时候发货", "几天能发货"], "48小时内发货")
    add(uow_factory, shop, ["能开发票吗"], "可以开电子发票")
    [group_id, *_] = _record(uow_factory, shop, "发货要几天", "发货要几天呀", "几天能发货")
    [group] = _open(uow_factory, shop)
    assert group.nearest and group.nearest[0].entry_id == ship.id  # suggested first
    with uow_factory() as uow, bus.capture() as events:
        updated = kb.resolve_as_phrasing(
            uow, shop_id=shop.shop.id, group_id=group_id, entry_id=ship.id
        )
    # Already-known phrasings are not added twice.
    assert updated.questions == ["什么时候发货", "几天能发货", "发货要几天", "发货要几天呀"]
    assert events[-1] == UnansweredGroupResolved(
        shop_id=shop.shop.id, group_id=group_id, resolution="phrasing", entry_id=ship.id
    )
    other = make_shop_with_staff(uow_factory, "other")
    [again] = _record(uow_factory, shop, "能开专票吗")
    foreign = add(uow_factory, other, ["别家的问题"], "别家的答案")
    with uow_factory() as uow:
        with pytest.raises(Invalid) as refused:
            kb.resolve_as_phrasing(uow, shop_id=shop.shop.id, group_id=again, entry_id=foreign.id)
        assert refused.value.field == "entry_id"


def test_ignored_questions_stay_out_of_the_list_when_asked_again(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus
) -> None:
    [hello] = _record(uow_factory, shop, "在吗")
    with uow_factory() as uow, bus.capture() as events:
        kb.ignore_group(uow, shop_id=shop.shop.id, group_id=hello, acting_agent_id=shop.owner.id)
    assert events == [
        UnansweredGroupResolved(
            shop_id=shop.shop.id, group_id=hello, resolution="ignored", entry_id=None
        )
    ]
    assert _record(uow_factory, shop, "在吗", "在吗?") == [hello, hello]
    assert _open(uow_factory, shop) == []
    with uow_factory() as uow:
        ignored = kb.list_groups(
            uow.session, shop_id=shop.shop.id, status=UnansweredStatus.IGNORED
        ).items
        assert [(g.id, g.group.count) for g in ignored] == [(hello, 3)]
