"""Saved views: an agent's own list filters, and shared ones only supervisors may curate."""

from __future__ import annotations

import pytest

from kefu.accounts import service as accounts
from kefu.accounts.models import Role
from kefu.crm import service as crm
from kefu.errors import Conflict, Invalid, NotFound, PermissionDenied
from kefu.shops import service as shops
from kefu.tickets import views
from kefu.tickets.listing import TicketFilter
from kefu.tickets.models import TicketPriority, TicketStatus, TicketType
from tests.factories import ShopWithStaff, UowFactory, make_agent, make_shop_with_staff


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


def _team(uow_factory: UowFactory, shop_id: int, code: str) -> int:
    with uow_factory() as uow:
        return shops.get_team_by_code(uow.session, shop_id=shop_id, code=code).id


def test_an_agent_saves_a_view_and_gets_the_same_filter_back(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    shop_id, agent = alpha.shop.id, alpha.agent
    aftersale = _team(uow_factory, shop_id, "aftersale")
    with uow_factory() as uow:
        view = views.create_view(
            uow, shop_id=shop_id, agent_id=agent.id, name=" 我的售后加急 ",
            filters={"status": ["open", "pending_buyer"], "priority": "urgent",
                     "team_id": aftersale, "assignee": "me", "sla": "warning", "q": "退貨"},
        )  # fmt: skip
    assert view.name == "我的售后加急"
    assert views.filter_of(view) == TicketFilter(
        status=(TicketStatus.OPEN, TicketStatus.PENDING_BUYER),
        priority=TicketPriority.URGENT,
        team_id=aftersale,
        assignee="me",
        sla="warning",
        q="退貨",
    )
    with uow_factory() as uow:
        listed = views.list_views(uow.session, shop_id=shop_id, agent_id=agent.id)
    assert [v.name for v in listed] == ["我的售后加急"]


def test_a_personal_view_is_invisible_to_everybody_else(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    shop_id = alpha.shop.id
    with uow_factory() as uow:
        mine = views.create_view(
            uow, shop_id=shop_id, agent_id=alpha.agent.id, name="我的", filters={}
        )
    with uow_factory() as uow:
        # Not even the owner of the shop sees it, edits it or deletes it: 404, like a missing id.
        assert views.list_views(uow.session, shop_id=shop_id, agent_id=alpha.owner.id) == []
        with pytest.raises(NotFound):
            views.get_view(uow.session, shop_id=shop_id, agent_id=alpha.owner.id, view_id=mine.id)
        with pytest.raises(NotFound):
            views.update_view(
                uow, shop_id=shop_id, agent_id=alpha.owner.id, view_id=mine.id, name="改"
            )
        with pytest.raises(NotFound):
            views.delete_view(uow, shop_id=shop_id, agent_id=alpha.owner.id, view_id=mine.id)
        # An API token (nobody) sees no personal view either.
        assert views.list_views(uow.session, shop_id=shop_id, agent_id=None) == []
    with uow_factory() as uow:
        assert views.get_view(
            uow.session, shop_id=shop_id, agent_id=alpha.agent.id, view_id=mine.id
        ).name == "我的"  # fmt: skip


def test_only_a_supervisor_or_the_owner_shares_a_view_and_everybody_sees_it(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    shop_id = alpha.shop.id
    with uow_factory() as uow, pytest.raises(PermissionDenied) as refused:
        views.create_view(
            uow, shop_id=shop_id, agent_id=alpha.agent.id, name="全员", filters={}, shared=True
        )
    assert refused.value.key == "errors.tickets.shared_view_role"
    with uow_factory() as uow:
        shared = views.create_view(
            uow, shop_id=shop_id, agent_id=alpha.supervisor.id, name="超时工单",
            filters={"sla": "breached", "open_only": True}, shared=True,
        )  # fmt: skip
        assert shared.owner_agent_id is None
    with uow_factory() as uow:
        views.create_view(uow, shop_id=shop_id, agent_id=alpha.agent.id, name="A 我的", filters={})
    with uow_factory() as uow:
        # Shared first, then the agent's own; the API token sees the shared ones.
        seen = views.list_views(uow.session, shop_id=shop_id, agent_id=alpha.agent.id)
        assert [(v.name, views.is_shared(v)) for v in seen] == [
            ("超时工单", True),
            ("A 我的", False),
        ]
        assert [v.name for v in views.list_views(uow.session, shop_id=shop_id, agent_id=None)] == [
            "超时工单"
        ]
    with uow_factory() as uow, pytest.raises(PermissionDenied):
        views.update_view(
            uow, shop_id=shop_id, agent_id=alpha.agent.id, view_id=shared.id, name="x"
        )
    with uow_factory() as uow, pytest.raises(PermissionDenied):
        views.delete_view(uow, shop_id=shop_id, agent_id=alpha.agent.id, view_id=shared.id)
    with uow_factory() as uow:
        views.update_view(
            uow, shop_id=shop_id, agent_id=alpha.owner.id, view_id=shared.id, name="超时未处理"
        )
    with uow_factory() as uow:
        views.delete_view(uow, shop_id=shop_id, agent_id=alpha.supervisor.id, view_id=shared.id)
    with uow_factory() as uow:
        assert [v.name for v in views.list_views(uow.session, shop_id=shop_id, agent_id=None)] == []


def test_view_names_are_unique_per_owner(uow_factory: UowFactory, alpha: ShopWithStaff) -> None:
    shop_id = alpha.shop.id
    with uow_factory() as uow:
        first = views.create_view(
            uow, shop_id=shop_id, agent_id=alpha.agent.id, name="待办", filters={}
        )
        views.create_view(uow, shop_id=shop_id, agent_id=alpha.agent.id, name="其他", filters={})
        # Another agent, and the shared list, may use the same name.
        views.create_view(
            uow, shop_id=shop_id, agent_id=alpha.supervisor.id, name="待办", filters={}
        )
        views.create_view(
            uow, shop_id=shop_id, agent_id=alpha.owner.id, name="待办", filters={}, shared=True
        )
    with uow_factory() as uow, pytest.raises(Conflict) as taken:
        views.create_view(uow, shop_id=shop_id, agent_id=alpha.agent.id, name="待办", filters={})
    assert taken.value.key == "errors.tickets.view_name_taken"
    with uow_factory() as uow, pytest.raises(Conflict):
        views.update_view(
            uow, shop_id=shop_id, agent_id=alpha.agent.id, view_id=first.id, name="其他"
        )
    with uow_factory() as uow:
        # Renaming a view to its own name is no clash.
        views.update_view(
            uow, shop_id=shop_id, agent_id=alpha.agent.id, view_id=first.id, name="待办"
        )
    with uow_factory() as uow, pytest.raises(Invalid) as too_long:
        views.create_view(uow, shop_id=shop_id, agent_id=alpha.agent.id, name="长" * 61, filters={})
    assert too_long.value.field == "name"
    with uow_factory() as uow, pytest.raises(Invalid):
        views.create_view(uow, shop_id=shop_id, agent_id=alpha.agent.id, name="  ", filters={})


@pytest.mark.parametrize(
    ("filters", "field", "key"),
    [
        ({"stauts": ["open"]}, "filters.stauts", "errors.tickets.unknown_view_filter"),
        ({"status": ["opened"]}, "filters.status", "errors.tickets.bad_view_filter"),
        ({"status": "open", "type": "refund"}, "filters.type", "errors.tickets.bad_view_filter"),
        ({"team_id": "2"}, "filters.team_id", "errors.tickets.bad_view_filter"),
        ({"team_id": True}, "filters.team_id", "errors.tickets.bad_view_filter"),
        ({"assignee": "somebody"}, "filters.assignee", "errors.tickets.bad_view_filter"),
        ({"sla": "late"}, "filters.sla", "errors.tickets.bad_view_filter"),
        ({"open_only": "yes"}, "filters.open_only", "errors.tickets.bad_view_filter"),
        ({"q": "x" * 101}, "q", None),
        ({"tag": "\x00"}, "tag", "errors.control_char"),
    ],
)
def test_a_view_with_a_filter_that_means_nothing_is_refused_naming_it(
    uow_factory: UowFactory,
    alpha: ShopWithStaff,
    filters: dict[str, object],
    field: str,
    key: str | None,
) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        views.create_view(
            uow, shop_id=alpha.shop.id, agent_id=alpha.agent.id, name="坏的", filters=filters
        )
    assert (refused.value.field, refused.value.key) == (field, key)
    with uow_factory() as uow:
        assert views.list_views(uow.session, shop_id=alpha.shop.id, agent_id=alpha.agent.id) == []


def test_a_view_naming_another_shops_rows_is_refused(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    beta = make_shop_with_staff(uow_factory, "beta")
    b_team = _team(uow_factory, beta.shop.id, "aftersale")
    with uow_factory() as uow:
        b_buyer = crm.create_customer(uow, shop_id=beta.shop.id, name="贝塔买家").id
    for filters in ({"team_id": b_team}, {"assignee": beta.agent.id}, {"customer_id": b_buyer}):
        with uow_factory() as uow, pytest.raises(Invalid) as refused:
            views.create_view(
                uow, shop_id=alpha.shop.id, agent_id=alpha.agent.id, name="越界", filters=filters
            )
        assert refused.value.key == "errors.tickets.view_unknown_id", filters
    # And another shop's view is nobody's here.
    with uow_factory() as uow:
        b_view = views.create_view(
            uow, shop_id=beta.shop.id, agent_id=beta.owner.id, name="B", filters={}, shared=True
        )
    with uow_factory() as uow, pytest.raises(NotFound):
        views.get_view(
            uow.session, shop_id=alpha.shop.id, agent_id=alpha.owner.id, view_id=b_view.id
        )


def test_an_api_token_reads_shared_views_but_saves_none(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    with uow_factory() as uow, pytest.raises(PermissionDenied) as refused:
        views.create_view(uow, shop_id=alpha.shop.id, agent_id=None, name="集成", filters={})
    assert refused.value.key == "errors.tickets.view_needs_person"


def test_a_supervisor_demoted_to_agent_can_no_longer_change_a_shared_view(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    """The role counts at the time of the change: the view stays for everybody."""
    lead = make_agent(uow_factory, alpha.shop, email="lead2@alpha.test", role=Role.SUPERVISOR)
    with uow_factory() as uow:
        shared = views.create_view(
            uow, shop_id=alpha.shop.id, agent_id=lead.id, name="组内", filters={}, shared=True
        )
    with uow_factory() as uow:
        accounts.update_agent(
            uow, shop_id=alpha.shop.id, agent_id=lead.id, acting_agent_id=alpha.owner.id,
            role=Role.AGENT,
        )  # fmt: skip
    with uow_factory() as uow, pytest.raises(PermissionDenied):
        views.update_view(
            uow, shop_id=alpha.shop.id, agent_id=lead.id, view_id=shared.id,
            filters={"type": TicketType.COMPLAINT.value},
        )  # fmt: skip
    with uow_factory() as uow:
        assert [
            v.id for v in views.list_views(uow.session, shop_id=alpha.shop.id, agent_id=None)
        ] == [shared.id]


def test_a_stored_filter_a_later_version_no_longer_knows_is_skipped_not_fatal(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    with uow_factory() as uow:
        view = views.create_view(
            uow, shop_id=alpha.shop.id, agent_id=alpha.agent.id, name="旧", filters={"tag": "加急"}
        )
        view.filters = '{"tag": "加急", "channel": "widget"}'
        uow.commit()
    assert views.filter_of(view) == TicketFilter(tag="加急")
