"""The quality pages: /quality for supervisors, a conversation's transcript with its hits
and the review form, /quality/mine for the agent — roles, hostile text shown as text,
another shop's rows never reachable."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.coach import service as coach
from kefu.coach.models import ReviewStatus, Verdict
from tests.coach.conftest import ChatFactory, CoachStaff, Elsewhere
from tests.coach.qakit import REFUND, bad_chat, good_chat, hits_of, reload, score_of
from tests.coach.test_live_routes import log_in
from tests.factories import UowFactory

HOSTILE_BUYER = "<script>alert(1)</script>你们的东西质量太差了，我要退款"
HOSTILE_NAME = "<b>王芳</b>"


class Person:
    def __init__(self, app: FastAPI, email: str) -> None:
        self.client = TestClient(app)
        self.csrf = log_in(self.client, email)["X-CSRF-Token"]

    def post(self, path: str, data: dict[str, Any]) -> httpx.Response:
        return self.client.post(
            path, data={"csrf_token": self.csrf, **data}, follow_redirects=False
        )


def test_quality_is_for_supervisors_and_shows_the_shop(
    app: FastAPI, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    bad = bad_chat(uow_factory, chat, staff.aftersale, name=HOSTILE_NAME)
    good_chat(uow_factory, chat, staff.agent, team_code="presale")
    agent = Person(app, staff.aftersale.email)
    assert agent.client.get("/quality").status_code == 403
    lead = Person(app, staff.supervisor.email)
    page = lead.client.get("/quality")
    assert page.status_code == 200
    html = page.text
    assert 'data-testid="qa-agent-row"' in html and "小刘" in html and "售后" in html
    assert f'href="/quality/conversations/{bad.conversation_id}#score-{bad.id}"' in html
    assert "&lt;b&gt;王芳&lt;/b&gt;" in html and HOSTILE_NAME not in html
    assert "未先安抚致歉" in html  # among the frequent and top problems
    assert '<svg class="qa-spark"' in html  # the trend, drawn without script
    narrowed = lead.client.get("/quality", params={"team": staff.teams["presale"]})
    assert "小刘" not in narrowed.text.split('data-testid="qa-agents"')[1].split("</table>")[0]
    refused = lead.client.get("/quality", params={"from": "yesterday"})
    assert refused.status_code == 422
    assert "日期格式应为 2026-11-23" in refused.text
    assert Person(app, staff.owner.email).client.get("/quality?period=week").status_code == 200


def test_the_transcript_shows_each_hit_on_its_message_escaped(
    app: FastAPI, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    c = chat(agent=staff.aftersale, name=HOSTILE_NAME).buyer(HOSTILE_BUYER).after(1)
    [score] = score_of(uow_factory, c.reply(REFUND).close())
    lead = Person(app, staff.supervisor.email)
    page = lead.client.get(f"/quality/conversations/{c.conversation_id}")
    assert page.status_code == 200
    html = page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert HOSTILE_NAME not in html
    hits = hits_of(uow_factory, score.id)
    refund = hits["refund_first"]
    marked = re.search(r'<mark class="qa-mark" data-hits="([\d ]+)"[^>]*>([^<]*)</mark>', html)
    assert marked is not None
    assert str(refund.id) in marked.group(1).split() and marked.group(2) == refund.excerpt
    assert html.count('data-testid="qa-hit"') == len(hits)
    assert "首句推退款" in html and "−10" in html
    assert 'data-testid="qa-review-form"' in html
    assert html.count('name="hit_id"') == len(hits)


def test_a_supervisor_reviews_through_the_page(
    app: FastAPI, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    score = bad_chat(uow_factory, chat, staff.aftersale)
    hits = hits_of(uow_factory, score.id)
    ordered = sorted(hits.values(), key=lambda h: h.id)
    lead = Person(app, staff.supervisor.email)
    form = {
        "hit_id": [str(h.id) for h in ordered],
        "verdict": [
            "overturned" if h.rule_code == "refund_first" else "confirmed" for h in ordered
        ],
        "hit_comment": ["买家要求的" if h.rule_code == "refund_first" else "" for h in ordered],
        "comment": "<i>先道歉</i>再处理",
    }
    done = lead.post(f"/quality/scores/{score.id}/review", form)
    assert done.status_code == 303
    location = done.headers["location"]
    assert (
        location == f"/quality/conversations/{score.conversation_id}?done=reviewed#score-{score.id}"
    )
    after = reload(uow_factory, score.id)
    assert after.review_status is ReviewStatus.REVIEWED
    assert after.score == score.score + hits["refund_first"].points
    assert after.comment == "<i>先道歉</i>再处理"
    verdicts = {h.rule_code: h.verdict for h in hits_of(uow_factory, score.id).values()}
    assert verdicts["refund_first"] is Verdict.OVERTURNED
    assert verdicts["no_apology_angry"] is Verdict.CONFIRMED
    page = lead.client.get(location.split("#")[0])
    assert "复核已保存，已通知客服。" in page.text
    assert "&lt;i&gt;先道歉&lt;/i&gt;再处理" in page.text

    # A form naming another score's hit comes back with the reason; nothing changes.
    other = bad_chat(uow_factory, chat, staff.aftersale2)
    refused = lead.post(
        f"/quality/scores/{other.id}/review",
        {"hit_id": [str(hits["no_greeting"].id)], "verdict": ["overturned"], "hit_comment": [""]},
    )
    assert refused.status_code == 422
    assert f"扣分项 {hits['no_greeting'].id} 不属于这份评分" in refused.text
    assert reload(uow_factory, other.id).review_status is ReviewStatus.PENDING
    # Without the CSRF token: refused before anything is read.
    forged = lead.client.post(
        f"/quality/scores/{other.id}/review", data={"comment": "x"}, follow_redirects=False
    )
    assert forged.status_code == 403


def test_the_agent_sees_their_review_and_opening_it_reads_it(
    app: FastAPI, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    mine = bad_chat(uow_factory, chat, staff.aftersale)
    theirs = bad_chat(uow_factory, chat, staff.aftersale2)
    refund = hits_of(uow_factory, mine.id)["refund_first"]
    with uow_factory() as uow:
        coach.review_score(
            uow, shop_id=staff.shop_id, score_id=mine.id, reviewer_id=staff.supervisor.id,
            verdicts=[(refund.id, "overturned", "这次不算")], comment="记得先道歉",
        )  # fmt: skip
    agent = Person(app, staff.aftersale.email)
    listed = agent.client.get("/quality/mine")
    assert listed.status_code == 200
    assert 'data-testid="qa-unread"' in listed.text and "记得先道歉" in listed.text
    assert listed.text.count('data-testid="qa-mine-row"') == 1
    page = agent.client.get(f"/quality/conversations/{mine.conversation_id}")
    assert page.status_code == 200
    assert "记得先道歉" in page.text and "这次不算" in page.text and "撤销扣分" in page.text
    assert 'data-testid="qa-review-form"' not in page.text
    assert reload(uow_factory, mine.id).agent_read_at is not None
    assert 'data-testid="qa-unread"' not in agent.client.get("/quality/mine").text
    assert agent.client.get(f"/quality/conversations/{theirs.conversation_id}").status_code == 403
    refused = agent.post(f"/quality/scores/{theirs.id}/review", {"comment": "我也评评"})
    assert refused.status_code == 403
    assert reload(uow_factory, theirs.id).review_status is ReviewStatus.PENDING
    # The supervisor opening it does not read it for the agent.
    with uow_factory() as uow:
        coach.review_score(
            uow, shop_id=staff.shop_id, score_id=mine.id, reviewer_id=staff.supervisor.id,
            verdicts=[], comment="再看一次",
        )  # fmt: skip
    Person(app, staff.supervisor.email).client.get(f"/quality/conversations/{mine.conversation_id}")
    assert reload(uow_factory, mine.id).agent_read_at is None


def test_pages_in_english(
    app: FastAPI, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    score = bad_chat(uow_factory, chat, staff.aftersale)
    lead = Person(app, staff.supervisor.email)
    lead.client.cookies.set("kefu_lang", "en")
    assert "Lowest scores to review" in lead.client.get("/quality").text
    page = lead.client.get(f"/quality/conversations/{score.conversation_id}")
    assert "Save review" in page.text and "Transcript" in page.text


def test_another_shops_conversation_and_score_are_not_found(
    app: FastAPI, uow_factory: UowFactory, staff: CoachStaff, elsewhere: Elsewhere
) -> None:
    with uow_factory() as uow:
        [theirs] = coach.score_conversation(
            uow, shop_id=elsewhere.staff.shop.id, conversation_id=elsewhere.conversation_id
        )
    for email in (staff.owner.email, staff.aftersale.email):
        person = Person(app, email)
        page = person.client.get(f"/quality/conversations/{elsewhere.conversation_id}")
        assert page.status_code == 404
        assert "别家店的买家" not in page.text
        posted = person.post(f"/quality/scores/{theirs.id}/review", {"comment": "越界"})
        assert posted.status_code == 404
    assert reload(uow_factory, theirs.id).review_status is ReviewStatus.PENDING
    lead = Person(app, staff.supervisor.email)
    assert "别家店的买家" not in lead.client.get("/quality").text
