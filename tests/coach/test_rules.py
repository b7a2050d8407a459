"""The shop's coach rules: the defaults until the first edit, then the shop's rows; checks
that refuse a bad pattern (naming which one and why) before anything is written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from kefu.coach import rules as rules_module
from kefu.coach import service as coach
from kefu.coach.defaults import DEFAULT_RULES
from kefu.coach.events import CoachRulesChanged
from kefu.coach.models import CoachRule, PatternScope, RuleKind, Severity
from kefu.errors import Conflict, Invalid, NotFound
from kefu.events import EventBus
from tests.coach.conftest import CoachStaff, Elsewhere
from tests.factories import UowFactory


def _rows(uow_factory: UowFactory, shop_id: int) -> int:
    with uow_factory() as uow:
        query = select(func.count(CoachRule.id)).where(CoachRule.shop_id == shop_id)
        return uow.session.scalar(query) or 0


def _update(uow_factory: UowFactory, staff: CoachStaff, code: str, **changes: Any) -> Any:
    with uow_factory() as uow:
        return coach.update_rule(
            uow, shop_id=staff.shop_id, code=code, agent_id=staff.supervisor.id, **changes
        )


def _create(uow_factory: UowFactory, staff: CoachStaff, **values: Any) -> coach.ShopRule:
    values = {"name": "不许说亲爱的", "patterns": ["亲爱的"], **values}
    with uow_factory() as uow:
        return coach.create_rule(uow, shop_id=staff.shop_id, agent_id=staff.supervisor.id, **values)


def _list(uow_factory: UowFactory, shop_id: int) -> list[coach.ShopRule]:
    with uow_factory() as uow:
        return coach.list_rules(uow.session, shop_id=shop_id)


# --- the defaults ------------------------------------------------------------------------------


def test_every_default_rule_passes_the_checks_a_shop_edit_must_pass() -> None:
    """A supervisor saving a built-in rule unchanged must never be refused."""
    assert len(DEFAULT_RULES) == 11
    codes = [spec.code for spec in DEFAULT_RULES]
    assert len(set(codes)) == len(codes)
    for spec in DEFAULT_RULES:
        assert len(coach.validate_patterns(list(spec.patterns))) >= 1, spec.code
        assert coach.check_variables(spec.suggestion, field="suggestion") == spec.suggestion
        assert RuleKind(spec.kind) and Severity(spec.severity) and PatternScope(spec.scope)
        assert 0 <= spec.points <= 100 and len(spec.name) <= 60 and len(spec.description) <= 300
        timed = RuleKind(spec.kind) in (RuleKind.FOLLOW_UP, RuleKind.REPLY_GAP)
        assert (spec.minutes is not None) == timed, spec.code


def test_a_shop_that_never_edited_reads_the_defaults_and_has_no_rows(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    listed = _list(uow_factory, staff.shop_id)
    assert [r.code for r in listed] == [spec.code for spec in DEFAULT_RULES]
    assert all(r.builtin and not r.changed and r.updated_at is None for r in listed)
    with uow_factory() as uow:
        specs = coach.rule_specs(uow.session, shop_id=staff.shop_id)
        one = coach.get_rule(uow.session, shop_id=staff.shop_id, code="blame_shifting")
    assert specs == [spec for spec in DEFAULT_RULES if spec.enabled]
    assert one.spec() == next(s for s in DEFAULT_RULES if s.code == "blame_shifting")
    assert _rows(uow_factory, staff.shop_id) == 0


def test_the_first_edit_writes_every_default_then_applies_the_edit_and_tells_after_commit(
    uow_factory: UowFactory, staff: CoachStaff, elsewhere: Elsewhere, bus: EventBus
) -> None:
    with bus.capture() as events:
        edited = _update(
            uow_factory, staff, "blame_shifting", points=20, severity="critical",
            patterns=["快递的问题", "不关我们的事"],
            suggestion="{customer_surname}{customer_title}，我来跟进",
        )  # fmt: skip
    assert (edited.points, edited.severity, edited.patterns) == (
        20, Severity.CRITICAL, ("快递的问题", "不关我们的事"),
    )  # fmt: skip
    assert edited.changed and edited.updated_by_agent_id == staff.supervisor.id
    assert _rows(uow_factory, staff.shop_id) == len(DEFAULT_RULES)
    assert events == [
        CoachRulesChanged(
            shop_id=staff.shop_id, rule_code="blame_shifting", action="updated",
            agent_id=staff.supervisor.id,
        )
    ]  # fmt: skip
    listed = _list(uow_factory, staff.shop_id)
    assert [r.code for r in listed] == [spec.code for spec in DEFAULT_RULES]
    assert [r.code for r in listed if r.changed] == ["blame_shifting"]
    # Written down but untouched defaults are still defaults, by nobody.
    greeting = next(r for r in listed if r.code == "no_greeting")
    assert greeting.updated_by_agent_id is None and not greeting.changed
    # The other shop still reads the defaults, unwritten.
    other = elsewhere.staff.shop.id
    assert _rows(uow_factory, other) == 0
    with uow_factory() as uow:
        theirs = coach.get_rule(uow.session, shop_id=other, code="blame_shifting")
    assert theirs.points == 15 and not theirs.changed


def test_switching_a_rule_off_leaves_it_out_of_what_the_engine_applies(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    _update(uow_factory, staff, "no_rating_invite", enabled=False)
    with uow_factory() as uow:
        codes = [s.code for s in coach.rule_specs(uow.session, shop_id=staff.shop_id)]
    assert "no_rating_invite" not in codes
    assert len(codes) == len(DEFAULT_RULES) - 1
    listed = {r.code: r for r in _list(uow_factory, staff.shop_id)}
    assert listed["no_rating_invite"].enabled is False  # still listed, to switch on again


def test_minutes_only_for_the_timed_rules_and_scope_only_for_pattern_rules(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    assert _update(uow_factory, staff, "missed_follow_up", minutes=30).minutes == 30
    assert _update(uow_factory, staff, "slow_reply_no_apology", minutes=1440).minutes == 1440
    refusals = [
        ("missed_follow_up", {"minutes": 0}, "minutes"),
        ("missed_follow_up", {"minutes": 1441}, "minutes"),
        ("missed_follow_up", {"minutes": True}, "minutes"),
        ("blame_shifting", {"minutes": 5}, "minutes"),
        ("blame_shifting", {"scope": "angry"}, "scope"),
        ("forbidden_phrases", {"scope": "sometimes"}, "scope"),
        ("forbidden_phrases", {"points": 101}, "points"),
        ("forbidden_phrases", {"points": -1}, "points"),
        ("forbidden_phrases", {"severity": "fatal"}, "severity"),
        ("forbidden_phrases", {"name": ""}, "name"),
        ("forbidden_phrases", {"name": "名" * 61}, "name"),
        ("forbidden_phrases", {"description": "说" * 301}, "description"),
        ("forbidden_phrases", {"enabled": "yes"}, "enabled"),
        ("forbidden_phrases", {"name": "bad\x00name"}, "name"),
    ]
    for code, changes, field in refusals:
        with pytest.raises(Invalid) as refused:
            _update(uow_factory, staff, code, **changes)
        assert refused.value.field == field, (code, changes)
    assert _update(uow_factory, staff, "forbidden_phrases", scope="complaint").scope == (
        PatternScope.COMPLAINT
    )
    assert _update(uow_factory, staff, "forbidden_phrases", points=0).points == 0


def test_an_unknown_variable_in_a_suggestion_is_refused_by_name_and_nothing_is_written(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    with pytest.raises(Invalid) as refused:
        _update(uow_factory, staff, "no_apology_angry", suggestion="{customer_name}您好，抱歉")
    assert refused.value.field == "suggestion"
    assert refused.value.key == "coach.error.unknown_variable"
    assert refused.value.params["name"] == "customer_name"
    assert "{customer_name}" in refused.value.message
    assert _rows(uow_factory, staff.shop_id) == 0


def test_an_edit_that_changes_nothing_writes_nothing(
    uow_factory: UowFactory, staff: CoachStaff, bus: EventBus
) -> None:
    for default in DEFAULT_RULES:  # as the page's form posts a rule saved unchanged
        with bus.capture() as events:
            same = _update(
                uow_factory, staff, default.code, name=default.name, points=default.points,
                patterns=list(default.patterns), suggestion=default.suggestion,
                description=default.description, enabled=default.enabled,
            )  # fmt: skip
        assert same.spec() == default and events == [], default.code
    assert _rows(uow_factory, staff.shop_id) == 0


# --- patterns ----------------------------------------------------------------------------------


def test_a_pattern_that_does_not_compile_is_refused_naming_which_and_why(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    with pytest.raises(Invalid) as refused:
        _update(uow_factory, staff, "forbidden_phrases", patterns=["爱买不买", "(退款", "x"])
    error = refused.value
    assert error.field == "patterns" and error.key == "coach.rules.error.bad_pattern"
    assert error.params["index"] == 2 and error.params["pattern"] == "(退款"
    assert "missing )" in error.params["reason"]  # Python's own reason
    assert _rows(uow_factory, staff.shop_id) == 0
    with uow_factory() as uow:
        kept = coach.get_rule(uow.session, shop_id=staff.shop_id, code="forbidden_phrases")
    assert "(退款" not in kept.patterns


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+", r"(\w*\s?)*", r"((ab)+c)*", r"(x{1,3}){2,}", r"(?:退款.*)+", r"(?P<n>\d+)*$",
     r"((a|b)+)+", r"(a*)*b", r"([a-z]+\d*){3}"],
)  # fmt: skip
def test_a_repeated_group_that_itself_repeats_is_refused(pattern: str) -> None:
    with pytest.raises(Invalid) as refused:
        coach.validate_patterns(["正常的", pattern])
    assert refused.value.key == "coach.rules.error.nested_quantifier"
    assert refused.value.params["index"] == 2


@pytest.mark.parametrize(
    "pattern",
    [r"(退款|退货)+", r"(?:亲)+", r"\(a+\)+", r"[(a+)]+", r"(a?)+b", r"(\d{4})+", r"(ab){2}c*",
     r"慢慢等着?吧", r"听不[见到]就算了", r"你(自己)?去查", r"(?i)ok+", r"a{2,5}(bc)+"],
)  # fmt: skip
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert coach.validate_patterns([pattern]) == (pattern,)


def test_pattern_limits_empty_matches_and_blank_lines() -> None:
    assert coach.validate_patterns(["  爱买不买 ", "", "爱买不买", "不买拉倒"]) == (
        "爱买不买", "不买拉倒",
    )  # fmt: skip
    with pytest.raises(Invalid) as too_many:
        coach.validate_patterns([f"词{i}" for i in range(31)])
    assert too_many.value.key == "coach.rules.error.too_many_patterns"
    assert len(coach.validate_patterns([f"词{i}" for i in range(30)])) == 30
    with pytest.raises(Invalid) as too_long:
        coach.validate_patterns(["短", "长" * 201])
    assert too_long.value.key == "coach.rules.error.pattern_too_long"
    assert too_long.value.params["index"] == 2
    assert coach.validate_patterns(["长" * 200]) == ("长" * 200,)
    for empty in ("a*", "(?:x)?", "^", "|退款"):
        with pytest.raises(Invalid) as refused:
            coach.validate_patterns([empty])
        assert refused.value.key == "coach.rules.error.matches_empty", empty
    with pytest.raises(Invalid) as not_a_list:
        coach.validate_patterns("退款")
    assert not_a_list.value.field == "patterns"
    with pytest.raises(Invalid):
        coach.validate_patterns(["a{99999999999999999999}"])


def test_patterns_are_saved_folded_like_the_replies_they_are_matched_against() -> None:
    """Replies are matched simplified, half-width and lower-case: a shop's traditional or
    full-width pattern is saved that way too, escapes and group syntax left alone, and a
    full-width bracket stays a literal."""
    typed = ["說了多少遍", "ＯＫ就行", "退款（急）", r"\D+\W", "(?P<Who>我)"]
    assert coach.validate_patterns(typed) == (
        "说了多少遍", "ok就行", r"退款\(急\)", r"\D+\W", "(?P<Who>我)",
    )  # fmt: skip
    assert coach.validate_patterns(["OK", "ok"]) == ("ok",)  # the same once folded


# --- the shop's own rules ---------------------------------------------------------------------


def test_a_shop_adds_its_own_rules_numbered_and_deletes_them(
    uow_factory: UowFactory, staff: CoachStaff, bus: EventBus
) -> None:
    with bus.capture() as events:
        first = _create(
            uow_factory, staff, patterns=["亲爱的", "宝贝"], scope="angry", severity="major",
            points=8, description="对生气的买家别太随意",
        )  # fmt: skip
    assert (first.code, first.kind, first.scope, first.builtin) == (
        "custom_1", RuleKind.PATTERN, PatternScope.ANGRY, False,
    )  # fmt: skip
    assert [e.action for e in events if isinstance(e, CoachRulesChanged)] == ["created"]
    second = _create(uow_factory, staff, name="别说不知道", patterns=["不知道"])
    assert second.code == "custom_2"
    listed = _list(uow_factory, staff.shop_id)
    assert [r.code for r in listed][-2:] == ["custom_1", "custom_2"]
    with uow_factory() as uow:
        specs = {s.code: s for s in coach.rule_specs(uow.session, shop_id=staff.shop_id)}
    assert specs["custom_1"].patterns == ("亲爱的", "宝贝") and specs["custom_1"].scope == "angry"
    with bus.capture() as events, uow_factory() as uow:
        coach.delete_rule(uow, shop_id=staff.shop_id, code="custom_1", agent_id=staff.owner.id)
    assert [(e.rule_code, e.action) for e in events] == [("custom_1", "deleted")]
    assert _create(uow_factory, staff, name="第三条", patterns=["随便"]).code == "custom_3"
    with uow_factory() as uow, pytest.raises(NotFound):
        coach.get_rule(uow.session, shop_id=staff.shop_id, code="custom_1")


def test_a_shops_own_rule_needs_a_pattern_and_checks_like_any_other(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    for values, field in (
        ({"patterns": []}, "patterns"),
        ({"patterns": ["", "  "]}, "patterns"),
        ({"patterns": ["(退款"]}, "patterns"),
        ({"name": "  "}, "name"),
        ({"scope": "always_on"}, "scope"),
        ({"suggestion": "{order}"}, "suggestion"),
    ):
        with pytest.raises(Invalid) as refused:
            _create(uow_factory, staff, **values)
        assert refused.value.field == field, values
    assert _rows(uow_factory, staff.shop_id) == 0
    made = _create(uow_factory, staff)
    with pytest.raises(Invalid) as emptied:
        _update(uow_factory, staff, made.code, patterns=[])
    assert emptied.value.key == "coach.rules.error.patterns_required"
    # Built-in rules may be left without patterns (the engine has its own cues for some).
    assert _update(uow_factory, staff, "rude_tone", patterns=[]).patterns == ()


def test_built_in_rules_are_switched_off_not_deleted(
    uow_factory: UowFactory, staff: CoachStaff
) -> None:
    with uow_factory() as uow, pytest.raises(Conflict) as refused:
        coach.delete_rule(uow, shop_id=staff.shop_id, code="blame_shifting", agent_id=None)
    assert refused.value.key == "coach.rules.error.builtin_kept"
    with uow_factory() as uow, pytest.raises(NotFound):
        coach.delete_rule(uow, shop_id=staff.shop_id, code="custom_9", agent_id=None)
    assert _rows(uow_factory, staff.shop_id) == 0


def test_reset_goes_back_to_the_defaults_and_drops_the_shops_own(
    uow_factory: UowFactory, staff: CoachStaff, bus: EventBus
) -> None:
    _update(uow_factory, staff, "no_greeting", points=9, enabled=False)
    _create(uow_factory, staff)
    with bus.capture() as events, uow_factory() as uow:
        back = coach.reset_rules(uow, shop_id=staff.shop_id, agent_id=staff.owner.id)
    assert [(e.rule_code, e.action) for e in events] == [("*", "reset")]
    assert [r.code for r in back] == [spec.code for spec in DEFAULT_RULES]
    assert [r.spec() for r in back] == list(DEFAULT_RULES)
    assert _rows(uow_factory, staff.shop_id) == 0


def test_another_shops_rule_is_not_found(
    uow_factory: UowFactory, staff: CoachStaff, elsewhere: Elsewhere
) -> None:
    other = elsewhere.staff
    with uow_factory() as uow:
        theirs = coach.create_rule(
            uow, shop_id=other.shop.id, agent_id=other.supervisor.id, name="别家的规则",
            patterns=["别家"],
        )  # fmt: skip
    assert theirs.code == "custom_1"
    with uow_factory() as uow, pytest.raises(NotFound):
        coach.get_rule(uow.session, shop_id=staff.shop_id, code="custom_1")
    with pytest.raises(NotFound):
        _update(uow_factory, staff, "custom_1", name="改别家的")
    with uow_factory() as uow, pytest.raises(NotFound):
        coach.delete_rule(uow, shop_id=staff.shop_id, code="custom_1", agent_id=None)
    assert "别家的规则" not in {r.name for r in _list(uow_factory, staff.shop_id)}
    with uow_factory() as uow:
        kept = coach.get_rule(uow.session, shop_id=other.shop.id, code="custom_1")
    assert kept.name == "别家的规则"


def test_a_first_edit_racing_another_writes_the_defaults_once(
    uow_factory: UowFactory, staff: CoachStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between reading the rule and taking the lock, another transaction's first edit
    committed the defaults: ours waits on the lock, then finds them and writes none."""
    real_lock = rules_module._lock_rules
    raced: list[str] = []

    def lock_after_a_rival(session: Any, shop_id: int) -> None:
        if not raced:
            raced.append("rival")
            _update(uow_factory, staff, "no_closing", points=7)  # commits its own rows
        real_lock(session, shop_id)

    monkeypatch.setattr(rules_module, "_lock_rules", lock_after_a_rival)
    edited = _update(uow_factory, staff, "no_greeting", points=6)
    assert raced == ["rival"] and edited.points == 6
    assert _rows(uow_factory, staff.shop_id) == len(DEFAULT_RULES)
    listed = {r.code: r for r in _list(uow_factory, staff.shop_id)}
    assert (listed["no_closing"].points, listed["no_greeting"].points) == (7, 6)
