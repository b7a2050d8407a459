"""The desk over REST (docs/REALTIME.md, Agent → REST): the lists an agent works from,
who may see and act on what, transfers and assignment, closing and reopening, read
receipts, the customer panel with orders, the overview and presence."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kefu.accounts import auth
from kefu.accounts.auth import LoginPolicy
from kefu.accounts.models import Role
from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce.models import OrderStatus
from kefu.commerce.service import OrderLineSpec
from kefu.conversations.models import Message
from kefu.crm import service as crm
from kefu.shops import service as shops
from tests.factories import make_agent, make_shop_with_staff
from tests.realtime.conftest import Desk

WIDGET = "/api/v1/widget"
LIST = "/api/v1/desk/conversations"


class Floor:
    """The desk fixture with the calls these tests make, each as a given person."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.client = desk.client
        self.staff = desk.staff
        self.aftersale_agent = make_agent(
            desk.uow_factory,
            desk.staff.shop,
            email="after@live.test",
            name="售后小王",
            team_codes=("aftersale",),
        )
        self.as_agent = desk.login()
        self.as_supervisor = desk.login(desk.staff.supervisor.email)
        self.as_owner = desk.login(desk.staff.owner.email)
        self.as_aftersale = desk.login("after@live.test")

    def team(self, code: str) -> int:
        with self.desk.uow_factory() as uow:
            return shops.get_team_by_code(uow.session, shop_id=self.staff.shop.id, code=code).id

    def buyer_writes(self, token: str | None = None, *bodies: str) -> tuple[str, int]:
        token = token or self.desk.buyer()["visitor_token"]
        conversation_id = 0
        for body in bodies or ("在吗",):
            response = self.client.post(
                f"{WIDGET}/messages",
                json={"client_msg_id": f"c-{body}", "body": body},
                headers={"X-Visitor-Token": token},
            )
            assert response.status_code in (200, 201), response.text
            conversation_id = response.json()["conversation_id"]
        return token, conversation_id

    def get(self, who: dict[str, str], url: str, **params: Any) -> Any:
        return self.client.get(url, headers=who, params=params)

    def post(self, who: dict[str, str], url: str, body: Any = None) -> Any:
        return self.client.post(url, headers=who, json=body)

    def put(self, who: dict[str, str], url: str, body: Any) -> Any:
        return self.client.put(url, headers=who, json=body)

    def online(self, who: dict[str, str]) -> None:
        response = self.put(who, "/api/v1/desk/presence", {"status": "online"})
        assert response.status_code == 200, response.text

    def listed(self, who: dict[str, str], view: str = "all", **params: Any) -> list[dict[str, Any]]:
        response = self.get(who, LIST, view=view, **params)
        assert response.status_code == 200, response.text
        conversations: list[dict[str, Any]] = response.json()["conversations"]
        return conversations

    def ids(self, who: dict[str, str], view: str = "all", **params: Any) -> list[int]:
        return [c["id"] for c in self.listed(who, view, **params)]


@pytest.fixture
def floor(desk: Desk) -> Floor:
    return Floor(desk)


def _message_count(db: Engine) -> int:
    with db.connect() as connection:
        return connection.scalar(select(func.count(Message.id))) or 0


# --- lists ----------------------------------------------------------------------------------


def test_queue_mine_and_all(floor: Floor, clock: FrozenClock) -> None:
    _, waiting_first = floor.buyer_writes()
    clock.advance(timedelta(minutes=1))
    _, waiting_second = floor.buyer_writes()
    floor.online(floor.as_agent)  # takes both, oldest first
    clock.advance(timedelta(minutes=1))
    _, third = floor.buyer_writes(None, "第三位")  # routed to the agent (capacity 5)
    floor.put(floor.as_agent, "/api/v1/desk/presence", {"status": "away"})
    clock.advance(timedelta(minutes=1))
    late_at = clock.now()
    _, queued_late = floor.buyer_writes()
    clock.advance(timedelta(minutes=1))
    _, queued_later = floor.buyer_writes()
    assert floor.ids(floor.as_agent, "queue") == [queued_late, queued_later]  # oldest first
    assert floor.ids(floor.as_agent, "mine") == [third, waiting_second, waiting_first]
    assert floor.ids(floor.as_agent, "all") == [
        queued_later,
        queued_late,
        third,
        waiting_second,
        waiting_first,
    ]
    summary = floor.listed(floor.as_agent, "queue")[0]
    assert summary["assignee_id"] is None
    assert summary["waiting_since"] == late_at.isoformat()
    assert summary["team_name"] == "售前"
    mine = floor.listed(floor.as_agent, "mine")[0]
    assert (mine["assignee_id"], mine["assignee_name"]) == (floor.staff.agent.id, "小美")
    assert mine["waiting_since"] is None
    assert mine["preview"] == "第三位"


