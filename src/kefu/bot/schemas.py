"""API shapes of the bot's settings and its intent → team table."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BotSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    bot_name: str | None = Field(default=None, max_length=30)
    threshold: float | None = Field(default=None, ge=0.05, le=0.99)
    use_default_threshold: bool = False
    greeting: str | None = Field(default=None, max_length=500)
    handoff_message: str | None = Field(default=None, max_length=500)
    offline_message: str | None = Field(default=None, max_length=500)
    work_start: str | None = Field(default=None, max_length=5)
    work_end: str | None = Field(default=None, max_length=5)
    work_days: str | None = Field(default=None, max_length=7)
    order_pattern: str | None = Field(default=None, max_length=100)


class BotSettingsOut(BaseModel):
    enabled: bool
    bot_name: str
    threshold: float | None
    greeting: str
    handoff_message: str
    offline_message: str
    work_start: str
    work_end: str
    work_days: str
    order_pattern: str


class IntentRouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team_code: str = Field(min_length=1, max_length=40)
    action: str | None = Field(default=None, max_length=40)


class IntentRouteOut(BaseModel):
    intent: str
    team_code: str
    action: str | None
    edited: bool  # the shop changed the built-in choice
