"""The analyzer: one reading per message, traditional = simplified, and anger."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from kefu.nlp import analyzer as analyzer_module
from kefu.nlp.analyzer import Analyzer, Reading, anger_cues, default_analyzer
from kefu.nlp.intents import LABELS
from kefu.nlp.segment import Vocabulary
from kefu.nlp.text import normalize


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return default_analyzer()


def test_a_reading_has_the_intent_its_confidence_and_the_top_five(analyzer: Analyzer) -> None:
    reading = analyzer.classify("亲，什么时候发货呀？")
    assert isinstance(reading, Reading)
    assert reading.intent in LABELS
    assert reading.ranked[0] == (reading.intent, reading.confidence)
    assert len(reading.ranked) == 5
    assert [p for _, p in reading.ranked] == sorted((p for _, p in reading.ranked), reverse=True)
    assert 0.0 < reading.confidence <= 1.0
    assert -1.0 <= reading.sentiment <= 1.0
    assert reading.normalized.original == "亲，什么时候发货呀？"
    assert "发货" in reading.words


def test_traditional_input_reads_like_simplified(analyzer: Analyzer) -> None:
    traditional = analyzer.classify("怎麼還沒發貨")
    simplified = analyzer.classify("怎么还没发货")
    assert traditional.intent == simplified.intent == "买家催促发货"
    assert traditional.confidence == pytest.approx(simplified.confidence)
    assert traditional.sentiment == pytest.approx(simplified.sentiment)


def test_a_shops_vocabulary_reaches_the_words(analyzer: Analyzer) -> None:
    vocabulary = Vocabulary(["云朵拖鞋"])
    reading = analyzer.classify("云朵拖鞋什么时候发货", vocabulary=vocabulary)
    assert "云朵拖鞋" in reading.words


@pytest.mark.parametrize(
    "text",
    [
        "你们这什么服务，我要投诉",
        "等了一个星期还不发货，骗子吧",
        "东西坏的，客服也不理人！！！",
        "到底什么时候发😡",
        "太过分了，再也不会在你家买了",
    ],
)
def test_angry_messages_are_angry(analyzer: Analyzer, text: str) -> None:
    assert analyzer.classify(text).angry


@pytest.mark.parametrize(
    "text",
    ["好的，谢谢亲", "请问这款有黑色吗", "收到了，很喜欢，谢谢", "什么时候发货呀", "能便宜点吗"],
)
def test_polite_messages_are_not_angry(analyzer: Analyzer, text: str) -> None:
    assert not analyzer.classify(text).angry


def test_anger_cues_read_the_original_for_shouting_and_emoji() -> None:
    assert anger_cues(normalize("快点发货！！"))  # normalising would collapse the marks
    assert anger_cues(normalize("还没到🤬"))
    assert not anger_cues(normalize("快点发货!"))
    assert not anger_cues(normalize("收到啦😊"))


def test_an_empty_message_gets_a_reading(analyzer: Analyzer) -> None:
    reading = analyzer.classify("   ")
    assert reading.intent in LABELS
    assert reading.words == ()
    assert not reading.angry


def test_the_default_analyzer_is_loaded_once_even_when_raced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(analyzer_module, "_default", None)
    found: list[Analyzer] = []

    def load() -> None:
        found.append(default_analyzer())

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8
    assert all(item is found[0] for item in found)


def test_run_time_needs_numpy_only_not_the_training_libraries() -> None:
    code = (
        "import sys\n"
        "from kefu.nlp.analyzer import default_analyzer\n"
        "default_analyzer().classify('怎么还没发货')\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'kefu.nlp.training') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
