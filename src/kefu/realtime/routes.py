"""The websockets: ``/ws/widget`` (a buyer's tabs), ``/ws/desk`` (an agent's desk) and
``/ws/staff`` (read-only live updates for the staff's other pages: tickets, the bell)."""

from __future__ import annotations

from fastapi import APIRouter

from kefu.realtime import agent, buyer, staff

router = APIRouter()
router.include_router(buyer.router)
router.include_router(agent.router)
router.include_router(staff.router)
