"""Imports every domain's tables so SQLAlchemy's metadata (and Alembic) sees them all."""

from kefu.accounts.models import Agent, ApiToken, LoginAttempt, LoginSession, TeamMembership
from kefu.bot.models import BotConversationState, BotSettings, IntentRouteEdit
from kefu.commerce.models import (
    CommerceSettings,
    Order,
    OrderLine,
    Product,
    ProductVariant,
    WebhookDelivery,
)
from kefu.conversations.models import Attachment, Conversation, Message
from kefu.crm.models import Customer
from kefu.db import Base
from kefu.kb.models import FaqEntry, FaqQuestion, KbState, UnansweredGroup, UnansweredQuestion
from kefu.sales.models import (
    AfterSalesCase,
    CasePhoto,
    CaseStep,
    Inquiry,
    PaymentReminder,
    SalesSettings,
)
from kefu.shops.models import Shop, Team

__all__ = [
    "AfterSalesCase",
    "Agent",
    "ApiToken",
    "Attachment",
    "Base",
    "BotConversationState",
    "BotSettings",
    "CasePhoto",
    "CaseStep",
    "CommerceSettings",
    "Conversation",
    "Customer",
    "FaqEntry",
    "FaqQuestion",
    "Inquiry",
    "IntentRouteEdit",
    "KbState",
    "LoginAttempt",
    "LoginSession",
    "Message",
    "Order",
    "OrderLine",
    "PaymentReminder",
    "Product",
    "ProductVariant",
    "SalesSettings",
    "Shop",
    "Team",
    "TeamMembership",
    "UnansweredGroup",
    "UnansweredQuestion",
    "WebhookDelivery",
]
