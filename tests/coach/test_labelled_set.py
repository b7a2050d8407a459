"""The labelled agent replies (``coach/evaluation/replies.jsonl``) are well formed: every
line a JSON object, ids unique, turns in time order, every expected hit a default rule on
an agent turn where that rule can apply — and there are enough of them to judge each rule
on, with plenty of replies that break nothing.

Format and consistency only: how well the engine agrees is ``test_evaluation``'s business.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import kefu.coach
from kefu.coach.defaults import DEFAULT_RULES

LABELLED = Path(kefu.coach.__file__).parent / "evaluation" / "replies.jsonl"
CODES = {
    "forbidden_phrases",
    "blame_shifting",
    "quality_denial",
    "no_apology_angry",
    "refund_first",
    "rude_tone",
    "no_greeting",
    "no_closing",
    "no_rating_invite",
    "missed_follow_up",
    "slow_reply_no_apology",
}
ROLES = {"buyer", "agent", "bot", "system"}
# Rules that only judge a closed conversation, on its last agent reply.
CLOSING_RULES = {"no_closing", "no_rating_invite"}
MIN_AGENT_TURNS = 300
MIN_POSITIVES = 12
MIN_CLEAN_TURNS = 120
SEED_001_ITEMS = 6


def _items() -> list[dict[str, Any]]:
    items = []
    for number, line in enumerate(LABELLED.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"line {number} is not JSON: {exc.msg}")
        assert isinstance(item, dict), f"line {number} is not an object"
        items.append(item)
    return items


ITEMS = _items()


def _agent_turns(item: dict[str, Any]) -> list[int]:
    return [i for i, turn in enumerate(item["turns"]) if turn["role"] == "agent"]


def test_the_default_rules_are_the_eleven_codes_labelled_against() -> None:
    assert {rule.code for rule in DEFAULT_RULES} == CODES


def test_ids_are_unique_and_items_have_every_field() -> None:
    ids = [item["id"] for item in ITEMS]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for item in ITEMS:
        assert set(item) == {"id", "source", "situation", "turns", "closed", "expect"}, item["id"]
        assert item["source"] in {"seed-001", "written"}, item["id"]
        assert isinstance(item["situation"], str) and item["situation"], item["id"]
        assert isinstance(item["closed"], bool), item["id"]
        assert item["turns"], item["id"]


def test_turns_have_a_role_text_and_non_decreasing_minutes() -> None:
    for item in ITEMS:
        previous = 0.0
        for turn in item["turns"]:
            assert turn["role"] in ROLES, item["id"]
            assert isinstance(turn["text"], str) and turn["text"].strip(), item["id"]
            minute = turn["minute"]
            assert isinstance(minute, int | float) and minute >= previous, item["id"]
            previous = float(minute)
            if turn["role"] == "agent":
                assert isinstance(turn["agent"], int) and turn["agent"] >= 1, item["id"]
            else:
                assert "agent" not in turn, item["id"]


def test_expected_hits_name_a_default_rule_on_an_agent_turn_once() -> None:
    for item in ITEMS:
        agent_turns = set(_agent_turns(item))
        pairs = [(e["rule"], e["turn"]) for e in item["expect"]]
        assert len(pairs) == len(set(pairs)), item["id"]
        for rule, turn in pairs:
            assert rule in CODES, (item["id"], rule)
            assert turn in agent_turns, (item["id"], rule, turn)


def test_closing_rules_only_on_the_last_agent_reply_of_a_closed_conversation() -> None:
    for item in ITEMS:
        turns = _agent_turns(item)
        for e in item["expect"]:
            if e["rule"] in CLOSING_RULES:
                assert item["closed"], item["id"]
                assert e["turn"] == turns[-1], item["id"]


def test_no_greeting_only_on_an_agents_first_reply() -> None:
    for item in ITEMS:
        first: dict[int, int] = {}
        for i in _agent_turns(item):
            first.setdefault(item["turns"][i]["agent"], i)
        for e in item["expect"]:
            if e["rule"] == "no_greeting":
                assert e["turn"] in first.values(), item["id"]


def test_seed_001_keeps_its_three_wrong_and_three_right_replies() -> None:
    seeds = [item for item in ITEMS if item["source"] == "seed-001"]
    assert len(seeds) == SEED_001_ITEMS
    wrong = [item for item in seeds if item["expect"]]
    assert len(wrong) == 3
    assert len({item["turns"][0]["text"] for item in seeds}) == 1


def test_there_is_enough_to_judge_every_rule_on() -> None:
    agent_turns = sum(len(_agent_turns(item)) for item in ITEMS)
    assert agent_turns >= MIN_AGENT_TURNS
    positives = Counter(e["rule"] for item in ITEMS for e in item["expect"])
    few = {code: positives[code] for code in CODES if positives[code] < MIN_POSITIVES}
    assert few == {}
    clean = sum(
        1
        for item in ITEMS
        for i in _agent_turns(item)
        if not any(e["turn"] == i for e in item["expect"])
    )
    assert clean >= MIN_CLEAN_TURNS
