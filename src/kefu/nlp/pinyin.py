"""Pinyin of normalised text, so that homophone typos (花被 for 花呗, 发获 for 发货) still match.

Buyers type with pinyin input methods, and the commonest typo is the wrong character with the
right sound. Tones are dropped: the input method ignores them too. Each character is looked up
on its own (not as part of a phrase) so the same character always reads the same way on both
sides of a comparison, and the per-character cache keeps this cheap on the hot path.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


@lru_cache(maxsize=65536)
def syllable(char: str) -> str:
    """The toneless pinyin of one Chinese character; any other character is returned as is."""
    if not _is_han(char):
        return char
    return str(lazy_pinyin(char)[0])


def syllables(text: str) -> list[str]:
    """One syllable per Chinese character; runs of letters and digits stay whole words."""
    out: list[str] = []
    word: list[str] = []
    for char in text:
        if char.isascii() and char.isalnum():
            word.append(char)
            continue
        if word:
            out.append("".join(word))
            word = []
        if _is_han(char):
            out.append(syllable(char))
    if word:
        out.append("".join(word))
    return out
