"""What the bot tells a buyer about one of their orders, from the order's real state.

Every answer comes with the agent's note (what the bot looked up), and, when a person has
to act, the team to hand the buyer to and a line naming the order for the hand-off
summary. The wording is Chinese because it goes to the buyer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from kefu.commerce.models import Order, OrderLine, OrderStatus
from kefu.nlp.intents import Action
from kefu.sales.models import AfterSalesCase, CaseKind, CaseStatus

STATUS_WORDS = {
    OrderStatus.UNPAID: "待付款",
    OrderStatus.PAID: "已付款,待发货",
    OrderStatus.SHIPPED: "已发货",
    OrderStatus.DELIVERED: "已签收",
    OrderStatus.CLOSED: "已关闭",
    OrderStatus.REFUNDING: "退款中",
    OrderStatus.REFUNDED: "已退款",
}
KIND_WORDS = {CaseKind.REFUND: "退款", CaseKind.RETURN: "退货退款", CaseKind.EXCHANGE: "换货"}
# What the buyer wants done, as the sentence "可以为您{…}" / "已经无法{…}了" needs it.
_CHANGE_WORDS = {
    Action.ADDRESS_CHANGE: "修改收货地址",
    Action.CANCEL_ORDER: "取消订单",
    Action.ORDER_CHANGE: "修改订单",
    Action.DELAY_SHIPPING: "延迟发货",
}
# After shipping: what the buyer can still do instead.
_AFTER_SHIPPING = {
    Action.ADDRESS_CHANGE: "您可以联系{courier}修改派送地址,或者拒收包裹后重新下单。",
    Action.CANCEL_ORDER: "您可以拒收包裹,或者签收后申请退货退款。",
    Action.ORDER_CHANGE: "收到后如果需要调换,可以申请换货。",
    Action.DELAY_SHIPPING: "请您留意查收包裹。",
}
_AFTER_DELIVERY = "如果商品有问题,可以申请退货或换货,回复“人工”联系客服同事。"
ASK_FOR_NUMBER = "为了帮您查询,请把订单号发给我(在“我的订单”里可以复制)~"
NOT_FOUND = "没有查到这个订单号,请核对一下。您可以在“我的订单”里复制订单号发给我~"
CHOOSE = "您最近有 {count} 个订单,请问是哪一个呢?回复序号或订单号即可:"


@dataclass(frozen=True)
class Said:
    body: str
    note: str  # for agents: what the bot looked up


@dataclass
class OrderOutcome:
    """The bot's answer about an order, and whether a person takes over."""

    replies: list[Said] = field(default_factory=list)
    handoff_team: str | None = None
    reason: str = ""
    summary: str = ""  # the order, for the hand-off note
    # No order to talk about: an answer from the knowledge base, if one fits, is better.
    kb_first: bool = False
    # The order the buyer named was not found: a question the bot could not answer.
    missed: bool = False


@dataclass(frozen=True)
class Known:
    """An order of this buyer, with what the answers need beside it."""

    order: Order
    item: str  # the first line, as the buyer recognises it
    promise_hours: int  # "paid orders ship within N hours"
    zone: ZoneInfo  # the shop's
    now: datetime

    @property
    def no(self) -> str:
        return self.order.order_no

    @property
    def status(self) -> str:
        return STATUS_WORDS[self.order.status]

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        local = moment.astimezone(self.zone)
        shown = f"{local.month}月{local.day}日 {local:%H:%M}"
        this_year = self.now.astimezone(self.zone).year
        return shown if local.year == this_year else f"{local.year}年{shown}"

    def summary(self, extra: str = "") -> str:
        return f"订单 {self.no}({self.status}){extra}"


def item_of(lines: list[OrderLine]) -> str:
    if not lines:
        return ""
    first = lines[0]
    detail = " ".join(part for part in (first.colour, first.size) if part)
    more = f" 等{len(lines)}件" if len(lines) > 1 else ""
    return f"{first.title}{f' {detail}' if detail else ''}{more}"


def _shipped_line(known: Known) -> str:
    order = known.order
    return (
        f"您的订单 {known.no} 已于 {known.when(order.shipped_at)} 由{order.courier}发出,"
        f"运单号 {order.tracking_no}"
    )


def _shipped_note(known: Known) -> str:
    order = known.order
    shipped = known.when(order.shipped_at)
    return f"订单 {known.no} 已发货 {order.courier} {order.tracking_no}({shipped})"


def _deadline(known: Known) -> datetime | None:
    paid = known.order.paid_at
    return None if paid is None else paid + timedelta(hours=known.promise_hours)


