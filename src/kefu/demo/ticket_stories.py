"""The demo's tickets (工单), each a short story on the demo's clock (see
:mod:`kefu.demo.ticket_plot`), written the way seed 002 describes the duty: what the front
line cannot finish becomes a work order for the team that can, the buyer is told its number
in the chat, colleagues are called with @mentions, questions the knowledge base lacks go to
the duty manager, and the evening shift hands its open items to the morning one.

Most tickets come from the demo's scripted chats (a 质量投诉, a 包裹破损, a 换码, a 开发票
chat); the rest are placed relative to now in working minutes, so that whatever the day the
demo is made, one internal request is about to miss its first response (warning), one fault
report has missed it (breached), and one complaint was solved in time (met).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final

from sqlalchemy import select

from kefu.commerce.models import OrderStatus
from kefu.demo import ticket_escalations
from kefu.demo.ticket_plot import (
    AFTERSALE,
    COMPLAINTS,
    LEAD,
    MINUTE,
    PRESALE,
    PROMOTION,
    SHIPPING,
    Chat,
    Plot,
    Ref,
    short_title,
)
from kefu.tickets import service as tickets
from kefu.tickets.models import HandoverItem, TicketPriority, TicketStatus, TicketType

HOUR: Final = 60  # working minutes
DAY: Final = timedelta(days=1)
# A ticket made from a chat longer ago than this was worked to the end by now; a newer one
# is still open (and so in the evening's handover).
SETTLED_AFTER: Final = timedelta(days=2)


def quality_complaint(plot: Plot) -> None:
    """质量投诉: an angry buyer's pilling complaint, worked by 投诉 and solved in time (met)."""
    chats = [c for c in plot.chats("质量投诉") if c.room >= 2]
    if not chats:
        return
    chat, ref = chats[0], Ref()
    product = short_title(plot.first_line(chat.order_ids))
    start = chat.ended + MINUTE
    opened = plot.at(start, plot.open_ticket(
        ref, by=COMPLAINTS, chat=chat, type=TicketType.COMPLAINT,
        title=f"质量投诉：{product}洗一次就起球", description=chat.description,
        priority=TicketPriority.HIGH, team_id=plot.teams["complaints"],
        assignee_id=plot.people[COMPLAINTS], order_ids=chat.order_ids,
        tags=["质量问题", "起球"], custom_fields={"source": "在线聊天"},
    ))  # fmt: skip
    if not opened:
        return
    plot.at(start + 2 * MINUTE, plot.reply(ref, by=COMPLAINTS, chat=chat, body=(
        "亲，换新已经安排好了：新的一件今天下午从仓库发出，快递员上门取回原来那件，来回运费都由"
        "我们承担。物流单号会同步到订单里，请留意查收🙏"
    )))  # fmt: skip
    plot.at(start + 5 * MINUTE, plot.note(ref, by=COMPLAINTS, body=(
        f"已答应买家换新并附赠毛巾一条。{plot.mention(AFTERSALE)} 请和仓库确认新件今天发出，"
        "原件取回后做一下质检；起球问题已反馈面料供应商。"
    )))  # fmt: skip
    plot.at(plot.working(start, 5 * HOUR), plot.note(ref, by=AFTERSALE, body=(
        "新件已发出。原件取回质检：袖口和腋下起球，属面料问题，已整批退回供应商。"
    )))  # fmt: skip
    solved = plot.working(start, 12 * HOUR)
    plot.at(solved - MINUTE, plot.note(ref, by=COMPLAINTS, body="买家已签收新件，回访确认满意。"))
    plot.at(solved, plot.move(ref, TicketStatus.SOLVED, by=COMPLAINTS))
    plot.at(solved + 3 * DAY, plot.move(ref, TicketStatus.CLOSED, by=None))


