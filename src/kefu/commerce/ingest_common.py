"""What the product and the order ingestion share: the batch limit and naming the item."""

from __future__ import annotations

from collections.abc import Iterator, Sized
from contextlib import contextmanager
from typing import Literal

from kefu.errors import Invalid

MAX_BATCH = 1000

Outcome = Literal["created", "updated", "unchanged"]


def check_batch(items: Sized) -> None:
    if len(items) > MAX_BATCH:
        raise Invalid(
            f"a batch has at most {MAX_BATCH:,} items; this one has {len(items):,}",
            field="items",
        )


@contextmanager
def naming(index: int | None) -> Iterator[None]:
    """Refusals inside name the item of the batch: "item 3: …", field ``items[3].…``.

    ``index`` None (a single item, not a batch) leaves them as they are.
    """
    if index is None:
        yield
        return
    try:
        yield
    except Invalid as exc:
        field = f"items[{index}].{exc.field}" if exc.field else f"items[{index}]"
        # The translation key is dropped: its text would lose the item's number.
        raise Invalid(f"item {index}: {exc.message}", field=field, **exc.params) from exc
