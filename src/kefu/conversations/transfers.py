"""Moving a conversation on: an agent transfers it to a team or a colleague, and the bot
hands the buyers it received to the team of their intent."""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent
from kefu.conversations import routing
from kefu.conversations.messages import lock_conversation, send_reply
from kefu.conversations.models import Conversation, ConversationStatus, SenderType
from kefu.errors import Conflict, Invalid, NotFound
from kefu.shops import service as shops
from kefu.uow import UnitOfWork


def transfer_conversation(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    by_agent_id: int | None,
    team_id: int | None = None,
    agent_id: int | None = None,
    commit: bool = True,
) -> Conversation:
    """Move a conversation to another team (its queue, then routing) or straight to an agent.

    An explicit choice of agent is honoured even past their capacity: a person decided.
    The buyer sees a short system message saying where they were transferred.
    """
    if team_id is None and agent_id is None:
        raise Invalid("choose a team or an agent", field="team_id")
    session = uow.session
    conversation = lock_conversation(session, shop_id=shop_id, conversation_id=conversation_id)
    if conversation.status is ConversationStatus.CLOSED:
        raise Conflict("reopen the conversation first", key="errors.conversation_closed")
    team = shops.get_team(session, shop_id=shop_id, team_id=team_id) if team_id else None
    agent: Agent | None = None
    if agent_id is not None:
        agent = _active_agent(session, shop_id=shop_id, agent_id=agent_id)
    previous_assignee = conversation.assignee_id
    if (
        agent is not None
        and agent.id == previous_assignee
        and (team is None or team.id == conversation.team_id)
    ):
        # Already theirs: nothing changes hands, and the buyer is not told they moved.
        if commit:
            uow.commit()
        return conversation
    if agent is not None:
        routing.assign(
            uow,
            conversation,
            agent=agent,
            reason="transferred" if agent.id != by_agent_id else "taken",
            by_agent_id=by_agent_id,
            team_id=team.id if team else None,
        )
        where = agent.display_name
    else:
        assert team is not None
        routing.assign(
            uow,
            conversation,
            agent=None,
            reason="transferred",
            by_agent_id=by_agent_id,
            team_id=team.id,
        )
        routing.route(uow, conversation, reason="transferred", by_agent_id=by_agent_id)
        where = team.name
    if agent is None or agent.id != by_agent_id:
        send_reply(
            uow,
            shop_id=shop_id,
            conversation_id=conversation.id,
            client_msg_id=f"sys-{uuid4().hex}",
            body=f"已为您转接至{where},请稍候。",
            sender_type=SenderType.SYSTEM,
            sender_agent_id=None,
            commit=False,
        )
    if previous_assignee is not None and previous_assignee != conversation.assignee_id:
        session.flush()
        routing.drain_teams_of(uow, shop_id=shop_id, agent_id=previous_assignee)
    if commit:
        uow.commit()
    return conversation


def hand_off(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    team_code: str,
    note: str,
    priority: int = 0,
    commit: bool = True,
) -> Conversation:
    """The bot passes a conversation to a team (an unknown code: the default team), with
    a one-line note for the agent. Urgent ones (``priority`` 1) go ahead in the queue.
    A conversation already with people only gets the note and, if higher, the priority."""
    session = uow.session
    conversation = lock_conversation(session, shop_id=shop_id, conversation_id=conversation_id)
    conversation.handoff_note = note[:300]
    conversation.priority = max(conversation.priority, priority)
    if conversation.with_bot and conversation.status is ConversationStatus.OPEN:
        try:
            team = shops.get_team_by_code(session, shop_id=shop_id, code=team_code)
        except NotFound:
            team = shops.get_team_by_code(session, shop_id=shop_id, code=shops.DEFAULT_TEAM_CODE)
        previous = conversation.assignee_id
        routing.assign(
            uow, conversation, agent=None, reason="handed_off", by_agent_id=None, team_id=team.id
        )
        routing.route(uow, conversation, prefer_agent_id=previous, reason="handed_off")
    if commit:
        uow.commit()
    return conversation


def _active_agent(session: Session, *, shop_id: int, agent_id: int) -> Agent:
    try:
        agent = accounts.get_agent(session, shop_id=shop_id, agent_id=agent_id)
    except NotFound as exc:
        raise Invalid("no such agent in this shop", field="agent_id") from exc
    if not agent.is_active:
        raise Invalid("this agent is deactivated", field="agent_id")
    return agent
