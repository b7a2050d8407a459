"""Shop A can never see or touch shop B: a walk over every route the app really has.

The routes come from ``app.routes`` (flattened), not from a list kept here: a route added
later is walked automatically, and one the walker cannot exercise (a path parameter or
request body it does not know) fails the test until this file learns about it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Mount

from kefu.accounts import auth
from kefu.accounts.auth import LoginPolicy
from kefu.accounts.models import Role
from kefu.bot import service as bot
from kefu.bot.schemas import BotSettingsIn
from kefu.channels.visitors import (
    encode_identity,
    issue_visitor_token,
    sign_identity,
    widget_secret,
)
from kefu.coach import service as coach
from kefu.coach.models import QaHit, QaScore, ReviewStatus, Severity, Verdict
from kefu.commerce import service as commerce
from kefu.commerce import webhooks as commerce_webhooks
from kefu.commerce.models import OrderStatus
from kefu.config import Settings
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Message, SenderType
from kefu.crm import service as crm
from kefu.kb import service as kb
from kefu.sales import service as sales
from kefu.sales.models import CaseKind
from kefu.shops import service as shops
from kefu.tickets import calendar as sla_calendar
from kefu.tickets import service as tickets
from kefu.tickets import sla
from kefu.tickets.models import CommentKind, DayKind, FieldKind, TicketPriority, TicketType
from kefu.uow import UnitOfWork
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # older FastAPI: app.routes is already flat

    def iter_route_contexts(routes: Any) -> Any:  # type: ignore[misc]
        return routes


UowFactory = Callable[[], UnitOfWork]
POLICY = LoginPolicy(
    max_failures=5, window=timedelta(minutes=15), session_lifetime=timedelta(hours=12)
)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# The buyer's side: authenticated by a visitor token (not by staff credentials), walked by
# a buyer of shop A (test_the_widget_api_shows_a_buyer_only_their_own_shop).
WIDGET_API = "/api/v1/widget/"
# Public by design, not scoped to the caller's shop: the chat page and the session a
# buyer starts name the shop by its code; an upload's random key is its capability.
# The shop's order system pushes to its webhook by shop code, authenticated by an HMAC
# signature with the shop's own secret (not by staff credentials).
# test_public_routes_show_nothing_of_a_shop_but_its_name walks them.
PUBLIC_ROUTES = {
    "/api/v1/widget/{shop}/session",
    "/chat/{shop}",
    "/uploads/{key}",
    "/api/v1/hooks/commerce/{shop}",
}
# Path parameters that name no row of a shop: the bot's intent number (1–118) picks a row
# of the built-in intent table, and each shop edits its own copy of it.
# test_a_shop_changing_its_bot_leaves_the_other_shops_bot_alone walks those routes.
SHOP_NEUTRAL_PARAMS = {"number"}


@dataclass
class Tenant:
    staff: ShopWithStaff
    team_ids: list[int]
    customer_id: int
    conversation_id: int
    token_id: int
    token: str
    visitor_token: str  # the buyer's, for the widget API
    upload_id: int
    upload_key: str
    secrets: list[str] = field(default_factory=list)  # strings only this shop's data contains
    entry_id: int = 0  # an FAQ entry
    group_id: int = 0  # a group of unanswered questions
    product_id: int = 0  # a product of the shop's catalogue
    order_id: int = 0  # the buyer's order
    case_id: int = 0  # an after-sales case (on a paid order of the buyer)
    ticket_id: int = 0  # a ticket (工单) about the buyer's chat and order, with a note
    comment_id: int = 0  # the note on it
    view_id: int = 0  # a saved view of the ticket list, shared with the shop
    field_id: int = 0  # a custom field of complaints
    notification_id: int = 0  # the agent's, for being given the ticket
    policy_id: int = 0  # an SLA policy of the shop's own
    day: str = ""  # a day of the shop's own business calendar (ISO date)
    shift_id: int = 0  # a shift of the first team, the agent on it
    handover_id: int = 0  # its handover report (交班), listing the ticket
    score_id: int = 0  # the agent's quality score (质检) in the buyer's conversation
    rule_code: str = ""  # a coach rule of the shop's own (B's number A does not have)
    phrase_id: int = 0  # a shared canned phrase (快捷短语)

    @property
    def ids(self) -> dict[str, int | str]:
        """Path and query parameter name -> one of this shop's ids."""
        return {
            "agent_id": self.staff.owner.id,
            "team_id": self.team_ids[0],
            "customer_id": self.customer_id,
            "conversation_id": self.conversation_id,
            "token_id": self.token_id,
            "entry_id": self.entry_id,
            "group_id": self.group_id,
            "order_id": self.order_id,
            "product_id": self.product_id,
            "case_id": self.case_id,
            "ticket_id": self.ticket_id,
            "comment_id": self.comment_id,
            "view_id": self.view_id,
            "field_id": self.field_id,
            "notification_id": self.notification_id,
            "policy_id": self.policy_id,
            "day": self.day,
            "shift_id": self.shift_id,
            "handover_id": self.handover_id,
            "score_id": self.score_id,
            "code": self.rule_code,
            "phrase_id": self.phrase_id,
        }


def _add_kb(
    uow_factory: UowFactory, tenant: Tenant, question: str, answer: str, asked: str
) -> None:
    """An FAQ entry and an unanswered question, both only this shop's."""
    shop_id = tenant.staff.shop.id
    with uow_factory() as uow:
        tenant.entry_id = kb.create_entry(
            uow, shop_id=shop_id, questions=[question], answer=answer, category=question[:2]
        ).id
    with uow_factory() as uow:
        recorded = kb.record_unanswered(uow, shop_id=shop_id, text=asked)
        assert recorded is not None
        tenant.group_id = recorded.group_id
    tenant.secrets += [question, answer, asked]


def _add_order(uow_factory: UowFactory, tenant: Tenant, title: str, order_no: str) -> None:
    """A product and the buyer's order of it, both only this shop's."""
    shop_id = tenant.staff.shop.id
    with uow_factory() as uow:
        product = commerce.create_product(
            uow, shop_id=shop_id, sku=f"SKU-{order_no}", title=title, category="外套",
            price=Decimal("399"), variants=[],
        )  # fmt: skip
        tenant.product_id = product.id
    with uow_factory() as uow:
        tenant.order_id = commerce.create_order(
            uow, shop_id=shop_id, order_no=order_no, customer_id=tenant.customer_id,
            lines=[commerce.OrderLineSpec(sku=f"SKU-{order_no}")], status=OrderStatus.UNPAID,
            created_at=uow.clock.now(), ship_to_name=title[:2], ship_to_phone="13900000000",
            ship_to_address=f"{title}的地址",
        ).id  # fmt: skip
    tenant.secrets += [title, order_no]


