"""Each shop's own words (product titles, SKUs) for segmenting its buyers' messages,
kept per process and refreshed every few minutes: a new product shows up soon enough,
and a buyer's message never waits for the catalogue to be read."""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session

from kefu.commerce import service as commerce
from kefu.nlp.segment import Vocabulary

REFRESH_SECONDS = 300.0


class ShopVocabularies:
    def __init__(self, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._cached: dict[int, tuple[float, Vocabulary]] = {}

    def of(self, session: Session, *, shop_id: int) -> Vocabulary:
        now = time.monotonic()
        with self._lock:
            cached = self._cached.get(shop_id)
        if cached is not None and now - cached[0] < self._refresh:
            return cached[1]
        vocabulary = Vocabulary(commerce.product_words(session, shop_id=shop_id))
        with self._lock:
            self._cached[shop_id] = (now, vocabulary)
        return vocabulary
