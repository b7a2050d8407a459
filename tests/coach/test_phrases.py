"""Canned phrases (快捷短语): the buyer's variables, shared and personal phrases and who may
write which, one shortcut namespace per agent, search as the composer types, and use."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from kefu.accounts.models import Role
from kefu.clock import FrozenClock
from kefu.coach import service as coach
from kefu.coach.models import CannedPhrase
from kefu.commerce import service as commerce
from kefu.commerce.models import OrderStatus
from kefu.errors import Conflict, Invalid, NotFound, PermissionDenied
from tests.coach.conftest import ChatFactory, CoachStaff, Elsewhere
from tests.factories import UowFactory

GREETING = "{customer_surname}{customer_title}您好，{shop}为您服务"


def _order(
    uow_factory: UowFactory, shop_id: int, customer_id: int, order_no: str, title: str, *,
    days_ago: int = 0,
) -> None:  # fmt: skip
    with uow_factory() as uow:
        sku = f"SKU-{order_no}"
        commerce.create_product(
            uow, shop_id=shop_id, sku=sku, title=title, category="外套", price=Decimal("399"),
            variants=[],
        )  # fmt: skip
    with uow_factory() as uow:
        commerce.create_order(
            uow, shop_id=shop_id, order_no=order_no, customer_id=customer_id,
            lines=[commerce.OrderLineSpec(sku=sku)], status=OrderStatus.UNPAID,
            created_at=uow.clock.now() - timedelta(days=days_ago), ship_to_name="王芳",
            ship_to_phone="13900000000", ship_to_address="杭州市西湖区",
        )  # fmt: skip


def _values(uow_factory: UowFactory, shop_id: int, conversation_id: int | None) -> dict[str, str]:
    with uow_factory() as uow:
        return coach.variables_for(uow.session, shop_id=shop_id, conversation_id=conversation_id)


def _create(uow_factory: UowFactory, staff: CoachStaff, who: str = "agent", **values: Any) -> Any:
    agent = getattr(staff, who)
    values = {"shortcut": "退货", "body": "亲，退货请在订单页申请", **values}
    with uow_factory() as uow:
        return coach.create_phrase(
            uow, shop_id=staff.shop_id, agent_id=agent.id, role=agent.role, **values
        )


def _count(uow_factory: UowFactory, shop_id: int) -> int:
    with uow_factory() as uow:
        query = select(func.count(CannedPhrase.id)).where(CannedPhrase.shop_id == shop_id)
        return uow.session.scalar(query) or 0


# --- variables -------------------------------------------------------------------------------


def test_the_buyer_is_addressed_by_surname_and_title_or_as_qin(
    uow_factory: UowFactory, staff: CoachStaff, chat: ChatFactory
) -> None:
    shop_name = "qa-shop 旗舰店"
    cases = [("王芳", "F", "王", "女士"), ("李强", "M", "李", "先生"), ("赵敏", None, "", "亲")]
    for name, gender, surname, title in cases:
        values = _values(uow_factory, staff.shop_id, chat(name=name, gender=gender).conversation_id)
        assert (values["customer_surname"], values["customer_title"]) == (surname, title)
        assert values["shop"] == shop_name
        assert values["order_no"] == values["product"] == ""
    assert coach.render(GREETING, values) == f"亲您好，{shop_name}为您服务"
    assert _values(uow_factory, staff.shop_id, None) == {
        "customer_surname": "", "customer_title": "亲", "order_no": "", "product": "",
        "shop": shop_name,
    }  # fmt: skip


def test_the_order_is_the_one_the_buyer_named_else_their_latest(
    uow_factory: UowFactory, staff: CoachStaff, chat: ChatFactory, clock: FrozenClock
) -> None:
    c = chat()
    _order(uow_factory, staff.shop_id, c.customer_id, "DD20261101001", "羊毛大衣", days_ago=9)
    _order(uow_factory, staff.shop_id, c.customer_id, "DD20261120002", "真丝围巾", days_ago=2)
    # Nothing named yet: the latest order.
    values = _values(uow_factory, staff.shop_id, c.conversation_id)
    assert (values["order_no"], values["product"]) == ("DD20261120002", "真丝围巾")
    # The buyer names the older one (full-width digits as typed on a phone).
    c.buyer("我的订单ＤＤ２０２６１１０１００１一直没发货")
    values = _values(uow_factory, staff.shop_id, c.conversation_id)
    assert (values["order_no"], values["product"]) == ("DD20261101001", "羊毛大衣")
    # A number that is no order of theirs (a tracking number, a typo) changes nothing.
    c.after(1).buyer("快递单号 DD20269999999 查不到")
    values = _values(uow_factory, staff.shop_id, c.conversation_id)
    assert (values["order_no"], values["product"]) == ("DD20261101001", "羊毛大衣")


def test_another_buyers_order_named_in_the_chat_is_never_used(
    uow_factory: UowFactory, staff: CoachStaff, chat: ChatFactory
) -> None:
    mine, other = chat(name="王芳"), chat(name="陈静")
    _order(uow_factory, staff.shop_id, other.customer_id, "DD20261121007", "别人的貂皮大衣")
    mine.buyer("帮我查下 DD20261121007")
    values = _values(uow_factory, staff.shop_id, mine.conversation_id)
    assert (values["order_no"], values["product"]) == ("", "")


def test_variables_are_checked_by_name_and_rendered() -> None:
    assert coach.check_variables(GREETING, field="body") == GREETING
    for text, name in (("{customer}您好", "customer"), ("{ shop }", " shop "), ("{}", "")):
        with pytest.raises(Invalid) as refused:
            coach.check_variables(text, field="body")
        assert refused.value.params["name"] == name
        assert refused.value.field == "body"
    assert coach.check_variables("价格 {\n99 元 }", field="body")  # braces over a line are text
    rendered = coach.render(GREETING + " {order_no}", coach.example_values("小店"))
    assert rendered == "王女士您好，小店为您服务 DD20261123001"


# --- writing phrases -------------------------------------------------------------------------


def test_an_agent_writes_their_own_and_a_supervisor_the_shared_ones(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    own = _create(uow_factory, staff, shortcut="/退货", body="亲，" + GREETING, title="")
    assert (own.shortcut, own.owner_agent_id, own.use_count) == ("退货", staff.agent.id, 0)
    assert own.title == ("亲，" + GREETING)[:60]  # untitled: the body's opening words
    shared = _create(uow_factory, staff, "supervisor", shortcut="发货", body="48小时内发货",
                     title="发货时间", shared=True)  # fmt: skip
    assert shared.owner_agent_id is None
    with pytest.raises(PermissionDenied) as refused:
        _create(uow_factory, staff, shortcut="催单", shared=True)
    assert refused.value.key == "coach.phrases.error.shared_role"
    with uow_factory() as uow:
        seen = coach.list_phrases(uow.session, shop_id=staff.shop_id, agent_id=staff.agent.id)
        by_other = coach.list_phrases(
            uow.session, shop_id=staff.shop_id, agent_id=staff.aftersale.id
        )
        by_token = coach.list_phrases(uow.session, shop_id=staff.shop_id, agent_id=None)
    assert [p.id for p in seen] == [own.id, shared.id]  # own first, then shared
    assert [p.id for p in by_other] == [p.id for p in by_token] == [shared.id]
    # An API token (no person) may write shared phrases with its role, never personal ones.
    with uow_factory() as uow, pytest.raises(PermissionDenied):
        coach.create_phrase(
            uow, shop_id=staff.shop_id, agent_id=None, role=Role.OWNER, shortcut="x", body="x"
        )
    with uow_factory() as uow:
        coach.create_phrase(
            uow, shop_id=staff.shop_id, agent_id=None, role=Role.OWNER, shortcut="x", body="y",
            shared=True,
        )  # fmt: skip


def test_bad_phrases_are_refused_by_field_and_nothing_is_written(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    cases = [
        ({"shortcut": ""}, "shortcut"),
        ({"shortcut": "/"}, "shortcut"),
        ({"shortcut": "退 货"}, "shortcut"),
        ({"shortcut": "退\t货"}, "shortcut"),
        ({"shortcut": "长" * 31}, "shortcut"),
        ({"title": "题" * 61}, "title"),
        ({"body": ""}, "body"),
        ({"body": "字" * 1001}, "body"),
        ({"body": "{customer_name}您好"}, "body"),
        ({"body": "坏\x00字"}, "body"),
    ]
    for values, field in cases:
        with pytest.raises(Invalid) as refused:
            _create(uow_factory, staff, **values)
        assert refused.value.field == field, values
    assert _count(uow_factory, staff.shop_id) == 0
    assert _create(uow_factory, staff, shortcut="长" * 30, body="字" * 1000, title="题" * 60)


def test_one_shortcut_means_one_phrase_for_each_agent(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    shared = _create(uow_factory, staff, "supervisor", shortcut="退货", title="退货流程",
                     shared=True)  # fmt: skip
    with pytest.raises(Conflict) as refused:
        _create(uow_factory, staff, shortcut="/退货")
    assert refused.value.key == "coach.phrases.error.shortcut_taken_shared"
    assert refused.value.params["title"] == "退货流程"
    own = _create(uow_factory, staff, shortcut="Hello", title="问候")
    with pytest.raises(Conflict) as mine:
        _create(uow_factory, staff, shortcut="hello")
    assert mine.value.key == "coach.phrases.error.shortcut_taken_own"
    # Another agent's personal shortcuts are theirs: the same one is fine for 小刘…
    _create(uow_factory, staff, "aftersale", shortcut="hello")
    # …but a shared one would clash for 小美, and says whose.
    with pytest.raises(Conflict) as clash:
        _create(uow_factory, staff, "supervisor", shortcut="HELLO", shared=True)
    assert clash.value.key == "coach.phrases.error.shortcut_taken_by"
    assert clash.value.params["owner"] in ("小美", "小刘")
    # Renaming into a clash is refused too; keeping one's own shortcut is not a clash.
    with uow_factory() as uow, pytest.raises(Conflict):
        coach.update_phrase(
            uow, shop_id=staff.shop_id, agent_id=staff.agent.id, role=Role.AGENT,
            phrase_id=own.id, shortcut="退货",
        )  # fmt: skip
    with uow_factory() as uow:
        kept = coach.update_phrase(
            uow, shop_id=staff.shop_id, agent_id=staff.agent.id, role=Role.AGENT,
            phrase_id=own.id, shortcut="Hello", body="{customer_title}好",
        )  # fmt: skip
    assert (kept.shortcut, kept.body, kept.title) == ("Hello", "{customer_title}好", "问候")
    assert shared.id != own.id


def test_who_may_change_or_delete_which_phrase(
    uow_factory: UowFactory, staff: CoachStaff, elsewhere: Elsewhere
) -> None:
    shared = _create(uow_factory, staff, "supervisor", shortcut="发货", shared=True)
    own = _create(uow_factory, staff, shortcut="谢谢")
    other = elsewhere.staff
    with uow_factory() as uow:
        theirs = coach.create_phrase(
            uow, shop_id=other.shop.id, agent_id=other.agent.id, role=Role.AGENT,
            shortcut="别家", body="别家的短语",
        )  # fmt: skip

    def change(agent_id: int | None, role: Role, phrase_id: int) -> None:
        with uow_factory() as uow:
            coach.update_phrase(
                uow, shop_id=staff.shop_id, agent_id=agent_id, role=role, phrase_id=phrase_id,
                title="改了",
            )  # fmt: skip

    with pytest.raises(PermissionDenied):
        change(staff.agent.id, Role.AGENT, shared.id)
    for agent in (staff.aftersale, staff.supervisor, staff.owner):  # not theirs: unseen
        with pytest.raises(NotFound):
            change(agent.id, agent.role, own.id)
    with pytest.raises(NotFound):
        change(staff.owner.id, Role.OWNER, theirs.id)
    change(staff.owner.id, Role.OWNER, shared.id)
    change(staff.agent.id, Role.AGENT, own.id)
    with uow_factory() as uow, pytest.raises(PermissionDenied):
        coach.delete_phrase(
            uow, shop_id=staff.shop_id, agent_id=staff.agent.id, role=Role.AGENT,
            phrase_id=shared.id,
        )  # fmt: skip
    with uow_factory() as uow:
        coach.delete_phrase(
            uow, shop_id=staff.shop_id, agent_id=staff.agent.id, role=Role.AGENT,
            phrase_id=own.id,
        )  # fmt: skip
    assert _count(uow_factory, staff.shop_id) == 1
    assert _count(uow_factory, other.shop.id) == 1


# --- search and use ----------------------------------------------------------------------------


def test_search_finds_shortcut_prefixes_first_then_titles_and_bodies(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    _create(uow_factory, staff, shortcut="退货运费", title="运费", body="退货运费由我们承担")
    exact = _create(uow_factory, staff, shortcut="退货", title="退货流程", body="在订单页申请")
    _create(uow_factory, staff, "supervisor", shortcut="售后", title="售后说明",
            body="七天无理由退货", shared=True)  # fmt: skip
    _create(uow_factory, staff, shortcut="Size", title="尺码", body="ＸＬ码偏大")
    _create(uow_factory, staff, "aftersale", shortcut="退货2", body="小刘自己的")

    def search(query: str, limit: int = 10) -> list[str]:
        with uow_factory() as uow:
            found = coach.search_phrases(
                uow.session, shop_id=staff.shop_id, agent_id=staff.agent.id, query=query,
                limit=limit,
            )  # fmt: skip
        return [p.shortcut for p in found]

    assert search("/退货") == ["退货", "退货运费", "售后"]
    assert search("退貨") == ["退货", "退货运费", "售后"]  # traditional finds simplified
    assert search("／退货", limit=1) == [exact.shortcut]
    assert search("size") == search("ＳＩＺＥ") == ["Size"]
    assert search("xl码") == ["Size"]
    assert search("无理由") == ["售后"]
    assert search("小刘") == []  # another agent's own phrase
    assert len(search("")) == 4


def test_using_a_phrase_fills_in_the_buyer_and_counts(
    uow_factory: UowFactory, staff: CoachStaff, chat: ChatFactory, elsewhere: Elsewhere
) -> None:
    phrase = _create(uow_factory, staff, "aftersale", shortcut="问候", body=GREETING + "{order_no}")
    c = chat(agent=staff.aftersale, name="王芳", gender="F")
    _order(uow_factory, staff.shop_id, c.customer_id, "DD20261120888", "羊毛大衣")
    c.buyer("订单 DD20261120888 怎么还没到")

    def use(conversation_id: int | None, agent: Any = staff.aftersale) -> str:
        with uow_factory() as uow:
            return coach.use_phrase(
                uow, shop_id=staff.shop_id, agent_id=agent.id, role=agent.role,
                phrase_id=phrase.id, conversation_id=conversation_id,
            )  # fmt: skip

    assert use(c.conversation_id) == "王女士您好，qa-shop 旗舰店为您服务DD20261120888"
    assert use(None) == "亲您好，qa-shop 旗舰店为您服务"
    with pytest.raises(NotFound):
        use(elsewhere.conversation_id)
    with uow_factory() as uow:
        [listed] = coach.list_phrases(
            uow.session, shop_id=staff.shop_id, agent_id=staff.aftersale.id
        )
    assert listed.use_count == 2
    # 小美 (售前) may not fill in a 售后 conversation she cannot see — and it is not her phrase.
    shared = _create(uow_factory, staff, "supervisor", shortcut="好", body=GREETING, shared=True)
    with uow_factory() as uow, pytest.raises(PermissionDenied):
        coach.use_phrase(
            uow, shop_id=staff.shop_id, agent_id=staff.agent.id, role=Role.AGENT,
            phrase_id=shared.id, conversation_id=c.conversation_id,
        )  # fmt: skip
    with uow_factory() as uow, pytest.raises(NotFound):
        coach.use_phrase(
            uow, shop_id=staff.shop_id, agent_id=staff.agent.id, role=Role.AGENT,
            phrase_id=phrase.id, conversation_id=None,
        )  # fmt: skip
    with uow_factory() as uow:
        counted = coach.get_phrase(
            uow.session, shop_id=staff.shop_id, agent_id=None, phrase_id=shared.id
        )
    assert counted.use_count == 0
