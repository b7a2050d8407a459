from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str | None
    name: str
    nickname: str
    gender: str | None
    phone: str | None
    email: str | None
    city: str
    vip_level: int
    created_at: datetime
