"""``kefu nlp match --kb kb.jsonl`` and ``kefu nlp eval match``: the command contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kefu.nlp.cli import nlp

KB: list[dict[str, Any]] = [
    {"id": "express", "question": "发什么快递"},
    {"id": "ship-time", "questions": ["多久发货", "下单后几天能发货"]},
    {"id": 7, "questions": ["能改地址吗", "收货地址填错了怎么修改"]},
    {"id": "return", "question": "怎么退货", "answer": "七天无理由退货"},
    {"id": "coupon", "questions": ["有没有优惠券"]},
]


def run(args: list[str], stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(nlp, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def jsonl(items: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


@pytest.fixture
def kb_path(tmp_path: Path) -> Path:
    path = tmp_path / "kb.jsonl"
    path.write_text(jsonl(KB) + "\n", encoding="utf-8")  # a trailing blank line is fine
    return path


def test_match_adds_match_and_ranked_to_each_query_in_input_order(kb_path: Path) -> None:
    queries = [
        {"text": "多久能发货呀", "ticket": "a"},
        {"text": "地址填错了能改吗", "ticket": "b"},
        {"text": "今天天气怎么样", "ticket": "c"},
        {"text": "怎么退貨", "ticket": "d"},
    ]
    code, out, _ = run(["match", "--kb", str(kb_path)], jsonl(queries))
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["ticket"] for r in results] == ["a", "b", "c", "d"]
    assert [r["text"] for r in results] == [q["text"] for q in queries]
    assert [r["match"] for r in results] == ["ship-time", 7, None, "return"]
    for result in results:
        ranked = result["ranked"]
        assert 1 <= len(ranked) <= 10
        assert all(set(hit) == {"id", "score"} for hit in ranked)
        assert all(0.0 <= hit["score"] <= 1.0 for hit in ranked)
        assert [hit["score"] for hit in ranked] == sorted(
            (hit["score"] for hit in ranked), reverse=True
        )
        assert len({hit["id"] for hit in ranked}) == len(ranked)
    assert results[0]["ranked"][0]["id"] == "ship-time"


def test_match_ranks_at_most_ten_entries(tmp_path: Path) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_text(
        jsonl([{"id": n, "question": f"第{n}号商品怎么退货"} for n in range(15)]), encoding="utf-8"
    )
    code, out, _ = run(["match", "--kb", str(path)], jsonl([{"text": "怎么退货"}]))
    assert code == 0
    assert len(json.loads(out)["ranked"]) == 10


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("not json", "line 2"),
        (json.dumps({"question": "没有编号"}), "kb entry 2: 'id'"),
        (json.dumps({"id": "x"}), "kb entry 2: needs 'question'"),
        (json.dumps({"id": "x", "questions": []}), "kb entry 2: needs 'question'"),
        (json.dumps({"id": "x", "questions": ["好的", 3]}), "kb entry 2: needs 'question'"),
    ],
)
def test_a_bad_kb_line_exits_2_naming_the_line(tmp_path: Path, bad_line: str, message: str) -> None:
    path = tmp_path / "kb.jsonl"
    path.write_text(jsonl(KB[:1]) + bad_line + "\n" + jsonl(KB[1:]), encoding="utf-8")
    code, out, err = run(["match", "--kb", str(path)], jsonl([{"text": "多久发货"}]))
    assert code == 2
    assert message in err
    assert out == ""  # nothing is matched against a half-read knowledge base


def test_a_query_without_text_exits_2_naming_the_line(kb_path: Path) -> None:
    stdin = jsonl([{"text": "多久发货"}, {"question": "多久发货"}])
    code, out, err = run(["match", "--kb", str(kb_path)], stdin)
    assert code == 2
    assert "input line 2" in err
    assert len(out.splitlines()) == 1  # the good line before it was answered


def test_eval_match_prints_top1_and_mrr(kb_path: Path, tmp_path: Path) -> None:
    labelled = tmp_path / "queries.jsonl"
    labelled.write_text(
        jsonl([{"text": "几天发货", "id": "ship-time"}, {"text": "有优惠券吗", "id": "coupon"}]),
        encoding="utf-8",
    )
    code, out, _ = run(["eval", "match", str(labelled), "--kb", str(kb_path)])
    assert code == 0
    report = {k.strip(): v for k, v in (line.split(":", 1) for line in out.splitlines())}
    assert int(report["queries"].strip()) == 2
    assert int(report["entries"].strip()) == len(KB)
    assert float(report["top1"]) == pytest.approx(1.0)
    assert float(report["mrr"]) == pytest.approx(1.0)
