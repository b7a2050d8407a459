"""An owner imports the shop's orders from a spreadsheet in a real browser: a file with one
bad row is refused whole and the row is named; fixed, it imports and the order is listed."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from kefu.commerce import ingest
from kefu.commerce.models import Order
from kefu.commerce.schemas import ProductIn, VariantSpec
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, screenshot
from tests.factories import PASSWORD, make_shop_with_staff

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]

UowFactory = Callable[[], UnitOfWork]
HEADER = "订单号,买家ID,买家,状态,下单时间,付款时间,收货人,收货电话,收货地址,商品SKU,数量,单价\n"
GOOD_ROW = (
    "20261122001,u-1,王小丫,已付款,2026-11-22 20:15,2026-11-22 20:16,"
    "王小丫,13800138000,杭州市西湖区文三路 1 号,HD001-BK-M,1,139\n"
)


def test_an_owner_imports_orders_and_a_bad_row_imports_nothing(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, tmp_path: Path
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    with uow_factory() as uow:
        ingest.upsert_products(
            uow,
            shop_id=staff.shop.id,
            items=[
                ProductIn(
                    sku="HD001",
                    title="加绒卫衣 圆领宽松",
                    price=Decimal("139.00"),
                    variants=(VariantSpec(sku="HD001-BK-M", size="M", colour="黑色", stock=9),),
                    images=("https://img.example.com/hd001.jpg",),
                )
            ],
        )

    page.goto(live_server.url + "/commerce/orders")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Fcommerce%2Forders")
    page.get_by_label("店铺代码").fill("mianli")
    page.get_by_label("邮箱").fill(staff.owner.email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(live_server.url + "/commerce/orders")
    expect(page.get_by_test_id("orders-total")).to_have_text("共 0 个订单")

    # --- one bad row (row 3: a second line with an unknown SKU): named, nothing imported
    broken = tmp_path / "订单.csv"
    broken.write_bytes(
        (HEADER + GOOD_ROW + "20261122001,,,,,,,,,NO-SUCH-SKU,1,\n").encode("gb18030")
    )
    page.get_by_test_id("commerce-import").click()
    expect(page.get_by_label("订单", exact=True)).to_be_checked()
    page.get_by_label("文件").set_input_files(str(broken))
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-error")).to_have_text("有 1 处问题,没有导入任何内容")
    problems = page.get_by_test_id("import-problems").locator("li")
    expect(problems).to_have_count(1)
    expect(problems).to_contain_text("第 3 行「商品SKU」")
    expect(problems).to_contain_text("NO-SUCH-SKU")
    screenshot(page, "commerce-import-errors")
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(Order.id))) == 0

    # --- fixed, it imports, and the order is in the list and opens in full
    fixed = tmp_path / "订单-改.csv"
    fixed.write_bytes((HEADER + GOOD_ROW).encode("utf-8-sig"))
    page.get_by_label("订单", exact=True).check()
    page.get_by_label("文件").set_input_files(str(fixed))
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("已导入 1 行,共 1 个订单")
    expect(page.get_by_test_id("import-result")).to_contain_text("新增 1")
    screenshot(page, "commerce-import-done")
    page.get_by_test_id("import-see").click()
    expect(page.get_by_test_id("orders-total")).to_have_text("共 1 个订单")
    row = page.get_by_test_id("orders").locator("tbody tr")
    expect(row).to_contain_text("20261122001")
    expect(row).to_contain_text("王小丫")
    expect(row).to_contain_text("待发货")
    row.get_by_role("link", name="20261122001").click()
    expect(page.get_by_role("heading", name="订单 20261122001")).to_be_visible()
    expect(page.get_by_test_id("order-timeline")).to_contain_text("2026-11-22 20:15")
    expect(page.get_by_test_id("order-shipping")).to_contain_text("杭州市西湖区文三路 1 号")
    screenshot(page, "commerce-order")
    page.get_by_test_id("nav-group-sales").click()  # the 销售与售后 menu opens
    page.get_by_test_id("nav-products").click()
    expect(page.get_by_test_id("products").locator("tbody tr")).to_contain_text("HD001")
    screenshot(page, "commerce-products")