def complaint_to_aftersale(plot: Plot) -> None:
    """The issue's "done when": a complaint chat turned into a ticket for 售后."""
    chats = [c for c in plot.chats("质量投诉") if c.room >= 2]
    if len(chats) < 2:
        return
    chat, ref = chats[1], Ref()
    product = short_title(plot.first_line(chat.order_ids))
    start = chat.ended + MINUTE
    opened = plot.at(start, plot.open_ticket(
        ref, by=COMPLAINTS, chat=chat, type=TicketType.AFTERSALE,
        title=f"换新：{product}起球（投诉转售后）",
        description=chat.description + "\n\n已答应买家：今天发出新件，上门取回原件，运费我们承担。",
        team_id=plot.teams["aftersale"], assignee_id=plot.people[AFTERSALE],
        order_ids=chat.order_ids, tags=["换货", "起球"],
    ))  # fmt: skip
    if not opened:
        return
    plot.at(start + 2 * MINUTE, plot.reply(ref, by=COMPLAINTS, chat=chat, body=(
        "亲，换新已经交给售后专员跟进，新件发出后物流单号会同步到订单里，有任何问题随时找我们🙏"
    )))  # fmt: skip
    plot.at(start + 6 * MINUTE, plot.note(ref, by=AFTERSALE, body=(
        f"收到，已通知仓库今天发出新件。{plot.mention(COMPLAINTS)} 原件取回后我来跟进质检。"
    )))  # fmt: skip
    plot.at(start + 8 * MINUTE, plot.move(ref, TicketStatus.PENDING_INTERNAL, by=AFTERSALE))
    if plot.now - chat.ended > SETTLED_AFTER:
        solved = plot.working(start, 16 * HOUR)
        plot.at(solved - MINUTE, plot.note(ref, by=AFTERSALE, body="新件已签收，原件已取回入库。"))
        plot.at(solved, plot.move(ref, TicketStatus.SOLVED, by=AFTERSALE))
        plot.at(solved + 3 * DAY, plot.move(ref, TicketStatus.CLOSED, by=None))


def damaged_parcel(plot: Plot) -> None:
    """包裹破损: two colleagues opened a ticket for the same parcel; one merges into the other."""
    chats = [c for c in plot.chats("包裹破损") if c.room >= 2]
    if not chats:
        return
    chat, ref, duplicate = chats[-1], Ref(), Ref()
    product = short_title(plot.first_line(chat.order_ids))
    start = chat.ended + MINUTE
    opened = plot.at(start, plot.open_ticket(
        ref, by=COMPLAINTS, chat=chat, type=TicketType.COMPLAINT,
        title=f"包裹破损：{product}外包装压烂、被套有污渍", description=chat.description,
        priority=TicketPriority.HIGH, team_id=plot.teams["complaints"],
        assignee_id=plot.people[COMPLAINTS], order_ids=chat.order_ids,
        tags=["包裹破损", "补发"], custom_fields={"source": "在线聊天"},
    ))  # fmt: skip
    if not opened:
        return
    plot.at(start + 2 * MINUTE, plot.reply(ref, by=COMPLAINTS, chat=chat, body=(
        "亲，补发已经登记好了，仓库今天加厚包装发出，物流单号出来后第一时间发给您🙏"
    )))  # fmt: skip
    plot.at(start + 3 * MINUTE, plot.move(ref, TicketStatus.PENDING_INTERNAL, by=COMPLAINTS))
    # The lead saw the same chat in the queue's history and opened one too.
    plot.at(start + 6 * MINUTE, plot.open_ticket(
        duplicate, by=LEAD, chat=None, type=TicketType.COMPLAINT,
        title=f"买家反映{product}包裹压坏、有污渍", team_id=plot.teams["complaints"],
        order_ids=chat.order_ids, requester_customer_id=chat.customer_id, tags=["包裹破损"],
    ))  # fmt: skip
    plot.at(start + 20 * MINUTE, _merge(plot, duplicate, into=ref, by=COMPLAINTS))
    plot.at(start + 25 * MINUTE, plot.note(ref, by=COMPLAINTS, body=(
        f"补发单已建。{plot.mention(SHIPPING)} 请加护角和防水袋，今天务必发出。"
    )))  # fmt: skip
    if plot.now - chat.ended > SETTLED_AFTER:
        solved = plot.working(start, 14 * HOUR)
        plot.at(solved - MINUTE, plot.note(ref, by=COMPLAINTS, body="补发件已签收，包装完好。"))
        plot.at(solved, plot.move(ref, TicketStatus.SOLVED, by=COMPLAINTS))


def _merge(plot: Plot, source: Ref, *, into: Ref, by: str) -> Callable[[], None]:
    def run() -> None:
        tickets.merge_tickets(
            plot.uow, shop_id=plot.shop_id, source_id=source.id, target_id=into.id,
            actor_agent_id=plot.people[by], commit=False,
        )  # fmt: skip

    return run


