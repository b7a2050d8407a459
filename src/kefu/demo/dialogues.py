"""Past conversations of the demo shop, written the way the best agents answer (seed 001).

Each script is a list of lines: ``B:`` the buyer, ``A:`` the agent, ``R:`` the bot and
``N:`` a private note for colleagues. ``{placeholders}`` are filled from the order and the
buyer the conversation is about. The agents apologise first to an unhappy buyer, ask for
the order number, offer a concrete remedy (exchange, refund, a gift), hold the price when
a buyer bargains (pointing to coupons, VIP prices and small gifts instead), and never blame
the courier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from kefu.commerce.models import OrderStatus


@dataclass(frozen=True)
class Script:
    key: str
    team: str  # the queue it lands in (team code)
    subject: str
    lines: tuple[str, ...]
    # What the conversation is about: an order in one of these statuses, talked about
    # between ``anchor`` + ``window``; or, for anchor "before", the order the buyer placed
    # right after the chat (none when the conversation is still open).
    statuses: tuple[OrderStatus, ...] = ()
    anchor: str = "before"
    window: tuple[timedelta, timedelta] = (timedelta(hours=-4), timedelta(minutes=-3))
    # What the product must be: "letters" (S–XXXL), "bigger" (and not the largest size),
    # "clothes" (any clothing sizes), "colours" (more than one), "pilling" (knitwear that
    # can pill) or "bedding" (a bed set).
    needs: str = ""
    closed: int = 1  # how many finished conversations use it
    open_keep: int = 0  # lines of the one left waiting in the queue (0: none left open)


def _lines(text: str) -> tuple[str, ...]:
    """One entry per ``X:`` line; a line without a speaker continues the one before."""
    lines: list[str] = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        if line[:2] in ("B:", "A:", "R:", "N:"):
            lines.append(line)
        else:
            lines[-1] += line
    return tuple(lines)


H = timedelta(hours=1)
D = timedelta(days=1)

SCRIPTS: tuple[Script, ...] = (
    Script(
        "size_advice",
        "presale",
        "尺码咨询",
        _lines("""
        B:在吗?{product}我身高{height}体重{weight}斤,穿什么码合适呀
        A:亲,在的~ 我是{agent}。按您的身高体重,这款建议拍{size}码;版型偏宽松,
          喜欢修身一点也可以拍小一码哦
        B:我肩比较宽,会不会紧
        A:不会的亲,这款版型比较宽松,抬手活动都很自如。您可以拿一件平时常穿的衣服平铺量一下胸围,
          和详情页的尺码表对比一下,更准确~
        B:好的,那我拍{colour}{size}码
        A:好嘞亲,{colour}是我们家卖得很好的颜色~ 16点前付款当天就能发出,收到不合适7天无理由退换,
          还送运费险,您放心
        """),
        needs="letters",
        closed=3,
        open_keep=1,
    ),
    Script(
        "size_advice_traditional",
        "presale",
        "尺码咨询",
        _lines("""
        B:請問這件{product}有沒有{size}?我身高{height},體重{weight}斤
        A:亲,有的哦~ 按您的身高体重穿{size}码正合适,{colour}{size}码目前有现货
        B:會不會縮水?
        A:纯棉面料第一次洗会有轻微缩水,大约1%-2%,不影响穿着;建议30度以下冷水洗、反面晾晒就可以啦
        B:好的謝謝
        A:不客气亲~ 喜欢的话可以先收藏店铺,上新会第一时间通知您
        """),
        needs="letters",
    ),
    Script(
        "out_of_stock",
        "presale",
        "缺货咨询",
        _lines("""
        B:{product}的{other_colour}{size_label}什么时候有货啊?页面显示没货了
        A:亲,非常抱歉,{other_colour}{size_label}这批卖得太快,暂时断货了,预计下周三到货
        A:同款的{colour}{size_label}现在有现货,上身效果也很好看,很多买家是两个颜色一起入的,您可以看看~
        B:{colour}实物和图片有色差吗
        A:亲,我们的图片都是自然光实拍的,实物和图片基本一致,屏幕不同可能有一点点差别~
          您也可以先收藏店铺,{other_colour}到货后会第一时间通知您😊
        B:那先拍个{colour}吧
        A:好的亲,感谢支持!有任何问题随时找{agent}~
        """),
        needs="colours",
        closed=2,
    ),
    Script(
        "when_ship",
        "shipping",
        "什么时候发货",
        _lines("""
        B:我昨天拍的{product}什么时候发货啊?怎么还没动静
        A:亲,让您久等了,非常抱歉!我查了一下,您的订单{order_no}已经在仓库打包了
        A:今天17点前一定发出,发出后订单详情里就能看到物流进度~
        B:能发顺丰吗?着急穿
        A:可以的亲,这单我给您备注优先发顺丰,运费差价不用您补了,算是让您久等的一点心意🙏
        B:好的,谢谢
        A:不客气,有任何问题随时找我~
        """),
        statuses=(OrderStatus.PAID,),
        anchor="paid_at",
        window=(12 * H, 4 * D),
        closed=2,
        open_keep=1,
    ),
    Script(
        "where_parcel",
        "shipping",
        "物流查询",
        _lines("""
        B:你好,我的快递到哪了?{order_no}
        A:亲,您好~ 我帮您查一下,请稍等
        A:您的包裹由{courier}承运,运单号{tracking_no},目前已经到达{city}转运中心,预计明天送达,
          派送前快递员会联系您
        B:好的 明天白天家里没人怎么办
        A:亲,可以跟派件员约一下放驿站或快递柜,我这边也帮您在物流上备注了"放驿站",
          取件时留意一下短信就好~
        B:ok 谢谢
        A:不客气亲,收到后有任何问题随时找我哦😊
        """),
        statuses=(OrderStatus.SHIPPED, OrderStatus.DELIVERED),
        anchor="shipped_at",
        window=(18 * H, 4 * D),
        closed=3,
        open_keep=1,
    ),
    Script(
        "coupon",
        "promotion",
        "优惠券",
        _lines("""
        B:现在有什么优惠活动吗?想买{product}
        A:亲,欢迎光临~ 现在店铺有满199减20、满399减50的优惠券,在商品页领取后下单自动抵扣
        A:新客首单还能用一张10元新人券;VIP3及以上会员下单还有额外的会员折扣哦
        B:优惠券能叠加吗
        A:满减券和新人券不能同时用,
          系统会自动帮您选最划算的那张~ {product}再加一件{addon}刚好能凑满减,很多买家都这样搭配
        B:那我凑一下
        A:好嘞,有需要随时找我~
        """),
        closed=2,
        open_keep=4,
    ),
    Script(
        "bargain",
        "presale",
        "议价",
        _lines("""
        B:老板,{product}能便宜点吗?买两件打个折呗
        A:亲,非常感谢您喜欢我们家的{product}~ 这款已经是活动价了,价格上确实没办法再优惠了哦
        A:不过现在店铺有满199减20的券,两件正好能用上;下单备注"赠品",我再送您一双棉袜,一点小心意😊
        B:就不能少10块吗
        A:亲,价格对每位买家都是一样的,这个真做不了主呢~ 我们支持7天无理由退换,还送运费险,
          收到不满意随时可以退,您放心买
        B:好吧,那我拍了
        A:好的亲,已经给您备注好赠品啦,感谢支持!
        """),
        closed=2,
    ),
    Script(
        "bargain_competitor",
        "promotion",
        "议价",
        _lines("""
        B:别家同款才卖{cheap}块,你们家怎么贵这么多
        A:亲,理解您货比三家~ 我们家的{product}是自己工厂生产的,面料有检测报告,
          做工和用料您收到一摸就知道区别
        A:而且我们支持7天无理由退换、送运费险,售后有保障;VIP3及以上会员下单还能享受会员折扣
        B:会员打几折
        A:VIP3是9.8折,VIP4是9.5折,VIP5是9.2折,下单时系统自动计算;这单我再送您一份小礼品。
          欢迎先收藏店铺,上新和活动会第一时间通知您~
        B:行吧 我试试
        A:感谢亲的信任,收到有任何问题随时找我😊
        """),
    ),
    Script(
        "complaint_quality",
        "complaints",
        "质量投诉",
        _lines("""
        B:你们的东西质量真的太差了!{product}洗了一次就起球,和详情页说的完全不一样,我要退款!
        A:亲,非常抱歉我们的商品给您带来了不好的体验,您先别着急,这个问题{agent}一定帮您处理好。
          麻烦您把订单号发给我好吗?
        B:{order_no}
        A:收到,已经查到您的订单了:{product}({colour} {size})。方便的话拍一张起球位置的照片给我,
          我这边登记一下
        B:[图片]
        A:看到了,是我们质检没有把好关,真的很抱歉。您看这样好不好:如果您还喜欢这款,
          我们马上给您换一件新的;如果不想要了,我们直接为您办理退款,来回运费都由我们承担
        B:换一件吧,别再这样了
        A:好的亲,已经为您登记换货,新的一件今天下午从仓库发出,快递员会上门取回原来那件,
          您不用垫付运费。另外给您备注了一份小礼物作为补偿,再次向您道歉🙏
        N:已登记换货 {order_no},仓库今天优先发出新件并附赠毛巾一条;起球问题已反馈给面料供应商。
        B:行吧,谢谢
        A:不客气亲,新的收到后有任何问题随时找我
        """),
        statuses=(OrderStatus.DELIVERED,),
        anchor="delivered_at",
        window=(4 * H, 6 * D),
        needs="pilling",
        closed=2,
        open_keep=1,
    ),
    Script(
        "complaint_damaged",
        "complaints",
        "包裹破损",
        _lines("""
        B:收到的{product}外包装都压烂了,被套上还有一块污渍!!!你们怎么发货的😡
        A:亲,真的非常抱歉!让您收到这样的包裹,是我们打包不够仔细,这个责任在我们。
          麻烦您把订单号和污渍的照片发给我,我马上为您处理
        B:{order_no} 照片发你了
        A:收到,看到照片了,实在抱歉。如果您还需要这套{product},我们今天就给您补发一套全新的,
          原来那套不用寄回;如果您不想要了,我们直接全额退款。您看哪种方式更方便?
        B:补发吧
        A:好的亲,已经为您安排补发,今天就发出,我们会加厚包装。物流单号出来后我第一时间发给您
        N:补发 {order_no} 一套,仓库打包加护角和防水袋。
        B:好
        A:再次抱歉给您添麻烦了,收到后有任何问题直接找我,{agent}一直在🙏
        """),
        statuses=(OrderStatus.DELIVERED,),
        anchor="delivered_at",
        window=(2 * H, 3 * D),
        needs="bedding",
        open_keep=1,
    ),
    Script(
        "exchange_size",
        "aftersale",
        "换码",
        _lines("""
        B:亲,{product}收到了,{size}码有点小,能换大一码吗
        A:可以的亲~ 收货7天内,吊牌完好、不影响二次销售都可以换。麻烦提供一下订单号哦
        B:{order_no}
        A:查到了,您买的是{colour}{size}码,帮您换成{bigger}码可以吗?{colour}{bigger}码目前有现货
        B:可以,怎么寄回
        A:您在订单里点"申请售后-换货",填好寄回的快递单号就行;您的订单有运费险,寄回运费会自动理赔。
          我们收到后24小时内把{bigger}码发出~
        B:好的
        A:感谢亲的理解,给您添麻烦了,换货过程中有任何问题随时找我😊
        """),
        statuses=(OrderStatus.DELIVERED,),
        anchor="delivered_at",
        window=(3 * H, 6 * D),
        needs="bigger",
        closed=3,
    ),
    Script(
        "refund_progress",
        "aftersale",
        "退款进度",
        _lines("""
        B:我申请的退款怎么还没到账?都好几天了
        A:亲,让您久等了,非常抱歉!麻烦发一下订单号,我马上帮您查
        B:{order_no}
        A:查到了亲,您的退款申请我们已经同意,仓库收到退回的包裹后24小时内原路退回{total}元;
          我已经让仓库优先签收处理
        B:那大概什么时候能到
        A:仓库签收后当天审核,原路退回支付宝一般即时到账,最晚不超过48小时。到账前我会一直跟进,
          有进展第一时间告诉您
        B:好的
        """),
        statuses=(OrderStatus.REFUNDING,),
        anchor="paid_at",
        window=(2 * D, 20 * D),
        closed=2,
        open_keep=1,
    ),
    Script(
        "payment_reminder",
        "presale",
        "催付",
        _lines("""
        A:亲,您好~ 我是{shop}的{agent}。看到您拍下了{product}还没有付款,是遇到什么问题了吗?
        A:这款{colour}{size_label}库存不多了,现在付款今天就能发出哦;对尺码还有疑问的话可以随时问我~
        B:还在犹豫要不要{size_label}
        A:亲可以告诉我您的身高体重,我帮您参考一下~ 我们支持7天无理由退换,收到不合适也可以换,您放心
        B:好的 我晚点付
        A:好嘞,不打扰您啦,有任何问题随时找我😊
        """),
        statuses=(OrderStatus.UNPAID,),
        anchor="created_at",
        needs="clothes",
        window=(40 * timedelta(minutes=1), D),
        closed=3,
    ),
    Script(
        "address_change",
        "shipping",
        "修改地址",
        _lines("""
        B:亲,我地址填错了,还没发货能改吗
        A:可以的亲,您的订单还没出库,来得及修改。麻烦把订单号和正确的地址发给我
        B:{order_no} 改成 {address}
        A:好的,已经帮您改成:{address},收件人{ship_name}。您核对一下是否正确?
        B:对的
        A:地址已更新,仓库会按新地址发出,请放心~
        """),
        statuses=(OrderStatus.PAID,),
        anchor="paid_at",
        window=(timedelta(minutes=10), 3 * D),
        closed=2,
    ),
    Script(
        "bot_shipping_faq",
        "presale",
        "快递咨询",
        _lines("""
        B:发什么快递呀
        R:亲,我们默认发中通快递,需要顺丰可以联系人工客服补差价哦~ 16点前付款的订单当天发出
        B:几天能到{city}
        R:江浙沪一般1-2天,其他地区2-4天,偏远地区4-6天,具体以物流信息为准哦~
        B:好的
        """),
        closed=2,
    ),
    Script(
        "invoice",
        "aftersale",
        "开发票",
        _lines("""
        B:可以开发票吗?公司报销用
        A:可以的亲~ 我们支持开电子普通发票,麻烦提供一下订单号、发票抬头和税号
        B:{order_no},抬头{company},税号{tax_id}
        A:收到,已经为您申请开票,金额{total}元,电子发票会在1-3个工作日内发到订单里,
          在"订单详情-查看发票"就能下载
        B:好的谢谢
        A:不客气亲,祝您工作顺利~
        """),
        statuses=(OrderStatus.DELIVERED,),
        anchor="delivered_at",
        window=(H, 10 * D),
    ),
    Script(
        "wash_care",
        "aftersale",
        "洗涤保养",
        _lines("""
        B:{product}收到了,第一次洗要注意什么?怕掉色
        R:亲,您好~ 正在为您转接人工客服,请稍等哦
        A:亲,感谢支持~ 第一次洗建议冷水单独洗,可以加一小勺盐固色,不要用含漂白成分的洗衣液
        A:洗好后反面晾晒,避免暴晒,颜色能保持得更久;这款会越洗越柔软的
        B:可以烘干吗
        A:建议自然晾干哦,高温烘干容易缩水;一定要烘的话选低温档就好~
        B:好的 谢谢
        A:不客气,祝您睡个好觉😊
        """),
        statuses=(OrderStatus.DELIVERED,),
        anchor="delivered_at",
        window=(2 * H, 5 * D),
        needs="bedding",
    ),
)

# Heights and weights (斤) that fit each letter size, for the size questions.
SIZE_BODY: dict[str, tuple[int, int]] = {
    "S": (155, 88),
    "M": (160, 102),
    "L": (166, 118),
    "XL": (171, 135),
    "XXL": (176, 155),
    "XXXL": (180, 178),
}
COMPANY_WORDS = ("云帆", "启明", "恒信", "蓝海", "拾光", "知行", "向阳", "锦程")
COMPANY_KINDS = ("科技有限公司", "文化传媒有限公司", "贸易有限公司", "设计工作室")
