"""The demo shop's catalogue: home wear, sleepwear, basics, down jackets and home textiles.

Titles, prices and size ranges are fixed (they read like a real Taobao store); stock and
how new each product is come from the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from kefu.commerce.service import VariantSpec

# Size ranges, by key. Clothing uses letter sizes or 号型 (160/84A); beds use the width.
SIZE_SETS: dict[str, tuple[str, ...]] = {
    "W": ("S", "M", "L", "XL"),
    "U": ("S", "M", "L", "XL", "XXL"),
    "M": ("M", "L", "XL", "XXL", "XXXL"),
    "H": ("155/80A", "160/84A", "165/88A", "170/92A"),
    "HM": ("170/88A", "175/92A", "180/96A", "185/100A"),
    "K": ("100", "110", "120", "130", "140"),
    "BED": ("1.5m床", "1.8m床"),
    "BED3": ("1.2m床", "1.5m床", "1.8m床"),
    "KBED": ("1.0m床", "1.2m床"),
    "QUILT": ("150x200cm", "200x230cm", "220x240cm"),
    "SHOE": ("36-37", "38-39", "40-41", "42-43"),
    "SHOEM": ("40-41", "42-43", "44-45"),
    "BATH": ("70x140cm", "80x160cm"),
    "BASKET": ("小号", "中号", "大号"),
    "BLANKET": ("100x150cm", "150x200cm"),
    "F": ("均码",),
}

# Extra yuan per size step in the ranges where bigger takes more cloth or more down
# (a 1.8m duvet cover costs more than a 1.5m one; the first size is the listed price).
SIZE_STEP: dict[str, int] = {
    "K": 10,
    "BED": 60,
    "BED3": 30,
    "KBED": 20,
    "QUILT": 60,
    "BATH": 20,
    "BASKET": 10,
    "BLANKET": 40,
}

COLOUR_CODES: dict[str, str] = {
    "米白": "MB", "雾霾蓝": "WL", "藕粉": "OF", "燕麦色": "YM", "奶咖": "NK", "浅灰": "QH",
    "藏青": "ZQ", "墨绿": "ML", "豆沙粉": "DS", "薄荷绿": "BH", "黑色": "HS", "白色": "BS",
    "雾紫": "WZ", "焦糖色": "JT", "卡其": "KQ", "酒红": "JR", "奶白": "NB", "樱花粉": "YH",
    "天蓝": "TL", "深灰": "SH", "香槟色": "XB", "红格": "HG", "蓝格": "LG", "条纹蓝": "TW",
    "条纹灰": "TH", "蓝白条": "LB", "黑白条": "HB", "小熊印花": "XX", "星空蓝": "XK",
    "混色": "HH",
}  # fmt: skip


@dataclass(frozen=True)
class Item:
    """One product as the shop lists it."""

    sku: str
    category: str
    title: str
    price: Decimal
    size_set: str
    colours: tuple[str, ...]
    tags: tuple[str, ...]
    description: str
    on_sale: bool

    @property
    def sizes(self) -> tuple[str, ...]:
        return SIZE_SETS[self.size_set]


# sku | category | price | size set | colours | tags (+ 下架 when off sale)
#   title
#   description
_TABLE = """
HW001|家居服|159|W|米白 雾霾蓝 藕粉|爆款
  棉里 纯棉家居服女春秋款长袖开衫两件套 可外穿宽松睡衣套装
  A类精梳棉,宽松版型按平时尺码选;领口和袖口罗纹收口,洗后不易变形。
HW002|家居服|169|M|藏青 浅灰 卡其|
  棉里 男士家居服春秋纯棉长袖长裤套装 大码休闲可外穿
  100%棉,男款偏大半码;裤腰松紧加抽绳,大码XXXL适合200斤以内。
HW003|家居服|139|W|燕麦色 奶咖 豆沙粉|新品
  棉里 华夫格家居服女秋冬 圆领套头休闲两件套
  华夫格肌理面料,柔软透气;版型微宽松,喜欢oversize可以拍大一码。
HW004|家居服|129|W|藕粉 雾紫 奶白|
  棉里 珊瑚绒家居服女冬季加厚 加绒保暖可爱睡衣套装
  加厚珊瑚绒,首次洗涤会有少量浮毛,属正常现象,建议单独冷水洗。
