"""The page /settings/coach as people use it: a supervisor edits rules, adds and deletes
the shop's own and goes back to the defaults; an agent only reads; a refusal is shown
beside its form with what was typed and nothing changed; hostile text is escaped."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.coach import service as coach
from kefu.coach.defaults import DEFAULT_RULES
from kefu.coach.models import CoachRule
from tests.coach.conftest import SLUG, CoachStaff, Elsewhere
from tests.factories import UowFactory
from tests.tickets.pagekit import Person, log_in, part, text_of

PAGE = "/settings/coach"
HOSTILE = "<img src=x onerror=alert(1)>"


def _rows(uow_factory: UowFactory, shop_id: int) -> int:
    with uow_factory() as uow:
        query = select(func.count(CoachRule.id)).where(CoachRule.shop_id == shop_id)
        return uow.session.scalar(query) or 0


def _rule(uow_factory: UowFactory, staff: CoachStaff, code: str) -> coach.ShopRule:
    with uow_factory() as uow:
        return coach.get_rule(uow.session, shop_id=staff.shop_id, code=code)


def _form(rule: coach.ShopRule, **changes: str) -> dict[str, str]:
    """What the rule's edit form posts when saved unchanged (the fields it shows)."""
    form = {
        "name": rule.name, "description": rule.description, "severity": rule.severity.value,
        "points": str(rule.points), "enabled": "true" if rule.enabled else "",
        "patterns": "\n".join(rule.patterns), "suggestion": rule.suggestion,
    }  # fmt: skip
    if rule.kind.value == "pattern":
        form["scope"] = rule.scope.value
    if rule.timed:
        form["minutes"] = str(rule.minutes)
    form.update(changes)
    return form


def _person(client: TestClient, email: str) -> Person:
    return log_in(client, shop=SLUG, email=email)


def test_a_supervisor_sees_every_rule_with_its_edit_form(app: FastAPI, staff: CoachStaff) -> None:
    with TestClient(app) as client:
        lead = _person(client, staff.supervisor.email)
        page = lead.get(PAGE)
    assert page.status_code == 200
    rows = re.findall(r'<tr id="rule-(\w+)" data-rule=', page.text)
    assert rows == [spec.code for spec in DEFAULT_RULES]
    for spec in DEFAULT_RULES:
        assert f'data-testid="rule-form-{spec.code}"' in page.text
    assert 'data-testid="rules-read-only"' not in page.text
    assert 'data-testid="rule-new"' in page.text and 'data-testid="rules-reset"' in page.text
    # Minutes only on the timed rules, scope only on pattern rules.
    follow_up = part(page.text, "rule-form-missed_follow_up")
    assert "时限（分钟）" in follow_up and "适用范围" not in follow_up
    assert "适用范围" in part(page.text, "rule-form-forbidden_phrases")
    assert "禁用语" in text_of(page.text) and "严重" in part(page.text, "coach-rules")
    # The nav's 质检 group, its rules entry marked as the page.
    assert 'data-testid="nav-group-coach"' in page.text
    assert re.search(r'href="/settings/coach" class="active"', page.text)


