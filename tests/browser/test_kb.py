"""An owner keeps the knowledge base (知识库) in a real browser: adds an entry with two
phrasings, finds it, imports a spreadsheet with a broken row, and turns a question the bot
could not answer into a new entry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kefu.kb import index
from kefu.kb import service as kb
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, screenshot
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]

UowFactory = Callable[[], UnitOfWork]
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


@pytest.fixture(autouse=True)
def _fresh_matchers() -> Iterator[None]:
    index.clear()
    yield
    index.clear()


def _log_in(page: Page, server: LiveServer, staff: ShopWithStaff) -> None:
    page.goto(server.url + "/kb")
    expect(page).to_have_url(f"{server.url}/login?next=%2Fkb")
    page.get_by_label("店铺代码").fill(staff.shop.slug)
    page.get_by_label("邮箱").fill(staff.owner.email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server.url + "/kb")


def test_an_owner_adds_finds_imports_and_answers_what_the_bot_could_not(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, tmp_path: Path
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    shop_id = staff.shop.id
    for question in ("可以开发票吗", "能开发票吗", HOSTILE):
        with uow_factory() as uow:
            kb.record_unanswered(uow, shop_id=shop_id, text=question)
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))

    _log_in(page, live_server, staff)
    expect(page.get_by_test_id("nav-kb")).to_have_text("知识库")
    expect(page.get_by_test_id("kb-total")).to_have_text("共 0 条")

    # --- a new entry with two phrasings
    page.get_by_test_id("kb-new").click()
    expect(page.get_by_role("heading", name="新增问答")).to_be_visible()
    page.get_by_label("问法 1").fill("有运费险吗")
    page.get_by_label("问法 2").fill("退货有运费险吗")
    page.get_by_role("button", name="再加一个问法").click()
    expect(page.get_by_label("问法 3")).to_be_focused()
    page.get_by_label("答案", exact=True).fill("有的亲,每单都送运费险,退换货寄回运费自动理赔~")
    page.get_by_label("分类").fill("运费险")
    page.get_by_test_id("kb-save").click()
    expect(page.get_by_test_id("kb-notice")).to_have_text("问答已添加。")
    expect(page.get_by_label("问法 2")).to_have_value("退货有运费险吗")
    screenshot(page, "kb-entry")

    # --- found again, in traditional characters too
    page.get_by_test_id("nav-kb").click()
    page.get_by_label("搜索", exact=True).fill("運費險")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_test_id("kb-total")).to_have_text("共 1 条")
    row = page.get_by_test_id("kb-entries").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("有运费险吗")
    expect(row).to_contain_text("退货有运费险吗")
    screenshot(page, "kb-list")

    # --- an import with a broken row: the row is named, nothing is imported
    broken = tmp_path / "知识库.csv"
    broken.write_text(
        "问题,答案,分类\n什么时候发货|几天能发货,16点前付款当天发出,发货\n能便宜点吗,,优惠\n",
        encoding="utf-8-sig",
    )
    page.get_by_test_id("kb-import").click()
    page.get_by_label("文件").set_input_files(str(broken))
    page.get_by_test_id("kb-import-submit").click()
    expect(page.get_by_test_id("kb-import-error")).to_have_text("有 1 行需要修改,没有导入任何内容")
    problem = page.get_by_test_id("kb-import-errors").locator("tbody tr")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("第 3 行")
    expect(problem).to_contain_text("答案")
    expect(problem).to_contain_text("请填写答案")
    screenshot(page, "kb-import-errors")
    page.goto(live_server.url + "/kb")
    expect(page.get_by_test_id("kb-total")).to_have_text("共 1 条")

    # --- a question the bot could not answer becomes an entry
    page.get_by_test_id("kb-unanswered").click()
    groups = page.get_by_test_id("kb-group")
    expect(groups).to_have_count(2)
    invoice = groups.filter(has_text="可以开发票吗")
    expect(invoice).to_contain_text("2 次")
    expect(invoice).to_contain_text("能开发票吗")
    expect(groups.filter(has_text="onerror")).to_contain_text(HOSTILE)  # shown as text
    invoice.get_by_text("添加为新问答", exact=True).first.click()
    expect(invoice.get_by_label("问法(每行一个)")).to_have_value("可以开发票吗\n能开发票吗")
    invoice.get_by_label("答案").fill("可以的亲,支持电子普通发票,1-3个工作日发到订单里~")
    invoice.get_by_role("button", name="添加为新问答").click()
    expect(page.get_by_test_id("kb-notice")).to_contain_text("已添加为新问答。")
    expect(page.get_by_test_id("kb-group")).to_have_count(1)
    screenshot(page, "kb-unanswered")
    page.get_by_test_id("nav-kb").click()
    expect(page.get_by_test_id("kb-total")).to_have_text("共 2 条")
    expect(page.get_by_test_id("kb-entries")).to_contain_text("能开发票吗")
    with uow_factory() as uow:
        decision = kb.find_answer(uow.session, shop_id=shop_id, text="能开发票吗?")
    assert decision.answer is not None
    assert decision.answer.answer.startswith("可以的亲,支持电子普通发票")
    assert alerts == []