HW005|家居服|99|W|薄荷绿 雾霾蓝 樱花粉|
  棉里 莫代尔家居服女夏季短袖短裤 冰丝凉感两件套
  莫代尔混纺,凉感顺滑;建议手洗或洗衣袋轻柔洗,不可暴晒。
HW006|家居服|149|U|条纹蓝 条纹灰|
  棉里 情侣家居服纯棉条纹 长袖开衫男女款
  男女同款尺码:女生一般S/M,男生一般L/XL/XXL。
HW007|家居服|189|W|豆沙粉 米白|
  棉里 孕妇家居服 哺乳月子服纯棉春秋 产后喂奶睡衣
  隐形哺乳开口,纯棉亲肤;孕期按孕前尺码大一码选择。
HW008|家居服|199|W|浅灰 雾霾蓝|新品
  棉里 空气层家居服女 立领拉链外套三件套
  空气层面料,保暖不臃肿;外套+长裤+短袖三件,出门遛弯也合适。
PJ001|睡衣|399|W|香槟色 墨绿 酒红|
  棉里 真丝睡衣女夏 桑蚕丝长袖衬衫式两件套 高级感
  19姆米桑蚕丝,建议专用真丝洗涤剂冷水手洗,阴干。
PJ002|睡衣|79|W|樱花粉 天蓝 米白|爆款
  棉里 纯棉睡裙女夏季短袖 宽松中长款卡通家居裙
  纯棉平纹,衣长约105cm;身高160左右到小腿。
PJ003|睡衣|159|M|红格 蓝格|
  棉里 法兰绒睡衣男冬季加厚 格子翻领长袖套装
  双面磨毛法兰绒,冬季保暖;版型正常,按平时尺码选。
PJ004|睡衣|169|W|米白 雾霾蓝 藕粉 燕麦色|爆款
  棉里 纱布睡衣女 双层纯棉纱布长袖长裤 A类婴幼儿标准
  双层纱布越洗越软,A类标准可贴身穿;第一次洗会有轻微缩水(约2%)。
PJ005|睡衣|69|W|香槟色 黑色 雾紫|
  棉里 冰丝睡衣女夏 吊带短裤薄款套装
  冰丝面料,轻薄垂顺;肩带可调节。
PJ006|睡衣|199|W|藏青 深灰|
  棉里 男士睡袍 纯棉毛圈浴袍 加长吸水
  纯棉毛圈,吸水性好;L码适合身高170-178cm。
PJ007|睡衣|139|F|藕粉 奶白 雾霾蓝|
  棉里 女士睡袍秋冬 珊瑚绒加厚加长款
  均码,适合身高155-172cm、体重90-150斤。
TS001|T恤|59|U|白色 黑色 燕麦色 雾霾蓝 藕粉|爆款
  棉里 新疆长绒棉纯色T恤女 短袖圆领宽松打底衫
  新疆长绒棉,220g不透;宽松版,160cm/100斤穿M。
TS002|T恤|89|U|白色 黑色 深灰 卡其|爆款
  棉里 重磅纯棉T恤男 260g落肩短袖 不透不变形
  260g重磅纯棉,落肩宽松;175cm/140斤建议L。
TS003|T恤|69|W|白色 黑色 奶咖|
  棉里 长袖T恤女 纯棉打底衫 春秋内搭
  修身版型,弹力好;喜欢宽松可以拍大一码。
TS004|T恤|69|W|蓝白条 黑白条|新品
  棉里 条纹T恤女 海魂衫法式短袖
  色织条纹不掉色;版型合身,按平时尺码选。
TS005|T恤|129|M|藏青 白色 墨绿|
  棉里 POLO衫男 纯棉珠地棉短袖翻领 商务休闲
  珠地棉透气,版型标准;可机洗,建议反面晾晒。
HD001|卫衣|139|U|燕麦色 雾霾蓝 深灰 黑色|爆款
  棉里 加绒卫衣女秋冬 圆领套头宽松加厚上衣
  内里加绒,宽松版;女生平时穿M的拍M即可,想更宽松拍L。
HD002|卫衣|159|M|黑色 深灰 墨绿|
  棉里 连帽卫衣男 纯棉毛圈春秋外套
  纯棉毛圈,春秋单穿;版型正常。
HD003|卫衣|149|W|奶白 樱花粉 浅灰|新品
  棉里 开衫卫衣女 拉链连帽外套 休闲运动
  双向拉链,帽绳可调;版型微宽松。