def _add_case(uow_factory: UowFactory, tenant: Tenant, sku: str, reason: str) -> None:
    """A paid order and the buyer's refund request on it (told in their conversation)."""
    shop_id = tenant.staff.shop.id
    with uow_factory() as uow:
        paid = commerce.create_order(
            uow, shop_id=shop_id, order_no=f"{sku}-PAID", customer_id=tenant.customer_id,
            lines=[commerce.OrderLineSpec(sku=sku)], status=OrderStatus.PAID,
            created_at=uow.clock.now(), paid_at=uow.clock.now(), ship_to_name="买家",
            ship_to_phone="13900000000", ship_to_address="售后测试地址",
        )  # fmt: skip
        tenant.case_id = sales.open_case(
            uow, shop_id=shop_id, order_id=paid.id, kind=CaseKind.REFUND, reason=reason
        ).id
    tenant.secrets.append(reason)


def _set_bot(uow_factory: UowFactory, tenant: Tenant, greeting: str) -> None:
    """The shop's own bot greeting and one edit of its intent table."""
    with uow_factory() as uow:
        bot.update_settings(
            uow, shop_id=tenant.staff.shop.id, changes=BotSettingsIn(greeting=greeting)
        )
    with uow_factory() as uow:
        bot.set_intent_route(
            uow, shop_id=tenant.staff.shop.id, intent="买家讨价还价", team_code="promotion",
            action=None,
        )  # fmt: skip
    tenant.secrets.append(greeting)


def _set_reminders(uow_factory: UowFactory, tenant: Tenant, coupon_hint: str) -> None:
    """The shop's own 催付 wording (its unpaid order already has a pending reminder)."""
    with uow_factory() as uow:
        sales.update_settings(uow, shop_id=tenant.staff.shop.id, coupon_hint=coupon_hint)
    tenant.secrets.append(coupon_hint)


def _add_ticket(
    uow_factory: UowFactory, tenant: Tenant, title: str, note: str, view: str, label: str
) -> None:
    """A complaint ticket about the buyer's chat and order, given to the agent (who is
    notified), with a note; a shared saved view, a custom field and the buyer's notice
    wording of the shop's own. The buyer is not told (the chat's last line stays the case)."""
    staff = tenant.staff
    shop_id = staff.shop.id
    with uow_factory() as uow:
        ticket = tickets.create_ticket(
            uow, shop_id=shop_id, type=TicketType.COMPLAINT, title=title, description=title,
            team_id=tenant.team_ids[0], assignee_id=staff.agent.id,
            conversation_ids=[tenant.conversation_id], order_ids=[tenant.order_id],
            tags=[title[:4]], actor_agent_id=staff.owner.id, tell_buyer=False,
        )  # fmt: skip
        tenant.ticket_id = ticket.id
    with uow_factory() as uow:
        tenant.comment_id = tickets.add_comment(
            uow, shop_id=shop_id, ticket_id=ticket.id, kind=CommentKind.NOTE, body=note,
            author_agent_id=staff.owner.id,
        ).id  # fmt: skip
    with uow_factory() as uow:
        tenant.view_id = tickets.create_view(
            uow, shop_id=shop_id, agent_id=staff.owner.id, name=view, shared=True,
            filters={"team_id": tenant.team_ids[0], "q": title[:4]},
        ).id  # fmt: skip
    with uow_factory() as uow:
        tenant.field_id = tickets.create_field(
            uow, shop_id=shop_id, ticket_type=TicketType.COMPLAINT, key="secret_ref",
            label=label, kind=FieldKind.TEXT,
        ).id  # fmt: skip
        tickets.update_ticket_settings(
            uow, shop_id=shop_id, notice_templates={"created": f"{label}:工单 #{{number}}"}
        )
    with uow_factory() as uow:
        # For being given the ticket (newest first: a mention in the note may follow it).
        notices = tickets.list_notifications(uow.session, shop_id=shop_id, agent_id=staff.agent.id)
        tenant.notification_id = notices[-1].id
    tenant.secrets += [title, note, view, label]


def _set_sla(uow_factory: UowFactory, tenant: Tenant, policy: str, day: str, on: date) -> None:
    """An SLA policy and a closed day of the shop's own (the defaults come with them)."""
    shop_id = tenant.staff.shop.id
    with uow_factory() as uow:
        tenant.policy_id = sla.create_policy(
            uow, shop_id=shop_id, name=policy, ticket_type=TicketType.OTHER,
            priority=TicketPriority.LOW, first_response_minutes=600,
        ).id  # fmt: skip
    with uow_factory() as uow:
        sla_calendar.set_calendar_day(uow, shop_id=shop_id, day=on, kind=DayKind.HOLIDAY, name=day)
    tenant.day = on.isoformat()
    tenant.secrets += [policy, day]


def _add_shift(uow_factory: UowFactory, tenant: Tenant, shift: str, note: str) -> None:
    """A day shift of the first team (on now: Monday 10:00) with the agent, handed over
    early with the outgoing shift's note; the report lists the agent's open ticket."""
    staff = tenant.staff
    with uow_factory() as uow:
        tenant.shift_id = tickets.create_shift(
            uow, shop_id=staff.shop.id, team_id=tenant.team_ids[0], name=shift,
            start_time="09:00", end_time="17:00", member_ids=[staff.agent.id],
            duty_manager_id=staff.supervisor.id,
        ).id  # fmt: skip
    with uow_factory() as uow:
        tenant.handover_id = tickets.hand_over(
            uow, shop_id=staff.shop.id, shift_id=tenant.shift_id, note=note,
            actor_agent_id=staff.agent.id,
        ).id  # fmt: skip
    tenant.secrets += [shift, note]


def _set_coach(uow_factory: UowFactory, tenant: Tenant, rules: list[str], phrase: str) -> None:
    """Coach rules of the shop's own (custom_1, custom_2 …: the last one's code is the
    tenant's), a shared phrase and the agent's own one."""
    staff = tenant.staff
    shop_id = staff.shop.id
    for name in rules:
        with uow_factory() as uow:
            tenant.rule_code = coach.create_rule(
                uow, shop_id=shop_id, agent_id=staff.supervisor.id, name=name, patterns=[name]
            ).code
    with uow_factory() as uow:
        tenant.phrase_id = coach.create_phrase(
            uow, shop_id=shop_id, agent_id=staff.supervisor.id, role=Role.SUPERVISOR,
            shortcut="公共", title=phrase, body=f"{phrase}{{shop}}", shared=True,
        ).id  # fmt: skip
    with uow_factory() as uow:
        coach.create_phrase(
            uow, shop_id=shop_id, agent_id=staff.agent.id, role=Role.AGENT, shortcut="个人",
            title=f"{phrase}个人", body=f"{phrase}个人{{customer_title}}",
        )  # fmt: skip
    tenant.secrets += [*rules, phrase]


