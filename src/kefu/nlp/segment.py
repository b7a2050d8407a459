"""Split normalised Chinese text into words: jieba, plus each shop's own vocabulary.

jieba keeps one dictionary per process (about 50 MB), so a shop's product names, brands
and SKUs are not added to it: they are found first, longest match wins, and jieba cuts
only the text between them. Two shops selling different things never change each other's
segmentation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from functools import lru_cache

import jieba

# jieba logs its dictionary loading at INFO on its own logger; that is noise for us.
jieba.setLogLevel(logging.WARNING)
_init_lock = threading.Lock()


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    with _init_lock:
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        return tokenizer


def warm_up() -> None:
    """Load jieba's dictionary now (about half a second) instead of on the first message."""
    _tokenizer()


class Vocabulary:
    """A shop's own words (product names, brands, SKUs), matched longest first."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._words: set[str] = set()
        self._max_length = 0
        for word in words:
            self.add(word)

    def add(self, word: str) -> None:
        word = word.strip().lower()
        if len(word) < 2:  # a single character is never a useful product word
            return
        self._words.add(word)
        self._max_length = max(self._max_length, len(word))

    def __contains__(self, word: str) -> bool:
        return word in self._words

    def __len__(self) -> int:
        return len(self._words)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Non-overlapping (start, end) spans of known words, leftmost-longest."""
        if not self._words:
            return []
        found: list[tuple[int, int]] = []
        position = 0
        length = len(text)
        while position < length:
            for size in range(min(self._max_length, length - position), 1, -1):
                if text[position : position + size] in self._words:
                    found.append((position, position + size))
                    position += size
                    break
            else:
                position += 1
        return found


EMPTY_VOCABULARY = Vocabulary()


def cut(text: str, *, vocabulary: Vocabulary = EMPTY_VOCABULARY) -> list[str]:
    """Words of already-normalised text, spaces dropped; the shop's words kept whole."""
    tokenizer = _tokenizer()
    words: list[str] = []
    position = 0
    for start, end in vocabulary.spans(text):
        if start > position:
            words.extend(tokenizer.lcut(text[position:start], HMM=True))
        words.append(text[start:end])
        position = end
    if position < len(text):
        words.extend(tokenizer.lcut(text[position:], HMM=True))
    return [word for word in words if not word.isspace()]
