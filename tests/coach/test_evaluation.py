"""``kefu coach eval``: the command prints each rule's counts, precision and recall on the
labelled replies and the seed-001 check, without a database — and the rules stay above
the floors they were tuned to (a regression guard, not a target)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kefu.cli import main
from kefu.coach import evaluation
from kefu.coach.defaults import DEFAULT_RULES
from kefu.coach.readings import read_buyer

# Measured on the labelled set when the rules were tuned, rounded down with some room:
# a rule falling below its floor has lost more than noise.
PRECISION_FLOOR = 0.85
RECALL_FLOOR = 0.85
MICRO_FLOOR = 0.9


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["coach", "eval", *args])
    return result.exit_code, result.output


def rows(output: str) -> dict[str, list[str]]:
    found = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) == 6 and (cells[0] in {r.code for r in DEFAULT_RULES} or cells[0] == "micro"):
            found[cells[0]] = cells[1:]
    return found


def test_the_command_prints_every_rule_and_the_seed_check() -> None:
    code, output = run([])
    assert code == 0, output
    table = rows(output)
    assert set(table) == {rule.code for rule in DEFAULT_RULES} | {"micro"}
    lines = output.splitlines()
    assert lines[0].startswith("tuning set")
    assert lines[1].split() == ["rule", "TP", "FP", "FN", "precision", "recall"]
    held_out = lines.index("held-out set (never used to tune the rules):")
    assert lines[held_out + 1] == lines[1]
    assert "from holdout.jsonl" in output
    assert "seed 001" in output
    assert "3/3 wrong replies flagged, 3/3 right replies clean" in output


def test_every_rule_meets_its_floor_on_the_labelled_set() -> None:
    report = evaluation.evaluate(evaluation.load_items(), DEFAULT_RULES, read_buyer=read_buyer)
    assert report.agent_turns >= 300
    low = {}
    for code, counts in report.per_rule.items():
        assert counts.tp + counts.fn >= 10, f"{code}: too few labelled examples to judge"
        if (counts.precision or 0) < PRECISION_FLOOR or (counts.recall or 0) < RECALL_FLOOR:
            low[code] = (counts.precision, counts.recall)
    assert low == {}
    micro = report.micro
    assert (micro.precision or 0) >= MICRO_FLOOR and (micro.recall or 0) >= MICRO_FLOOR


def test_the_held_out_set_stays_above_what_it_measured() -> None:
    """The held-out replies were never used to tune the patterns: their figures are the
    estimate for unseen chats (measured: micro precision 0.96, recall 0.85). A change that
    loses ground on them fails here, and nobody should tune patterns against its items."""
    report = evaluation.evaluate(
        evaluation.load_items(evaluation.HOLDOUT), DEFAULT_RULES, read_buyer=read_buyer
    )
    assert report.agent_turns >= 200
    assert (report.micro.precision or 0) >= 0.93
    assert (report.micro.recall or 0) >= 0.8


def test_a_small_file_counts_hits_misses_and_false_alarms(tmp_path: Path) -> None:
    items = [
        {  # refund pushed, no apology, no greeting: all expected
            "id": "a", "source": "written", "situation": "质量投诉",
            "turns": [{"role": "buyer", "text": "质量太差了，我要退款", "minute": 0},
                      {"role": "agent", "text": "那你退款好了", "minute": 1, "agent": 1}],
            "closed": False,
            "expect": [{"rule": "refund_first", "turn": 1}, {"rule": "no_apology_angry", "turn": 1},
                       {"rule": "no_greeting", "turn": 1}],
        },
        {  # a clean reply labelled (wrongly) as rude: one miss; greeting omitted: one false alarm
            "id": "b", "source": "written", "situation": "售前",
            "turns": [{"role": "buyer", "text": "有M码吗", "minute": 0},
                      {"role": "agent", "text": "有的", "minute": 1, "agent": 1}],
            "closed": False, "expect": [{"rule": "rude_tone", "turn": 1}],
        },
    ]  # fmt: skip
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n\n", "utf-8")
    code, output = run(["--data", str(path), "--seeds", str(tmp_path), "--errors"])
    table = rows(output)
    assert table["refund_first"] == ["1", "0", "0", "1.0000", "1.0000"]
    assert table["rude_tone"] == ["0", "0", "1", "-", "0.0000"]
    assert table["no_greeting"] == ["1", "1", "0", "0.5000", "1.0000"]
    assert table["micro"] == ["3", "1", "1", "0.7500", "0.7500"]
    assert "FN b turn 1 rude_tone" in output
    assert "FP b turn 1 no_greeting" in output
    # no seed file in tmp_path and no seed-001 items: said so, not failed
    assert "seed 001: no examples found" in output
    assert code == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json\n", "line 1: not JSON"), ('{"id": "x"}\n', "line 1:"), ("[1]\n", "line 1")],
)
def test_a_bad_labelled_file_is_refused_with_its_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, "utf-8")
    code, output = run(["--data", str(path)])
    assert code == 2
    assert message in output


def test_without_the_seed_file_the_labelled_copies_are_checked(tmp_path: Path) -> None:
    code, output = run(["--seeds", str(tmp_path)])
    assert code == 0, output
    assert "seed 001 (labelled set (source seed-001))" in output
    assert "3/3 wrong replies flagged, 3/3 right replies clean" in output