def _add_score(uow_factory: UowFactory, tenant: Tenant, comment: str) -> None:
    """The agent's quality score in the buyer's conversation with a hit on their reply,
    reviewed with a comment — the rows scoring and a review leave (the conversation stays
    open for the other walks, as after the buyer wrote again once it was scored)."""
    staff = tenant.staff
    shop_id = staff.shop.id
    with uow_factory() as uow:
        now = uow.clock.now()
        reply = uow.session.scalar(
            select(Message).where(
                Message.conversation_id == tenant.conversation_id,
                Message.sender_type == SenderType.AGENT,
            )
        )
        assert reply is not None
        score = QaScore(
            shop_id=shop_id, conversation_id=tenant.conversation_id, agent_id=staff.agent.id,
            team_id=tenant.team_ids[0], score=90, points_lost=10, hit_count=1, reply_count=1,
            closed_at=now, scored_at=now, review_status=ReviewStatus.REVIEWED,
            reviewer_id=staff.supervisor.id, reviewed_at=now, comment=comment,
        )  # fmt: skip
        uow.session.add(score)
        uow.session.flush()
        uow.session.add(
            QaHit(
                shop_id=shop_id, score_id=score.id, conversation_id=tenant.conversation_id,
                message_id=reply.id, message_seq=reply.seq, rule_code="rude_tone",
                rule_name="语气生硬/不耐烦", severity=Severity.MAJOR, points=10,
                excerpt=reply.body[:40], span_start=0, span_end=len(reply.body[:40]),
                verdict=Verdict.CONFIRMED, comment=f"{comment}(逐条)",
            )
        )  # fmt: skip
        uow.commit()
        tenant.score_id = score.id
    tenant.secrets.append(comment)


def _tenant(
    uow_factory: UowFactory, uploads: Path, slug: str, buyer: str, said: str, answered: str
) -> Tenant:
    staff = make_shop_with_staff(uow_factory, slug)
    shop_id = staff.shop.id
    with uow_factory() as uow:
        team_ids = [t.id for t in shops.list_teams(uow.session, shop_id=shop_id)]
        customer = crm.create_customer(
            uow, shop_id=shop_id, name=buyer, nickname=f"{buyer}的小号", phone=f"139{shop_id:08d}"
        )
        conversation = conversations.start_conversation(
            uow, shop_id=shop_id, customer_id=customer.id, channel=Channel.WIDGET, subject=said[:8]
        )
        conversations.receive_message(
            uow, shop_id=shop_id, conversation_id=conversation.id, client_msg_id="m1", body=said
        )
        conversations.send_reply(
            uow,
            shop_id=shop_id,
            conversation_id=conversation.id,
            client_msg_id="r1",
            body=answered,
            sender_type=SenderType.AGENT,
            sender_agent_id=staff.agent.id,
        )
        visitor_token = issue_visitor_token(
            secret=TEST_SECRET, shop_id=shop_id, customer_id=customer.id, now=uow.clock.now()
        )
    with uow_factory() as uow:
        upload = conversations.store_upload(
            uow,
            shop_id=shop_id,
            directory=uploads,
            data=b"\x89PNG\r\n\x1a\n" + slug.encode(),
            filename=f"{slug}.png",
            max_bytes=1024,
            customer_id=customer.id,
        )
    with uow_factory() as uow:
        owner = auth.login(
            uow,
            shop_slug=slug,
            email=staff.owner.email,
            password=PASSWORD,
            client_address="127.0.0.1",
            user_agent="setup",
            policy=POLICY,
        ).principal
    with uow_factory() as uow:
        issued = auth.create_api_token(
            uow, shop_id=shop_id, name=f"{slug} ERP 同步", role=Role.OWNER, created_by=owner
        )
    secrets = [
        staff.shop.name,
        *(a.email for a in (staff.owner, staff.supervisor, staff.agent)),
        buyer,
        f"139{shop_id:08d}",
        said,
        answered,
        f"{slug} ERP 同步",
        issued.raw,
        issued.token.prefix,
    ]
    return Tenant(
        staff,
        team_ids,
        customer.id,
        conversation.id,
        issued.token.id,
        issued.raw,
        visitor_token,
        upload.id,
        upload.key,
        secrets,
    )


@dataclass
class Caller:
    name: str
    role: Role
    client: TestClient
    headers: dict[str, str]  # what a write needs besides the credential (the CSRF token)


@dataclass
class World:
    a: Tenant
    b: Tenant
    callers: list[Caller]  # shop A's staff (each role, by session) and A's API token
    b_owner: TestClient  # shop B's owner, for before/after snapshots
    a_buyer: TestClient  # a buyer of shop A, with their visitor token


@pytest.fixture
def world(app: FastAPI, uow_factory: UowFactory, settings: Settings) -> Iterator[World]:
    uploads = settings.uploads_path
    a = _tenant(uow_factory, uploads, "alpha", "艾丽丝", "A店:这件外套有M码吗", "A店客服:有的亲")
    b = _tenant(
        uow_factory, uploads, "beta", "贝塔买家", "B店机密:订单778899改地址", "B店客服:已改到杭州"
    )
    _add_kb(uow_factory, a, "A店问答:有M码吗", "A店答案:有的", "A店未答:能开发票吗")
    _add_kb(
        uow_factory, b, "B店机密问答:会员暗号", "B店机密答案:暗号是北极星", "B店机密未答:仓库在哪"
    )
    _add_order(uow_factory, a, "A店外套", "A20261123001")
    _add_order(uow_factory, b, "B店机密外套", "B20261123999")
    _add_case(uow_factory, a, "SKU-A20261123001", "A店售后:衣服起球")
    _add_case(uow_factory, b, "SKU-B20261123999", "B店机密售后:拉链坏了")
    _set_bot(uow_factory, a, "A店欢迎语:阿尔法")
    _set_bot(uow_factory, b, "B店机密欢迎语:贝塔暗号")
    _set_reminders(uow_factory, a, "A店催付:付款送袜子")
    _set_reminders(uow_factory, b, "B店机密催付:暗号券八折")
    _add_ticket(uow_factory, a, "A店工单:大衣起球", "A店备注:@小美 看下", "A店视图", "A店字段")
    _add_ticket(
        uow_factory, b, "B店机密工单:拉链坏了", "B店机密备注:退款", "B店机密视图", "B店机密字段"
    )
    _set_sla(uow_factory, a, "A店时限", "A店店休", date(2026, 12, 1))
    _set_sla(uow_factory, b, "B店机密时限", "B店机密店休", date(2026, 12, 2))
    _add_shift(uow_factory, a, "A店早班", "A店交班:大衣起球待跟进")
    _add_shift(uow_factory, b, "B店机密班", "B店机密交班:拉链")
    _add_score(uow_factory, a, "A店质检评语:先问候")
    _add_score(uow_factory, b, "B店机密质检评语:语气")
    _set_coach(uow_factory, a, ["A店规则"], "A店短语")
    _set_coach(uow_factory, b, ["B店机密规则一", "B店机密规则二"], "B店机密短语")
    with ExitStack() as stack:
        callers = []
        for role, agent in (
            (Role.OWNER, a.staff.owner),
            (Role.SUPERVISOR, a.staff.supervisor),
            (Role.AGENT, a.staff.agent),
        ):
            client = stack.enter_context(TestClient(app))
            callers.append(
                Caller(f"A {role.value} (session)", role, client, _log_in(client, agent.email))
            )
        token_client = stack.enter_context(
            TestClient(app, headers={"Authorization": f"Bearer {a.token}"})
        )
        callers.append(Caller("A owner token", Role.OWNER, token_client, {}))
        b_owner = stack.enter_context(TestClient(app))
        _log_in(b_owner, b.staff.owner.email)
        a_buyer = stack.enter_context(TestClient(app, headers={"X-Visitor-Token": a.visitor_token}))
        yield World(a, b, callers, b_owner, a_buyer)


