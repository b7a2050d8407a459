"""The held-out labelled replies (``coach/evaluation/holdout.jsonl``) follow the same format
as ``replies.jsonl`` and are a fair second opinion: the engine was tuned on ``replies.jsonl``,
so no agent reply here may be borrowed from it, or the measurement would flatter the engine.

Format and consistency only: how well the engine agrees is ``kefu coach eval --data``'s job.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.coach.test_labelled_set import (
    CLOSING_RULES,
    CODES,
    LABELLED,
    ROLES,
    _agent_turns,
)

HOLDOUT = LABELLED.parent / "holdout.jsonl"
MIN_AGENT_TURNS = 120
MIN_POSITIVES = 5
MIN_CLEAN_TURNS = 50


def _read(path: Path) -> list[dict[str, Any]]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"{path.name} line {number} is not JSON: {exc.msg}")
        assert isinstance(item, dict), f"{path.name} line {number} is not an object"
        items.append(item)
    return items


ITEMS = _read(HOLDOUT)


def test_ids_are_unique_prefixed_h_and_items_have_every_field() -> None:
    ids = [item["id"] for item in ITEMS]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for item in ITEMS:
        assert item["id"].startswith("h"), item["id"]
        assert set(item) == {"id", "source", "situation", "turns", "closed", "expect"}, item["id"]
        assert item["source"] == "written", item["id"]
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


def test_no_agent_reply_is_borrowed_from_the_tuning_set() -> None:
    # Substring, not just equality: a tuning reply with a word added is still the same reply.
    tuning = [turn["text"] for item in _read(LABELLED) for turn in item["turns"]]
    borrowed = [
        (item["id"], turn["text"])
        for item in ITEMS
        for turn in item["turns"]
        if turn["role"] == "agent" and any(turn["text"] in text for text in tuning)
    ]
    assert borrowed == []


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
