"""``kefu nlp classify`` and ``kefu nlp eval intent|sentiment FILE``: the command contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kefu.nlp.cli import nlp
from kefu.nlp.intents import LABELS


def run(args: list[str], stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(nlp, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def report(out: str) -> dict[str, str]:
    """``kefu nlp eval``'s "name: value" lines."""
    pairs = (line.split(":", 1) for line in out.splitlines())
    return {key.strip(): value.strip() for key, value in pairs}


def test_classify_adds_the_reading_to_each_object_in_input_order() -> None:
    lines = [
        {"id": 1, "text": "快递到哪了", "channel": "web"},
        {"id": 2, "text": "质量太差了，我要投诉！！！"},
        {"id": 3, "text": "好的，谢谢"},
    ]
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n"
    code, out, _ = run(["classify"], stdin)
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert [item["id"] for item in results] == [1, 2, 3]
    assert results[0]["channel"] == "web"  # the input's own fields are kept
    for item in results:
        assert item["intent"] in LABELS
        assert 0.0 <= item["confidence"] <= 1.0
        assert -1.0 <= item["sentiment"] <= 1.0
        assert isinstance(item["angry"], bool)
    assert results[0]["intent"] == "买家咨询物流信息"
    assert results[1]["angry"] is True
    assert results[2]["angry"] is False


def test_a_line_that_is_not_json_stops_with_its_number_and_exit_code_2() -> None:
    code, out, err = run(["classify"], '{"text": "你好"}\nnot json\n{"text": "在吗"}\n')
    assert code == 2
    assert "line 2" in err
    assert len(out.splitlines()) <= 1  # nothing written for the bad line or after it


def test_a_line_without_text_is_refused() -> None:
    code, _, err = run(["classify"], '{"message": "你好"}\n')
    assert code == 2
    assert "line 1" in err
    assert "'text'" in err


def test_eval_intent_prints_accuracy_and_macro_f1(tmp_path: Path) -> None:
    labelled = tmp_path / "intents.jsonl"
    rows = [
        {"text": "我的快递到哪里了", "label": "买家咨询物流信息"},
        {"text": "可以便宜一点吗", "label": "买家讨价还价"},
        {"text": "你好在吗", "label": "买家打招呼"},
    ]
    labelled.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
    code, out, _ = run(["eval", "intent", str(labelled)])
    assert code == 0
    figures = report(out)
    assert figures["examples"] == "3"
    assert float(figures["accuracy"]) == 1.0
    assert float(figures["macro_f1"]) == 1.0


def test_eval_sentiment_reads_zero_one_labels(tmp_path: Path) -> None:
    labelled = tmp_path / "reviews.jsonl"
    labelled.write_text(
        '{"text": "非常好用，很满意", "label": 1}\n{"text": "太差了，退货", "label": 0}\n',
        encoding="utf-8",
    )
    code, out, _ = run(["eval", "sentiment", str(labelled)])
    assert code == 0
    assert "accuracy: 1.0000" in out


DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.mark.skipif(not (DATA / "cic").is_dir(), reason="../shared/data not here")
def test_eval_intent_on_the_held_out_split() -> None:
    code, out, _ = run(["eval", "intent", "--data", str(DATA)])
    assert code == 0
    figures = report(out)
    assert figures["examples"] == "600"
    assert 0.0 < float(figures["accuracy"]) <= 1.0
    assert 0.0 < float(figures["macro_f1"]) <= 1.0