def _log_in(client: TestClient, email: str) -> dict[str, str]:
    shop = email.split("@")[1].removesuffix(".test")
    response = client.post(
        "/api/v1/auth/login", json={"shop": shop, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def _rows(json_body: Any) -> Any:
    """The rows of a list answer: a bare list, or the one list a desk answer wraps."""
    if isinstance(json_body, dict):
        [rows] = [v for v in json_body.values() if isinstance(v, list)]
        return rows
    return json_body


def _routes(app: FastAPI) -> list[Any]:
    """Every HTTP route of the app, flattened out of included routers."""
    routes = []
    for route in iter_route_contexts(app.routes):
        if isinstance(getattr(route, "original_route", route), Mount):
            # Static files hold no shop data; any other mounted app must be walked too.
            assert route.path == "/static", f"{route.path}: a mounted app; walk it here"
            continue
        routes.append(route)
    paths = {r.path for r in routes}
    # Guard against the walk silently finding nothing (e.g. routers no longer flattened).
    assert {
        "/",
        "/api/v1/agents/{agent_id}",
        "/api/v1/conversations/{conversation_id}/messages",
    } <= paths
    return routes


def _url(path: str, ids: dict[str, int | str]) -> str:
    """The route's path with the ids filled in (``{ticket_id:int}`` as ``{ticket_id}``)."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(ids[m.group(1)]), path)


def _body(response: Any) -> Any:
    """A JSON answer parsed; anything else (an exported file) as text."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.text


def _params(route: Any) -> list[str]:
    """The route's path parameters that are ids of a shop's rows."""
    return [name for name in route.param_convertors if name not in SHOP_NEUTRAL_PARAMS]


def _no_leak(response: Any, b: Tenant, where: str) -> None:
    text = response.text
    if response.headers.get("content-type", "").startswith("application/json"):
        text += json.dumps(response.json(), ensure_ascii=False)
    leaked = [s for s in b.secrets if s in text]
    assert not leaked, f"{where}: the response shows shop B's {leaked}"


# A valid body for every route with a body that the walk calls with B's ids: valid, so
# that validation cannot answer before the handler has looked the id up.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/v1/agents/{agent_id}"): {
        "display_name": "被A店改名",
        "role": "agent",
        "is_active": False,
        "locale": "en",
        "team_ids": [],
    },
    ("PUT", "/api/v1/desk/agents/{agent_id}/capacity"): {"capacity": 0},
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): {
        "client_msg_id": "a-intrudes",
        "body": "A店闯入B店的会话",
    },
    ("POST", "/api/v1/conversations/{conversation_id}/transfer"): {"team_id": 1},
    ("POST", "/api/v1/conversations/{conversation_id}/assign"): {"agent_id": 1},
    ("POST", "/api/v1/conversations/{conversation_id}/read"): {"seq": 2},
    ("POST", "/api/v1/desk/conversations/{conversation_id}/cards"): {
        "kind": "product",
        "ref_id": 1,
    },
    ("PATCH", "/api/v1/kb/entries/{entry_id}"): {"answer": "A店改了B店的答案", "enabled": False},
    ("POST", "/api/v1/sales/cases/{case_id}/decision"): {"approve": True, "note": "A店替B店同意"},
    ("POST", "/api/v1/sales/cases/{case_id}/returned"): {"tracking_no": "A123"},
    ("POST", "/api/v1/sales/cases/{case_id}/complete"): {"reship_tracking_no": "A456"},
    ("POST", "/api/v1/sales/cases/{case_id}/cancel"): {"note": "A店撤销B店的售后"},
    ("POST", "/api/v1/kb/unanswered/{group_id}/entry"): {"answer": "A店替B店回答"},
    ("POST", "/api/v1/kb/unanswered/{group_id}/phrasing"): {"entry_id": 1},
    ("PATCH", "/api/v1/tickets/{ticket_id}"): {"title": "A店改B店的工单", "priority": "low"},
    ("POST", "/api/v1/tickets/{ticket_id}/status"): {"status": "closed"},
    ("POST", "/api/v1/tickets/{ticket_id}/reopen"): {"reason": "A店替B店重开"},
    ("POST", "/api/v1/tickets/{ticket_id}/assign"): {"team_id": None, "assignee_id": None},
    ("POST", "/api/v1/tickets/{ticket_id}/comments"): {"kind": "note", "body": "A店闯入B店的工单"},
    ("POST", "/api/v1/tickets/{ticket_id}/attachments"): {"attachment_ids": [1]},
    ("POST", "/api/v1/tickets/{ticket_id}/merge"): {"target_id": 1},
    ("POST", "/api/v1/tickets/{ticket_id}/split"): {"title": "A店拆B店的工单"},
    ("POST", "/api/v1/tickets/from-conversation/{conversation_id}"): {"title": "A店替B店建单"},
    ("PATCH", "/api/v1/tickets/views/{view_id}"): {"name": "A店改名", "filters": {}},
    ("PATCH", "/api/v1/tickets/fields/{field_id}"): {"label": "A店改B店字段", "required": True},
    ("POST", "/api/v1/tickets/{ticket_id}/escalation/answer"): {"answer": "A店替B店回答"},
    ("POST", "/api/v1/tickets/{ticket_id}/escalation/kb"): {"category": "A店"},
    ("PATCH", "/api/v1/shifts/{shift_id}"): {"name": "A店改B店的班", "is_active": False},
    ("POST", "/api/v1/handovers/{handover_id}/acknowledge"): {"item_ids": None},
    ("PUT", "/api/v1/tickets/sla/policies/{policy_id}"): {
        "name": "A店改B店的时限",
        "ticket_type": "other",
        "priority": "low",
        "first_response_minutes": 60,
        "warn_before_minutes": 10,
    },
    ("POST", "/api/v1/coach/scores/{score_id}/review"): {
        "verdicts": [],
        "comment": "A店替B店复核",
    },
    ("PATCH", "/api/v1/coach/rules/{code}"): {"name": "A店改B店的规则", "points": 1},
    ("PATCH", "/api/v1/coach/phrases/{phrase_id}"): {"title": "A店改B店的短语"},
}


def _b_snapshot(world: World, routes: list[Any]) -> dict[str, Any]:
    """What shop B's owner sees on every read route (B's ids filled in)."""
    snapshot = {}
    for route in routes:
        if "GET" not in (route.methods or ()) or not route.path.startswith("/api/v1/"):
            continue
        if not set(_params(route)) <= set(world.b.ids):
            continue  # the walk itself fails on it, with a message saying what to add
        url = _url(route.path, world.b.ids)
        buyer = {"X-Visitor-Token": world.b.visitor_token}
        response = world.b_owner.get(url, headers=buyer if url.startswith(WIDGET_API) else None)
        assert response.status_code == 200, f"control: B's owner GET {url} -> {response.text}"
        snapshot[url] = _body(response)
    return snapshot


