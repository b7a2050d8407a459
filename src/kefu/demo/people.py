"""Buyers of the demo shop: names, Taobao-style nicknames, phones, cities and addresses.

Everything is drawn from the :class:`random.Random` handed in, so one seed gives one crowd.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Common surnames, most frequent first (weights roughly follow their real frequency).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史"
    "陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
FEMALE_GIVEN = "婷静丽敏芳娟雪怡欣佳琳晓梦雨思悦诗涵颖璐瑶琪萱妍倩慧莉燕玲霞晶蕾薇岚月菲"
MALE_GIVEN = "伟强磊军洋勇杰涛明超浩宇鹏俊志博轩然辰凯峰斌亮建文昊天成飞龙鑫晨旭"
NEUTRAL_GIVEN = "子一嘉可安宁若清雅晓欣思文佳家乐"

NICK_ADJECTIVES = _words(
    "爱吃橙子的 会飞的 不想上班的 熬夜的 贪睡的 快乐的 温柔的 爱逛街的 早睡早起的 迷糊的 "
    "认真的 爱喝奶茶的"
)
NICK_NOUNS = _words("猫 小鹿 鱼 兔子 橘子 考拉 团子 柠檬 星星 仙女 胖虎 小熊 布丁 云朵")
NICK_WORDS = _words(
    "晴天娃娃 南风知我意 一只胖橘 momo酱 Cherry 小确幸 糖果屋 栗子 向日葵 七月 阿狸 Lily "
    "Coco 木子 半夏 初见 桃桃乌龙 芒果布丁 豆豆妈 乐乐爸"
)

# China Mobile, Unicom and Telecom number prefixes.
PHONE_PREFIXES = _words(
    "134 135 136 137 138 139 147 150 151 152 157 158 159 178 182 183 184 187 188 198 "
    "130 131 132 145 155 156 166 175 176 185 186 133 149 153 173 177 180 181 189 199"
)


@dataclass(frozen=True)
class City:
    province: str  # as Taobao shows it: 浙江省, or 上海 for a municipality
    city: str  # 杭州市
    short: str  # 杭州, what the CRM shows
    districts: tuple[str, ...]
    roads: tuple[str, ...]
    estates: tuple[str, ...]
    weight: int  # big cities order more often
    remote: bool  # outlying regions pay for shipping


# Two lines a city: "province|city|weight|districts", then "  roads|housing estates".
_CITY_TABLE = """
上海|上海市|14|浦东新区 徐汇区 闵行区 静安区
    张杨路 漕溪北路 七莘路 南京西路|世纪花园 汇景苑 春申城 静安新城
北京|北京市|12|朝阳区 海淀区 丰台区 通州区
    望京西路 中关村大街 科学城路 新华大街|望京花园 万柳书院 科技园小区 运河湾
广东省|广州市|9|天河区 海珠区 白云区 番禺区
    天河北路 江南大道 白云大道 市桥路|天河花园 江南新苑 云景花园 祈福新邨
广东省|深圳市|9|南山区 福田区 宝安区 龙岗区
    科技园路 深南大道 新安路 龙翔大道|蔚蓝海岸 中心花园 海滨城 碧桂园
浙江省|杭州市|9|西湖区 余杭区 滨江区 拱墅区
    文三路 文一西路 江南大道 莫干山路|翠苑一区 未来科技城 星耀城 和睦新村
江苏省|南京市|6|鼓楼区 江宁区 建邺区 玄武区
    中山北路 双龙大道 江东中路 北京东路|颐和园小区 翠屏国际 万达华府 东方花园
江苏省|苏州市|6|工业园区 姑苏区 吴中区 相城区
    星湖街 人民路 东吴北路 阳澄湖大道|湖畔天城 平江新苑 东吴花园 相城新都
四川省|成都市|7|武侯区 锦江区 高新区 成华区
    人民南路 春熙路 天府大道 建设路|棕北小区 锦华苑 天府新城 建设新村
湖北省|武汉市|6|洪山区 江汉区 武昌区 汉阳区
    珞喻路 解放大道 中南路 汉阳大道|光谷花园 江汉新村 中南小区 钟家村
陕西省|西安市|5|雁塔区 碑林区 未央区 长安区
    小寨东路 南大街 凤城八路 长安南路|曲江花园 碑林小区 凤城新苑 长安新城
重庆|重庆市|5|渝北区 江北区 南岸区 沙坪坝区
    新牌坊路 建新北路 南坪正街 三峡广场路|龙湖花园 北城天街 南坪新城 沙坪坝新村
天津|天津市|4|南开区 和平区 河西区 滨海新区
    鞍山西道 南京路 友谊路 第一大街|南开花园 和平里 友谊新都 泰达新城
湖南省|长沙市|5|岳麓区 雨花区 开福区 天心区
    麓山南路 韶山中路 芙蓉北路 书院路|麓山小区 雨花新村 开福花园 天心苑
福建省|厦门市|3|思明区 湖里区 集美区 海沧区
    厦禾路 湖里大道 集美大道 海沧大道|莲花新村 湖里花园 集美学村 海沧新城