def status(known: Known, *, shipping_team: str) -> OrderOutcome:
    """Where the order is: for "快递到哪了" and "什么时候发货" alike."""
    order = known.order
    no = known.no
    if order.status is OrderStatus.SHIPPED:
        body = f"{_shipped_line(known)},可以在{order.courier}的官网或App查看实时物流哦~"
        return OrderOutcome([Said(body, _shipped_note(known))])
    if order.status is OrderStatus.DELIVERED:
        body = (
            f"您的订单 {no} 已于 {known.when(order.delivered_at)} 签收({order.courier},"
            f"运单号 {order.tracking_no})。如果您没有收到包裹,请回复“人工”,我们帮您联系快递核实。"
        )
        delivered = known.when(order.delivered_at)
        note = f"订单 {no} 已签收 {delivered} {order.courier} {order.tracking_no}"
        return OrderOutcome([Said(body, note)])
    if order.status is OrderStatus.PAID:
        return _promise(known, shipping_team=shipping_team)
    if order.status is OrderStatus.UNPAID:
        body = (
            f"您的订单 {no} 还没有付款哦~付款后我们会在 {known.promise_hours} 小时内为您发货。"
            "如果付款遇到问题,随时告诉我。"
        )
        note = f"订单 {no} 待付款(下单于 {known.when(order.created_at)})"
        return OrderOutcome([Said(body, note)])
    if order.status is OrderStatus.CLOSED:
        body = f"您的订单 {no} 已关闭(没有付款),如果还需要,可以重新下单哦~"
        return OrderOutcome([Said(body, f"订单 {no} 已关闭")])
    if order.status is OrderStatus.REFUNDING:
        body = f"您的订单 {no} 正在退款中,售后同事处理后会第一时间通知您。"
        return OrderOutcome([Said(body, f"订单 {no} 退款中")])
    body = f"您的订单 {no} 已于 {known.when(order.refunded_at)} 退款,款项会原路退回。"
    return OrderOutcome([Said(body, f"订单 {no} 已退款 {known.when(order.refunded_at)}")])


def _promise(known: Known, *, shipping_team: str) -> OrderOutcome:
    """Paid, not shipped: the shop's promise, or an apology when it is already broken."""
    deadline = _deadline(known)
    no = known.no
    paid = known.when(known.order.paid_at)
    if deadline is not None and known.now > deadline:
        body = (
            f"非常抱歉,您的订单 {no} 已超过承诺的发货时间({known.when(deadline)})还没有发出,"
            "已为您转给发货同事加急处理。"
        )
        note = f"订单 {no} 付款于 {paid},已超过承诺发货时间 {known.when(deadline)}"
        return OrderOutcome(
            [Said(body, note)],
            handoff_team=shipping_team,
            reason="needs_person",
            summary=known.summary(f",超过承诺发货时间 {known.when(deadline)}"),
        )
    body = (
        f"您的订单 {no} 已付款,我们承诺付款后 {known.promise_hours} 小时内发货,"
        f"预计 {known.when(deadline)} 前发出,发货后可以在订单里查看物流~"
    )
    note = f"订单 {no} 已付款 {paid},承诺 {known.when(deadline)} 前发货"
    return OrderOutcome([Said(body, note)])


def change(known: Known, action: Action, *, team: str) -> OrderOutcome:
    """Address, cancellation, other changes: possible only before the order ships."""
    order = known.order
    what = _CHANGE_WORDS[action]
    no = known.no
    if order.status in (OrderStatus.UNPAID, OrderStatus.PAID):
        extra = (
            "请把新的收货地址(收件人、电话、详细地址)发给我们。"
            if action is Action.ADDRESS_CHANGE
            else ""
        )
        body = f"您的订单 {no} 还没有发货,可以为您{what},已转给同事确认,请稍等~{extra}"
        return OrderOutcome(
            [Said(body, f"订单 {no} {known.status},买家要{what}:转人工确认")],
            handoff_team=team,
            reason="needs_person",
            summary=known.summary(f",买家要{what}"),
        )
    if order.status is OrderStatus.SHIPPED:
        instead = _AFTER_SHIPPING[action].format(courier=order.courier)
        body = f"{_shipped_line(known)},已经无法{what}了。{instead}需要帮忙的话回复“人工”即可。"
        return OrderOutcome([Said(body, _shipped_note(known) + f",无法{what}")])
    if order.status is OrderStatus.DELIVERED:
        body = (
            f"您的订单 {no} 已于 {known.when(order.delivered_at)} 签收,已经无法{what}了。"
            f"{_AFTER_DELIVERY}"
        )
        return OrderOutcome([Said(body, f"订单 {no} 已签收,无法{what}")])
    body = f"您的订单 {no} {known.status},无需也无法再{what}了。"
    return OrderOutcome([Said(body, f"订单 {no} {known.status},无法{what}")])


def coupon(known: Known) -> OrderOutcome | None:
    """Which coupon the order used; None when it used none (the knowledge base may know)."""
    order = known.order
    if not order.coupon_code:
        return None
    saved = f",优惠 ¥{order.discount:.2f}" if order.discount > Decimal(0) else ""
    body = (
        f"您的订单 {known.no} 已使用优惠券 {order.coupon_code}{saved}。"
        "如果是别的优惠券用不了,告诉我是哪一张,我帮您看看~"
    )
    return OrderOutcome([Said(body, f"订单 {known.no} 使用了优惠券 {order.coupon_code}{saved}")])


def case_opened(known: Known, case: AfterSalesCase, *, team: str) -> OrderOutcome:
    """The case is registered (the buyer was told by the case itself); a person decides."""
    kind = KIND_WORDS[case.kind]
    return OrderOutcome(
        [],
        handoff_team=team,
        reason="needs_person",
        summary=known.summary(f",已登记{kind}申请 售后单 #{case.id},待审核"),
    )