def _assert_b_intact(world: World, routes: list[Any], before: dict[str, Any]) -> None:
    assert _b_snapshot(world, routes) == before
    with TestClient(world.b_owner.app) as integration:
        me = integration.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {world.b.token}"}
        )
        assert me.status_code == 200, "shop B's API token stopped working"
        assert me.json()["shop_slug"] == "beta"
        for agent in (world.b.staff.owner, world.b.staff.supervisor, world.b.staff.agent):
            _log_in(integration, agent.email)  # B's staff can all still log in


def test_every_route_with_an_id_answers_404_for_another_shops_id(
    app: FastAPI, world: World
) -> None:
    routes = _routes(app)
    before = _b_snapshot(world, routes)
    walked = []
    for route in routes:
        params = _params(route)
        if not params or not route.path.startswith("/api/") or route.path in PUBLIC_ROUTES:
            continue  # pages with ids: test_every_page_form_with_an_id_…
        unknown = set(params) - set(world.b.ids)
        assert not unknown, f"{route.path}: add shop B's id for {sorted(unknown)} to Tenant.ids"
        url = _url(route.path, world.b.ids)
        for method in sorted(route.methods):
            body = None
            if route.body_field is not None:
                assert (method, route.path) in BODIES, (
                    f"{method} {route.path}: add a body to BODIES"
                )
                body = BODIES[(method, route.path)]
            answers = {}
            for caller in world.callers:
                headers = caller.headers if method in WRITE_METHODS else {}
                response = caller.client.request(method, url, json=body, headers=headers)
                where = f"{method} {url} as {caller.name}"
                _no_leak(response, world.b, where)
                answers[caller.name] = response.status_code
                if response.status_code == 403:
                    # Only a role check may stop A before the lookup: never CSRF or anything else.
                    assert response.json()["error"]["code"] == "forbidden", where
                    assert caller.role is not Role.OWNER, where
                else:
                    assert response.status_code == 404, f"{where}: {response.text}"
                    assert response.json()["error"]["code"] == "not_found", where
            # Whatever the lower roles got, an owner of A reached the handler and got 404.
            assert answers["A owner (session)"] == answers["A owner token"] == 404
            walked.append(f"{method} {route.path}")
    assert len(walked) >= 7, walked
    _assert_b_intact(world, routes, before)


# Routes that name a shop's row in the body rather than the path (the walk above sees no
# id in them): a valid body with the id filled in, per route.
BODY_ID_ROUTES: dict[tuple[str, str], Callable[[dict[str, int | str]], dict[str, Any]]] = {
    ("POST", "/api/v1/coach/check"): lambda ids: {
        "conversation_id": ids["conversation_id"],
        "text": "那你退款好了",
    },
}


def test_routes_naming_another_shops_id_in_the_body_answer_404(app: FastAPI, world: World) -> None:
    paths = {(method, r.path) for r in _routes(app) for method in (r.methods or ())}
    for (method, path), body_of in BODY_ID_ROUTES.items():
        assert (method, path) in paths, f"{method} {path}: no such route any more"
        for caller in world.callers:
            where = f"{method} {path} as {caller.name}"
            own = caller.client.request(method, path, json=body_of(world.a.ids),
                                        headers=caller.headers)  # fmt: skip
            if own.status_code == 403:  # the desk's access rule: not this agent's team
                assert caller.role is Role.AGENT, where
            else:
                assert own.status_code == 200, f"control, {where}: {own.text}"
            response = caller.client.request(
                method, path, json=body_of(world.b.ids), headers=caller.headers
            )
            _no_leak(response, world.b, where)
            assert response.status_code == 404, f"{where}: {response.text}"
            assert response.json()["error"]["code"] == "not_found", where


# A valid form for every page route with ids, so only the id lookup can refuse it.
PAGE_FORMS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/staff/{agent_id}"): {"role": "agent", "team_ids": []},
    ("POST", "/staff/{agent_id}/active"): {"active": "false"},
    ("POST", "/staff/{agent_id}/password"): {"password": "taken over by A"},
    ("POST", "/tokens/{token_id}/revoke"): {},
    ("GET", "/kb/{entry_id}"): {},
    ("POST", "/kb/{entry_id}"): {"questions": "A店改B店", "answer": "A店改的答案"},
    ("POST", "/kb/{entry_id}/enabled"): {"enabled": "false"},
    ("POST", "/kb/{entry_id}/delete"): {},
    ("POST", "/kb/unanswered/{group_id}/entry"): {"questions": "A店", "answer": "A店替B店回答"},
    ("POST", "/kb/unanswered/{group_id}/phrasing"): {"entry_id": "1"},
    ("POST", "/kb/unanswered/{group_id}/ignore"): {},
    ("GET", "/commerce/orders/{order_id}"): {},
    ("GET", "/aftersales/{case_id}"): {},
    ("POST", "/aftersales/{case_id}/decision"): {"decision": "approve", "note": "A店"},
    ("POST", "/aftersales/{case_id}/returned"): {"tracking_no": "A123"},
    ("POST", "/aftersales/{case_id}/complete"): {"reship_tracking_no": "A456"},
    ("POST", "/aftersales/{case_id}/cancel"): {"note": "A店撤销"},
    ("POST", "/tickets/views/{view_id}/delete"): {},
    ("GET", "/tickets/{ticket_id:int}"): {},
    ("POST", "/tickets/{ticket_id:int}/status"): {"status": "closed"},
    ("POST", "/tickets/{ticket_id:int}/reopen"): {"reason": "A店"},
    ("POST", "/tickets/{ticket_id:int}/assign"): {"team": "", "assignee": ""},
    ("POST", "/tickets/{ticket_id:int}/edit"): {"title": "A店改B店", "type": "other"},
    ("POST", "/tickets/{ticket_id:int}/comments"): {"kind": "note", "body": "A店闯入"},
    ("POST", "/tickets/{ticket_id:int}/uploads"): {},  # and a file: PAGE_FILES
    ("POST", "/tickets/{ticket_id:int}/conversations"): {"conversation_id": "1"},
    ("POST", "/tickets/{ticket_id:int}/conversations/{conversation_id}/unlink"): {},
    ("POST", "/tickets/{ticket_id:int}/orders"): {"order_no": "A20261123001"},
    ("POST", "/tickets/{ticket_id:int}/orders/{order_id}/unlink"): {},
    ("POST", "/tickets/{ticket_id:int}/merge"): {"into": "1001"},
    ("POST", "/tickets/{ticket_id:int}/split"): {"title": "A店拆B店"},
    ("POST", "/notifications/{notification_id}/read"): {},
    ("POST", "/notifications/{notification_id}/open"): {"next": "/tickets"},
    ("POST", "/tickets/escalations/from-group/{group_id}"): {},
    ("POST", "/tickets/{ticket_id}/escalation/answer"): {"answer": "A店替B店回答"},
    ("POST", "/tickets/{ticket_id}/escalation/kb"): {"questions": "A店", "category": "A店"},
    ("POST", "/shifts/{shift_id}"): {
        "team_id": "1",
        "name": "A店改B店的班",
        "start_time": "09:00",
        "end_time": "17:00",
        "weekdays": ["1"],
    },
    ("POST", "/shifts/{shift_id}/delete"): {},
    ("GET", "/handovers/{handover_id}"): {},
    ("POST", "/handovers/{handover_id}/acknowledge"): {"item_id": ""},
    ("POST", "/settings/sla/policies/{policy_id}"): {
        "name": "A店改B店的时限",
        "ticket_type": "other",
        "priority": "low",
        "first_response_value": "1",
        "first_response_unit": "h",
        "warn_before_minutes": "10",
    },
    ("POST", "/settings/sla/policies/{policy_id}/delete"): {},
    ("POST", "/settings/sla/days/{day}/delete"): {},
    ("GET", "/quality/conversations/{conversation_id}"): {},
    ("POST", "/quality/scores/{score_id}/review"): {"comment": "A店替B店复核"},
    ("POST", "/settings/coach/rules/{code}"): {
        "name": "A店改B店的规则",
        "severity": "minor",
        "points": "1",
        "enabled": "true",
        "patterns": "A店",
        "scope": "always",
        "description": "",
        "suggestion": "",
    },
    ("POST", "/settings/coach/rules/{code}/delete"): {},
    ("POST", "/phrases/{phrase_id}"): {"shortcut": "抢", "title": "A店改", "body": "A店改B店"},
    ("POST", "/phrases/{phrase_id}/delete"): {},
}


