"""Normalise buyer text before any model reads it.

Buyers write in simplified or traditional characters, with full-width letters and
digits from their input method, shouted punctuation ("？？？") and emoji. Models see one
canonical form; the original is always kept for display.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

# Emoji and pictographs (plus the joiners and variation selectors that glue them).
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, supplemental symbols
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats
    "\u2b00-\u2bff"  # arrows and stars used as emoji
    "\ufe0f\u200d"  # variation selector-16 and zero-width joiner
    "\U0001f1e6-\U0001f1ff"  # regional indicators (flags)
    "]+"
)
# Two or more of the same punctuation mark collapse to one ("！！！" → "!").
_REPEATED_PUNCT = re.compile(r"([!?.,~。，、；：…\-])\1+")
_SPACES = re.compile(r"\s+")
# NFKC would also rewrite characters a buyer means (e.g. "①", "㎏" are fine to fold, but
# "…" would become "..."), so only the full-width ASCII block and the ideographic space
# are folded here.
_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Chinese punctuation that means the same as its ASCII form for every model here.
_PUNCT = str.maketrans({"？": "?", "！": "!", "，": ",", "：": ":", "；": ";", "～": "~"})


@dataclass(frozen=True, slots=True)
class Normalized:
    original: str
    text: str  # simplified, half-width, lower-case, emoji removed, punctuation collapsed
    emoji: tuple[str, ...]


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_t2s().convert(text))


def normalize(text: str) -> Normalized:
    emoji = tuple(_EMOJI.findall(text))
    canonical = _EMOJI.sub(" ", text) if emoji else text
    canonical = canonical.translate(_FULL_TO_HALF).translate(_PUNCT)
    canonical = unicodedata.normalize("NFC", canonical)
    canonical = to_simplified(canonical).lower()
    canonical = _REPEATED_PUNCT.sub(r"\1", canonical)
    canonical = _SPACES.sub(" ", canonical).strip()
    return Normalized(original=text, text=canonical, emoji=emoji)


def normalize_text(text: str) -> str:
    """The canonical form only, for models and indexes."""
    return normalize(text).text
