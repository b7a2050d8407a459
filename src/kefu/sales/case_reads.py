"""Reading after-sales cases: one case, a filtered list, a case's steps and photos, and the
plain rows the API, the pages and the desk show (order number and buyer beside each)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent
from kefu.commerce.models import Order, OrderLine
from kefu.conversations.models import Attachment
from kefu.crm import service as crm
from kefu.errors import Invalid, NotFound
from kefu.sales.models import AfterSalesCase, CaseKind, CasePhoto, CaseStatus, CaseStep

MAX_PAGE_SIZE = 200


def get_case(session: Session, *, shop_id: int, case_id: int) -> AfterSalesCase:
    case = session.scalar(
        select(AfterSalesCase).where(
            AfterSalesCase.shop_id == shop_id, AfterSalesCase.id == case_id
        )
    )
    if case is None:
        raise NotFound("after-sales case not found")
    return case


def _filtered(
    shop_id: int,
    status: CaseStatus | None,
    kind: CaseKind | None,
    order_id: int | None,
    conversation_id: int | None,
    customer_id: int | None,
) -> Any:
    query = select(AfterSalesCase).where(AfterSalesCase.shop_id == shop_id)
    if status is not None:
        query = query.where(AfterSalesCase.status == CaseStatus(status))
    if kind is not None:
        query = query.where(AfterSalesCase.kind == CaseKind(kind))
    if order_id is not None:
        query = query.where(AfterSalesCase.order_id == order_id)
    if conversation_id is not None:
        query = query.where(AfterSalesCase.conversation_id == conversation_id)
    if customer_id is not None:
        query = query.where(AfterSalesCase.customer_id == customer_id)
    return query


def list_cases(
    session: Session,
    *,
    shop_id: int,
    status: CaseStatus | None = None,
    kind: CaseKind | None = None,
    order_id: int | None = None,
    conversation_id: int | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[AfterSalesCase]:
    """Newest first. Filters combine (all must hold)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise Invalid(f"limit must be 1–{MAX_PAGE_SIZE}", field="limit")
    if offset < 0:
        raise Invalid("offset must be 0 or more", field="offset")
    query = _filtered(shop_id, status, kind, order_id, conversation_id, customer_id)
    query = query.order_by(AfterSalesCase.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def count_cases(
    session: Session,
    *,
    shop_id: int,
    status: CaseStatus | None = None,
    kind: CaseKind | None = None,
    order_id: int | None = None,
    conversation_id: int | None = None,
    customer_id: int | None = None,
) -> int:
    query = _filtered(shop_id, status, kind, order_id, conversation_id, customer_id)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def case_steps(session: Session, *, shop_id: int, case_id: int) -> list[CaseStep]:
    """Oldest first: the case's story as it happened."""
    get_case(session, shop_id=shop_id, case_id=case_id)
    query = select(CaseStep).where(CaseStep.shop_id == shop_id, CaseStep.case_id == case_id)
    return list(session.scalars(query.order_by(CaseStep.id)))


def case_photos(session: Session, *, shop_id: int, case_id: int) -> list[Attachment]:
    get_case(session, shop_id=shop_id, case_id=case_id)
    query = (
        select(Attachment)
        .join(CasePhoto, CasePhoto.attachment_id == Attachment.id)
        .where(CasePhoto.shop_id == shop_id, CasePhoto.case_id == case_id)
        .order_by(CasePhoto.id)
    )
    return list(session.scalars(query))


def case_rows(
    session: Session, *, shop_id: int, cases: Sequence[AfterSalesCase]
) -> list[dict[str, Any]]:
    """Each case as a plain dict, with its order number and the buyer's name."""
    order_ids = {case.order_id for case in cases}
    orders = {
        order.id: order
        for order in session.scalars(
            select(Order).where(Order.shop_id == shop_id, Order.id.in_(order_ids))
        )
    }
    customers = crm.customers_by_id(
        session, shop_id=shop_id, ids=sorted({case.customer_id for case in cases})
    )
    agent_ids = {
        agent_id
        for case in cases
        for agent_id in (case.opened_by_agent_id, case.decided_by_agent_id)
        if agent_id is not None
    }
    agents = agent_names(session, shop_id=shop_id, agent_ids=agent_ids)
    rows = []
    for case in cases:
        order = orders.get(case.order_id)
        customer = customers.get(case.customer_id)
        rows.append(
            {
                "id": case.id,
                "kind": case.kind.value,
                "status": case.status.value,
                "order_id": case.order_id,
                "order_no": order.order_no if order else "",
                "order_total": f"{order.total:.2f}" if order else None,
                "customer_id": case.customer_id,
                "customer_name": crm.salutation(customer) if customer else "",
                "conversation_id": case.conversation_id,
                "reason": case.reason,
                "amount": f"{case.amount:.2f}" if case.amount is not None else None,
                "opened_by_agent_id": case.opened_by_agent_id,
                "opened_by": agents.get(case.opened_by_agent_id or 0, ""),
                "decided_by_agent_id": case.decided_by_agent_id,
                "decided_by": agents.get(case.decided_by_agent_id or 0, ""),
                "decision_note": case.decision_note,
                "decided_at": case.decided_at,
                "return_tracking_no": case.return_tracking_no,
                "reship_tracking_no": case.reship_tracking_no,
                "created_at": case.created_at,
                "updated_at": case.updated_at,
            }
        )
    return rows


def agent_names(session: Session, *, shop_id: int, agent_ids: set[int]) -> dict[int, str]:
    if not agent_ids:
        return {}
    query = select(Agent.id, Agent.display_name).where(
        Agent.shop_id == shop_id, Agent.id.in_(agent_ids)
    )
    return {row.id: row.display_name for row in session.execute(query)}


def case_detail(session: Session, *, shop_id: int, case_id: int) -> dict[str, Any]:
    """One case as the API and its page show it: the row, its steps and its photos."""
    case = get_case(session, shop_id=shop_id, case_id=case_id)
    [row] = case_rows(session, shop_id=shop_id, cases=[case])
    steps = case_steps(session, shop_id=shop_id, case_id=case_id)
    names = agent_names(
        session, shop_id=shop_id, agent_ids={s.agent_id for s in steps if s.agent_id is not None}
    )
    row["steps"] = [
        {
            "status": step.status.value,
            "agent_id": step.agent_id,
            "agent_name": names.get(step.agent_id or 0, ""),
            "note": step.note,
            "created_at": step.created_at,
        }
        for step in steps
    ]
    row["photos"] = [
        {
            "id": photo.id,
            "url": f"/uploads/{photo.key}",
            "content_type": photo.content_type,
            "name": photo.name,
        }
        for photo in case_photos(session, shop_id=shop_id, case_id=case_id)
    ]
    return row


def order_summary(session: Session, *, shop_id: int, order_id: int) -> dict[str, Any]:
    """The case's order as its page shows it: number, status, amounts, shipping, goods."""
    order = session.scalar(select(Order).where(Order.shop_id == shop_id, Order.id == order_id))
    if order is None:
        raise NotFound("order not found")
    lines = session.scalars(
        select(OrderLine)
        .where(OrderLine.shop_id == shop_id, OrderLine.order_id == order_id)
        .order_by(OrderLine.id)
    )
    return {
        "id": order.id,
        "order_no": order.order_no,
        "status": order.status.value,
        "total": order.total,
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "courier": order.courier,
        "tracking_no": order.tracking_no,
        "lines": [
            {
                "sku": line.sku,
                "title": line.title,
                "spec": " / ".join(x for x in (line.colour, line.size) if x),
                "quantity": line.quantity,
                "unit_price": line.unit_price,
            }
            for line in lines
        ],
    }