# Forms that upload a file: sent as multipart, with the form above.
PAGE_FILES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/tickets/{ticket_id:int}/uploads"): {
        "file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png")
    },
}


def test_every_page_form_with_an_id_answers_404_for_another_shops_id(
    app: FastAPI, world: World
) -> None:
    routes = _routes(app)
    before = _b_snapshot(world, routes)
    walked = []
    for route in routes:
        params = _params(route)
        if not params or route.path.startswith("/api/") or route.path in PUBLIC_ROUTES:
            continue
        unknown = set(params) - set(world.b.ids)
        assert not unknown, f"{route.path}: add shop B's id for {sorted(unknown)} to Tenant.ids"
        url = _url(route.path, world.b.ids)
        for method in sorted(route.methods):
            assert (method, route.path) in PAGE_FORMS, f"{method} {route.path}: add a form"
            for caller in world.callers[:3]:  # pages are for people: session callers
                form = {
                    **PAGE_FORMS[(method, route.path)],
                    "csrf_token": caller.headers["X-CSRF-Token"],
                }
                response = caller.client.request(
                    method, url, data=form, files=PAGE_FILES.get((method, route.path)),
                    follow_redirects=False,
                )  # fmt: skip
                where = f"{method} {url} as {caller.name}"
                _no_leak(response, world.b, where)
                if caller.role is Role.OWNER:
                    assert response.status_code == 404, f"{where}: {response.status_code}"
                else:
                    assert response.status_code in (403, 404), f"{where}: {response.status_code}"
            walked.append(f"{method} {route.path}")
    assert len(walked) == len(PAGE_FORMS), walked
    _assert_b_intact(world, routes, before)


# What each read route without ids must return for A: exactly A's rows.
def _a_rows(world: World) -> dict[str, Callable[[Any], bool]]:
    a = world.a
    agents = {a.staff.owner.id, a.staff.supervisor.id, a.staff.agent.id}
    return {
        "/api/v1/auth/me": lambda j: j["shop_id"] == a.staff.shop.id and j["shop_slug"] == "alpha",
        "/api/v1/shop": lambda j: j["id"] == a.staff.shop.id and j["name"] == "alpha 旗舰店",
        "/api/v1/agents": lambda j: {x["id"] for x in j} == agents,
        "/api/v1/teams": lambda j: [x["id"] for x in j] == a.team_ids,
        "/api/v1/customers": lambda j: [x["id"] for x in j] == [a.customer_id],
        "/api/v1/conversations": lambda j: [x["id"] for x in j] == [a.conversation_id],
        "/api/v1/api-tokens": lambda j: [x["id"] for x in j] == [a.token_id],
        "/api/v1/desk/conversations": lambda j: (
            [x["id"] for x in j["conversations"]] == [a.conversation_id]
        ),
        "/api/v1/desk/overview": lambda j: (
            {x["id"] for x in j["agents"]} == agents
            and {x["id"] for x in j["teams"]} <= set(a.team_ids)
            and (j["me"] is None or j["me"]["id"] in agents)
        ),
        "/api/v1/desk/products": lambda j: [x["id"] for x in j["products"]] == [a.product_id],
        "/api/v1/commerce/products": lambda j: [x["id"] for x in j] == [a.product_id],
        "/api/v1/commerce/orders": lambda j: (  # the buyer's order, and the after-sales one
            a.order_id in {x["id"] for x in j} and {x["customer_id"] for x in j} == {a.customer_id}
        ),
        "/api/v1/kb/entries": lambda j: [x["id"] for x in j["entries"]] == [a.entry_id],
        "/api/v1/sales/cases": lambda j: [x["id"] for x in j["cases"]] == [a.case_id],
        "/api/v1/sales/reminders": lambda j: [x["order_id"] for x in j] == [a.order_id],
        "/api/v1/sales/reminders/report": lambda j: (j["pending"], j["sent"]) == (1, 0),
        "/api/v1/sales/settings": lambda j: j["coupon_hint"] == "A店催付:付款送袜子",
        "/api/v1/kb/suggest": lambda j: j == [],  # no text, no suggestion
        "/api/v1/kb/match": lambda j: j["kind"] == "none",
        "/api/v1/kb/export": lambda t: "A店问答:有M码吗" in t and "A店答案:有的" in t,
        "/api/v1/kb/unanswered": lambda j: [x["id"] for x in j["groups"]] == [a.group_id],
        "/api/v1/kb/lint": lambda j: j["entries"] == 1,
        "/api/v1/bot/settings": lambda j: j["greeting"] == "A店欢迎语:阿尔法",
        "/api/v1/bot/intents": lambda j: sum(x["edited"] for x in j) == 1,
        "/api/v1/tickets": lambda j: [x["id"] for x in j["tickets"]] == [a.ticket_id],
        "/api/v1/tickets/views": lambda j: [x["id"] for x in j] == [a.view_id],
        "/api/v1/shifts": lambda j: [x["id"] for x in j] == [a.shift_id],
        "/api/v1/handovers": lambda j: [x["id"] for x in _rows(j)] == [a.handover_id],
        "/api/v1/tickets/fields": lambda j: [x["id"] for x in j] == [a.field_id],
        "/api/v1/tickets/settings": lambda j: (
            j["notice_templates"] == {"created": "A店字段:工单 #{number}"}
        ),
        # The agent was given A's ticket and mentioned in its note; the duty manager (the
        # supervisor) was told of the handover; the owner and the token have none.
        "/api/v1/notifications": lambda j: (
            {x["ticket_id"] for x in j["notifications"]} <= {a.ticket_id, None}
            and {x["handover_id"] for x in j["notifications"]} <= {a.handover_id, None}
            and len(j["notifications"]) in (0, 1, 2)
        ),
        # A's one inquiry (its conversation in 售前), answered by A's agent.
        "/api/v1/tickets/sla/policies": lambda j: (
            a.policy_id in {x["id"] for x in j} and "A店时限" in {x["name"] for x in j}
        ),
        "/api/v1/tickets/sla/calendar": lambda j: [d["name"] for d in j["days"]] == ["A店店休"],
        # A's ticket is new: none of its deadlines has fallen due yet.
        "/api/v1/tickets/sla/report": lambda j: j["rows"] == [] and j["breaches"] == [],
        "/api/v1/sales/conversion": lambda j: (
            [(x["id"], x["inquiries"]) for x in j["rows"]] == [(a.staff.agent.id, 1)]
        ),
        # A's one quality score, the agent's: theirs to see, the whole shop's for the rest.
        "/api/v1/coach/scores": lambda j: [x["id"] for x in j["scores"]] == [a.score_id],
        "/api/v1/coach/report": lambda j: (
            [x["id"] for x in j["rows"]] == [a.staff.agent.id] and j["summary"]["scores"] == 1
        ),
        # The built-in rules and A's one of its own (custom_1, which B also has a custom_2 of).
        "/api/v1/coach/rules": lambda j: (
            [(x["code"], x["name"]) for x in j if not x["builtin"]] == [("custom_1", "A店规则")]
        ),
        # A's shared phrase; the agent also their own.
        "/api/v1/coach/phrases": lambda j: (
            a.phrase_id in {x["id"] for x in j["phrases"]}
            and {x["title"] for x in j["phrases"]} <= {"A店短语", "A店短语个人"}
        ),
    }


