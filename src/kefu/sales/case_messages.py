"""What the buyer is told at each step of an after-sales case (售后), per kind.

The wording follows the shop's complaint advice (seed 001): say sorry first, name the
concrete remedy and what happens next, and never push the buyer towards a refund. The
texts are in Chinese because they go to the buyer, whatever language the agent reads.
"""

from __future__ import annotations

from decimal import Decimal

from kefu.sales.models import CaseKind, CaseStatus

KIND_NAMES: dict[CaseKind, str] = {
    CaseKind.REFUND: "退款",
    CaseKind.RETURN: "退货退款",
    CaseKind.EXCHANGE: "换货",
}

# The statuses in the buyer's and the shop's words (error messages name them in Chinese).
STATUS_NAMES: dict[CaseStatus, str] = {
    CaseStatus.OPEN: "待处理",
    CaseStatus.APPROVED: "已同意",
    CaseStatus.REJECTED: "已拒绝",
    CaseStatus.GOODS_RETURNED: "买家已寄回",
    CaseStatus.COMPLETED: "已完成",
    CaseStatus.CANCELLED: "已撤销",
}


def _yuan(amount: Decimal | None) -> str:
    return f"¥{amount:.2f}" if amount is not None else ""


def opened(kind: CaseKind, case_id: int) -> str:
    name = KIND_NAMES[kind]
    return f"已为您登记{name}申请(售后单 #{case_id}),售后同事会尽快处理,处理结果会第一时间通知您。"


def approved(kind: CaseKind, case_id: int, *, amount: Decimal | None, return_address: str) -> str:
    if kind is CaseKind.REFUND:
        return (
            f"退款已同意,款项 {_yuan(amount)} 将原路退回,一般 1–3 个工作日到账"
            f"(售后单 #{case_id}),请留意。给您添麻烦了,非常抱歉~"
        )
    what = "办理退款" if kind is CaseKind.RETURN else "为您换新寄出"
    # A shop that has not set its return address yet: never invent one for the buyer.
    where = (
        f"请将商品寄回:{return_address}。"
        if return_address
        else "退货地址售后同事会马上发给您,请收到后再寄出。"
    )
    return (
        f"您的{KIND_NAMES[kind]}申请已同意(售后单 #{case_id})。{where}"
        "包裹里请附上订单号,寄出后把快递单号回复给我们,"
        f"商品到仓验收后会尽快{what}。"
    )


def rejected(kind: CaseKind, case_id: int, *, note: str) -> str:
    return (
        f"非常抱歉,您的{KIND_NAMES[kind]}申请(售后单 #{case_id})这次没能通过,原因是:{note}。"
        "如果您有补充说明或照片,直接回复这条消息就好,我们会再为您核实处理。"
    )


def goods_returned(kind: CaseKind, case_id: int, *, tracking_no: str) -> str:
    what = "办理退款" if kind is CaseKind.RETURN else "为您换新寄出"
    return (
        f"已收到您寄回商品的快递单号 {tracking_no}(售后单 #{case_id}),"
        f"商品到仓验收后会尽快{what},请您耐心等待~"
    )


def completed(
    kind: CaseKind, case_id: int, *, amount: Decimal | None, reship_tracking_no: str
) -> str:
    if kind is CaseKind.EXCHANGE:
        return (
            f"您换的新商品已寄出,快递单号 {reship_tracking_no}(售后单 #{case_id}),"
            "请注意查收。给您带来不便,非常抱歉,感谢您的耐心~"
        )
    return (
        f"您的{KIND_NAMES[kind]}已办理完成(售后单 #{case_id}),{_yuan(amount)} 已原路退回,"
        "请留意到账信息。给您带来不便,非常抱歉,感谢您的耐心~"
    )


def cancelled(kind: CaseKind, case_id: int) -> str:
    return f"您的{KIND_NAMES[kind]}申请(售后单 #{case_id})已撤销。之后如果还有需要,随时联系我们~"


# Which statuses a case may move to from each status (anything else is refused, naming
# the status the case is in).
NEXT: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CANCELLED}),
    CaseStatus.APPROVED: frozenset(
        {CaseStatus.GOODS_RETURNED, CaseStatus.COMPLETED, CaseStatus.CANCELLED}
    ),
    CaseStatus.GOODS_RETURNED: frozenset({CaseStatus.COMPLETED}),
    CaseStatus.REJECTED: frozenset(),
    CaseStatus.COMPLETED: frozenset(),
    CaseStatus.CANCELLED: frozenset(),
}
# Still being handled: at most one such case per order and kind.
ACTIVE = frozenset({CaseStatus.OPEN, CaseStatus.APPROVED, CaseStatus.GOODS_RETURNED})
