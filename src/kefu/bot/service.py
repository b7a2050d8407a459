"""The bot's settings per shop and the shop's intent → team table.

The built-in table (``kefu.nlp.intents.DEFAULT_ROUTES``) maps each of the 118 buyer
intents to a team and, where one fits, an action; a shop edits single rows, and only its
edits are stored, so improvements to the built-in table reach every shop that kept it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu.bot.models import (
    DEFAULT_BOT_NAME,
    DEFAULT_GREETING,
    DEFAULT_HANDOFF,
    DEFAULT_OFFLINE,
    DEFAULT_WORK_DAYS,
    DEFAULT_WORK_END,
    DEFAULT_WORK_START,
    BotSettings,
    IntentRouteEdit,
)
from kefu.bot.schemas import BotSettingsIn, BotSettingsOut
from kefu.errors import Invalid, NotFound
from kefu.nlp.intents import DEFAULT_ROUTES, LABELS, Action
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_WORK_DAYS = re.compile(r"^[1-7]{1,7}$")


def settings_of(session: Session, *, shop_id: int) -> BotSettings:
    """The shop's settings (defaults, not stored, when it never changed any)."""
    stored = session.get(BotSettings, shop_id)
    if stored is not None:
        return stored
    return BotSettings(
        shop_id=shop_id,
        bot_name=DEFAULT_BOT_NAME,
        threshold=None,
        greeting=DEFAULT_GREETING,
        handoff_message=DEFAULT_HANDOFF,
        offline_message=DEFAULT_OFFLINE,
        work_start=DEFAULT_WORK_START,
        work_end=DEFAULT_WORK_END,
        work_days=DEFAULT_WORK_DAYS,
        order_pattern="",
    )


def describe_settings(session: Session, *, shop_id: int) -> BotSettingsOut:
    """The settings as the API shows them, with the shop's on/off switch."""
    shop = shops.get_shop(session, shop_id=shop_id)
    settings = settings_of(session, shop_id=shop_id)
    fields = {
        name: getattr(settings, name) for name in BotSettingsOut.model_fields if name != "enabled"
    }
    return BotSettingsOut(enabled=shop.bot_enabled, **fields)


def update_settings(
    uow: UnitOfWork, *, shop_id: int, changes: BotSettingsIn, commit: bool = True
) -> BotSettingsOut:
    session = uow.session
    shop = shops.get_shop(session, shop_id=shop_id)
    settings = session.get(BotSettings, shop_id)
    if settings is None:
        settings = settings_of(session, shop_id=shop_id)
        session.add(settings)
    if changes.enabled is not None:
        shop.bot_enabled = changes.enabled
    if changes.bot_name is not None:
        settings.bot_name = clean_text(
            changes.bot_name, field="bot_name", min_length=1, max_length=30
        )
    for field in ("greeting", "handoff_message", "offline_message"):
        value = getattr(changes, field)
        if value is not None:
            setattr(settings, field, clean_text(value, field=field, min_length=1, max_length=500))
    if changes.use_default_threshold:
        settings.threshold = None
    elif changes.threshold is not None:
        settings.threshold = changes.threshold
    for field in ("work_start", "work_end"):
        value = getattr(changes, field)
        if value is not None:
            if not _CLOCK_TIME.match(value):
                raise Invalid("use a 24-hour time such as 09:00", field=field)
            setattr(settings, field, value)
    if changes.work_days is not None:
        if not _WORK_DAYS.match(changes.work_days):
            raise Invalid("weekdays as digits 1 (Monday) to 7 (Sunday)", field="work_days")
        settings.work_days = "".join(sorted(set(changes.work_days)))
    if changes.order_pattern is not None:
        settings.order_pattern = check_order_pattern(changes.order_pattern)
    if settings.work_start == settings.work_end:
        raise Invalid("working hours must not start and end at the same time", field="work_end")
    settings.updated_at = uow.clock.now()
    if commit:
        uow.commit()
    return describe_settings(session, shop_id=shop_id)


# Quantified groups inside quantified groups can take exponential time on hostile text.
_NESTED_QUANTIFIER = re.compile(r"\([^)]*[+*}][^)]*\)\s*[+*{]")


def check_order_pattern(pattern: str) -> str:
    """A shop's order-number pattern, or an Invalid that says what is wrong with it."""
    pattern = pattern.strip()
    if not pattern:
        return ""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise Invalid(f"not a valid regular expression: {exc.msg}", field="order_pattern") from exc
    if _NESTED_QUANTIFIER.search(pattern):
        raise Invalid(
            "repeat a group that itself repeats is not allowed (it can be very slow)",
            field="order_pattern",
        )
    if compiled.match(""):
        raise Invalid("the pattern must not match empty text", field="order_pattern")
    return pattern


def order_pattern_of(settings: BotSettings) -> re.Pattern[str] | None:
    return re.compile(settings.order_pattern) if settings.order_pattern else None


@dataclass(frozen=True)
class IntentRow:
    intent: str
    team_code: str
    action: str | None
    edited: bool


def intent_table(session: Session, *, shop_id: int) -> list[IntentRow]:
    """Every intent with the team and action the bot uses for it in this shop."""
    edits = {
        edit.intent: edit
        for edit in session.scalars(
            select(IntentRouteEdit).where(IntentRouteEdit.shop_id == shop_id)
        )
    }
    rows = []
    for intent in LABELS:
        edit = edits.get(intent)
        if edit is not None:
            rows.append(IntentRow(intent, edit.team_code, edit.action, True))
        else:
            route = DEFAULT_ROUTES[intent]
            rows.append(IntentRow(intent, route.team, route.action, False))
    return rows


@dataclass(frozen=True)
class Route:
    """Where the bot sends a buyer with an intent: a team code of the shop and an action."""

    team: str
    action: str | None


def route_for(session: Session, *, shop_id: int, intent: str) -> Route:
    edit = session.scalar(
        select(IntentRouteEdit).where(
            IntentRouteEdit.shop_id == shop_id, IntentRouteEdit.intent == intent
        )
    )
    if edit is not None:
        return Route(team=edit.team_code, action=edit.action)
    default = DEFAULT_ROUTES.get(intent)
    if default is None:
        return Route(team=shops.DEFAULT_TEAM_CODE, action=None)
    return Route(team=default.team, action=default.action)


def set_intent_route(
    uow: UnitOfWork,
    *,
    shop_id: int,
    intent: str,
    team_code: str,
    action: str | None,
    commit: bool = True,
) -> IntentRow:
    """The shop's choice for one intent; choosing exactly the built-in one removes the edit."""
    session = uow.session
    if intent not in DEFAULT_ROUTES:
        raise NotFound("no such intent", key="errors.not_found")
    try:
        shops.get_team_by_code(session, shop_id=shop_id, code=team_code)
    except NotFound as exc:
        raise Invalid(f"no team with code {team_code!r} in this shop", field="team_code") from exc
    if action is not None and action not in {a.value for a in Action}:
        raise Invalid(f"unknown action {action!r}", field="action")
    session.execute(
        delete(IntentRouteEdit).where(
            IntentRouteEdit.shop_id == shop_id, IntentRouteEdit.intent == intent
        )
    )
    default = DEFAULT_ROUTES[intent]
    edited = (team_code, action) != (default.team, default.action)
    if edited:
        session.add(
            IntentRouteEdit(
                shop_id=shop_id,
                intent=intent,
                team_code=team_code,
                action=action,
                updated_at=uow.clock.now(),
            )
        )
    if commit:
        uow.commit()
    return IntentRow(intent, team_code, action, edited)