# Query parameters that name the row a list is shown for rather than filter it (phrases
# filled in for a conversation): another shop's id is 404, like in a path.
CONTEXT_PARAMS = {("/api/v1/coach/phrases", "conversation_id")}


def test_every_list_route_shows_only_the_callers_shop(app: FastAPI, world: World) -> None:
    expected = _a_rows(world)
    seen = set()
    for route in _routes(app):
        methods = route.methods or ()  # websockets have none (test_sockets walks them)
        if _params(route) or "GET" not in methods or not route.path.startswith("/api/v1/"):
            continue
        if route.path == "/api/v1/openapi.json":
            continue  # the schema: no shop data
        if route.path.startswith(WIDGET_API):
            continue  # a buyer's: test_the_widget_api_shows_a_buyer_only_their_own_shop
        assert route.path in expected, f"{route.path}: say which rows shop A should see here"
        for caller in world.callers:
            where = f"GET {route.path} as {caller.name}"
            response = caller.client.get(route.path)
            _no_leak(response, world.b, where)
            if response.status_code == 403:
                assert caller.role is not Role.OWNER, where
                continue
            assert response.status_code == 200, f"{where}: {response.text}"
            assert expected[route.path](_body(response)), f"{where}: {response.text}"
            seen.add(route.path)
            # Filters given B's ids or B's names find nothing in A's shop.
            for query in route.dependant.query_params if hasattr(route, "dependant") else []:
                probe = _b_filter(world.b, query.name)
                if probe is None:
                    continue
                filtered = caller.client.get(route.path, params={query.name: probe})
                if (route.path, query.name) in CONTEXT_PARAMS:
                    _no_leak(filtered, world.b, f"{where}?{query.name}={probe}")
                    assert filtered.status_code == 404, f"{where}?{query.name}={probe}"
                    continue
                assert filtered.status_code == 200, f"{where}?{query.name}={probe}"
                assert _rows(filtered.json()) == [], (
                    f"{where}?{query.name}={probe}: {filtered.text}"
                )
    assert seen == set(expected)


def _b_filter(b: Tenant, name: str) -> str | int | None:
    if name in b.ids:
        return b.ids[name]
    if name == "q":
        return "贝塔"  # B's customer's name
    assert not name.endswith("_id"), f"query parameter {name}: add shop B's id to Tenant.ids"
    return None


