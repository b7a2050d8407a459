"""Normalising and segmenting buyer text (kefu.nlp.text, kefu.nlp.segment)."""

from __future__ import annotations

from kefu.nlp.segment import EMPTY_VOCABULARY, Vocabulary, cut
from kefu.nlp.text import normalize, normalize_text


def test_traditional_characters_become_simplified() -> None:
    assert normalize_text("怎麼還沒發貨") == "怎么还没发货"


def test_full_width_letters_digits_and_spaces_become_half_width_lower_case() -> None:
    assert normalize_text("ＸＬ码　１２３") == "xl码 123"


def test_shouted_punctuation_collapses_and_chinese_marks_become_ascii() -> None:
    assert normalize_text("到底发不发？？？！！！") == "到底发不发?!"


def test_emoji_are_taken_out_and_kept_aside_and_the_original_is_kept() -> None:
    normalized = normalize("气死了😡😡 快点")
    assert normalized.text == "气死了 快点"
    assert normalized.emoji == ("😡😡",)
    assert normalized.original == "气死了😡😡 快点"


def test_whitespace_is_collapsed_and_trimmed() -> None:
    assert normalize_text("  你好 \n\t 在吗  ") == "你好 在吗"


def test_cut_gives_jieba_words_without_spaces() -> None:
    words = cut("我要 退款")
    assert "退款" in words
    assert all(word.strip() for word in words)
    assert "".join(words) == "我要退款"


def test_a_shops_own_words_are_kept_whole() -> None:
    text = "小米手环七代什么时候发货"
    assert "小米手环七代" not in cut(text)
    vocabulary = Vocabulary(["小米手环七代"])
    words = cut(text, vocabulary=vocabulary)
    assert "小米手环七代" in words
    assert "".join(words) == text


def test_vocabulary_prefers_the_longest_word_and_ignores_single_characters() -> None:
    vocabulary = Vocabulary(["手环", "小米手环", "米"])
    assert "米" not in vocabulary
    assert len(vocabulary) == 2
    assert vocabulary.spans("买小米手环") == [(1, 5)]


def test_the_empty_vocabulary_changes_nothing() -> None:
    assert cut("能便宜点吗", vocabulary=EMPTY_VOCABULARY) == cut("能便宜点吗")
