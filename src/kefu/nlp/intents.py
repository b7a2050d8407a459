"""What the buyer wants: the 118 intents of the CIC benchmark, who handles each, and the
model that reads them.

The intent names are CIC's own (``买家咨询物流信息`` …), kept verbatim so figures stay
comparable with the published ones. Each intent has a route: the shop team that answers it
(``presale`` 售前, ``aftersale`` 售后, ``complaints`` 投诉, ``promotion`` 推广, ``shipping`` 发货)
and, when the bot or the desk can act on it directly, an ``Action``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

import numpy as np

from kefu.nlp.features import FeatureSpec, FloatArray, LinearModel, softmax

ARTIFACTS = Path(__file__).parent / "artifacts"
INTENT_ARTIFACT = ARTIFACTS / "intent"

LABELS: tuple[str, ...] = (  # CIC labels.txt, in its order
    "买家抱怨商品涨价了",
    "买家表达不满/生气",
    "买家表达赞美/满意",
    "买家表示不想要了",
    "买家表示地址正确",
    "买家表示好的",
    "买家表示具体时间寄回去",
    "买家表示麻烦卖家，表达感谢",
    "买家表示马上下单付款",
    "买家表示拍错了",
    "买家表示伤心难过",
    "买家表示商家发错地址",
    "买家表示商家发错货了",
    "买家表示商品已经寄回去了",
    "买家表示稍等",
    "买家表示是老顾客",
    "买家表示收件信息不需要修改了",
    "买家表示送人的",
    "买家表示无法申请退款",
    "买家表示无法下单",
    "买家表示物流太慢了",
    "买家表示先买来试试",
    "买家表示需要退货退款",
    "买家表示要重拍",
    "买家表示已经收到货了",
    "买家表示已下单付款",
    "买家表示优惠券无法使用",
    "买家表示有疑问/不理解",
    "买家表示再看看",
    "买家催促发货",
    "买家催促回复",
    "买家打招呼",
    "买家对特定款式/颜色表达喜好",
    "买家发送结束语",
    "买家发送开票信息",
    "买家发送支付宝账号",
    "买家反馈收到的商品有问题",
    "买家确认地址是否修改成功",
    "买家讨价还价",
    "买家向商家表达不好意思",
    "买家需要商品推荐",
    "买家要求补偿",
    "买家要求发货检查",
    "买家要求改商品信息",
    "买家要求改运费",
    "买家要求核对订单信息",
    "买家要求取消退换货退款",
    "买家要求添加商家微信",
    "买家要求退运费",
    "买家要求修改收件信息",
    "买家要求延迟发货",
    "买家要求延长收货时间",
    "买家咨询补货/上货时间",
    "买家咨询到货时间",
    "买家咨询发货时间",
    "买家咨询发什么快递",
    "买家咨询返现方式",
    "买家咨询返现金额",
    "买家咨询返现时间",
    "买家咨询换货发货时间",
    "买家咨询活动规则",
    "买家咨询快递单号",
    "买家咨询买多件能否优惠",
    "买家咨询哪款更好",
    "买家咨询能否到付",
    "买家咨询能否定制",
    "买家咨询能否分开/一起发货",
    "买家咨询能否开发票及发票类型和寄送时间",
    "买家咨询能否提前享受优惠",
    "买家咨询偏远地区是否发货",
    "买家咨询如何加入会员",
    "买家咨询如何领取优惠券",
    "买家咨询如何下单",
    "买家咨询商家发货地",
    "买家咨询商家是否收到寄回的商品",
    "买家咨询商品包装",
    "买家咨询商品产地",
    "买家咨询商品的材质/面料",
    "买家咨询商品的色差问题",
    "买家咨询商品规格数量",
    "买家咨询商品价格",
    "买家咨询商品具体尺码尺寸",
    "买家咨询商品区别",
    "买家咨询商品上新时间",
    "买家咨询商品是不是预售款",
    "买家咨询商品是否可以单买/单卖",
    "买家咨询商品是否有赠品",
    "买家咨询商品是否有质保，质保多久",
    "买家咨询商品是什么颜色",
    "买家咨询商品质量是否有保障",
    "买家咨询商品重量",
    "买家咨询什么颜色好看",
    "买家咨询是否可以打折",
    "买家咨询是否可以发顺丰",
    "买家咨询是否可以改价",
    "买家咨询是否可以拒收",
    "买家咨询是否可以微信支付",
    "买家咨询是否可以指定快递",
    "买家咨询是否有好评返现",
    "买家咨询是否有活动",
    "买家咨询是否有买家秀",
    "买家咨询是否有实体店",
    "买家咨询是否有味道",
    "买家咨询退换货地址",
    "买家咨询退换货规则",
    "买家咨询退换货运费由谁承担",
    "买家咨询退换货支持快递",
    "买家咨询退货退款原因选什么",
    "买家咨询退款金额",
    "买家咨询退款去向",
    "买家咨询退款时间",
    "买家咨询物流信息",
    "买家咨询优惠券使用规则",
    "买家咨询运费金额",
    "买家咨询运费险赔付规则",
    "买家咨询赠品何时发货",
    "买家咨询赠品是否可以自选",
    "买家咨询自己的旺旺昵称",
)


class Team(StrEnum):
    PRESALE = "presale"  # 售前: products, prices, placing and changing orders
    AFTERSALE = "aftersale"  # 售后: returns, refunds, invoices, problems after delivery
    COMPLAINTS = "complaints"  # 投诉: anger, seller mistakes, compensation
    PROMOTION = "promotion"  # 推广: campaigns, coupons, gifts, cashback
    SHIPPING = "shipping"  # 发货: dispatch, couriers, tracking, addresses


class Action(StrEnum):
    """Things the bot or the desk can do (or look up) for an intent, not just answer."""

    ORDER_STATUS = "order_status"  # look up tracking
    SHIPPING_TIME = "shipping_time"  # when it ships / arrives
    ADDRESS_CHANGE = "address_change"
    CANCEL_ORDER = "cancel_order"  # includes "ordered the wrong one, will re-order"
    ORDER_CHANGE = "order_change"  # size, colour or item of an unshipped order
    ORDER_HELP = "order_help"  # how to order, cannot order
    REFUND_REQUEST = "refund_request"
    REFUND_STATUS = "refund_status"  # how much, where to, when; was the return received
    RETURN_REQUEST = "return_request"  # returns and their rules, address, courier, postage
    CANCEL_RETURN = "cancel_return"
    EXCHANGE_REQUEST = "exchange_request"
    PRODUCT_PROBLEM = "product_problem"
    COMPENSATION = "compensation"
    COUPON_PROBLEM = "coupon_problem"
    CASHBACK = "cashback"
    BARGAIN = "bargain"
    PRICE_CHANGE = "price_change"  # the seller edits the order's price or postage
    INVOICE = "invoice"
    COURIER_CHOICE = "courier_choice"
    DELAY_SHIPPING = "delay_shipping"
    HUMAN_REQUESTED = "human_requested"  # "人呢": the buyer wants a person to answer


@dataclass(frozen=True, slots=True)
class IntentRoute:
    team: str  # a Team value
    action: str | None = None  # an Action value

    def __post_init__(self) -> None:
        Team(self.team)  # an unknown code is a bug in a route table: fail loudly
        if self.action is not None:
            Action(self.action)


def _route(team: Team, action: Action | None) -> IntentRoute:
    return IntentRoute(team, action)


DEFAULT_ROUTES: Mapping[str, IntentRoute] = MappingProxyType(
    {
        "买家抱怨商品涨价了": _route(Team.PRESALE, Action.BARGAIN),
        "买家表达不满/生气": _route(Team.COMPLAINTS, None),
        "买家表达赞美/满意": _route(Team.AFTERSALE, None),
        "买家表示不想要了": _route(Team.AFTERSALE, Action.CANCEL_ORDER),
        "买家表示地址正确": _route(Team.SHIPPING, None),
        "买家表示好的": _route(Team.PRESALE, None),
        "买家表示具体时间寄回去": _route(Team.AFTERSALE, Action.RETURN_REQUEST),
        "买家表示麻烦卖家，表达感谢": _route(Team.PRESALE, None),
        "买家表示马上下单付款": _route(Team.PRESALE, None),
        "买家表示拍错了": _route(Team.PRESALE, Action.CANCEL_ORDER),
        "买家表示伤心难过": _route(Team.COMPLAINTS, None),
        "买家表示商家发错地址": _route(Team.COMPLAINTS, Action.ADDRESS_CHANGE),
        "买家表示商家发错货了": _route(Team.COMPLAINTS, Action.EXCHANGE_REQUEST),
        "买家表示商品已经寄回去了": _route(Team.AFTERSALE, Action.RETURN_REQUEST),
        "买家表示稍等": _route(Team.PRESALE, None),
        "买家表示是老顾客": _route(Team.PRESALE, Action.BARGAIN),
        "买家表示收件信息不需要修改了": _route(Team.SHIPPING, Action.ADDRESS_CHANGE),
        "买家表示送人的": _route(Team.PRESALE, None),
        "买家表示无法申请退款": _route(Team.AFTERSALE, Action.REFUND_REQUEST),
        "买家表示无法下单": _route(Team.PRESALE, Action.ORDER_HELP),
        "买家表示物流太慢了": _route(Team.SHIPPING, Action.ORDER_STATUS),
        "买家表示先买来试试": _route(Team.PRESALE, None),
        "买家表示需要退货退款": _route(Team.AFTERSALE, Action.RETURN_REQUEST),
        "买家表示要重拍": _route(Team.PRESALE, Action.CANCEL_ORDER),
        "买家表示已经收到货了": _route(Team.AFTERSALE, None),
        "买家表示已下单付款": _route(Team.SHIPPING, None),
        "买家表示优惠券无法使用": _route(Team.PROMOTION, Action.COUPON_PROBLEM),
        "买家表示有疑问/不理解": _route(Team.PRESALE, None),
        "买家表示再看看": _route(Team.PRESALE, None),
        "买家催促发货": _route(Team.SHIPPING, Action.SHIPPING_TIME),
        "买家催促回复": _route(Team.PRESALE, Action.HUMAN_REQUESTED),
        "买家打招呼": _route(Team.PRESALE, None),
        "买家对特定款式/颜色表达喜好": _route(Team.PRESALE, None),
        "买家发送结束语": _route(Team.PRESALE, None),
        "买家发送开票信息": _route(Team.AFTERSALE, Action.INVOICE),
        "买家发送支付宝账号": _route(Team.PROMOTION, Action.CASHBACK),
        "买家反馈收到的商品有问题": _route(Team.AFTERSALE, Action.PRODUCT_PROBLEM),
        "买家确认地址是否修改成功": _route(Team.SHIPPING, Action.ADDRESS_CHANGE),
        "买家讨价还价": _route(Team.PRESALE, Action.BARGAIN),
        "买家向商家表达不好意思": _route(Team.PRESALE, None),
        "买家需要商品推荐": _route(Team.PRESALE, None),
        "买家要求补偿": _route(Team.COMPLAINTS, Action.COMPENSATION),
        "买家要求发货检查": _route(Team.SHIPPING, None),
        "买家要求改商品信息": _route(Team.PRESALE, Action.ORDER_CHANGE),
        "买家要求改运费": _route(Team.PRESALE, Action.PRICE_CHANGE),
        "买家要求核对订单信息": _route(Team.PRESALE, Action.ORDER_CHANGE),
        "买家要求取消退换货退款": _route(Team.AFTERSALE, Action.CANCEL_RETURN),
        "买家要求添加商家微信": _route(Team.PRESALE, None),
        "买家要求退运费": _route(Team.AFTERSALE, Action.REFUND_REQUEST),
        "买家要求修改收件信息": _route(Team.SHIPPING, Action.ADDRESS_CHANGE),
        "买家要求延迟发货": _route(Team.SHIPPING, Action.DELAY_SHIPPING),
        "买家要求延长收货时间": _route(Team.AFTERSALE, None),
        "买家咨询补货/上货时间": _route(Team.PRESALE, None),
        "买家咨询到货时间": _route(Team.SHIPPING, Action.SHIPPING_TIME),
        "买家咨询发货时间": _route(Team.SHIPPING, Action.SHIPPING_TIME),
        "买家咨询发什么快递": _route(Team.SHIPPING, Action.COURIER_CHOICE),
        "买家咨询返现方式": _route(Team.PROMOTION, Action.CASHBACK),
        "买家咨询返现金额": _route(Team.PROMOTION, Action.CASHBACK),
        "买家咨询返现时间": _route(Team.PROMOTION, Action.CASHBACK),
        "买家咨询换货发货时间": _route(Team.AFTERSALE, Action.EXCHANGE_REQUEST),
        "买家咨询活动规则": _route(Team.PROMOTION, None),
        "买家咨询快递单号": _route(Team.SHIPPING, Action.ORDER_STATUS),
        "买家咨询买多件能否优惠": _route(Team.PRESALE, Action.BARGAIN),
        "买家咨询哪款更好": _route(Team.PRESALE, None),
        "买家咨询能否到付": _route(Team.SHIPPING, None),
        "买家咨询能否定制": _route(Team.PRESALE, None),
        "买家咨询能否分开/一起发货": _route(Team.SHIPPING, None),
        "买家咨询能否开发票及发票类型和寄送时间": _route(Team.AFTERSALE, Action.INVOICE),
        "买家咨询能否提前享受优惠": _route(Team.PROMOTION, None),
        "买家咨询偏远地区是否发货": _route(Team.SHIPPING, None),
        "买家咨询如何加入会员": _route(Team.PROMOTION, None),
        "买家咨询如何领取优惠券": _route(Team.PROMOTION, None),
        "买家咨询如何下单": _route(Team.PRESALE, Action.ORDER_HELP),
        "买家咨询商家发货地": _route(Team.SHIPPING, None),
        "买家咨询商家是否收到寄回的商品": _route(Team.AFTERSALE, Action.REFUND_STATUS),
        "买家咨询商品包装": _route(Team.PRESALE, None),
        "买家咨询商品产地": _route(Team.PRESALE, None),
        "买家咨询商品的材质/面料": _route(Team.PRESALE, None),
        "买家咨询商品的色差问题": _route(Team.PRESALE, None),
        "买家咨询商品规格数量": _route(Team.PRESALE, None),
        "买家咨询商品价格": _route(Team.PRESALE, None),
        "买家咨询商品具体尺码尺寸": _route(Team.PRESALE, None),
        "买家咨询商品区别": _route(Team.PRESALE, None),
        "买家咨询商品上新时间": _route(Team.PRESALE, None),
        "买家咨询商品是不是预售款": _route(Team.PRESALE, None),
        "买家咨询商品是否可以单买/单卖": _route(Team.PRESALE, None),
        "买家咨询商品是否有赠品": _route(Team.PROMOTION, None),
        "买家咨询商品是否有质保，质保多久": _route(Team.PRESALE, None),
        "买家咨询商品是什么颜色": _route(Team.PRESALE, None),
        "买家咨询商品质量是否有保障": _route(Team.PRESALE, None),
        "买家咨询商品重量": _route(Team.PRESALE, None),
        "买家咨询什么颜色好看": _route(Team.PRESALE, None),
        "买家咨询是否可以打折": _route(Team.PRESALE, Action.BARGAIN),
        "买家咨询是否可以发顺丰": _route(Team.SHIPPING, Action.COURIER_CHOICE),
        "买家咨询是否可以改价": _route(Team.PRESALE, Action.PRICE_CHANGE),
        "买家咨询是否可以拒收": _route(Team.AFTERSALE, Action.RETURN_REQUEST),
        "买家咨询是否可以微信支付": _route(Team.PRESALE, None),
        "买家咨询是否可以指定快递": _route(Team.SHIPPING, Action.COURIER_CHOICE),
        "买家咨询是否有好评返现": _route(Team.PROMOTION, Action.CASHBACK),
        "买家咨询是否有活动": _route(Team.PROMOTION, None),
        "买家咨询是否有买家秀": _route(Team.PRESALE, None),
        "买家咨询是否有实体店": _route(Team.PRESALE, None),
        "买家咨询是否有味道": _route(Team.PRESALE, None),
        "买家咨询退换货地址": _route(Team.AFTERSALE, Action.RETURN_REQUEST),
        "买家咨询退换货规则": _route(Team.AFTERSALE, Action.RETURN_REQUEST),
        "买家咨询退换货运费由谁承担": _route(Team.AFTERSALE, Action.RETURN_REQUEST),
        "买家咨询退换货支持快递": _route(Team.AFTERSALE, Action.RETURN_REQUEST),
        "买家咨询退货退款原因选什么": _route(Team.AFTERSALE, Action.RETURN_REQUEST),
        "买家咨询退款金额": _route(Team.AFTERSALE, Action.REFUND_STATUS),
        "买家咨询退款去向": _route(Team.AFTERSALE, Action.REFUND_STATUS),
        "买家咨询退款时间": _route(Team.AFTERSALE, Action.REFUND_STATUS),
        "买家咨询物流信息": _route(Team.SHIPPING, Action.ORDER_STATUS),
        "买家咨询优惠券使用规则": _route(Team.PROMOTION, None),
        "买家咨询运费金额": _route(Team.SHIPPING, None),
        "买家咨询运费险赔付规则": _route(Team.AFTERSALE, None),
        "买家咨询赠品何时发货": _route(Team.SHIPPING, Action.SHIPPING_TIME),
        "买家咨询赠品是否可以自选": _route(Team.PROMOTION, None),
        "买家咨询自己的旺旺昵称": _route(Team.PRESALE, None),
    }
)

# Intents that are themselves a complaint (the buyer is unhappy with the shop, the goods or
# the delivery); with enough confidence they make a message angry.
COMPLAINT_INTENTS: frozenset[str] = frozenset(
    {
        "买家表达不满/生气",
        "买家表示伤心难过",
        "买家表示商家发错地址",
        "买家表示商家发错货了",
        "买家表示物流太慢了",
        "买家反馈收到的商品有问题",
        "买家要求补偿",
        "买家抱怨商品涨价了",
    }
)


class IntentModel:
    """A linear model over character n-grams (and words) with calibrated probabilities."""

    def __init__(self, linear: LinearModel, spec: FeatureSpec, labels: Sequence[str]) -> None:
        if linear.outputs != len(labels):
            raise ValueError(f"model has {linear.outputs} outputs for {len(labels)} labels")
        self._linear = linear
        self._spec = spec
        self.labels: tuple[str, ...] = tuple(labels)

    def probabilities(self, text: str, words: Sequence[str]) -> FloatArray:
        """P(intent) for each of ``labels``; ``text`` is normalised (``text.normalize``)."""
        return softmax(self._linear.scores(self._spec.tokens(text, words)))

    def predict(
        self, text: str, words: Sequence[str], *, limit: int | None = None
    ) -> tuple[tuple[str, float], ...]:
        """(intent, probability) pairs, most probable first."""
        probabilities = self.probabilities(text, words)
        order = np.argsort(-probabilities, kind="stable")
        if limit is not None:
            order = order[:limit]
        return tuple((self.labels[i], float(probabilities[i])) for i in order)


_cache: dict[Path, IntentModel] = {}
_lock = threading.Lock()


def load_intent_model(path: Path | None = None) -> IntentModel:
    """The model at ``path`` (``.npz`` + ``.json`` stem; default: the shipped one), cached."""
    stem = (path or INTENT_ARTIFACT).with_suffix("")
    with _lock:
        if stem not in _cache:
            linear, meta = LinearModel.load(stem)
            labels = tuple(meta["labels"])
            if path is None and labels != LABELS:
                raise ValueError("the shipped intent model does not match LABELS")
            _cache[stem] = IntentModel(linear, FeatureSpec.from_json(meta["features"]), labels)
        return _cache[stem]