def size_exchange(plot: Plot) -> None:
    """换码: 售后 waits for the buyer's parcel (the SLA clock stands while it waits)."""
    chats = [c for c in plot.chats("换码") if c.room >= 1]
    if not chats:
        return
    chat, ref = chats[-1], Ref()
    line = plot.first_line(chat.order_ids)
    size = f"{line.size}码" if line is not None and line.size else "原尺码"
    start = chat.ended + MINUTE
    # The reply itself tells the number: the chat has room for one more line.
    opened = plot.at(start, plot.open_ticket(
        ref, by=AFTERSALE, chat=chat, type=TicketType.AFTERSALE,
        title=f"换码：{short_title(line)} {size}换大一码", description=chat.description,
        team_id=plot.teams["aftersale"], assignee_id=plot.people[AFTERSALE],
        order_ids=chat.order_ids, tags=["换码"], tell_buyer=False,
    ))  # fmt: skip
    if not opened:
        return
    plot.at(start + MINUTE, plot.reply(ref, by=AFTERSALE, chat=chat, body=(
        "亲，换码已登记为工单 #{number}。收到您寄回的包裹后24小时内把新尺码发出，寄回时记得在"
        "订单里填写快递单号哦~"
    )))  # fmt: skip
    plot.at(start + 2 * MINUTE, plot.move(ref, TicketStatus.PENDING_BUYER, by=AFTERSALE))


def invoice(plot: Plot) -> None:
    """开发票: a request the chat promised, done by 售后 the next working day (met)."""
    chats = [c for c in plot.chats("开发票") if c.room >= 1]
    if not chats:
        return
    chat, ref = chats[-1], Ref()
    start = chat.ended + MINUTE
    opened = plot.at(start, plot.open_ticket(
        ref, by=AFTERSALE, chat=chat, type=TicketType.OTHER, title="开具电子普通发票（公司报销）",
        description=chat.description, team_id=plot.teams["aftersale"],
        assignee_id=plot.people[AFTERSALE], order_ids=chat.order_ids, tags=["发票"],
    ))  # fmt: skip
    if not opened:
        return
    done = plot.working(start, 3 * HOUR)
    plot.at(done - MINUTE, plot.note(ref, by=AFTERSALE, body="电子发票已开具，已上传到订单详情。"))
    plot.at(done, plot.move(ref, TicketStatus.SOLVED, by=AFTERSALE))
    plot.at(done + 3 * DAY, plot.move(ref, TicketStatus.CLOSED, by=None))


def payment_fault(plot: Plot) -> None:
    """障碍申告: buyers cannot pay with a coupon; nobody has answered for 1 h 45 min of
    working time, 45 minutes past its first response (breached)."""
    ref = Ref()
    start = plot.working(plot.now, -(HOUR + 45))
    seen = (start - 20 * MINUTE).astimezone(plot.zone)
    plot.at(start, plot.open_ticket(
        ref, by=PRESALE, type=TicketType.FAULT, title="付款失败：用满399减50券下单后无法支付",
        description=(
            "有3位买家反映：领取满399减50优惠券后下单，付款时提示「订单金额异常」，无法支付；"
            "不用券可以正常付款。已请买家先不带券下单，差价由店铺补。"
        ),
        priority=TicketPriority.HIGH, team_id=plot.teams["promotion"],
        requester_team_id=plot.teams["presale"], tags=["付款失败", "优惠券"],
        custom_fields={
            "fault_page": "支付页", "occurred_at": seen.strftime("%Y-%m-%d %H:%M"),
            "affected_orders": 3,
        },
    ))  # fmt: skip
    plot.at(start + 10 * MINUTE, plot.note(ref, by=PRESALE, body=(
        f"{plot.mention(PROMOTION)} 麻烦尽快看一下优惠券设置，买家在催，已经有人说要去别家买了。"
    )))  # fmt: skip


def rush_shipping(plot: Plot) -> None:
    """内部请求 售前 → 发货: 加急发货, due to be answered within 15 working minutes (warning)."""
    start = plot.working(plot.now, -(8 * HOUR - 15))
    # The buyer's order, paid before 售前 asked (after a long holiday there may be none
    # left unshipped from then: the request names the buyer's words only).
    order = plot.latest_order(OrderStatus.PAID, before=start - 30 * MINUTE)
    which = f"订单 {order.order_no}" if order is not None else "刚付款的订单"
    plot.at(start, plot.open_ticket(
        Ref(), by=PRESALE, type=TicketType.INTERNAL, title="加急发货：买家周五出差，今天发顺丰",
        description=(
            f"买家下单后在售前咨询：周五要出差，希望{which}今天发出。"
            "已和买家确认改发顺丰，运费差价店铺承担。"
        ),
        priority=TicketPriority.HIGH, requester_team_id=plot.teams["presale"],
        team_id=plot.teams["shipping"], assignee_id=plot.people[SHIPPING],
        order_ids=[order.id] if order is not None else [], tags=["加急", "顺丰"],
    ))  # fmt: skip


