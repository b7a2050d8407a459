"""The language engine's reading of buyer turns, remembered by text: the live check reads
the same complaint on every keystroke pause, and classifying it is most of the cost."""

from __future__ import annotations

import threading
from collections import OrderedDict

from kefu.coach.engine import Turn
from kefu.nlp.analyzer import Reading, default_analyzer

_CAPACITY = 4096
_cache: OrderedDict[str, Reading] = OrderedDict()
_lock = threading.Lock()


def read_buyer(turn: Turn) -> Reading:
    """Intent, sentiment and anger of a buyer's message (cached, thread-safe)."""
    text = turn.text[:2000]  # the models read the gist; a pasted essay must not stall
    with _lock:
        found = _cache.get(text)
        if found is not None:
            _cache.move_to_end(text)
            return found
    reading = default_analyzer().classify(text)
    with _lock:
        _cache[text] = reading
        while len(_cache) > _CAPACITY:
            _cache.popitem(last=False)
    return reading
