"""The shop at a glance: what an agent sees when they sit down.

Analytics sits at the top of the domain graph: it reads other domains through their
public service functions and nothing reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent
from kefu.commerce import service as commerce
from kefu.commerce.models import OrderStatus
from kefu.conversations import service as conversations
from kefu.conversations.models import Conversation, ConversationStatus
from kefu.crm import service as crm
from kefu.shops import service as shops
from kefu.shops.models import Shop, Team


@dataclass(frozen=True)
class TeamSummary:
    team: Team
    members: int
    open_conversations: int
    is_mine: bool


@dataclass(frozen=True)
class RecentConversation:
    conversation: Conversation
    customer_name: str
    team_name: str


@dataclass(frozen=True)
class ShopOverview:
    shop: Shop
    agent: Agent | None
    teams: list[TeamSummary]
    agents: int
    customers: int
    products_on_sale: int
    conversations: dict[ConversationStatus, int]
    orders: dict[OrderStatus, int]
    recent: list[RecentConversation]


def shop_overview(
    session: Session, *, shop_id: int, agent_id: int | None, recent: int = 8
) -> ShopOverview:
    shop = shops.get_shop(session, shop_id=shop_id)
    agent = accounts.get_agent(session, shop_id=shop_id, agent_id=agent_id) if agent_id else None
    mine = (
        set(accounts.team_ids_of(session, shop_id=shop_id, agent_id=agent_id))
        if agent_id
        else set()
    )
    members = accounts.team_members(session, shop_id=shop_id)
    open_by_team = conversations.count_open_by_team(session, shop_id=shop_id)
    teams = shops.list_teams(session, shop_id=shop_id)
    latest = conversations.list_conversations(session, shop_id=shop_id, limit=recent)
    customers = crm.customers_by_id(session, shop_id=shop_id, ids=[c.customer_id for c in latest])
    team_names = {team.id: team.name for team in teams}
    return ShopOverview(
        shop=shop,
        agent=agent,
        teams=[
            TeamSummary(
                team=team,
                members=len(members.get(team.id, [])),
                open_conversations=open_by_team.get(team.id, 0),
                is_mine=team.id in mine,
            )
            for team in teams
        ],
        agents=accounts.count_agents(session, shop_id=shop_id),
        customers=crm.count_customers(session, shop_id=shop_id),
        products_on_sale=commerce.count_products(session, shop_id=shop_id),
        conversations=conversations.count_conversations(session, shop_id=shop_id),
        orders=commerce.count_orders_by_status(session, shop_id=shop_id),
        recent=[
            RecentConversation(
                conversation=c,
                customer_name=crm.salutation(customers[c.customer_id])
                if c.customer_id in customers
                else "",
                team_name=team_names.get(c.team_id or 0, ""),
            )
            for c in latest
        ],
    )
