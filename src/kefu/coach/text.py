"""The coach's view of a reply: folded so one pattern matches every way it is typed.

Unlike :func:`kefu.nlp.text.normalize` (which collapses spaces and punctuation for the
models), folding keeps every character where it was — the folded text has the same length
as the original — so a pattern's match is also the span to underline in what the agent
typed.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kefu.nlp.text import to_simplified

# A draft longer than this is judged on its beginning only (a pasted essay must not stall
# the composer); the inspection says it was cut.
MAX_CHARS = 5000
EXCERPT_CHARS = 40

# Full-width ASCII (Ｈｅｌｌｏ，？！) and the ideographic space, one character for one.
_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _simplified(text: str) -> str:
    converted = to_simplified(text)
    if len(converted) == len(text):
        return converted
    # OpenCC converts a few phrases to a different length; then go one character at a
    # time, keeping any character that would change length as it is.
    out = []
    for char in text:
        one = to_simplified(char)
        out.append(one if len(one) == 1 else char)
    return "".join(out)


def _lower(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


def fold(text: str) -> str:
    """Simplified, half-width, lower-case; ``len(fold(t)) == len(t)`` for every ``t``."""
    if not text:
        return ""
    return _lower(_simplified(text.translate(_FULL_TO_HALF)))


@lru_cache(maxsize=4096)
def fold_cached(text: str) -> str:
    """:func:`fold` for texts seen again and again (the buyer's lines on every check)."""
    return fold(text)


def excerpt(text: str, start: int = 0, end: int = 0) -> str:
    """The words a hit shows: the matched span, or the reply's beginning when the hit is
    about something missing (``start == end``)."""
    if start >= end:
        return text[:EXCERPT_CHARS].strip()
    return text[start:end][:EXCERPT_CHARS]


# Pinyin glosses a converter left in the seeds: "服務(wù)", "關(guān)" (latin letters, tones).
_PINYIN_GLOSS = re.compile(r"\([a-zà-ǜ]{1,7}\)")


def clean_seed_text(text: str) -> str:
    """A seed's text as a buyer would have typed it: glosses removed, simplified."""
    return to_simplified(_PINYIN_GLOSS.sub("", text))