def evening_shift(plot: Plot) -> None:
    """The last evening shift of 投诉: two complaints from outside the chat, the handover
    report (交班日记) at its end, and the morning taking over all but one item (which the
    handover job then flags)."""
    end = plot.evening_end
    phoned, posted = Ref(), Ref()
    refund = plot.latest_order(OrderStatus.REFUNDING, before=end - DAY)
    down = plot.latest_order(OrderStatus.DELIVERED, before=end - DAY, title_has="羽绒服")
    if down is not None:
        posted_at = end - timedelta(hours=3, minutes=45)
        plot.at(posted_at, plot.open_ticket(
            posted, by=COMPLAINTS, type=TicketType.COMPLAINT, title="微博投诉：羽绒服钻绒严重",
            description=(
                "买家在微博@了店铺：羽绒服穿了两天就钻绒，衣服上全是绒毛。已私信致歉，"
                "请买家拍照发过来，确认后换新或退款。"
            ),
            priority=TicketPriority.HIGH, team_id=plot.teams["complaints"],
            assignee_id=plot.people[COMPLAINTS], requester_customer_id=down.customer_id,
            order_ids=[down.id], tags=["钻绒"], custom_fields={"source": "微博"},
        ))  # fmt: skip
        waiting = plot.move(posted, TicketStatus.PENDING_BUYER, by=COMPLAINTS)
        plot.at(posted_at + 3 * MINUTE, waiting)
    if refund is not None:
        phoned_at = end - timedelta(hours=2, minutes=20)
        plot.at(phoned_at, plot.open_ticket(
            phoned, by=COMPLAINTS, type=TicketType.COMPLAINT, title="来电投诉：退款申请多日未到账",
            description=(
                f"买家来电：订单 {refund.order_no} 申请退款好几天了，钱还没到账，情绪比较激动，"
                "要求明天给答复。已安抚，答应明早财务上班后第一时间核实。"
            ),
            team_id=plot.teams["complaints"], assignee_id=plot.people[COMPLAINTS],
            requester_customer_id=refund.customer_id, order_ids=[refund.id], tags=["退款"],
            custom_fields={"source": "电话"},
        ))  # fmt: skip
        plot.at(phoned_at + 8 * MINUTE, plot.note(phoned, by=COMPLAINTS, body=(
            f"晚班联系不上财务，明早请 {plot.mention(LEAD)} 找财务核实到账时间，并给买家回电。"
        )))  # fmt: skip
    report = Ref()
    plot.at(end - 5 * MINUTE, _hand_over(plot, report))
    plot.at(end + timedelta(hours=9, minutes=5), _take_over(plot, report, leave=phoned))


def _hand_over(plot: Plot, report: Ref) -> Callable[[], None]:
    def run() -> None:
        handover = tickets.hand_over(
            plot.uow, shop_id=plot.shop_id, shift_id=plot.evening_shift_id,
            note=(
                "今晚两起投诉：微博钻绒的买家还没发照片，收到后按换新处理；来电催退款的买家要求"
                "明早回电，请务必跟进。包裹破损补发的单子仓库明天发。"
            ),
            actor_agent_id=plot.people[COMPLAINTS], commit=False,
        )  # fmt: skip
        report.id = handover.id

    return run


def _take_over(plot: Plot, report: Ref, *, leave: Ref) -> Callable[[], None]:
    """The morning's lead acknowledges every item but ``leave``'s (nobody took it)."""

    def run() -> None:
        items = plot.uow.session.scalars(
            select(HandoverItem)
            .where(HandoverItem.shop_id == plot.shop_id, HandoverItem.handover_id == report.id)
            .order_by(HandoverItem.id)
        ).all()
        chosen = [item.id for item in items if item.ticket_id != leave.id]
        if len(chosen) == len(items):
            chosen = chosen[:-1]  # somebody always misses one
        if chosen:
            tickets.acknowledge(
                plot.uow, shop_id=plot.shop_id, handover_id=report.id,
                agent_id=plot.people[LEAD], item_ids=chosen, commit=False,
            )  # fmt: skip

    return run


STORIES: Final[tuple[Callable[[Plot], None], ...]] = (
    quality_complaint,
    complaint_to_aftersale,
    damaged_parcel,
    size_exchange,
    invoice,
    payment_fault,
    rush_shipping,
    ticket_escalations.escalations,
    evening_shift,
)
__all__ = ["STORIES", "Chat"]
