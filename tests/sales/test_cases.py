"""After-sales cases (售后): which orders allow which request, one open case per order and
kind, the amount, photos, routing the conversation to 售后, what the buyer is told at each
step, that only a person decides, and the events after commit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kefu.accounts import service as accounts
from kefu.clock import FrozenClock
from kefu.commerce.models import OrderStatus
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Message, SenderType
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid, NotFound, PermissionDenied
from kefu.events import EventBus
from kefu.sales import service as sales
from kefu.sales import subscribers as sales_subscribers
from kefu.sales.events import AfterSalesCaseOpened, AfterSalesCaseUpdated
from kefu.sales.models import AfterSalesCase, CaseKind, CaseStatus
from kefu.shops.models import Shop
from tests.factories import UowFactory
from tests.sales.casebook import Casebook, make_casebook

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def book(uow_factory: UowFactory, db: Engine, clock: FrozenClock) -> Casebook:
    return make_casebook(uow_factory, db, clock)


def _buyer_lines(book: Casebook) -> list[str]:
    return [m.body for m in book.messages() if m.sender_type is not SenderType.CUSTOMER]


def _decide(
    book: Casebook, case: AfterSalesCase, approve: bool = True, note: str = ""
) -> AfterSalesCase:
    with book.uow() as uow:
        return sales.decide_case(
            uow, shop_id=book.shop_id, case_id=case.id, agent_id=book.aftersale.id,
            approve=approve, note=note,
        )  # fmt: skip


# --- opening -----------------------------------------------------------------------------


def test_a_refund_request_becomes_an_open_case_in_aftersales_and_the_buyer_is_told(
    book: Casebook, bus: EventBus
) -> None:
    with bus.capture() as events:
        case = book.open(CaseKind.REFUND, OrderStatus.DELIVERED, reason="衣服有破洞,想退款")
    assert (case.status, case.kind, case.amount) == (
        CaseStatus.OPEN, CaseKind.REFUND, Decimal("1299.00"),
    )  # fmt: skip
    assert case.customer_id == book.customer_id
    assert case.conversation_id == book.conversation_id
    assert case.opened_by_agent_id == book.staff.agent.id
    # The conversation moved from 售前 to 售后's queue, and the buyer heard both.
    assert book.conversation().team_id == book.team_id("aftersale")
    assert _buyer_lines(book) == [
        f"已为您登记退款申请(售后单 #{case.id}),售后同事会尽快处理,处理结果会第一时间通知您。",
        "已为您转接至售后,请稍候。",
    ]
    told = book.messages()[-2]
    assert (told.sender_type, told.sender_agent_id) == (SenderType.AGENT, book.staff.agent.id)
    with make_session_factory(book.db)() as session:
        [step] = sales.case_steps(session, shop_id=book.shop_id, case_id=case.id)
    assert (step.status, step.agent_id, step.note) == (
        CaseStatus.OPEN, book.staff.agent.id, "衣服有破洞,想退款",
    )  # fmt: skip
    [opened] = [e for e in events if isinstance(e, AfterSalesCaseOpened)]
    assert (opened.case_id, opened.kind, opened.amount, opened.conversation_id) == (
        case.id, "refund", Decimal("1299.00"), book.conversation_id,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "word"),
    [(CaseKind.RETURN, "退货退款"), (CaseKind.EXCHANGE, "换货")],
)
def test_each_kind_is_registered_in_its_own_words(
    book: Casebook, kind: CaseKind, word: str
) -> None:
    case = book.open(kind, OrderStatus.SHIPPED)
    assert _buyer_lines(book)[0].startswith(f"已为您登记{word}申请(售后单 #{case.id})")


@pytest.mark.parametrize(
    ("kind", "status", "words"),
    [
        (CaseKind.REFUND, OrderStatus.UNPAID, "not paid yet"),
        (CaseKind.REFUND, OrderStatus.CLOSED, "closed"),
        (CaseKind.REFUND, OrderStatus.REFUNDED, "already refunded"),
        (CaseKind.RETURN, OrderStatus.UNPAID, "not paid yet"),
        (CaseKind.EXCHANGE, OrderStatus.REFUNDED, "already refunded"),
        (CaseKind.RETURN, OrderStatus.PAID, "has not been shipped"),
        (CaseKind.EXCHANGE, OrderStatus.PAID, "has not been shipped"),
        (CaseKind.RETURN, OrderStatus.REFUNDING, "has not been shipped"),
    ],
)
def test_an_order_in_the_wrong_state_is_refused_in_plain_words(
    book: Casebook, kind: CaseKind, status: OrderStatus, words: str
) -> None:
    with pytest.raises(Invalid) as caught:
        book.open(kind, status)
    assert words in caught.value.message
    assert book.orders[status].order_no in caught.value.message
    assert _buyer_lines(book) == []  # nothing said, nothing moved
    assert book.conversation().team_id == book.team_id("presale")


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (CaseKind.REFUND, OrderStatus.PAID),
        (CaseKind.REFUND, OrderStatus.SHIPPED),
        (CaseKind.REFUND, OrderStatus.REFUNDING),
        (CaseKind.RETURN, OrderStatus.DELIVERED),
        (CaseKind.EXCHANGE, OrderStatus.SHIPPED),
    ],
)
def test_paid_orders_allow_a_refund_and_sent_ones_a_return_or_exchange(
    book: Casebook, kind: CaseKind, status: OrderStatus
) -> None:
    assert book.open(kind, status).status is CaseStatus.OPEN


def test_one_open_case_per_order_and_kind(book: Casebook) -> None:
    first = book.open(CaseKind.REFUND)
    with pytest.raises(Conflict) as caught:
        book.open(CaseKind.REFUND, reason="再申请一次")
    assert f"#{first.id}" in caught.value.message
    assert caught.value.params["case_id"] == first.id
    # Another kind on the same order is a different request.
    book.open(CaseKind.EXCHANGE)
    # Once rejected, the buyer may ask again.
    _decide(book, first, approve=False, note="照片看不出破损")
    assert book.open(CaseKind.REFUND, reason="补充了照片").status is CaseStatus.OPEN


def test_the_amount_defaults_to_the_total_and_stays_within_it(book: Casebook) -> None:
    assert book.open(CaseKind.REFUND, amount=Decimal("100.5")).amount == Decimal("100.50")
    assert book.open(CaseKind.EXCHANGE).amount is None
    for bad in (Decimal("0"), Decimal("-1"), Decimal("1299.01"), Decimal("10.001")):
        with pytest.raises(Invalid) as caught:
            book.open(CaseKind.RETURN, amount=bad)
        assert caught.value.field == "amount"
    with pytest.raises(Invalid) as caught:
        book.open(CaseKind.EXCHANGE, OrderStatus.SHIPPED, amount=Decimal("10"))
    assert caught.value.field == "amount"


def test_the_reason_is_required_and_bounded(book: Casebook) -> None:
    for bad in ("", "   ", "太" * 1001):
        with pytest.raises(Invalid) as caught:
            book.open(reason=bad)
        assert caught.value.field == "reason"


def test_another_shops_order_is_not_found_and_another_buyers_is_refused(book: Casebook) -> None:
    with book.uow() as uow, pytest.raises(NotFound):
        sales.open_case(
            uow, shop_id=book.shop_id, order_id=book.other_shop_order.id,
            kind=CaseKind.REFUND, reason="别家的订单",
        )  # fmt: skip
    with book.uow() as uow, pytest.raises(Invalid) as caught:
        sales.open_case(
            uow, shop_id=book.shop_id, order_id=book.other_buyers_order.id,
            kind=CaseKind.REFUND, reason="别人的订单", conversation_id=book.conversation_id,
        )  # fmt: skip
    assert caught.value.field == "order_id"
    with book.uow() as uow, pytest.raises(Invalid) as caught:
        sales.open_case(
            uow, shop_id=book.shop_id, order_id=book.orders[OrderStatus.PAID].id,
            kind=CaseKind.REFUND, reason="x", opened_by_agent_id=book.other_shop.agent.id,
        )  # fmt: skip
    assert caught.value.field == "agent_id"
    with make_session_factory(book.db)() as session:
        assert sales.list_cases(session, shop_id=book.shop_id) == []


def _upload(book: Casebook, directory: Path, shop_id: int, **who: int) -> int:
    with book.uow() as uow:
        return conversations.store_upload(
            uow, shop_id=shop_id, directory=directory, data=PNG, filename="破洞.png",
            max_bytes=1_000_000, **who,
        ).id  # fmt: skip


def test_photos_are_the_shops_and_from_the_bot_the_buyers_own(
    book: Casebook, tmp_path: Path
) -> None:
    mine = _upload(book, tmp_path, book.shop_id, customer_id=book.customer_id)
    other_buyers = _upload(book, tmp_path, book.shop_id, customer_id=book.other_buyer_id)
    agents = _upload(book, tmp_path, book.shop_id, agent_id=book.staff.agent.id)
    elsewhere = _upload(book, tmp_path, book.other_shop.shop.id, agent_id=book.other_shop.agent.id)
    for bad in (other_buyers, agents, elsewhere, 999_999):
        with pytest.raises(Invalid) as caught:
            book.open(opened_by_agent_id=None, photo_attachment_ids=[mine, bad])
        assert caught.value.field == "photo_attachment_ids"
    # An agent may attach a picture they were sent some other way, but not another shop's.
    with pytest.raises(Invalid):
        book.open(photo_attachment_ids=[elsewhere])
    case = book.open(opened_by_agent_id=None, photo_attachment_ids=[mine, mine])
    with make_session_factory(book.db)() as session:
        photos = sales.case_photos(session, shop_id=book.shop_id, case_id=case.id)
    assert [p.id for p in photos] == [mine]


def test_a_case_the_bot_opens_leaves_the_hand_off_to_the_bot(book: Casebook) -> None:
    with book.uow() as uow:
        uow.session.get(Shop, book.shop_id).bot_enabled = True  # type: ignore[union-attr]
        uow.commit()
    with book.uow() as uow:
        conversation = conversations.start_conversation(
            uow, shop_id=book.shop_id, customer_id=book.customer_id, channel=Channel.WIDGET
        )
    assert conversation.with_bot
    case = book.open(conversation_id=conversation.id, opened_by_agent_id=None)
    assert case.opened_by_agent_id is None
    [told] = book.messages(conversation.id)
    assert told.sender_type is SenderType.SYSTEM
    assert told.body.startswith(f"已为您登记退款申请(售后单 #{case.id})")
    with make_session_factory(book.db)() as session:
        still = conversations.get_conversation(
            session, shop_id=book.shop_id, conversation_id=conversation.id
        )
        assert (still.with_bot, still.team_id) == (True, None)  # the bot hands it off itself


def test_a_conversation_already_in_aftersales_is_not_moved_again(book: Casebook) -> None:
    book.open(CaseKind.REFUND)
    book.open(CaseKind.RETURN)
    transfers = [line for line in _buyer_lines(book) if line.startswith("已为您转接")]
    assert len(transfers) == 1


def test_without_a_conversation_the_buyer_is_told_in_their_latest_which_stays_put(
    book: Casebook,
) -> None:
    case = book.open(conversation_id=None)
    assert case.conversation_id == book.conversation_id
    assert _buyer_lines(book) == [
        f"已为您登记退款申请(售后单 #{case.id}),售后同事会尽快处理,处理结果会第一时间通知您。"
    ]
    assert book.conversation().team_id == book.team_id("presale")


# --- deciding and the steps after ---------------------------------------------------------


def test_only_a_person_decides(book: Casebook) -> None:
    case = book.open()
    for nobody in (None, 0, book.other_shop.agent.id):
        with book.uow() as uow, pytest.raises((PermissionDenied, Invalid)):
            sales.decide_case(
                uow, shop_id=book.shop_id, case_id=case.id, agent_id=nobody,  # type: ignore[arg-type]
                approve=True, note="",
            )  # fmt: skip
    with book.uow() as uow:
        accounts.update_agent(
            uow, shop_id=book.shop_id, agent_id=book.aftersale.id,
            acting_agent_id=book.staff.owner.id, is_active=False,
        )  # fmt: skip
    with pytest.raises(Invalid) as caught:
        _decide(book, case)
    assert caught.value.field == "agent_id"
    assert book.case(case.id).status is CaseStatus.OPEN


def test_approving_a_refund_tells_the_buyer_the_money_goes_back(
    book: Casebook, bus: EventBus, clock: FrozenClock
) -> None:
    case = book.open()
    with bus.capture() as events:
        decided = _decide(book, case, note="质量问题,全额退")
    assert decided.status is CaseStatus.APPROVED
    assert (decided.decided_by_agent_id, decided.decided_at) == (book.aftersale.id, clock.now())
    assert decided.decision_note == "质量问题,全额退"
    told = book.messages()[-1]
    assert told.body.startswith("退款已同意,款项 ¥1299.00 将原路退回")
    assert f"售后单 #{case.id}" in told.body
    assert "质量问题" not in told.body  # the decision note is for the shop
    assert (told.sender_type, told.sender_name) == (SenderType.AGENT, "售后小刘")
    [updated] = [e for e in events if isinstance(e, AfterSalesCaseUpdated)]
    assert (updated.status, updated.agent_id) == ("approved", book.aftersale.id)
    with pytest.raises(Invalid) as caught:
        _decide(book, case, approve=False, note="改主意了")
    assert "approved" in caught.value.message


def test_a_rejection_needs_a_note_which_the_buyer_reads_politely(book: Casebook) -> None:
    case = book.open()
    with pytest.raises(Invalid) as caught:
        _decide(book, case, approve=False, note="  ")
    assert caught.value.field == "note"
    assert book.case(case.id).status is CaseStatus.OPEN
    _decide(book, case, approve=False, note="商品已穿着洗涤,不影响二次销售的才能退")
    told = _buyer_lines(book)[-1]
    assert told.startswith("非常抱歉")
    assert "商品已穿着洗涤,不影响二次销售的才能退" in told
    assert "直接回复这条消息" in told


def test_a_return_goes_open_approved_goods_returned_completed(
    book: Casebook, bus: EventBus
) -> None:
    with book.uow() as uow:
        sales.update_settings(
            uow, shop_id=book.shop_id, return_address="杭州市余杭区仓前街道 售后组 0571-88880000"
        )
    case = book.open(CaseKind.RETURN, OrderStatus.DELIVERED, amount=Decimal("599"))
    _decide(book, case)
    assert "请将商品寄回:杭州市余杭区仓前街道 售后组 0571-88880000" in _buyer_lines(book)[-1]
    with book.uow() as uow, pytest.raises(Invalid) as caught:
        sales.complete_case(uow, shop_id=book.shop_id, case_id=case.id, agent_id=book.aftersale.id)
    assert "approved" in caught.value.message
    with book.uow() as uow, pytest.raises(Invalid) as caught:
        sales.mark_goods_returned(uow, shop_id=book.shop_id, case_id=case.id, tracking_no=" ")
    assert caught.value.field == "tracking_no"
    with bus.capture() as events, book.uow() as uow:
        sales.mark_goods_returned(
            uow, shop_id=book.shop_id, case_id=case.id, tracking_no="YT1234567890"
        )
    assert [(e.status, e.agent_id) for e in events if isinstance(e, AfterSalesCaseUpdated)] == [
        ("goods_returned", None)
    ]
    assert "YT1234567890" in _buyer_lines(book)[-1]
    with book.uow() as uow:
        done = sales.complete_case(
            uow, shop_id=book.shop_id, case_id=case.id, agent_id=book.aftersale.id
        )
    assert (done.status, done.return_tracking_no) == (CaseStatus.COMPLETED, "YT1234567890")
    assert "¥599.00 已原路退回" in _buyer_lines(book)[-1]
    with make_session_factory(book.db)() as session:
        steps = sales.case_steps(session, shop_id=book.shop_id, case_id=case.id)
    assert [s.status for s in steps] == [
        CaseStatus.OPEN, CaseStatus.APPROVED, CaseStatus.GOODS_RETURNED, CaseStatus.COMPLETED,
    ]  # fmt: skip
    assert [s.agent_id for s in steps] == [
        book.staff.agent.id, book.aftersale.id, None, book.aftersale.id,
    ]  # fmt: skip


def test_an_exchange_completes_with_the_replacements_tracking_number(book: Casebook) -> None:
    case = book.open(CaseKind.EXCHANGE, OrderStatus.SHIPPED, reason="尺码偏小,换大一号")
    _decide(book, case)
    with book.uow() as uow:
        sales.mark_goods_returned(
            uow, shop_id=book.shop_id, case_id=case.id, tracking_no="SF100",
            agent_id=book.aftersale.id,
        )  # fmt: skip
    with book.uow() as uow, pytest.raises(Invalid) as caught:
        sales.complete_case(uow, shop_id=book.shop_id, case_id=case.id, agent_id=book.aftersale.id)
    assert caught.value.field == "reship_tracking_no"
    with book.uow() as uow:
        done = sales.complete_case(
            uow, shop_id=book.shop_id, case_id=case.id, agent_id=book.aftersale.id,
            reship_tracking_no="SF200",
        )  # fmt: skip
    assert done.reship_tracking_no == "SF200"
    assert _buyer_lines(book)[-1].startswith("您换的新商品已寄出,快递单号 SF200")


def test_a_refund_has_no_goods_to_send_back_and_completes_once_approved(book: Casebook) -> None:
    case = book.open()
    _decide(book, case)
    with book.uow() as uow, pytest.raises(Invalid):
        sales.mark_goods_returned(uow, shop_id=book.shop_id, case_id=case.id, tracking_no="X1")
    with book.uow() as uow:
        sales.complete_case(uow, shop_id=book.shop_id, case_id=case.id, agent_id=book.aftersale.id)
    assert "已办理完成" in _buyer_lines(book)[-1]


def test_the_buyer_may_withdraw_an_open_or_approved_case_only(book: Casebook) -> None:
    case = book.open()
    with book.uow() as uow:
        sales.cancel_case(uow, shop_id=book.shop_id, case_id=case.id, note="买家说不退了")
    assert _buyer_lines(book)[-1].startswith(f"您的退款申请(售后单 #{case.id})已撤销")
    with book.uow() as uow, pytest.raises(Invalid) as caught:
        sales.cancel_case(uow, shop_id=book.shop_id, case_id=case.id)
    assert "cancelled" in caught.value.message
    with book.uow() as uow, pytest.raises(NotFound):
        sales.cancel_case(uow, shop_id=book.other_shop.shop.id, case_id=case.id)


def test_events_wait_for_the_commit(book: Casebook, bus: EventBus) -> None:
    with bus.capture() as events, book.uow() as uow:
        sales.open_case(
            uow, shop_id=book.shop_id, order_id=book.orders[OrderStatus.PAID].id,
            kind=CaseKind.REFUND, reason="不想要了", commit=False,
        )  # fmt: skip
        assert events == []
        uow.rollback()
    assert events == []
    with make_session_factory(book.db)() as session:
        assert sales.list_cases(session, shop_id=book.shop_id) == []
        assert session.query(Message).count() == 0


def test_list_cases_filters_and_rows_name_the_order_and_buyer(book: Casebook) -> None:
    refund = book.open(CaseKind.REFUND, OrderStatus.PAID)
    exchange = book.open(CaseKind.EXCHANGE, OrderStatus.SHIPPED)
    _decide(book, refund)
    with make_session_factory(book.db)() as session:
        ids = lambda **f: [c.id for c in sales.list_cases(session, shop_id=book.shop_id, **f)]  # noqa: E731
        assert ids() == [exchange.id, refund.id]
        assert ids(status=CaseStatus.OPEN) == [exchange.id]
        assert ids(kind=CaseKind.REFUND) == [refund.id]
        assert ids(order_id=book.orders[OrderStatus.SHIPPED].id) == [exchange.id]
        assert ids(customer_id=book.other_buyer_id) == []
        assert ids(conversation_id=book.conversation_id) == [exchange.id, refund.id]
        assert sales.list_cases(session, shop_id=book.other_shop.shop.id) == []
        fresh = sales.get_case(session, shop_id=book.shop_id, case_id=refund.id)
        [row] = sales.case_rows(session, shop_id=book.shop_id, cases=[fresh])
        assert (row["order_no"], row["customer_name"], row["decided_by"]) == (
            book.orders[OrderStatus.PAID].order_no, "王芳", "售后小刘",
        )  # fmt: skip
        with pytest.raises(NotFound):
            sales.get_case(session, shop_id=book.other_shop.shop.id, case_id=refund.id)


def test_without_a_return_address_the_buyer_is_not_given_an_invented_one(
    book: Casebook,
) -> None:
    case = book.open(CaseKind.EXCHANGE, OrderStatus.DELIVERED)
    _decide(book, case)
    told = _buyer_lines(book)[-1]
    assert "请将商品寄回" not in told
    assert "退货地址售后同事会马上发给您" in told


def _buyer_sends_picture(book: Casebook, directory: Path, client_id: str) -> int:
    photo = _upload(book, directory, book.shop_id, customer_id=book.customer_id)
    with book.uow() as uow:
        conversations.receive_message(
            uow, shop_id=book.shop_id, conversation_id=book.conversation_id,
            client_msg_id=client_id, body="", attachment_id=photo,
        )  # fmt: skip
    return photo


def _photo_ids(book: Casebook, case: AfterSalesCase) -> list[int]:
    with make_session_factory(book.db)() as session:
        return [p.id for p in sales.case_photos(session, shop_id=book.shop_id, case_id=case.id)]


def test_the_pictures_the_buyer_just_sent_go_with_the_case(
    book: Casebook, tmp_path: Path, clock: FrozenClock
) -> None:
    old = _buyer_sends_picture(book, tmp_path, "pic-old")
    clock.advance(timedelta(days=2))  # a picture from two days ago is about something else
    seam = _buyer_sends_picture(book, tmp_path, "pic-seam")
    case = book.open(kind=CaseKind.RETURN)
    assert _photo_ids(book, case) == [seam] and old != seam


def test_a_picture_sent_while_the_case_is_active_joins_it(
    book: Casebook, tmp_path: Path, bus: EventBus, uow_factory: UowFactory
) -> None:
    sales_subscribers.install(bus, uow_factory)
    case = book.open(kind=CaseKind.RETURN)
    assert _photo_ids(book, case) == []
    later = _buyer_sends_picture(book, tmp_path, "pic-later")
    assert _photo_ids(book, case) == [later]
    with book.uow() as uow:
        sales.cancel_case(
            uow, shop_id=book.shop_id, case_id=case.id, agent_id=book.aftersale.id, note="买家撤销"
        )
    _buyer_sends_picture(book, tmp_path, "pic-after")  # the case is over: not added
    assert _photo_ids(book, case) == [later]
