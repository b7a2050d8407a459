"""Quality inspection of closed conversations. STUB: H-qa fills."""

from __future__ import annotations

from kefu.coach.models import QaScore
from kefu.uow import UnitOfWork


def score_conversation(
    uow: UnitOfWork, *, shop_id: int, conversation_id: int, commit: bool = True
) -> list[QaScore]:
    raise NotImplementedError
