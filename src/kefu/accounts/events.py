from dataclasses import dataclass

from kefu.events import Event


@dataclass(frozen=True, kw_only=True)
class AgentCreated(Event):
    agent_id: int
    role: str


@dataclass(frozen=True, kw_only=True)
class AgentUpdated(Event):
    agent_id: int
    changed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class AgentLoggedIn(Event):
    agent_id: int


@dataclass(frozen=True, kw_only=True)
class AgentLoggedOut(Event):
    agent_id: int


@dataclass(frozen=True, kw_only=True)
class ApiTokenCreated(Event):
    token_id: int


@dataclass(frozen=True, kw_only=True)
class ApiTokenRevoked(Event):
    token_id: int


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(Event):
    """An agent changed their own password; their other sessions were ended."""

    agent_id: int


@dataclass(frozen=True, kw_only=True)
class AgentPresenceChanged(Event):
    """An agent's presence as others see it (online / away / offline) changed."""

    agent_id: int
    presence: str
