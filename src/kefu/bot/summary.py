"""The one line an agent reads first when the bot hands a buyer over: why, the order it is
about, what the buyer wants, what they named (order number, size, colour …) and how they
feel."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from kefu.nlp.analyzer import Reading
from kefu.nlp.entities import extract, summary_of

# Why the bot handed on, as the agent reads it first.
_REASONS = {
    "asked_for_human": "买家要求人工",
    "angry": "买家不满,需优先安抚",
    "intent": "需要人工处理",
    "needs_person": "需要人工办理",
    "unanswered": "机器人两次未能回答",
    "image": "买家发送了图片",
    "loop": "机器人多次回复未解决",
}
INTENT_SHOWN_FROM = 0.3  # below this the guess would mislead the agent more than help


def handoff_summary(
    reading: Reading | None,
    text: str,
    *,
    reason: str,
    now: datetime,
    timezone: str,
    order_pattern: re.Pattern[str] | None,
    order: str = "",
) -> str:
    """One line for the agent who takes over: why, the order the bot looked up (``order``,
    e.g. "订单 E2026… (已付款,待发货)"), the intent, what was named, the mood."""
    parts = [_REASONS.get(reason, "转人工")]
    if order:
        parts.append(order)
    if reading is None:
        return " · ".join(parts)
    if reading.confidence >= INTENT_SHOWN_FROM:
        parts.append(f"意图:{reading.intent.removeprefix('买家')}({reading.confidence:.0%})")
    named = summary_of(
        extract(
            reading.normalized.original,
            now=now.astimezone(ZoneInfo(timezone)),
            order_pattern=order_pattern,
        )
    )
    if named:
        parts.append(named)
    mood = "生气" if reading.angry else ("不满" if reading.sentiment < -0.3 else "平和")
    parts.append(f"情绪:{mood}({reading.sentiment:+.1f})")
    return " · ".join(parts)
