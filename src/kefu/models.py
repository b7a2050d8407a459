"""Imports every domain's tables so SQLAlchemy's metadata (and Alembic) sees them all."""

from kefu.accounts.models import Agent, ApiToken, LoginAttempt, LoginSession, TeamMembership
from kefu.bot.models import BotConversationState, BotSettings, IntentRouteEdit
from kefu.commerce.models import Order, OrderLine, Product, ProductVariant
from kefu.conversations.models import Attachment, Conversation, Message
from kefu.crm.models import Customer
from kefu.db import Base
from kefu.kb.models import FaqEntry, FaqQuestion, KbState, UnansweredGroup, UnansweredQuestion
from kefu.shops.models import Shop, Team

__all__ = [
    "Agent",
    "ApiToken",
    "Attachment",
    "Base",
    "BotConversationState",
    "BotSettings",
    "Conversation",
    "Customer",
    "FaqEntry",
    "FaqQuestion",
    "IntentRouteEdit",
    "KbState",
    "LoginAttempt",
    "LoginSession",
    "Message",
    "Order",
    "OrderLine",
    "Product",
    "ProductVariant",
    "Shop",
    "Team",
    "TeamMembership",
    "UnansweredGroup",
    "UnansweredQuestion",
]