def case_exists(known: Known, kind: CaseKind, case_id: object, *, team: str) -> OrderOutcome:
    words = KIND_WORDS[kind]
    shown = f"(售后单 #{case_id})" if case_id else ""
    body = (
        f"您的订单 {known.no} 已经有一个{words}申请在处理中{shown},"
        "售后同事会尽快处理,处理结果会第一时间通知您。"
    )
    return OrderOutcome(
        [Said(body, f"订单 {known.no} 已有{words}申请{shown} 在处理中")],
        handoff_team=team,
        reason="needs_person",
        summary=known.summary(f",{words}申请{shown}处理中,买家再次询问"),
    )


def case_refused(known: Known, kind: CaseKind, *, team: str) -> OrderOutcome:
    """The order's state allows no such case: say why, kindly."""
    order = known.order
    no = known.no
    words = KIND_WORDS[kind]
    if order.status is OrderStatus.UNPAID:
        body = f"您的订单 {no} 还没有付款,不需要申请{words}哦;不想要的话不付款就好,订单会自动关闭。"
    elif order.status is OrderStatus.CLOSED:
        body = f"您的订单 {no} 已关闭,没有产生付款,不需要申请{words}哦。"
    elif order.status is OrderStatus.REFUNDED:
        body = f"您的订单 {no} 已于 {known.when(order.refunded_at)} 退款,款项会原路退回。"
    else:
        body = f"您的订单 {no} 目前{known.status},暂时不能在线申请{words},已为您转给售后同事看看。"
        return OrderOutcome(
            [Said(body, f"订单 {no} {known.status},不能登记{words}申请:转人工")],
            handoff_team=team,
            reason="needs_person",
            summary=known.summary(f",买家要{words}"),
        )
    return OrderOutcome([Said(body, f"订单 {no} {known.status},无需{words}")])


def case_progress(known: Known, case: AfterSalesCase) -> OrderOutcome:
    """Where the buyer's after-sales case stands, in words."""
    kind = KIND_WORDS[case.kind]
    head = f"您的订单 {known.no} 的{kind}申请(售后单 #{case.id})"
    amount = f" ¥{case.amount:.2f}" if case.amount is not None else ""
    if case.status is CaseStatus.OPEN:
        body = f"{head}已提交,正在等待售后同事审核,处理结果会第一时间通知您。"
    elif case.status is CaseStatus.APPROVED and case.kind is CaseKind.REFUND:
        body = f"{head}已同意,款项{amount}将原路退回,请留意到账信息。"
    elif case.status is CaseStatus.APPROVED:
        body = f"{head}已同意,请按售后同事告诉您的地址寄回商品,寄出后把快递单号回复给我们。"
    elif case.status is CaseStatus.REJECTED:
        body = f"{head}没有通过审核。如果您有补充说明或照片,回复“人工”联系售后同事。"
    elif case.status is CaseStatus.GOODS_RETURNED:
        body = f"{head}:已收到您寄回商品的快递单号 {case.return_tracking_no},到仓验收后会尽快处理。"
    elif case.status is CaseStatus.COMPLETED and case.kind is CaseKind.EXCHANGE:
        body = f"{head}已完成,换的新商品已寄出,快递单号 {case.reship_tracking_no}。"
    elif case.status is CaseStatus.COMPLETED:
        body = f"{head}已办理完成,款项{amount}已原路退回,请留意到账信息。"
    else:
        body = f"{head}已撤销。之后如果还有需要,随时联系我们~"
    return OrderOutcome([Said(body, f"售后单 #{case.id} {kind} {case.status.value}")])


def choose(candidates: list[Known]) -> OrderOutcome:
    rows = [
        f"{index}. {known.no}{f' {known.item}' if known.item else ''}({known.status})"
        for index, known in enumerate(candidates, start=1)
    ]
    body = "\n".join([CHOOSE.format(count=len(candidates)), *rows])
    note = "买家有多个可能的订单:" + "、".join(known.no for known in candidates)
    return OrderOutcome([Said(body, note)])


def ask_for_number(*, promise_hours: int | None = None) -> OrderOutcome:
    """No order to go by: ask for its number (the shop's promise first, when it helps)."""
    if promise_hours is None:
        return OrderOutcome([Said(ASK_FOR_NUMBER, "没有找到买家的订单,请买家提供订单号")])
    body = (
        f"我们承诺付款后 {promise_hours} 小时内发货。如果您已经下单,可以把订单号发给我,"
        "我帮您查一下具体进度~"
    )
    return OrderOutcome([Said(body, f"没有找到买家的订单:答发货时效 {promise_hours} 小时")])


def not_found(typed: str) -> OrderOutcome:
    # The buyer hears only that it was not found: whose it is, or whether it exists in
    # another shop, is nobody's business in this conversation.
    note = f"买家发来的订单号 {typed} 不是其在本店的订单"
    return OrderOutcome([Said(NOT_FOUND, note)], missed=True)