def test_creating_an_agent_in_another_shops_team_is_refused(app: FastAPI, world: World) -> None:
    routes = _routes(app)
    before = _b_snapshot(world, routes)
    owner = world.callers[0]
    response = owner.client.post(
        "/api/v1/agents",
        json={
            "email": "spy@alpha.test",
            "display_name": "卧底",
            "password": "long enough 1",
            "team_ids": [world.b.team_ids[0]],
        },
        headers=owner.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "team_ids"
    moved = owner.client.patch(
        f"/api/v1/agents/{world.a.staff.agent.id}",
        json={"team_ids": [world.b.team_ids[1]]},
        headers=owner.headers,
    )
    assert moved.status_code == 422
    assert all(x["email"] != "spy@alpha.test" for x in owner.client.get("/api/v1/agents").json())
    _assert_b_intact(world, routes, before)


SUPERVISOR_PAGES = {
    "/staff", "/kb/new", "/kb/import", "/kb/unanswered", "/kb/lint", "/settings/bot",
    "/commerce/import", "/commerce/import/template.csv",
    "/quality",
}  # fmt: skip
OWNER_PAGES = {"/tokens", "/settings/widget", "/settings/integrations"}


def test_pages_show_only_the_callers_shop(app: FastAPI, world: World) -> None:
    pages = [
        r
        for r in _routes(app)
        if not r.path.startswith("/api/")
        and "GET" in (r.methods or ())
        and r.path not in PUBLIC_ROUTES
    ]
    assert "/" in {p.path for p in pages}
    for page in pages:
        if _params(page):
            continue  # walked with B's ids: test_every_page_form_with_an_id_…
        for caller in world.callers[:3]:  # pages are for people: session callers
            response = caller.client.get(page.path)
            _no_leak(response, world.b, f"GET {page.path} as {caller.name}")
            if (page.path in SUPERVISOR_PAGES and caller.role is Role.AGENT) or (
                page.path in OWNER_PAGES and caller.role is not Role.OWNER
            ):
                assert response.status_code == 403, f"GET {page.path} as {caller.name}"
                continue
            assert response.status_code == 200, f"GET {page.path} as {caller.name}"
            if page.path == "/staff":
                assert "owner@alpha.test" in response.text
            if page.path == "/kb":
                assert "A店问答:有M码吗" in response.text
            if page.path == "/kb/unanswered":
                assert "A店未答:能开发票吗" in response.text
            if page.path == "/aftersales":
                assert "A店售后:衣服起球" in response.text
            if page.path == "/commerce/orders":
                assert "A20261123001" in response.text
            if page.path == "/commerce/products":
                assert "A店外套" in response.text
            if page.path == "/sales/reminders":
                assert "A20261123001" in response.text and "A店催付:付款送袜子" in response.text
            if page.path in ("/shifts", "/handovers"):
                assert "A店早班" in response.text
            if page.path == "/tickets":
                assert "A店工单:大衣起球" in response.text
            if page.path == "/notifications" and caller.role is Role.AGENT:
                assert "A店工单:大衣起球" in response.text
            if page.path == "/quality/mine" and caller.role is Role.AGENT:
                assert "A店质检评语:先问候" in response.text
            if page.path == "/quality":
                assert f"/quality/conversations/{world.a.conversation_id}" in response.text
            if page.path == "/settings/coach":
                assert "A店规则" in response.text
            if page.path == "/phrases":
                assert "A店短语" in response.text
            if page.path == "/":
                assert "alpha 旗舰店" in response.text
                assert "艾丽丝的小号" in response.text  # A's buyer, in the recent conversations


def test_the_widget_api_shows_a_buyer_only_their_own_shop(app: FastAPI, world: World) -> None:
    routes = _routes(app)
    before = _b_snapshot(world, routes)
    widget = [r for r in routes if r.path.startswith(WIDGET_API) and r.path not in PUBLIC_ROUTES]
    assert {(m, r.path) for r in widget for m in r.methods} == {
        ("GET", "/api/v1/widget/messages"),
        ("POST", "/api/v1/widget/messages"),
        ("POST", "/api/v1/widget/uploads"),
    }, "a new widget route: say here what a buyer of A may see and do with it"
    buyer = world.a_buyer
    listed = buyer.get("/api/v1/widget/messages")
    _no_leak(listed, world.b, "GET /api/v1/widget/messages as A's buyer")
    assert listed.status_code == 200
    assert listed.json()["conversation_id"] == world.a.conversation_id
    assert [m["body"] for m in listed.json()["messages"]][:2] == [
        "A店:这件外套有M码吗",
        "A店客服:有的亲",
    ]
    # …and the registration of their after-sales case (A's own case number).
    assert f"售后单 #{world.a.case_id}" in listed.json()["messages"][-1]["body"]
    # B's upload, by its id, cannot be sent in A's conversation.
    sent = buyer.post(
        "/api/v1/widget/messages",
        json={"client_msg_id": "a-2", "body": "", "attachment_id": world.b.upload_id},
    )
    _no_leak(sent, world.b, "POST /api/v1/widget/messages with B's attachment")
    assert sent.status_code == 404
    # Staff credentials are no buyer's: every widget route wants a visitor token.
    for caller in world.callers:
        for method, path in (
            ("GET", "/api/v1/widget/messages"),
            ("POST", "/api/v1/widget/messages"),
        ):
            body = {"client_msg_id": "s-1", "body": "hi"} if method == "POST" else None
            response = caller.client.request(method, path, json=body, headers=caller.headers)
            _no_leak(response, world.b, f"{method} {path} as {caller.name}")
            assert response.status_code == 401, f"{method} {path} as {caller.name}"
            assert response.json()["error"]["code"] == "invalid_visitor_token"
    _assert_b_intact(world, routes, before)


def test_public_routes_show_nothing_of_a_shop_but_its_name(
    app: FastAPI, world: World, clock: Any, uow_factory: UowFactory
) -> None:
    routes = _routes(app)
    before = _b_snapshot(world, routes)
    assert {r.path for r in routes} >= PUBLIC_ROUTES
    public = [s for s in world.b.secrets if s != world.b.staff.shop.name]

    def no_leak(response: Any, where: str) -> None:
        leaked = [s for s in public if s in response.text]
        assert not leaked, f"{where}: the response shows shop B's {leaked}"

    client = world.a_buyer
    # A's visitor token does not open a session in B.
    resumed = client.post(
        "/api/v1/widget/beta/session", json={"visitor_token": world.a.visitor_token}
    )
    no_leak(resumed, "B's session with A's visitor token")
    assert resumed.status_code == 401
    assert resumed.json()["error"]["code"] == "invalid_visitor_token"
    # An identity signed with A's key is no identity in B (B's buyer's id would be guessable).
    identity = encode_identity(external_id="u-1", ts=int(clock.now().timestamp()))
    a_key = widget_secret(secret=TEST_SECRET, shop_id=world.a.staff.shop.id)
    signed = client.post(
        "/api/v1/widget/beta/session",
        json={"identity": identity, "signature": sign_identity(key=a_key, identity=identity)},
    )
    no_leak(signed, "B's session with an identity signed by A")
    assert signed.status_code == 401
    page = client.get("/chat/beta")
    no_leak(page, "B's chat page")
    assert page.status_code == 200
    # An upload is served by its unguessable key only.
    assert client.get(f"/uploads/{world.b.upload_key}").status_code == 200
    assert client.get(f"/uploads/{world.b.upload_id}").status_code == 404
    # B's webhook takes nothing signed with A's secret, and says nothing of B.
    with uow_factory() as uow:
        a_secret = commerce.commerce_settings(uow, shop_id=world.a.staff.shop.id).webhook_secret
    hijack = json.dumps(
        {"event": "product.upsert", "data": {"sku": "SKU-B20261123999", "title": "A改", "price": 1}}
    ).encode()
    sent = int(clock.now().timestamp())
    pushed = client.post(
        "/api/v1/hooks/commerce/beta",
        content=hijack,
        headers={
            "X-Kefu-Timestamp": str(sent),
            "X-Kefu-Signature": commerce_webhooks.sign(a_secret, sent, hijack),
            "X-Kefu-Delivery": "a-hijack",
        },
    )
    no_leak(pushed, "B's webhook signed with A's secret")
    assert pushed.status_code == 401
    _assert_b_intact(world, routes, before)
    # Anyone may start chatting with B (that is what the widget is for): a new buyer of B
    # sees B's name and nothing else of B.
    fresh = client.post("/api/v1/widget/beta/session", json={})
    no_leak(fresh, "a new session in B")
    assert fresh.status_code == 200
    assert (fresh.json()["conversation"], fresh.json()["messages"]) == (None, [])


def test_a_shop_changing_its_bot_leaves_the_other_shops_bot_alone(
    app: FastAPI, world: World
) -> None:
    """The routes whose only parameter is an intent number, and the settings forms."""
    routes = _routes(app)
    before = _b_snapshot(world, routes)
    owner = world.callers[0]
    number = 1
    assert (
        owner.client.put(
            f"/api/v1/bot/intents/{number}", json={"team_code": "complaints"}, headers=owner.headers
        ).status_code
        == 200
    )
    assert owner.client.patch(
        "/api/v1/bot/settings", json={"enabled": True, "greeting": "A店新欢迎语"},
        headers=owner.headers,
    ).status_code == 200  # fmt: skip
    page_form = {"team_code": "shipping", "action": "", "csrf_token": owner.headers["X-CSRF-Token"]}
    response = owner.client.post(
        f"/settings/bot/intents/{number + 1}", data=page_form, follow_redirects=False
    )
    assert response.status_code == 303
    page = owner.client.get("/settings/bot")
    _no_leak(page, world.b, "GET /settings/bot")
    assert "A店新欢迎语" in page.text
    _assert_b_intact(world, routes, before)
