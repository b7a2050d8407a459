"""The two websockets: ``/ws/widget`` (a buyer's tabs) and ``/ws/desk`` (an agent's desk)."""

from __future__ import annotations

from fastapi import APIRouter

from kefu.realtime import agent, buyer

router = APIRouter()
router.include_router(buyer.router)
router.include_router(agent.router)
