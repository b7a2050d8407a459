"""The page /phrases as people use it: an agent keeps their own phrases with a preview
filled in with an example buyer, reads the shared ones; a supervisor also writes shared
ones; refusals come back beside their form; buyer-facing text is escaped."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.accounts.models import Role
from kefu.coach import service as coach
from kefu.coach.models import CannedPhrase
from tests.coach.conftest import SLUG, CoachStaff, Elsewhere
from tests.factories import UowFactory
from tests.tickets.pagekit import log_in, part

PAGE = "/phrases"
HOSTILE = "<img src=x onerror=alert(1)>"


def _count(uow_factory: UowFactory, shop_id: int) -> int:
    with uow_factory() as uow:
        query = select(func.count(CannedPhrase.id)).where(CannedPhrase.shop_id == shop_id)
        return uow.session.scalar(query) or 0


def test_an_agent_adds_a_phrase_and_sees_it_previewed_with_an_example_buyer(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    with TestClient(app) as client:
        agent = log_in(client, shop=SLUG, email=staff.agent.email)
        first = agent.get(PAGE)
        assert first.status_code == 200
        assert 'data-testid="phrase-shared"' not in first.text  # agents write their own only
        assert "{customer_surname}" in part(first.text, "phrase-variables")
        body = "{customer_surname}{customer_title}您好，欢迎光临{shop}"
        added = agent.post(PAGE, {"shortcut": "/问候", "title": "", "body": body})
        assert added.status_code == 303
        page = agent.follow(added)
    assert part(page.text, "phrase-done") == "短语已添加。"
    [phrase] = _listed(uow_factory, staff.shop_id, staff.agent.id)
    assert (phrase.shortcut, phrase.owner_agent_id) == ("问候", staff.agent.id)
    mine = part(page.text, "phrases-mine")
    assert "/问候" in mine
    assert part(page.text, f"phrase-preview-{phrase.id}") == "王女士您好，欢迎光临qa-shop 旗舰店"
    assert part(page.text, "phrases-shared").endswith("还没有短语。")


def _listed(uow_factory: UowFactory, shop_id: int, agent_id: int | None) -> list[CannedPhrase]:
    with uow_factory() as uow:
        return coach.list_phrases(uow.session, shop_id=shop_id, agent_id=agent_id)


def test_a_refused_phrase_comes_back_beside_its_form_and_nothing_is_written(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    with TestClient(app) as client:
        agent = log_in(client, shop=SLUG, email=staff.agent.email)
        for form, says in (
            ({"shortcut": "退 货", "body": "x"}, "不能有空格"),
            ({"shortcut": "t", "body": "{customer_name}您好"}, "{customer_name}"),
            ({"shortcut": "t", "title": "题" * 61, "body": "x"}, "标题最多 60 个字符"),
            ({"shortcut": "t", "body": "字" * 1001}, "1–1000"),
        ):
            refused = agent.post(PAGE, form)
            assert refused.status_code == 422, form
            assert says in part(refused.text, "phrase-error"), form
            new_form = refused.text[refused.text.index('data-testid="phrase-new"') :]
            assert f'value="{form["shortcut"]}"' in new_form
        assert agent.post(PAGE, {"shortcut": "t", "body": "x", "shared": "true"}).status_code == 403
    assert _count(uow_factory, staff.shop_id) == 0


def test_a_supervisor_keeps_the_shared_phrases_and_agents_only_read_them(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    with TestClient(app) as lead_client, TestClient(app) as agent_client:
        lead = log_in(lead_client, shop=SLUG, email=staff.supervisor.email)
        assert 'data-testid="phrase-shared"' in lead.get(PAGE).text
        form = {"shortcut": "发货", "title": HOSTILE, "body": HOSTILE + "{shop}", "shared": "true"}
        lead.follow(lead.post(PAGE, form))
        [shared] = _listed(uow_factory, staff.shop_id, None)
        agent = log_in(agent_client, shop=SLUG, email=staff.agent.email)
        page = agent.get(PAGE)
        assert HOSTILE not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
        assert part(page.text, f"phrase-preview-{shared.id}") == HOSTILE + "qa-shop 旗舰店"
        assert f'data-testid="phrase-form-{shared.id}"' not in page.text
        assert "公共短语由客服主管维护" in page.text
        tried = agent.post(f"{PAGE}/{shared.id}", {"shortcut": "发货", "title": "改", "body": "改"})
        assert tried.status_code == 403
        assert agent.post(f"{PAGE}/{shared.id}/delete").status_code == 403
        # Her own shortcut may not clash with the shared one: the page names it.
        clash = agent.post(PAGE, {"shortcut": "发货", "body": "我的"})
        assert clash.status_code == 409
        assert "已被公共短语" in part(clash.text, "phrase-error")
        saved = lead.post(f"{PAGE}/{shared.id}", {"shortcut": "发货", "title": "发货时间",
                                                 "body": "48 小时内发货"})  # fmt: skip
        assert part(lead.follow(saved).text, "phrase-done") == "短语已保存。"
        assert part(lead.follow(lead.post(f"{PAGE}/{shared.id}/delete")).text, "phrase-done") == (
            "短语已删除。"
        )
    assert _count(uow_factory, staff.shop_id) == 0


def test_an_agent_edits_and_deletes_their_own_and_never_anyone_elses(
    app: FastAPI, staff: CoachStaff, elsewhere: Elsewhere, uow_factory: UowFactory
) -> None:
    with uow_factory() as uow:
        theirs = coach.create_phrase(
            uow, shop_id=staff.shop_id, agent_id=staff.aftersale.id, role=Role.AGENT,
            shortcut="小刘的", body="小刘的机密短语",
        )  # fmt: skip
    with uow_factory() as uow:
        other = elsewhere.staff
        foreign = coach.create_phrase(
            uow, shop_id=other.shop.id, agent_id=other.agent.id, role=Role.AGENT,
            shortcut="别家", body="别家的机密短语",
        )  # fmt: skip
    with TestClient(app) as client:
        agent = log_in(client, shop=SLUG, email=staff.agent.email)
        agent.follow(agent.post(PAGE, {"shortcut": "谢谢", "body": "谢谢亲"}))
        [own] = _listed(uow_factory, staff.shop_id, staff.agent.id)
        page = agent.get(PAGE)
        assert "小刘的机密短语" not in page.text and "别家的机密短语" not in page.text
        refused = agent.post(f"{PAGE}/{own.id}", {"shortcut": "谢 谢", "title": "", "body": "改"})
        assert refused.status_code == 422
        opened = rf'<details open>\s*<summary data-testid="phrase-edit-{own.id}"'
        assert re.search(opened, refused.text)
        assert 'value="谢 谢"' in refused.text
        form = {"shortcut": "谢谢", "title": "致谢", "body": "谢谢{customer_title}"}
        saved = agent.follow(agent.post(f"{PAGE}/{own.id}", form))
        assert part(saved.text, f"phrase-preview-{own.id}") == "谢谢女士"
        for phrase_id in (theirs.id, foreign.id):
            changed = agent.post(f"{PAGE}/{phrase_id}", {"shortcut": "抢", "body": "抢"})
            assert changed.status_code == 404 and "机密" not in changed.text
            assert agent.post(f"{PAGE}/{phrase_id}/delete").status_code == 404
        assert agent.post(f"{PAGE}/{own.id}/delete").status_code == 303
    assert [p.id for p in _listed(uow_factory, staff.shop_id, staff.aftersale.id)] == [theirs.id]
    assert _count(uow_factory, elsewhere.staff.shop.id) == 1