HD004|卫衣|99|U|黑色 浅灰 燕麦色|
  棉里 卫裤女 束脚运动裤 加绒宽松休闲
  松紧腰+抽绳,束脚设计;加绒款冬季穿。
HD005|卫衣|69|U|白色 黑色|清仓 下架
  棉里 去年款印花卫衣 清仓不退换
  去年款清仓,库存售完即止。
DJ001|羽绒服|299|H|黑色 米白 雾霾蓝|爆款
  棉里 轻薄羽绒服女短款 90白鸭绒立领 便携外套
  90%白鸭绒,充绒量约80g;可收纳进随附的小袋子,出差方便。
DJ002|羽绒服|899|H|黑色 奶咖 燕麦色|新品
  棉里 长款羽绒服女过膝 加厚连帽 95白鹅绒
  95%白鹅绒,充绒量约260g,零下20度可穿;版型宽松,里面可穿毛衣。
DJ003|羽绒服|599|HM|黑色 藏青 墨绿|
  棉里 羽绒服男 冬季加厚短款连帽 户外防风
  90%白鸭绒,防风面料;按号型选,175/92A适合身高175cm、体重140斤左右。
DJ004|羽绒服|259|K|樱花粉 天蓝 黑色|
  棉里 儿童羽绒服 男童女童中大童 加厚外套
  尺码为身高(cm),建议按孩子身高大一码选。
DJ005|羽绒服|159|H|黑色 米白|
  棉里 羽绒马甲女 轻薄内胆 V领保暖背心
  可单穿也可做内胆;90%白鸭绒。
BD001|床品|599|BED|米白 雾霾蓝 燕麦色 浅灰|爆款
  棉里 全棉四件套 100支长绒棉 纯色床单被套
  100支长绒棉贡缎,亲肤顺滑;1.5m床配被套200x230cm,1.8m床配被套220x240cm。
BD002|床品|299|BED|浅灰 墨绿 藕粉 卡其|
  棉里 水洗棉四件套 简约ins风 床上用品
  水洗工艺,自然褶皱感;首次洗涤建议加一勺盐固色。
BD003|床品|459|BED|香槟色 雾紫 薄荷绿|新品
  棉里 天丝四件套 夏季冰丝凉感 裸睡床品
  莱赛尔天丝,凉感顺滑;不可暴晒,洗衣袋轻柔洗。
BD004|床品|259|BED|奶白 藕粉 焦糖色|
  棉里 牛奶绒四件套 冬季加厚 保暖床品
  牛奶绒加厚,冬季保暖;洗后不掉毛不起球。
BD005|床品|89|BED3|白色 浅灰 雾霾蓝|
  棉里 纯棉床笠单件 防滑固定床罩 席梦思保护套
  床垫厚度30cm以内都可以包住;四周松紧带不跑位。
BD006|床品|199|KBED|小熊印花 星空蓝|
  棉里 儿童纯棉三件套 卡通印花 幼儿园被子床品
  A类纯棉,活性印染;幼儿园午睡用1.0m床即可。
BD007|床品|299|QUILT|白色|
  棉里 大豆纤维被 春秋被 可机洗
  春秋厚度,适合15-22度室温;可整条机洗。
BD008|床品|399|QUILT|白色|爆款
  棉里 新疆棉花被 手工棉被 冬被加厚
  新疆长绒棉絮,6斤冬被;建议套被套使用,定期晾晒。
BD009|床品|159|F|白色|
  棉里 泰国天然乳胶枕头 护颈枕 一只装
  尺寸60x40cm,高度10/12cm;乳胶有轻微天然气味,通风两天即散。
BD010|床品|49|F|米白 雾霾蓝 浅灰|
  棉里 纯棉枕套一对装 48x74cm 信封式
  一对装,信封式开口,不用拉链。
TW001|毛巾|59|F|米白 雾霾蓝 藕粉 浅灰|爆款
  棉里 新疆长绒棉毛巾 纯棉洗脸巾 加厚吸水 3条装
  34x74cm,三条装;新毛巾先用清水洗一遍吸水性更好。
TW002|毛巾|89|BATH|白色 雾霾蓝 燕麦色|
  棉里 纯棉浴巾 大号加厚 成人男女 柔软吸水
  550g加厚浴巾,不掉毛;不要使用柔顺剂,会影响吸水。
TW003|毛巾|29.9|F|樱花粉 薄荷绿|
  棉里 干发帽 超强吸水速干包头巾 2个装
  珊瑚绒干发帽,后扣设计不易滑落。