def test_unread_counts_buyer_messages_after_the_shops_read_point(floor: Floor) -> None:
    floor.online(floor.as_agent)
    token, conversation_id = floor.buyer_writes(None, "一", "二", "三")
    assert floor.listed(floor.as_agent)[0]["unread"] == 3
    reply = floor.post(
        floor.as_agent,
        f"/api/v1/conversations/{conversation_id}/messages",
        {"client_msg_id": "d-1", "body": "您好"},
    )
    assert reply.status_code == 201
    read = floor.post(floor.as_agent, f"/api/v1/conversations/{conversation_id}/read", {"seq": 2})
    assert read.status_code == 200
    assert (read.json()["shop_read_seq"], read.json()["unread"]) == (2, 1)
    floor.buyer_writes(token, "四")
    assert floor.listed(floor.as_agent)[0]["unread"] == 2  # 三 and 四; the reply is not unread
    floor.post(floor.as_agent, f"/api/v1/conversations/{conversation_id}/read", {"seq": 99})
    summary = floor.listed(floor.as_agent)[0]
    assert (summary["unread"], summary["shop_read_seq"]) == (0, 5)  # never past the last


def test_read_never_moves_backwards(floor: Floor) -> None:
    _, conversation_id = floor.buyer_writes(None, "一", "二")
    url = f"/api/v1/conversations/{conversation_id}/read"
    assert floor.post(floor.as_agent, url, {"seq": 2}).json()["shop_read_seq"] == 2
    assert floor.post(floor.as_agent, url, {"seq": 1}).json()["shop_read_seq"] == 2
    assert floor.post(floor.as_agent, url, {"seq": -1}).status_code == 422


def test_an_agent_of_another_team_does_not_see_nor_touch_a_conversation(
    floor: Floor, db: Engine
) -> None:
    _, conversation_id = floor.buyer_writes(None, "售前的问题")
    assert floor.ids(floor.as_aftersale, "all") == []
    assert floor.ids(floor.as_aftersale, "queue") == []
    base = f"/api/v1/conversations/{conversation_id}"
    for response in (
        floor.get(floor.as_aftersale, f"{base}/context"),
        floor.get(floor.as_aftersale, f"{base}/messages"),
        floor.get(floor.as_aftersale, f"/api/v1/desk/conversations/{conversation_id}"),
        floor.post(floor.as_aftersale, f"{base}/transfer", {"team_id": floor.team("aftersale")}),
        floor.post(floor.as_aftersale, f"{base}/messages", {"client_msg_id": "x", "body": "hi"}),
        floor.post(floor.as_aftersale, f"{base}/close"),
        floor.post(floor.as_aftersale, f"{base}/read", {"seq": 1}),
    ):
        assert response.status_code == 403, response.request.url
        assert response.json()["error"]["code"] == "forbidden"
        assert "售前的问题" not in response.text
    assert _message_count(db) == 1
    summary = floor.get(floor.as_agent, f"/api/v1/desk/conversations/{conversation_id}").json()
    assert (summary["team_name"], summary["status"], summary["shop_read_seq"]) == (
        "售前",
        "open",
        0,
    )