山东省|青岛市|4|市南区 崂山区 李沧区 黄岛区
    香港中路 海尔路 书院路 长江中路|海情花园 崂山新苑 李沧新村 黄岛花园
河南省|郑州市|4|金水区 中原区 二七区 郑东新区
    花园路 建设西路 大学路 金水东路|金水花园 中原新村 二七小区 东区新城
辽宁省|沈阳市|3|和平区 沈河区 浑南区 皇姑区
    南京北街 青年大街 浑南中路 黄河南大街|和平新村 沈河花园 浑南新城 皇姑小区
云南省|昆明市|3|五华区 盘龙区 官渡区 西山区
    人民中路 北京路 关上中路 滇池路|翠湖小区 盘龙花园 官渡新城 滇池卫城
安徽省|合肥市|3|蜀山区 包河区 庐阳区 政务区
    长江西路 马鞍山路 阜阳路 潜山路|蜀山新村 包河花园 庐阳小区 天鹅湖苑
新疆维吾尔自治区|乌鲁木齐市|1|天山区 沙依巴克区 新市区
    解放南路 友好北路 北京南路|天山花园 友好新村 北京路小区
"""
_REMOTE_PROVINCES = ("新疆维吾尔自治区", "西藏自治区", "青海省")


def _parse_cities(table: str) -> tuple[City, ...]:
    cities = []
    lines = table.strip().splitlines()
    for first, second in zip(lines[::2], lines[1::2], strict=True):
        province, city, weight, districts = first.split("|")
        roads, estates = second.strip().split("|")
        cities.append(
            City(
                province=province,
                city=city,
                short=city.removesuffix("市"),
                districts=_words(districts),
                roads=_words(roads),
                estates=_words(estates),
                weight=int(weight),
                remote=province in _REMOTE_PROVINCES,
            )
        )
    return tuple(cities)


CITIES = _parse_cities(_CITY_TABLE)


@dataclass(frozen=True)
class Person:
    name: str
    gender: str | None
    nickname: str
    phone: str | None
    email: str | None
    city: City
    address: str


def pick_city(rng: random.Random) -> City:
    return rng.choices(CITIES, weights=[city.weight for city in CITIES])[0]


def chinese_name(rng: random.Random, gender: str | None) -> str:
    surname = rng.choices(SURNAMES, weights=[max(1, 40 - i) for i in range(len(SURNAMES))])[0]
    chars = {"F": FEMALE_GIVEN, "M": MALE_GIVEN}.get(gender or "", NEUTRAL_GIVEN)
    first = rng.choice(chars if rng.random() < 0.7 else NEUTRAL_GIVEN)
    if rng.random() < 0.25:
        return surname + first
    return surname + first + rng.choice(chars)


def nickname(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.35:
        return rng.choice(NICK_ADJECTIVES) + rng.choice(NICK_NOUNS)
    if style < 0.7:
        return f"{rng.choice(NICK_WORDS)}{rng.choice(('', '_', ''))}{rng.randint(1, 2025)}"
    if style < 0.85:
        return f"tb{rng.randrange(10**9, 10**10)}"
    return f"{rng.choice(NICK_NOUNS)}{rng.choice(NICK_NOUNS)}{rng.choice('酱呀吖仔')}"


def phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def address(rng: random.Random, city: City, *, office: bool = False) -> str:
    """A full delivery address: 省 市 区 + street, building and room."""
    district = rng.choice(city.districts)
    road = f"{rng.choice(city.roads)}{rng.randint(1, 999)}号"
    if office:
        place = (
            f"{rng.choice(('科技大厦', '商务中心', '创意园', '国际广场'))}{rng.randint(2, 28)}楼"
        )
        place += rng.choice(("前台", f"{rng.randint(1, 20):02d}室"))
    else:
        place = (
            f"{rng.choice(city.estates)}{rng.randint(1, 30)}栋"
            f"{rng.randint(1, 4)}单元{rng.randint(1, 33)}{rng.randint(1, 4):02d}室"
        )
    return f"{city.province} {city.city} {district} {road}{place}"


def person(rng: random.Random) -> Person:
    """A buyer of a clothing and home-textile shop: mostly women, a few unknown."""
    roll = rng.random()
    gender: str | None = "F" if roll < 0.66 else "M" if roll < 0.9 else None
    name = chinese_name(rng, gender)
    city = pick_city(rng)
    number = phone(rng) if rng.random() < 0.92 else None
    email = f"{rng.randrange(10**7, 10**10)}@qq.com" if rng.random() < 0.2 else None
    return Person(
        name=name,
        gender=gender,
        nickname=nickname(rng),
        phone=number,
        email=email,
        city=city,
        address=address(rng, city),
    )


def relative_name(rng: random.Random, name: str) -> str:
    """Someone the buyer sends a parcel to (a parent, a friend): same surname half the time."""
    other = chinese_name(rng, rng.choice(("F", "M")))
    return name[0] + other[1:] if rng.random() < 0.5 else other
