"""The handover pages as staff use them: 小刘 hands over his shift with a note (交班日记),
小张 of the next shift sees the items with their links, last notes and deadlines in shop
time, acknowledges one and then all; flagged items stand out; outsiders are refused."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kefu.clock import FrozenClock
from kefu.db import make_session_factory
from kefu.tickets import handover_watch
from kefu.tickets.models import Handover, HandoverItem
from tests.factories import UowFactory
from tests.tickets.conftest import BuyerChat, Elsewhere, TicketStaff, make_ticket
from tests.tickets.pagekit import Person, log_in, part, text_of
from tests.tickets.shiftkit import day_and_evening, local


def person(app: FastAPI, staff: TicketStaff, email: str) -> Person:
    return log_in(TestClient(app), shop=staff.shop.slug, email=email)


def _report_id(db: Engine) -> int:
    with make_session_factory(db)() as session:
        found = session.scalar(select(Handover.id).order_by(Handover.id.desc()).limit(1))
        assert found is not None
        return found


def test_an_agent_hands_over_and_the_next_shift_acknowledges(
    app: FastAPI, uow_factory: UowFactory, db: Engine, clock: FrozenClock,
    staff: TicketStaff, buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    both = day_and_evening(uow_factory, staff)
    ticket = make_ticket(
        uow_factory, staff, title="大衣换货", team_id=staff.teams["aftersale"],
        assignee_id=staff.aftersale.id,
    )  # fmt: skip
    clock.set(local(23, "17:45"))
    outgoing = person(app, staff, staff.aftersale.email)
    form = outgoing.get("/handovers")
    assert "售后 · 白班（在班至 18:00）" in part(form.text, "hand-over-shift")
    page = outgoing.follow(
        outgoing.post(
            "/handovers", {"shift_id": str(both.day.id), "note": "王芳的换货明早前必须处理"}
        )
    )
    assert part(page.text, "handover-notice") == "已交班，已通知接班的同事。"
    assert part(page.text, "handover-note") == "王芳的换货明早前必须处理"
    assert "11-23 09:00–11-23 18:00" in part(page.text, "handover-period")
    items = part(page.text, "handover-items")
    assert "工单 #1001 大衣换货" in items
    assert "会话 王芳" in items and "买家等待回复" in items
    assert f'href="/tickets/{ticket.id}"' in page.text
    assert f'href="/desk?conversation={buyer_chat.conversation_id}"' in page.text
    # 小刘 handed it over: he does not acknowledge it.
    assert 'data-testid="ack-all"' not in page.text

    incoming = person(app, staff, staff.aftersale2.email)
    report_id = _report_id(db)
    with make_session_factory(db)() as session:
        first = session.scalars(
            select(HandoverItem.id)
            .where(HandoverItem.handover_id == report_id)
            .order_by(HandoverItem.id)
        ).first()
    page = incoming.follow(
        incoming.post(f"/handovers/{report_id}/acknowledge", {"item_id": str(first)})
    )
    assert part(page.text, "handover-notice") == "已确认。"
    assert "已确认 1/2" in part(page.text, "handover-summary")
    page = incoming.follow(incoming.post(f"/handovers/{report_id}/acknowledge"))
    assert "已确认 2/2" in part(page.text, "handover-summary")
    assert page.text.count('data-testid="handover-item-acked"') == 2

    listing = incoming.get("/handovers")
    assert "已确认 2/2" in part(listing.text, "handovers")
    assert "小刘" in part(listing.text, "handovers")


def test_an_outsider_cannot_acknowledge(
    app: FastAPI, uow_factory: UowFactory, db: Engine, clock: FrozenClock,
    staff: TicketStaff, buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    day_and_evening(uow_factory, staff)
    clock.set(local(23, "18:00"))
    handover_watch.write_due_handovers(uow_factory, now=clock.now())
    report_id = _report_id(db)
    outsider = person(app, staff, staff.agent.email)  # 小美 of 售前
    page = outsider.get(f"/handovers/{report_id}")
    assert 'data-testid="ack-all"' not in page.text
    refused = outsider.post(f"/handovers/{report_id}/acknowledge")
    assert refused.status_code == 403
    assert part(refused.text, "handover-error") == (
        "小美 不在接班的班次「晚班」上：由接班成员、值班经理或主管确认"
    )


def test_flagged_items_stand_out_on_the_list_and_the_report(
    app: FastAPI, uow_factory: UowFactory, db: Engine, clock: FrozenClock,
    staff: TicketStaff, buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    day_and_evening(uow_factory, staff)
    clock.set(local(23, "18:00"))
    handover_watch.write_due_handovers(uow_factory, now=clock.now())
    clock.set(local(23, "18:31"))
    handover_watch.flag_overdue(uow_factory, now=clock.now())
    lead = person(app, staff, staff.supervisor.email)
    listing = lead.get("/handovers")
    assert part(listing.text, "handover-flagged") == "1 项超时未确认"
    page = lead.get(f"/handovers/{_report_id(db)}")
    assert 'class="sh-flagged"' in page.text
    assert "超时未确认" in part(page.text, "handover-items")
    assert "交班人：系统（下班时自动）" in text_of(page.text)


def test_handing_over_outside_the_shift_says_why(
    app: FastAPI, uow_factory: UowFactory, clock: FrozenClock, staff: TicketStaff
) -> None:
    both = day_and_evening(uow_factory, staff)
    clock.set(local(24, "04:00"))
    agent = person(app, staff, staff.aftersale.email)
    refused = agent.post("/handovers", {"shift_id": str(both.day.id), "note": "夜里交班"})
    assert refused.status_code == 422
    assert "班次「白班」现在不在班" in part(refused.text, "handover-error")
    assert "夜里交班" in refused.text  # the note is kept


def test_a_hostile_note_is_shown_as_text(
    app: FastAPI, uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    both = day_and_evening(uow_factory, staff)
    agent = person(app, staff, staff.aftersale.email)
    page = agent.follow(
        agent.post(
            "/handovers",
            {"shift_id": str(both.day.id), "note": "<script>alert(1)</script>"},
        )
    )
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_another_shops_report_is_not_there(
    app: FastAPI, uow_factory: UowFactory, db: Engine, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    both = day_and_evening(uow_factory, staff)
    agent = person(app, staff, staff.aftersale.email)
    agent.post("/handovers", {"shift_id": str(both.day.id)})
    report_id = _report_id(db)
    stranger = log_in(
        TestClient(app), shop=elsewhere.staff.shop.slug, email=elsewhere.staff.supervisor.email
    )
    assert stranger.get(f"/handovers/{report_id}").status_code == 404
    assert stranger.post(f"/handovers/{report_id}/acknowledge").status_code == 404
