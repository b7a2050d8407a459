"""The bot's per-shop settings, the shop's edits of the intent → team table, and what the
bot remembers about each conversation it receives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UTCDateTime

DEFAULT_BOT_NAME = "小客"
DEFAULT_WORK_START, DEFAULT_WORK_END, DEFAULT_WORK_DAYS = "09:00", "22:00", "1234567"
DEFAULT_GREETING = "您好,欢迎光临{shop_name}!我是智能客服{bot_name},请问有什么可以帮您?"
DEFAULT_HANDOFF = "好的,已为您转接{team_name}的客服同事,请稍候,马上为您处理。"
DEFAULT_OFFLINE = (
    "现在是非工作时间,人工客服的工作时间是{work_hours}。您的问题已记录,"
    "客服上班后({back_at})会第一时间回复您。"
)


class BotSettings(Base):
    """One row per shop that changed anything; a shop without a row uses the defaults."""

    __tablename__ = "bot_settings"

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    bot_name: Mapped[str] = mapped_column(String(30), default=DEFAULT_BOT_NAME)
    # None: the matcher's own calibrated threshold.
    threshold: Mapped[float | None] = mapped_column(Float, default=None)
    greeting: Mapped[str] = mapped_column(Text, default=DEFAULT_GREETING)
    handoff_message: Mapped[str] = mapped_column(Text, default=DEFAULT_HANDOFF)
    offline_message: Mapped[str] = mapped_column(Text, default=DEFAULT_OFFLINE)
    work_start: Mapped[str] = mapped_column(String(5), default=DEFAULT_WORK_START)
    work_end: Mapped[str] = mapped_column(String(5), default=DEFAULT_WORK_END)
    work_days: Mapped[str] = mapped_column(String(7), default=DEFAULT_WORK_DAYS)  # ISO weekdays
    # The shop's order numbers, as a regular expression ("" = the usual 12–20 digits or
    # letters + digits): how the bot tells an order number from a phone number or price.
    order_pattern: Mapped[str] = mapped_column(String(100), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IntentRouteEdit(Base):
    """The shop's own choice of team (and action) for one intent, over the built-in table."""

    __tablename__ = "bot_intent_routes"
    __table_args__ = (UniqueConstraint("shop_id", "intent"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    intent: Mapped[str] = mapped_column(String(60))
    team_code: Mapped[str] = mapped_column(String(40))
    action: Mapped[str | None] = mapped_column(String(40), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BotConversationState(Base):
    """What the bot remembers while it receives a conversation."""

    __tablename__ = "bot_conversation_states"

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    greeted: Mapped[bool] = mapped_column(default=False)
    # Questions in a row it could not answer: the second one goes to a person.
    unanswered_turns: Mapped[int] = mapped_column(Integer, default=0)
    # Bot replies since it last handed the conversation on: past a limit it is talking to
    # another bot (or not helping this buyer), and a person takes over.
    replies_in_row: Mapped[int] = mapped_column(Integer, default=0)
    # FAQ entry ids offered in a clarifying question ("1" or "2" picks one), comma-separated.
    choices: Mapped[str] = mapped_column(String(200), default="")
    # The order question (an Action value) the bot asked the order number for, so the
    # buyer's next line that carries one is answered as that question.
    awaiting_order_for: Mapped[str] = mapped_column(String(40), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