def test_supervisors_and_owners_see_every_team(floor: Floor) -> None:
    _, presale = floor.buyer_writes()
    _, moved = floor.buyer_writes()
    transfer = floor.post(
        floor.as_agent,
        f"/api/v1/conversations/{moved}/transfer",
        {"team_id": floor.team("complaints")},
    )
    assert transfer.status_code == 200
    assert floor.ids(floor.as_agent) == [presale]  # 投诉 is not the agent's team
    for who in (floor.as_supervisor, floor.as_owner):
        assert sorted(floor.ids(who)) == sorted([presale, moved])
        assert floor.get(who, f"/api/v1/conversations/{moved}/context").status_code == 200
    assert floor.ids(floor.as_supervisor, team_id=floor.team("complaints")) == [moved]


def test_an_agent_sees_a_conversation_assigned_to_them_in_another_team(floor: Floor) -> None:
    _, conversation_id = floor.buyer_writes()
    response = floor.post(
        floor.as_supervisor,
        f"/api/v1/conversations/{conversation_id}/assign",
        {"agent_id": floor.aftersale_agent.id},
    )
    assert response.status_code == 200
    assert floor.ids(floor.as_aftersale, "mine") == [conversation_id]
    assert floor.ids(floor.as_aftersale, "all") == [conversation_id]
    context = floor.get(floor.as_aftersale, f"/api/v1/conversations/{conversation_id}/context")
    assert context.status_code == 200


def test_closed_conversations_are_listed_on_request(floor: Floor) -> None:
    _, conversation_id = floor.buyer_writes()
    floor.post(floor.as_agent, f"/api/v1/conversations/{conversation_id}/close")
    assert floor.ids(floor.as_agent) == []
    assert floor.ids(floor.as_agent, status="closed") == [conversation_id]


def test_a_bad_view_or_status_is_refused(floor: Floor) -> None:
    assert floor.get(floor.as_agent, LIST, view="everything").status_code == 422
    assert floor.get(floor.as_agent, LIST, status="deleted").status_code == 422
    assert floor.get(floor.as_agent, LIST, limit=0).status_code == 422


# --- acting on a conversation -------------------------------------------------------------


def test_transfer_to_a_team_and_to_an_agent(floor: Floor) -> None:
    floor.online(floor.as_agent)
    floor.online(floor.as_aftersale)
    token, conversation_id = floor.buyer_writes()
    url = f"/api/v1/conversations/{conversation_id}/transfer"
    moved = floor.post(floor.as_agent, url, {"team_id": floor.team("aftersale")})
    assert moved.status_code == 200
    summary = moved.json()
    assert (summary["team_name"], summary["assignee_id"]) == ("售后", floor.aftersale_agent.id)
    seen = floor.client.get(f"{WIDGET}/messages", headers={"X-Visitor-Token": token}).json()
    assert seen["messages"][-1]["sender_type"] == "system"
    assert seen["messages"][-1]["body"] == "已为您转接至售后,请稍候。"
    back = floor.post(floor.as_aftersale, url, {"agent_id": floor.staff.agent.id})
    assert back.status_code == 200
    assert back.json()["assignee_id"] == floor.staff.agent.id
    assert back.json()["team_name"] == "售后"  # the agent took it; the team stays


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"team_id": 999_999}, 404), ({"agent_id": 999_999}, 422), ({"x": 1}, 422)],
)
def test_a_bad_transfer_changes_nothing(floor: Floor, body: dict[str, Any], status: int) -> None:
    _, conversation_id = floor.buyer_writes()
    url = f"/api/v1/conversations/{conversation_id}/transfer"
    before = floor.get(floor.as_agent, f"/api/v1/desk/conversations/{conversation_id}").json()
    assert floor.post(floor.as_agent, url, body).status_code == status
    after = floor.get(floor.as_agent, f"/api/v1/desk/conversations/{conversation_id}").json()
    assert after == before