def test_an_agent_reads_the_rules_but_cannot_change_them(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    with TestClient(app) as client:
        agent = _person(client, staff.agent.email)
        page = agent.get(PAGE)
        assert page.status_code == 200
        assert 'data-testid="rules-read-only"' in page.text
        assert "rule-form-" not in page.text and 'data-testid="rule-new"' not in page.text
        assert "爱买不买" in part(page.text, "rule-patterns-forbidden_phrases")
        rule = _rule(uow_factory, staff, "blame_shifting")
        tried = agent.post(f"{PAGE}/rules/blame_shifting", _form(rule, points="0"))
        assert tried.status_code == 403
        assert agent.post(f"{PAGE}/rules", _form(rule, name="x")).status_code == 403
        assert agent.post(f"{PAGE}/reset").status_code == 403
        assert 'href="/quality"' not in page.text  # 质检概览 is for supervisors
        assert 'href="/quality/mine"' in page.text
    assert _rows(uow_factory, staff.shop_id) == 0


def test_a_supervisor_edits_a_rule_through_its_form(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    rule = _rule(uow_factory, staff, "missed_follow_up")
    with TestClient(app) as client:
        lead = _person(client, staff.supervisor.email)
        saved = lead.post(
            f"{PAGE}/rules/missed_follow_up",
            _form(rule, points="12", minutes="30", enabled="", severity="critical",
                  patterns="请稍等\n\n  我帮您查一下  \n稍后回复您\n"),
        )  # fmt: skip
        page = lead.follow(saved)
    assert saved.headers["location"].startswith("/settings/coach?done=rule_saved")
    assert part(page.text, "rule-done") == "规则已保存。"
    edited = _rule(uow_factory, staff, "missed_follow_up")
    assert (edited.points, edited.minutes, edited.enabled, edited.severity.value) == (
        12, 30, False, "critical",
    )  # fmt: skip
    assert edited.patterns == ("请稍等", "我帮您查一下", "稍后回复您")
    assert part(page.text, "rule-enabled-missed_follow_up") == "已停用"
    assert part(page.text, "rule-minutes-missed_follow_up") == "30"
    assert "已修改" in part(page.text, "coach-rules")


def test_an_invalid_pattern_is_refused_beside_its_form_and_nothing_changes(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    rule = _rule(uow_factory, staff, "forbidden_phrases")
    typed = "爱买不买\n(退款"
    with TestClient(app) as client:
        lead = _person(client, staff.supervisor.email)
        refused = lead.post(
            f"{PAGE}/rules/forbidden_phrases", _form(rule, patterns=typed, points="40")
        )
        assert refused.status_code == 422
        message = part(refused.text, "rule-error")
        assert "第 2 条" in message and "(退款" in message and "missing )" in message
        # The form is open again with what was typed.
        form = part(refused.text, "rule-form-forbidden_phrases")
        assert "(退款" in form and 'value="40"' in refused.text
        assert re.search(r"<details open>\s*<summary data-testid=\"rule-edit-forbidden_phrases\"",
                         refused.text)  # fmt: skip
        bad_points = lead.post(f"{PAGE}/rules/forbidden_phrases", _form(rule, points="很多"))
        assert bad_points.status_code == 422
        assert "扣分需为 0–100 的整数" in part(bad_points.text, "rule-error")
        nested = lead.post(f"{PAGE}/rules/forbidden_phrases", _form(rule, patterns="(好+)+"))
        assert "第 1 条" in part(nested.text, "rule-error")
        variable = lead.post(
            f"{PAGE}/rules/no_apology_angry",
            _form(_rule(uow_factory, staff, "no_apology_angry"), suggestion="{name}您好"),
        )
        assert variable.status_code == 422 and "{name}" in part(variable.text, "rule-error")
    assert _rule(uow_factory, staff, "forbidden_phrases") == rule
    assert _rows(uow_factory, staff.shop_id) == 0


def test_the_shops_own_rules_are_added_deleted_and_escaped(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    new = {
        "name": HOSTILE, "description": HOSTILE, "severity": "major", "points": "8",
        "scope": "complaint", "patterns": "亲爱的\n宝贝", "suggestion": HOSTILE, "enabled": "true",
    }  # fmt: skip
    with TestClient(app) as client:
        lead = _person(client, staff.supervisor.email)
        added = lead.post(f"{PAGE}/rules", new)
        assert added.headers["location"] == "/settings/coach?done=rule_created#rule-custom_1"
        page = lead.follow(added)
        assert HOSTILE not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
        assert part(page.text, "rule-name-custom_1") == HOSTILE
        assert 'data-testid="rule-delete-custom_1"' in page.text
        assert 'data-testid="rule-delete-blame_shifting"' not in page.text
        refused = lead.post(f"{PAGE}/rules", {**new, "patterns": "", "points": "9"})
        assert refused.status_code == 422
        assert "至少要有一条表达式" in part(refused.text, "rule-error")
        new_form = refused.text[refused.text.index('data-testid="rule-new"') :]
        assert 'value="9"' in new_form and 'value="complaint" selected' in new_form
        builtin = lead.post(f"{PAGE}/rules/blame_shifting/delete")
        assert builtin.status_code == 409 and "内置规则" in part(builtin.text, "rule-error")
        gone = lead.follow(lead.post(f"{PAGE}/rules/custom_1/delete"))
        assert part(gone.text, "rule-done") == "规则已删除。"
        assert "rule-custom_1" not in gone.text
        assert lead.post(f"{PAGE}/rules/custom_1/delete").status_code == 404
        lead.post(f"{PAGE}/rules", {**new, "name": "第二条"})
        reset = lead.follow(lead.post(f"{PAGE}/reset"))
        assert part(reset.text, "rule-done") == "已恢复默认规则。"
        assert "第二条" not in reset.text
    assert _rows(uow_factory, staff.shop_id) == 0


def test_forms_need_the_csrf_token_and_another_shops_rule_is_not_found(
    app: FastAPI, staff: CoachStaff, elsewhere: Elsewhere, uow_factory: UowFactory
) -> None:
    other = elsewhere.staff
    with uow_factory() as uow:
        coach.create_rule(
            uow, shop_id=other.shop.id, agent_id=None, name="别家机密规则", patterns=["别家"]
        )
    rule = _rule(uow_factory, staff, "blame_shifting")
    with TestClient(app) as client:
        owner = _person(client, staff.owner.email)
        forged = client.post(
            f"{PAGE}/rules/blame_shifting", data=_form(rule, points="0"), follow_redirects=False
        )
        assert forged.status_code == 403
        theirs = owner.post(f"{PAGE}/rules/custom_1", _form(rule, name="抢来的"))
        assert theirs.status_code == 404 and "别家机密规则" not in theirs.text
        assert owner.post(f"{PAGE}/rules/custom_1/delete").status_code == 404
        assert owner.post(f"{PAGE}/rules/Bad-Code").status_code == 404
    assert _rule(uow_factory, staff, "blame_shifting").points == rule.points
    with uow_factory() as uow:
        assert coach.get_rule(uow.session, shop_id=other.shop.id, code="custom_1").name == (
            "别家机密规则"
        )
