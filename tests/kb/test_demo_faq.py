"""The demo shop's knowledge base: believable, consistent, and it answers the classics."""

from __future__ import annotations

from collections import Counter

from kefu.demo import seed_demo_shop
from kefu.demo.faq import entries
from kefu.kb import service as kb
from tests.kb.conftest import UowFactory


def test_the_demo_kb_answers_what_buyers_of_a_home_wear_shop_ask(uow_factory: UowFactory) -> None:
    summary = seed_demo_shop(uow_factory)
    assert 110 <= summary.faq_entries == len(entries()) <= 160
    assert all(2 <= len(item["questions"]) <= 4 for item in entries())
    assert sum("{customer_name}" in item["answer"] for item in entries()) >= 3
    categories = Counter(item["category"] for item in entries())
    topics = "尺码 面料 洗护 库存 发货 快递 运费险 退换 退款 优惠 会员 发票 订单 赠品 预售 包装"
    assert set(topics.split()) <= set(categories)
    shop_id = summary.shop_id
    with uow_factory() as uow:
        session = uow.session
        assert kb.count_entries(session, shop_id=shop_id) == summary.faq_entries
        expected = {
            "这件卫衣有XL吗": "加绒卫衣有S到XXL",
            "能便宜点吗": "满199减20",  # seed 001: hold the price, point to the offers
            "便宜点呗": "小礼品",
            "怎么还没发货": "48小时内一定发出",
            "发顺丰要加钱吗": "补运费差价",
            "有运费险吗": "都送运费险",
            "支持七天无理由吗": "7天内",
            "退款多久到账": "24小时内",
            "能开发票吗": "电子普通发票",
            "地址填错了": "未发货的订单可以改",
            "会员打几折": "VIP3享9.8折",
        }
        for question, says in expected.items():
            decision = kb.find_answer(session, shop_id=shop_id, text=question)
            assert decision.answer is not None, question
            assert says in decision.answer.answer, question
        # Addressed by name where the answer says so.
        hurry = kb.find_answer(session, shop_id=shop_id, text="怎么还没发货").answer
        assert hurry is not None
        assert kb.render_answer(hurry.answer, {"customer_name": "王女士"}).startswith("王女士,")
        report = kb.lint(session, shop_id=shop_id)
        assert (report.duplicates, report.contradictions) == ([], [])
        assert len(report.misplaced) <= 6  # a few real look-alikes, to show what lint finds