def test_transfer_to_another_shops_team_or_agent_is_refused(floor: Floor) -> None:
    other = make_shop_with_staff(floor.desk.uow_factory, "other")
    with floor.desk.uow_factory() as uow:
        other_team = shops.get_team_by_code(uow.session, shop_id=other.shop.id, code="presale")
    _, conversation_id = floor.buyer_writes()
    url = f"/api/v1/conversations/{conversation_id}/transfer"
    assert floor.post(floor.as_supervisor, url, {"team_id": other_team.id}).status_code == 404
    refused = floor.post(floor.as_supervisor, url, {"agent_id": other.agent.id})
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "agent_id"
    summary = floor.get(floor.as_agent, f"/api/v1/desk/conversations/{conversation_id}").json()
    assert (summary["team_name"], summary["assignee_id"], summary["last_seq"]) == ("售前", None, 1)


def test_assign_is_for_supervisors(floor: Floor) -> None:
    _, conversation_id = floor.buyer_writes()
    url = f"/api/v1/conversations/{conversation_id}/assign"
    denied = floor.post(floor.as_agent, url, {"agent_id": floor.staff.agent.id})
    assert denied.status_code == 403
    assert floor.ids(floor.as_agent, "mine") == []
    given = floor.post(floor.as_supervisor, url, {"agent_id": floor.staff.agent.id})
    assert given.status_code == 200
    assert given.json()["assignee_name"] == "小美"
    assert floor.ids(floor.as_agent, "mine") == [conversation_id]


def test_close_and_reopen(floor: Floor, clock: FrozenClock) -> None:
    floor.online(floor.as_agent)
    _, conversation_id = floor.buyer_writes()
    base = f"/api/v1/conversations/{conversation_id}"
    closed = floor.post(floor.as_agent, f"{base}/close")
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["closed_at"]) == (
        "closed",
        clock.now().isoformat(),
    )
    assert floor.post(floor.as_agent, f"{base}/close").status_code == 200  # twice: still closed
    moved = floor.post(floor.as_agent, f"{base}/transfer", {"team_id": floor.team("aftersale")})
    assert moved.status_code == 409
    reopened = floor.post(floor.as_supervisor, f"{base}/reopen")
    assert reopened.status_code == 200
    assert (reopened.json()["status"], reopened.json()["assignee_id"]) == (
        "open",
        floor.staff.supervisor.id,
    )
    assert floor.post(floor.as_supervisor, f"{base}/reopen").status_code == 409


