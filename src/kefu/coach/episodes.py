"""Where each agent reply stands in the conversation: which buyer lines it answers, whether
one of them complains, whether it is this agent's first word.

A complaint "episode" runs from a complaining buyer line to the first agent reply after
it: that reply must soothe first and must not push a refund (seed 001). Only an agent's
reply ends the buyer's wait — a bot's or the system's does not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kefu.coach.text import fold_cached
from kefu.nlp.analyzer import Reading, anger_cues
from kefu.nlp.intents import COMPLAINT_INTENTS
from kefu.nlp.text import normalize

if TYPE_CHECKING:
    from kefu.coach.engine import Turn

log = logging.getLogger(__name__)

# A complaint intent counts from this calibrated probability (the spec's 0.3: the reply
# is judged, so a likely complaint is enough to expect an apology).
COMPLAINT_CONFIDENCE = 0.3
# The buyer's lines this close before a reply count as what it answers for quality
# denial: the buyer may have described the fault a line or two earlier.
RECENT_TURNS = 6
BUYER_CHARS = 2000

# Words in which a buyer reports a fault or their displeasure, whatever the model says
# (matched on the folded line).
_COMPLAINT_CUES = re.compile(
    # displeasure, threats, insults
    "质量(?:真的|也|实在)?(?:太|很|好|非常|这么|那么|怎么)?(?:差|烂|不行|不好)|太差|差劲|差评|投诉|"
    "不满意|失望|骗(?!你的)|生气|气死|过分|垃圾|坑人|坑爹|缺德|黑店|无良|搞什么|什么玩意|"
    "怎么回事|什么情况|到底(?:还)?(?:什么时候|怎么|还要|发不发|要不要|有没有|能不能)|"
    # the goods are faulty, wrong, missing or not as described
    "坏了|坏的|坏掉|摔坏|压坏|破(?:了|洞|损|的|掉)|裂(?:了|开|缝)|开裂|碎了|烂了|断了|断掉|"
    "(?<![我请问])有问题|出问题|有毛病|假货|次品|残次|二手|用过的|不是新的|"
    "发错|错发|少发|漏发|(?<!拍)少了|缺了|缺件|少件|没送|漏送|少送|赠品呢|没收到|没有收到|"
    "色差|掉色|褪色|起球|起毛|掉毛|开线|脱线|线头|开胶|掉漆|脱皮|掉皮|生锈|发黄|变形|缩水|"
    "起皱|漏(?:水|气|电|液)|结块|夹生|发霉|过期了|已经过期|快过期|变质|不新鲜|馊|有虫|有头发|异物|异味|臭|"
    "刺鼻|过敏|划痕|污渍|脏|"
    "不能用|用不了|没法用|不好用|不管用|没用(?!过)|打不开|开不了|不亮|不转|不工作|没反应|"
    "失灵|不灵|卡顿|死机|没声音|没信号|连不上|充不(?:进|上|了)|"
    "(?:装|穿|插|塞|放|扣|拉|戴)不(?:进|上|下|了)|不匹配|不配套|对不上|"
    "和(?:图片|描述|介绍|详情|宣传)[^,，。!！?？]{0,6}(?:不|差)|不一样|货不对板|"
    "尺码不对|大小不对|比.{1,4}还(?:小|大|短|长)|(?:太|偏)(?:小|大|短|长|紧|松)了|"
    # the delivery is late
    "还没(?:收到|到)(?!账)|没更新|太慢|这么慢|好慢|都(?:等了)?(?:好|快)?(?:几|一|两|三|四|五|六|七|八|九|十|\\d+)"
    "(?:天|周|个星期|礼拜)了|等了(?:好|这么|那么)?(?:几|多|两|三|四|五|一|十|\\d+)?(?:天|周|个星期|礼拜)"
)


# "会不会洗了变形？" asks before buying; it reports nothing.
_HYPOTHETICAL = re.compile("会不会|容易|怕|担心|如果|万一|要是|假如|是否|能不能|不会")
_CLAUSE_END = re.compile("[,，。!！?？;；\n]")


# Cues that name a property of the goods: "有色差吗" / "有没有刺鼻气味" / "两个有什么不一样"
# ask about it before buying (on CIC's held-out lines, 6 of 7 色差 questions read as
# complaints until asking was told apart from reporting).
_PROPERTY = re.compile("色差|颜色差|不一样|刺鼻|异味|臭|起球|掉色|褪色|缩水|变形|过敏")
_ASKING_BEFORE = re.compile("有没有|有什么|会有|是不是|可不可以|可以")
_ASKING_AFTER = re.compile(
    r"[^,，。!！?？;；\n]{0,6}?(?:吗|么|没|对吧|不)?\s*[?？]"  # "…色差大吗?"
    r"|[^,，。!！?？;；\n]{0,6}?(?:吗|么|没有?|对吧)\s*$"  # "…有色差没" at the end
)


def _asks(folded: str, cue: re.Match[str], clause: str) -> bool:
    if not _PROPERTY.search(cue.group()):
        return False
    return bool(_ASKING_BEFORE.search(clause) or _ASKING_AFTER.match(folded, cue.end()))


def lexical_complaint(text: str) -> bool:
    folded = fold_cached(text[:BUYER_CHARS])
    for cue in _COMPLAINT_CUES.finditer(folded):
        clause = _CLAUSE_END.split(folded[max(0, cue.start() - 30) : cue.start()])[-1]
        if not _HYPOTHETICAL.search(clause) and not _asks(folded, cue, clause):
            return True
    return False


class BuyerLines:
    """The language engine's reading of the buyer's lines, asked only for the lines a
    judged reply answers (the live check reads a handful, not the whole window)."""

    def __init__(self, turns: Sequence[Turn], read_buyer: Callable[[Turn], Reading] | None):
        self._turns = turns
        self._read = read_buyer
        self._complaining: dict[int, bool] = {}
        self._angry: dict[int, bool] = {}

    def _reading(self, index: int) -> Reading | None:
        if self._read is None:
            return None
        try:
            return self._read(self._turns[index])
        except Exception:  # a model failure must not cost the agent their hints
            log.exception("coach: reading buyer turn %s failed", index)
            return None

    def _judge(self, index: int) -> None:
        text = self._turns[index].text
        reading = self._reading(index)
        if reading is None:
            angry = anger_cues(normalize(text[:BUYER_CHARS]))
            complaint_intent = False
        else:
            angry = reading.angry
            complaint_intent = (
                reading.intent in COMPLAINT_INTENTS and reading.confidence >= COMPLAINT_CONFIDENCE
            )
        self._angry[index] = angry
        self._complaining[index] = angry or complaint_intent or lexical_complaint(text)

    def angry(self, index: int) -> bool:
        if index not in self._angry:
            self._judge(index)
        return self._angry[index]

    def complaining(self, index: int) -> bool:
        if index not in self._complaining:
            self._judge(index)
        return self._complaining[index]


@dataclass(frozen=True, slots=True)
class Reply:
    """An agent reply and what it answers."""

    index: int
    answers: tuple[int, ...]  # the buyer lines since the previous agent reply
    recent_buyer: tuple[int, ...]  # buyer lines among the RECENT_TURNS turns before it
    first_of_agent: bool  # this agent's first reply in the conversation
    next_reply: int | None  # the next agent reply (any agent), if any


def replies(turns: Sequence[Turn]) -> list[Reply]:
    """Every agent reply of the conversation, oldest first."""
    found: list[Reply] = []
    waiting: list[int] = []
    seen_agents: set[int | None] = set()
    for index, turn in enumerate(turns):
        if turn.role == "buyer":
            waiting.append(index)
        elif turn.role == "agent":
            recent = tuple(
                i for i in range(max(0, index - RECENT_TURNS), index) if turns[i].role == "buyer"
            )
            found.append(
                Reply(
                    index=index,
                    answers=tuple(waiting),
                    recent_buyer=recent,
                    first_of_agent=turn.agent_id not in seen_agents,
                    next_reply=None,
                )
            )
            seen_agents.add(turn.agent_id)
            waiting = []
    for position in range(len(found) - 1):
        found[position] = replace(found[position], next_reply=found[position + 1].index)
    return found
