"""The knowledge base pages, as a person uses them (forms, notices, refusals, escaping)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.kb import service as kb
from tests.factories import PASSWORD, ShopWithStaff
from tests.kb.conftest import UowFactory, add

HOSTILE = "<img src=x onerror=alert(1)>"


def _log_in(client: TestClient, email: str) -> str:
    response = client.post(
        "/api/v1/auth/login", json={"shop": "mianli", "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


@pytest.fixture
def lead(app: FastAPI, shop: ShopWithStaff) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app) as client:
        yield client, _log_in(client, shop.supervisor.email)


def test_every_agent_sees_the_kb_but_only_supervisors_can_change_it(
    app: FastAPI, uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    entry = add(uow_factory, shop, ["什么时候发货", "啥时候发货呀"], "48小时内发货", "发货")
    with TestClient(app) as client:
        csrf = _log_in(client, shop.agent.email)
        page = client.get("/kb")
        assert page.status_code == 200
        assert 'data-testid="nav-kb"' in page.text
        assert "啥时候发货呀" in page.text and "48小时内发货" in page.text
        assert "/kb/new" not in page.text and f"kb-toggle-{entry.id}" not in page.text
        for path in ("/kb/new", "/kb/import", "/kb/unanswered", "/kb/lint", f"/kb/{entry.id}"):
            assert client.get(path).status_code == 403, path
        toggled = client.post(
            f"/kb/{entry.id}/enabled", data={"enabled": "false", "csrf_token": csrf}
        )
        assert toggled.status_code == 403
    with uow_factory() as uow:
        assert kb.get_entry(uow.session, shop_id=shop.shop.id, entry_id=entry.id).entry.enabled


def test_a_supervisor_adds_an_entry_with_two_phrasings_and_finds_it(
    lead: tuple[TestClient, str], shop: ShopWithStaff
) -> None:
    client, csrf = lead
    assert client.get("/kb/new").status_code == 200
    form = {
        "questions": ["有运费险吗", "退货有运费险吗", ""],
        "answer": "有的亲,每单都送运费险~",
        "category": "运费险",
        "product_id": "",
        "enabled": "true",
        "csrf_token": csrf,
    }
    saved = client.post("/kb/new", data=form, follow_redirects=False)
    assert saved.status_code == 303
    landed = client.get(saved.headers["location"])
    assert "问答已添加" in landed.text
    assert 'value="有运费险吗"' in landed.text and 'value="退货有运费险吗"' in landed.text
    found = client.get("/kb", params={"q": "運費險"})  # traditional finds it too
    assert "退货有运费险吗" in found.text and "共 1 条" in found.text
    assert "共 0 条" in client.get("/kb", params={"q": "发票"}).text


def test_a_refused_form_comes_back_with_the_reason_and_what_was_typed(
    lead: tuple[TestClient, str], uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    client, csrf = lead
    add(uow_factory, shop, ["能开发票吗"], "可以")
    form = {
        "questions": ["能开发票吗", "专票可以开吗"],
        "answer": "您好{coupon}",
        "csrf_token": csrf,
    }
    refused = client.post("/kb/new", data=form)
    assert refused.status_code == 422
    assert "{coupon}" in refused.text and "不是可用的变量" in refused.text
    assert 'value="专票可以开吗"' in refused.text
    taken = client.post("/kb/new", data={**form, "answer": "可以"})
    assert taken.status_code == 409
    assert "已经属于问答" in taken.text
    with uow_factory() as uow:
        assert kb.count_entries(uow.session, shop_id=shop.shop.id) == 1


def test_editing_toggling_and_deleting_an_entry(
    lead: tuple[TestClient, str], uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    client, csrf = lead
    entry = add(uow_factory, shop, ["什么时候发货"], "48小时内发货")
    edited = client.post(
        f"/kb/{entry.id}",
        data={
            "questions": ["什么时候发货", "多久发货"],
            "answer": "16点前付款当天发出",
            "category": "发货",
            "enabled": "true",
            "csrf_token": csrf,
        },
    )
    assert edited.status_code == 200 and "已保存" in edited.text
    off = client.post(
        f"/kb/{entry.id}/enabled",
        data={"enabled": "false", "next": "/kb?q=发货", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert off.status_code == 303
    assert off.headers["location"].startswith("/kb?q=")
    listed = client.get(off.headers["location"])
    assert "已停用,机器人不会再用它回答" in listed.text
    away = client.post(
        f"/kb/{entry.id}/enabled",
        data={"enabled": "true", "next": "https://evil.example/", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert away.headers["location"].startswith("/kb?done=enabled")
    forged = client.post(f"/kb/{entry.id}/delete", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    gone = client.post(f"/kb/{entry.id}/delete", data={"csrf_token": csrf})
    assert "问答已删除" in gone.text
    assert client.get(f"/kb/{entry.id}").status_code == 404


def test_an_image_goes_with_the_answer_from_the_form(
    lead: tuple[TestClient, str], shop: ShopWithStaff
) -> None:
    client, csrf = lead
    png = b"\x89PNG\r\n\x1a\n" + b"chart"
    saved = client.post(
        "/kb/new",
        data={
            "questions": ["有尺码表吗"],
            "answer": "请看图",
            "enabled": "true",
            "csrf_token": csrf,
        },
        files={"image": ("chart.png", png, "image/png")},
    )
    assert saved.status_code == 200
    [src] = re.findall(r'src="(/uploads/[^"]+)"', saved.text)
    assert client.get(src).content == png
    not_an_image = client.post(
        "/kb/new",
        data={"questions": ["有图吗"], "answer": "看图", "enabled": "true", "csrf_token": csrf},
        files={"image": ("x.png", b"<script>", "image/png")},
    )
    assert not_an_image.status_code == 422
    assert "有图吗" in not_an_image.text  # kept for another try


def test_buyer_text_is_shown_as_text(
    lead: tuple[TestClient, str], uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    client, _ = lead
    add(uow_factory, shop, [HOSTILE], f"答案{HOSTILE}")
    with uow_factory() as uow:
        kb.record_unanswered(uow, shop_id=shop.shop.id, text=f"买家问{HOSTILE}")
    for path in ("/kb", "/kb/unanswered"):
        page = client.get(path)
        assert HOSTILE not in page.text, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in page.text, path


def test_importing_a_broken_file_names_the_rows_and_imports_nothing(
    lead: tuple[TestClient, str], uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    client, csrf = lead
    broken = "问题,答案\n什么时候发货,48小时内\n在吗,\n".encode()
    page = client.post(
        "/kb/import",
        data={"csrf_token": csrf},
        files={"file": ("kb.csv", broken, "text/csv")},
    )
    assert page.status_code == 422
    assert "有 1 行需要修改,没有导入任何内容" in page.text
    assert 'data-row="3"' in page.text and "第 3 行" in page.text and "请填写答案" in page.text
    with uow_factory() as uow:
        assert kb.count_entries(uow.session, shop_id=shop.shop.id) == 0
    fixed = client.post(
        "/kb/import",
        data={"csrf_token": csrf},
        files={
            "file": ("kb.csv", broken.replace(b"\xe5\x90\x97,\n", "吗,在的\n".encode()), "text/csv")
        },
    )
    assert fixed.status_code == 200
    assert "新增 2 条,更新 0 条,未变 0 条" in fixed.text
    wrong = client.post(
        "/kb/import",
        data={"csrf_token": csrf},
        files={"file": ("kb.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert wrong.status_code == 422 and "只能导入 CSV 或 Excel" in wrong.text


def test_an_unanswered_question_becomes_an_entry_from_the_page(
    lead: tuple[TestClient, str], uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    client, csrf = lead
    ship = add(uow_factory, shop, ["什么时候发货"], "48小时内发货")
    for question in ("可以开发票吗", "能开发票吗", "啥时候发货呀"):
        with uow_factory() as uow:
            kb.record_unanswered(uow, shop_id=shop.shop.id, text=question)
    page = client.get("/kb/unanswered")
    assert "2 次" in page.text  # the invoice question was asked twice
    groups = {g.group.representative: g.id for g in _groups(uow_factory, shop)}
    # The nearest entry is offered first for 啥时候发货呀.
    nearest = rf'data-testid="kb-nearest-{groups["啥时候发货呀"]}">\s*<option value="{ship.id}"'
    assert re.search(nearest, page.text)
    made = client.post(
        f"/kb/unanswered/{groups['可以开发票吗']}/entry",
        data={
            "questions": "可以开发票吗\n能开发票吗",
            "answer": "可以开电子发票",
            "csrf_token": csrf,
        },
    )
    assert made.status_code == 200 and "已添加为新问答" in made.text
    joined = client.post(
        f"/kb/unanswered/{groups['啥时候发货呀']}/phrasing",
        data={"entry_id": str(ship.id), "csrf_token": csrf},
    )
    assert "已添加为问法" in joined.text and "没有未解决的问题" in joined.text
    with uow_factory() as uow:
        assert kb.get_entry(uow.session, shop_id=shop.shop.id, entry_id=ship.id).questions == [
            "什么时候发货",
            "啥时候发货呀",
        ]


def _groups(uow_factory: UowFactory, shop: ShopWithStaff) -> list[kb.GroupView]:
    with uow_factory() as uow:
        return kb.list_groups(uow.session, shop_id=shop.shop.id).items


def test_the_lint_page_and_english(
    lead: tuple[TestClient, str], uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    client, csrf = lead
    add(uow_factory, shop, ["什么时候发货"], "48小时内发货")
    add(uow_factory, shop, ["什么时候发货呢"], "72小时内发货")
    page = client.get("/kb/lint")
    assert "答案矛盾" in page.text and "48小时 / 72小时" in page.text
    client.post("/lang", data={"lang": "en", "csrf_token": csrf, "next": "/kb"})
    english = client.get("/kb/lint")
    assert "Contradicting answers" in english.text
    assert "Knowledge base" in client.get("/kb").text