def test_replies_over_rest_are_stored_once(floor: Floor, db: Engine) -> None:
    _, conversation_id = floor.buyer_writes()
    url = f"/api/v1/conversations/{conversation_id}/messages"
    first = floor.post(floor.as_agent, url, {"client_msg_id": "d-1", "body": "您好"})
    again = floor.post(floor.as_agent, url, {"client_msg_id": "d-1", "body": "您好"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["sender_name"] == "小美"
    note = floor.post(
        floor.as_agent, url, {"client_msg_id": "n-1", "body": "内部备注", "is_private": True}
    )
    assert note.status_code == 201
    listed = floor.get(floor.as_agent, url).json()
    assert [(m["seq"], m["is_private"]) for m in listed] == [(1, False), (2, False), (3, True)]
    too_long = floor.post(floor.as_agent, url, {"client_msg_id": "d-2", "body": "好" * 5001})
    assert too_long.status_code == 422
    assert "5000" in too_long.json()["error"]["message"]
    assert _message_count(db) == 3


# --- the customer panel -------------------------------------------------------------------


def test_context_shows_the_buyer_and_their_orders(floor: Floor, clock: FrozenClock) -> None:
    shop_id = floor.staff.shop.id
    with floor.desk.uow_factory() as uow:
        customer = crm.create_customer(
            uow,
            shop_id=shop_id,
            name="王芳",
            phone="13812345678",
            city="杭州",
            vip_level=2,
            external_id="u-77",
        )
        commerce.create_product(
            uow,
            shop_id=shop_id,
            sku="SOCK-1",
            title="精梳棉中筒袜",
            category="袜子",
            price=Decimal("9.90"),
            variants=[],
        )
        commerce.create_order(
            uow,
            shop_id=shop_id,
            order_no="3587412598630781234",
            customer_id=customer.id,
            lines=[OrderLineSpec(sku="SOCK-1", quantity=2)],
            status=OrderStatus.SHIPPED,
            created_at=clock.now() - timedelta(days=2),
            paid_at=clock.now() - timedelta(days=2),
            shipped_at=clock.now() - timedelta(days=1),
            courier="顺丰速运",
            tracking_no="SF1234567890123",
            ship_to_name="王芳",
            ship_to_phone="13812345678",
            ship_to_address="浙江省杭州市西湖区文三路 90 号",
        )
    from kefu.channels.visitors import issue_visitor_token
    from tests.conftest import TEST_SECRET

    token = issue_visitor_token(
        secret=TEST_SECRET, shop_id=shop_id, customer_id=customer.id, now=clock.now()
    )
    _, conversation_id = floor.buyer_writes(token, "袜子什么时候到")
    response = floor.get(floor.as_agent, f"/api/v1/conversations/{conversation_id}/context")
    assert response.status_code == 200
    context = response.json()
    assert context["conversation"]["id"] == conversation_id
    who = context["customer"]
    assert (who["id"], who["name"], who["phone"], who["city"], who["vip_level"]) == (
        customer.id,
        "王芳",
        "13812345678",
        "杭州",
        2,
    )
    assert who["external_id"] == "u-77"
    assert who["conversation_count"] == 1
    [order] = context["orders"]
    assert order["number"] == "3587412598630781234"
    assert order["status"] == "shipped"
    assert Decimal(order["total"]) == Decimal("19.80")
    assert (order["courier"], order["tracking_no"]) == ("顺丰速运", "SF1234567890123")
    assert [(line["title"], line["quantity"]) for line in order["lines"]] == [("精梳棉中筒袜", 2)]


def test_context_of_an_anonymous_buyer_has_no_orders(floor: Floor) -> None:
    _, conversation_id = floor.buyer_writes()
    context = floor.get(floor.as_agent, f"/api/v1/conversations/{conversation_id}/context").json()
    assert context["orders"] == []
    assert context["customer"]["display_name"].startswith("访客")


# --- overview and presence ----------------------------------------------------------------


def test_overview_counts_queues_and_loads(floor: Floor) -> None:
    floor.online(floor.as_agent)
    floor.put(
        floor.as_supervisor, f"/api/v1/desk/agents/{floor.staff.agent.id}/capacity", {"capacity": 2}
    )
    for _ in range(3):
        floor.buyer_writes()
    _, aftersale = floor.buyer_writes()
    floor.post(
        floor.as_supervisor,
        f"/api/v1/conversations/{aftersale}/transfer",
        {"team_id": floor.team("aftersale")},
    )
    overview = floor.get(floor.as_supervisor, "/api/v1/desk/overview").json()
    teams = {t["code"]: (t["queued"], t["open"]) for t in overview["teams"]}
    assert teams["presale"] == (1, 3)
    assert teams["aftersale"] == (1, 1)
    assert teams["complaints"] == (0, 0)
    agents = {a["id"]: a for a in overview["agents"]}
    me = agents[floor.staff.agent.id]
    assert (me["presence"], me["capacity"], me["open_count"]) == ("online", 2, 2)
    assert me["team_ids"] == [floor.team("presale")]
    assert agents[floor.aftersale_agent.id]["presence"] == "offline"
    assert overview["me"]["id"] == floor.staff.supervisor.id
    # An agent's overview shows only their own teams' queues.
    mine = floor.get(floor.as_agent, "/api/v1/desk/overview").json()
    assert [t["code"] for t in mine["teams"]] == ["presale"]
    assert (mine["me"]["open_count"], mine["me"]["capacity"]) == (2, 2)


def test_presence_put(floor: Floor) -> None:
    for status in ("online", "away", "offline"):
        response = floor.put(floor.as_agent, "/api/v1/desk/presence", {"status": status})
        assert response.status_code == 200
        assert response.json() == {"presence": status}
        overview = floor.get(floor.as_supervisor, "/api/v1/desk/overview").json()
        seen = {a["id"]: a["presence"] for a in overview["agents"]}
        assert seen[floor.staff.agent.id] == status
    bad = floor.put(floor.as_agent, "/api/v1/desk/presence", {"status": "busy"})
    assert bad.status_code == 422


def test_presence_put_needs_the_csrf_token(floor: Floor) -> None:
    headers = {"cookie": floor.as_agent["cookie"]}
    response = floor.client.put("/api/v1/desk/presence", headers=headers, json={"status": "online"})
    assert response.status_code == 403
    overview = floor.get(floor.as_supervisor, "/api/v1/desk/overview").json()
    assert {a["id"]: a["presence"] for a in overview["agents"]}[floor.staff.agent.id] == "offline"


def test_capacity_is_for_supervisors_and_drains_the_queue(floor: Floor) -> None:
    floor.online(floor.as_agent)
    url = f"/api/v1/desk/agents/{floor.staff.agent.id}/capacity"
    assert floor.put(floor.as_supervisor, url, {"capacity": 1}).json()["capacity"] == 1
    floor.buyer_writes()
    _, waiting = floor.buyer_writes()
    assert floor.ids(floor.as_agent, "queue") == [waiting]
    assert floor.put(floor.as_agent, url, {"capacity": 5}).status_code == 403
    assert floor.put(floor.as_supervisor, url, {"capacity": 51}).status_code == 422
    assert floor.put(floor.as_supervisor, url, {"capacity": 2}).status_code == 200
    assert floor.ids(floor.as_agent, "queue") == []
    assert waiting in floor.ids(floor.as_agent, "mine")


def test_an_api_token_reads_the_desk_but_cannot_reply_as_nobody(floor: Floor) -> None:
    policy = LoginPolicy(
        max_failures=5, window=timedelta(minutes=15), session_lifetime=timedelta(hours=1)
    )
    with floor.desk.uow_factory() as uow:
        owner = auth.login(
            uow,
            shop_slug="live",
            email=floor.staff.owner.email,
            password="correct horse battery",
            client_address="127.0.0.1",
            user_agent="test",
            policy=policy,
        ).principal
    with floor.desk.uow_factory() as uow:
        issued = auth.create_api_token(
            uow, shop_id=floor.staff.shop.id, name="ERP", role=Role.OWNER, created_by=owner
        )
    bearer = {"Authorization": f"Bearer {issued.raw}"}
    _, conversation_id = floor.buyer_writes()
    assert floor.get(bearer, LIST).json()["conversations"][0]["id"] == conversation_id
    reply = floor.post(
        bearer,
        f"/api/v1/conversations/{conversation_id}/messages",
        {"client_msg_id": "erp-1", "body": "系统消息"},
    )
    assert reply.status_code == 403


def test_assigning_to_the_agent_who_has_it_changes_nothing(floor: Floor) -> None:
    floor.online(floor.as_agent)
    token, conversation_id = floor.buyer_writes()
    url = f"/api/v1/conversations/{conversation_id}/assign"
    again = floor.post(floor.as_supervisor, url, {"agent_id": floor.staff.agent.id})
    assert again.status_code == 200
    assert again.json()["assignee_id"] == floor.staff.agent.id
    seen = floor.client.get(f"{WIDGET}/messages", headers={"X-Visitor-Token": token}).json()
    # No "已为您转接至小美" for a buyer who was with 小美 all along.
    assert [m["sender_type"] for m in seen["messages"]] == ["customer"]


def test_the_conversation_list_pages_through_what_the_agent_may_see(floor: Floor) -> None:
    floor.online(floor.as_aftersale)
    _, theirs = floor.buyer_writes()
    moved = floor.post(
        floor.as_supervisor,
        f"/api/v1/conversations/{theirs}/transfer",
        {"team_id": floor.team("aftersale")},
    )
    assert moved.json()["assignee_id"] == floor.aftersale_agent.id
    for _ in range(3):
        floor.buyer_writes()  # newer, in 售前: not the aftersale agent's
    page = floor.get(floor.as_aftersale, "/api/v1/conversations", limit=2)
    assert [c["id"] for c in page.json()] == [theirs]
    assert floor.get(floor.as_aftersale, "/api/v1/conversations", offset=1).json() == []
    assert len(floor.get(floor.as_supervisor, "/api/v1/conversations", limit=2).json()) == 2
