"""@mentions: by display name (CJK, no space needed after it) or by email; an unknown one is
refused naming it; an address inside a sentence is not a mention."""

from __future__ import annotations

import pytest

from kefu.accounts import service as accounts
from kefu.errors import Invalid
from kefu.tickets.mentions import parse_mentions
from tests.factories import ShopWithStaff, UowFactory, make_agent, make_shop_with_staff


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


def _parse(uow_factory: UowFactory, shop_id: int, body: str) -> list[int]:
    with uow_factory() as uow:
        return parse_mentions(uow.session, shop_id=shop_id, body=body)


def _refusal(uow_factory: UowFactory, shop_id: int, body: str) -> Invalid:
    with pytest.raises(Invalid) as refused:
        _parse(uow_factory, shop_id, body)
    return refused.value


def test_a_chinese_name_needs_no_space_after_it(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    wang = make_agent(uow_factory, alpha.shop, email="wang@alpha.test", name="王芳")
    assert _parse(uow_factory, alpha.shop.id, "@王芳请看一下这个退款") == [wang.id]
    assert _parse(uow_factory, alpha.shop.id, "麻烦@主管，@王芳 跟进") == [
        alpha.supervisor.id,
        wang.id,
    ]


def test_the_longest_name_that_follows_wins(uow_factory: UowFactory, alpha: ShopWithStaff) -> None:
    short = make_agent(uow_factory, alpha.shop, email="wf@alpha.test", name="王芳")
    longer = make_agent(uow_factory, alpha.shop, email="wff@alpha.test", name="王芳芳")
    assert _parse(uow_factory, alpha.shop.id, "@王芳芳看下") == [longer.id]
    assert _parse(uow_factory, alpha.shop.id, "@王芳看下") == [short.id]


def test_a_latin_name_with_a_space_and_any_case(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    amy = make_agent(uow_factory, alpha.shop, email="amy@alpha.test", name="Amy Li")
    assert _parse(uow_factory, alpha.shop.id, "@amy li please check") == [amy.id]
    # A Latin name ends at a word boundary: @Amy Lix is somebody else.
    refused = _refusal(uow_factory, alpha.shop.id, "@Amy Lix please")
    assert refused.key == "errors.tickets.unknown_mention"
    assert refused.params["name"] == "Amy"


def test_an_email_mentions_its_owner_whatever_the_case(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    assert _parse(uow_factory, alpha.shop.id, "@Lead@Alpha.test 请审批。") == [alpha.supervisor.id]


def test_each_person_is_returned_once_in_order_of_first_mention(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    body = "@主管 @掌柜 再提醒 @lead@alpha.test 一次"
    assert _parse(uow_factory, alpha.shop.id, body) == [alpha.supervisor.id, alpha.owner.id]


def test_an_address_in_the_text_and_a_lone_at_are_not_mentions(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    shop_id = alpha.shop.id
    assert _parse(uow_factory, shop_id, "买家邮箱 buyer@example.com，已回信") == []
    assert _parse(uow_factory, shop_id, "买家邮箱是nobody@example.com") == []
    assert _parse(uow_factory, shop_id, "@ 不是提到；结尾的@") == []
    assert _parse(uow_factory, shop_id, "没有提到任何人") == []


def test_an_unknown_name_is_refused_naming_it(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    refused = _refusal(uow_factory, alpha.shop.id, "@主管 和 @李四 看一下")
    assert refused.key == "errors.tickets.unknown_mention"
    assert refused.params == {"name": "李四"}
    assert "@李四" in refused.message
    assert refused.field == "body"


def test_an_unknown_email_is_refused_naming_it(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    refused = _refusal(uow_factory, alpha.shop.id, "请 @nobody@alpha.test 处理")
    assert refused.params == {"name": "nobody@alpha.test"}


def test_a_colleague_of_another_shop_is_unknown_here(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    beta = make_shop_with_staff(uow_factory, "beta")
    make_agent(uow_factory, beta.shop, email="zhao@beta.test", name="赵六")
    assert _refusal(uow_factory, alpha.shop.id, "@赵六").key == "errors.tickets.unknown_mention"
    assert (
        _refusal(uow_factory, alpha.shop.id, "@zhao@beta.test").key
        == "errors.tickets.unknown_mention"
    )


def test_a_deactivated_colleague_is_refused_as_such(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    gone = make_agent(uow_factory, alpha.shop, email="gone@alpha.test", name="离职的人")
    with uow_factory() as uow:
        accounts.update_agent(
            uow,
            shop_id=alpha.shop.id,
            agent_id=gone.id,
            acting_agent_id=alpha.owner.id,
            is_active=False,
        )
    refused = _refusal(uow_factory, alpha.shop.id, "@离职的人 在吗")
    assert refused.key == "errors.tickets.mention_inactive"
    assert refused.params == {"name": "离职的人"}


def test_two_colleagues_with_one_name_must_be_mentioned_by_email(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    twin = make_agent(uow_factory, alpha.shop, email="xm2@alpha.test", name="小美")
    refused = _refusal(uow_factory, alpha.shop.id, "@小美 看一下")
    assert refused.key == "errors.tickets.ambiguous_mention"
    assert refused.params == {"name": "小美", "count": 2}
    assert _parse(uow_factory, alpha.shop.id, "@xm2@alpha.test 看一下") == [twin.id]
