"""``/api/v1/coach/scores``, ``/conversations/{id}`` and ``/report``: quality inspection
over REST — who reads which scores, reviews through the API, refusals in the caller's
language, and the report's shape."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.coach import service as coach
from kefu.coach.models import ReviewStatus
from tests.coach.conftest import ChatFactory, CoachStaff, Elsewhere
from tests.coach.qakit import bad_chat, good_chat, hits_of, reload
from tests.coach.test_live_routes import log_in, token
from tests.factories import UowFactory

API = "/api/v1/coach"


def test_an_agent_reads_only_their_own_scores(
    app: FastAPI, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    mine = bad_chat(uow_factory, chat, staff.aftersale)
    theirs = bad_chat(uow_factory, chat, staff.aftersale2)
    with TestClient(app) as client:
        log_in(client, staff.aftersale.email)
        listed = client.get(f"{API}/scores")
        assert listed.status_code == 200, listed.text
        assert [s["id"] for s in listed.json()["scores"]] == [mine.id]
        row = listed.json()["scores"][0]
        assert (row["agent_name"], row["customer_name"], row["review_status"]) == (
            "小刘", "王芳", "pending",
        )  # fmt: skip
        assert "首句推退款" in row["rules"]
        # Naming a colleague finds nothing, rather than their scores.
        other = client.get(f"{API}/scores", params={"agent_id": staff.aftersale2.id})
        assert other.json() == {"scores": []}
        own = client.get(f"{API}/scores/{mine.id}")
        assert own.status_code == 200
        body = own.json()
        assert body["score"] == mine.score and body["agent_id"] == staff.aftersale.id
        refund = next(h for h in body["hits"] if h["rule_code"] == "refund_first")
        assert (refund["span_start"], refund["verdict"], refund["severity"]) == (
            0,
            "pending",
            "major",
        )
        stored = hits_of(uow_factory, mine.id)["refund_first"]
        assert (refund["message_id"], refund["message_seq"]) == (
            stored.message_id, stored.message_seq,
        )  # fmt: skip
        assert refund["message_id"] is not None
        colleague = client.get(f"{API}/scores/{theirs.id}", headers={"Accept-Language": "zh-CN"})
        assert colleague.status_code == 403
        assert colleague.json()["error"]["message"] == "客服只能查看自己的质检评分"
        conversation = client.get(f"{API}/conversations/{mine.conversation_id}")
        assert [s["id"] for s in conversation.json()["scores"]] == [mine.id]
        assert client.get(f"{API}/conversations/{theirs.conversation_id}").status_code == 403
        assert client.get(f"{API}/report").status_code == 403


def test_a_supervisor_lists_filters_and_reviews(
    app: FastAPI, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    bad = bad_chat(uow_factory, chat, staff.aftersale)
    good = good_chat(uow_factory, chat, staff.aftersale2)
    refund = hits_of(uow_factory, bad.id)["refund_first"]
    with TestClient(app) as client:
        headers = log_in(client, staff.supervisor.email)
        every = client.get(f"{API}/scores").json()["scores"]
        assert [s["id"] for s in every] == [good.id, bad.id]
        low = client.get(f"{API}/scores", params={"max_score": 99, "from": "2026-11-23"})
        assert [s["id"] for s in low.json()["scores"]] == [bad.id]
        assert client.get(f"{API}/scores", params={"from": "2026-12-01"}).json()["scores"] == []
        assert client.get(f"{API}/scores", params={"status": "done"}).status_code == 422
        assert client.get(f"{API}/scores", params={"from": "23/11"}).status_code == 422

        reviewed = client.post(
            f"{API}/scores/{bad.id}/review",
            json={"verdicts": [{"hit_id": refund.id, "verdict": "overturned",
                                "comment": "买家坚持退款"}], "comment": "下次先道歉"},
            headers=headers,
        )  # fmt: skip
        assert reviewed.status_code == 200, reviewed.text
        body = reviewed.json()
        assert body["score"] == bad.score + refund.points
        assert (body["review_status"], body["comment"], body["reviewer_name"]) == (
            "reviewed", "下次先道歉", "主管",
        )  # fmt: skip
        hit = next(h for h in body["hits"] if h["id"] == refund.id)
        assert (hit["verdict"], hit["comment"]) == ("overturned", "买家坚持退款")

        # Another score's hit is refused, in the caller's language, and nothing changes.
        good_hits = client.get(f"{API}/scores/{good.id}").json()["hits"]
        foreign = hits_of(uow_factory, bad.id)["no_greeting"].id
        refused = client.post(
            f"{API}/scores/{good.id}/review",
            json={"verdicts": [{"hit_id": foreign, "verdict": "confirmed"}]},
            headers={**headers, "Accept-Language": "en"},
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["message"] == f"Problem {foreign} is not one of this score's"
        assert good_hits == []
        bad_verdict = client.post(
            f"{API}/scores/{bad.id}/review",
            json={"verdicts": [{"hit_id": refund.id, "verdict": "maybe"}]}, headers=headers,
        )  # fmt: skip
        assert bad_verdict.status_code == 422
        no_csrf = client.post(f"{API}/scores/{bad.id}/review", json={"verdicts": []})
        assert no_csrf.status_code == 403
    assert reload(uow_factory, good.id).review_status is ReviewStatus.PENDING


def test_an_agent_cannot_review_and_a_token_has_no_person_to_review_with(
    app: FastAPI, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    bad = bad_chat(uow_factory, chat, staff.aftersale)
    with TestClient(app) as client:
        headers = log_in(client, staff.aftersale2.email)
        response = client.post(
            f"{API}/scores/{bad.id}/review", json={"verdicts": [], "comment": "我来评"},
            headers=headers,
        )  # fmt: skip
        assert response.status_code == 403
    with TestClient(app, headers=token(uow_factory, staff)) as integration:
        assert integration.get(f"{API}/scores/{bad.id}").status_code == 200
        response = integration.post(f"{API}/scores/{bad.id}/review", json={"verdicts": []})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert reload(uow_factory, bad.id).review_status is ReviewStatus.PENDING


def test_the_report_per_agent_or_team(
    app: FastAPI, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    bad = bad_chat(uow_factory, chat, staff.aftersale)
    good_chat(uow_factory, chat, staff.agent, team_code="presale")
    with TestClient(app, headers=token(uow_factory, staff)) as client:
        by_agent = client.get(f"{API}/report", params={"from": "2026-11-17", "to": "2026-11-23"})
        assert by_agent.status_code == 200, by_agent.text
        body = by_agent.json()
        assert (body["by"], body["since"], body["until"], body["period"], body["timezone"]) == (
            "agent", "2026-11-17", "2026-11-23", "day", "Asia/Shanghai",
        )  # fmt: skip
        rows = {row["id"]: row for row in body["rows"]}
        assert set(rows) == {staff.aftersale.id, staff.agent.id}
        liu = rows[staff.aftersale.id]
        assert (liu["name"], liu["conversations"], liu["average"]) == ("小刘", 1, bad.score)
        assert len(liu["trend"]) == 7
        assert liu["trend"][-1] == {"start": "2026-11-23", "count": 1, "average": bad.score}
        assert len(liu["problems"]) == 3
        summary = body["summary"]
        assert summary["scores"] == 2 and summary["pending"] == 2
        assert summary["worst"][0]["id"] == bad.id
        assert summary["problems"][0]["rule_code"] == "no_apology_angry"
        by_team = client.get(f"{API}/report", params={"by": "team", "period": "week"}).json()
        assert {row["name"] for row in by_team["rows"]} == {"售后", "售前"}
        assert by_team["period"] == "week"
        narrowed = client.get(f"{API}/report", params={"team_id": staff.teams["presale"]})
        assert [row["id"] for row in narrowed.json()["rows"]] == [staff.agent.id]
        backwards = client.get(f"{API}/report", params={"from": "2026-11-23", "to": "2026-11-01"})
        assert backwards.status_code == 422
        assert backwards.json()["error"]["field"] == "to"


def test_another_shops_scores_are_not_found(
    app: FastAPI, uow_factory: UowFactory, staff: CoachStaff, elsewhere: Elsewhere
) -> None:
    with uow_factory() as uow:
        [theirs] = coach.score_conversation(
            uow, shop_id=elsewhere.staff.shop.id, conversation_id=elsewhere.conversation_id
        )
    with TestClient(app) as client:
        headers = log_in(client, staff.supervisor.email)
        assert client.get(f"{API}/scores/{theirs.id}").status_code == 404
        assert client.get(f"{API}/conversations/{theirs.conversation_id}").status_code == 404
        response = client.post(
            f"{API}/scores/{theirs.id}/review", json={"verdicts": []}, headers=headers
        )
        assert response.status_code == 404
        assert client.get(f"{API}/scores").json() == {"scores": []}
        report = client.get(f"{API}/report").json()
        assert report["rows"] == [] and report["summary"]["scores"] == 0
