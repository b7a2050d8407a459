"""The demo shop's knowledge base: about 140 entries a home-wear store's buyers ask about.

The entries live in ``faq.json`` (category, phrasings, answer, and the SKU of the product
an entry is about, if any) and are written through the KB service like any other entry.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from kefu.kb import service as kb
from kefu.uow import UnitOfWork

FAQ_FILE = Path(__file__).with_name("faq.json")


@cache
def entries() -> tuple[dict[str, Any], ...]:
    data: list[dict[str, Any]] = json.loads(FAQ_FILE.read_text(encoding="utf-8"))
    return tuple(data)


def write_faq(uow: UnitOfWork, *, shop_id: int, owner_id: int | None = None) -> int:
    """Add the demo entries to the shop (without committing); returns how many."""
    for item in entries():
        sku = item.get("product_sku")
        kb.create_entry(
            uow,
            shop_id=shop_id,
            questions=item["questions"],
            answer=item["answer"],
            category=item.get("category", ""),
            product_id=kb.product_by_sku(uow.session, shop_id=shop_id, sku=sku) if sku else None,
            acting_agent_id=owner_id,
            commit=False,
        )
    return len(entries())