TW004|毛巾|39.9|F|混色|
  棉里 纱布方巾 儿童口水巾 6条装
  25x25cm,六层纱布,婴儿可用。
SL001|拖鞋|39.9|SHOE|藕粉 米白 雾霾蓝|爆款
  棉里 棉拖鞋女冬季 室内防滑厚底 保暖毛绒拖鞋
  尺码偏小,建议拍大一码;鞋底防滑静音。
SL002|拖鞋|29.9|SHOEM|黑色 深灰 卡其|
  棉里 凉拖鞋男夏 浴室防滑 EVA踩屎感
  EVA一体成型,浴室可穿;尺码标准。
SL003|拖鞋|35.9|SHOE|燕麦色 浅灰|新品
  棉里 亚麻拖鞋 四季居家 软底静音
  亚麻鞋面透气,四季可穿;可手洗。
SL004|拖鞋|49.9|SHOE|酒红 藏青|下架
  棉里 包跟棉拖 老人月子鞋 加厚
  包跟设计不易掉,月子和老人适用。
SK001|袜子|29.9|F|混色|爆款
  棉里 精梳棉袜子女 中筒袜 5双装
  均码,适合35-39码;五双不同颜色。
SK002|袜子|35.9|F|黑色 白色 混色|
  棉里 男士船袜 隐形防滑 纯棉 6双装
  均码,适合39-44码;后跟硅胶防滑。
SK003|袜子|19.9|F|藕粉 雾紫 燕麦色|下架
  棉里 珊瑚绒地板袜 加厚睡眠袜
  冬季款,天冷再上架。
HM001|家居|45|BASKET|米白 燕麦色|
  棉里 棉麻收纳筐 脏衣篮 可折叠
  小号放杂物,大号可装一周的脏衣服。
HM002|家居|59|F|米白 墨绿 焦糖色|
  棉里 沙发抱枕 ins风靠垫 含芯 45x45cm
  含PP棉芯,外套可拆洗。
HM003|家居|99|BLANKET|浅灰 藕粉 雾霾蓝|
  棉里 法兰绒毛毯 午睡毯 办公室盖毯
  法兰绒不掉毛,可机洗。
"""


def _parse(table: str) -> tuple[Item, ...]:
    lines = table.strip().splitlines()
    items = []
    for head, title, description in zip(lines[::3], lines[1::3], lines[2::3], strict=True):
        sku, category, price, size_key, colours, tags = head.split("|")
        tag_list = tags.split()
        items.append(
            Item(
                sku=f"ML-{sku}",
                category=category,
                title=title.strip(),
                price=Decimal(price).quantize(Decimal("0.01")),
                size_set=size_key,
                colours=tuple(colours.split()),
                tags=tuple(tag for tag in tag_list if tag != "下架"),
                description=description.strip(),
                on_sale="下架" not in tag_list,
            )
        )
    return tuple(items)


CATALOGUE: tuple[Item, ...] = _parse(_TABLE)


def size_code(size: str) -> str:
    """The size as it appears in a SKU: 160/84A → 160, 1.5m床 → 150, 均码 → F."""
    if size == "均码":
        return "F"
    if size.endswith("m床"):
        return str(int(float(size.removesuffix("m床")) * 100))
    if "x" in size:
        return size.removesuffix("cm").replace("x", "")
    return {"小号": "SS", "中号": "MM", "大号": "LL"}.get(size, size.split("/")[0].replace("-", ""))


def variant_sku(item: Item, colour: str, size: str) -> str:
    return f"{item.sku}-{COLOUR_CODES[colour]}-{size_code(size)}"


def variant_price(item: Item, size: str) -> Decimal:
    return item.price + SIZE_STEP.get(item.size_set, 0) * item.sizes.index(size)


def variants(item: Item, rng: random.Random) -> list[VariantSpec]:
    """Every colour in every size. Stock runs out now and then; best sellers hold more."""
    specs = []
    for colour in item.colours:
        for size in item.sizes:
            if rng.random() < 0.08:
                stock = 0
            else:
                stock = rng.randint(5, 120) * (3 if "爆款" in item.tags else 1)
            price = variant_price(item, size)
            specs.append(
                VariantSpec(
                    sku=variant_sku(item, colour, size),
                    size=size,
                    colour=colour,
                    stock=stock if item.on_sale else 0,
                    price=price if price != item.price else None,
                )
            )
    return specs
