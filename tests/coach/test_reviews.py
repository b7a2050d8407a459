"""Supervisors' reviews of quality scores (coach.reviews): verdicts per hit and a comment,
the score recomputed, the agent notified; who may review what; reading the review."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kefu.accounts import service as accounts
from kefu.coach import service as coach
from kefu.coach.events import QaReviewed
from kefu.coach.models import QaScore, ReviewStatus, Verdict
from kefu.errors import Invalid, NotFound, PermissionDenied
from kefu.events import EventBus
from kefu.tickets import service as tickets
from kefu.tickets.models import Notification, NotificationKind
from tests.coach.conftest import ChatFactory, CoachStaff, Elsewhere
from tests.coach.qakit import ANGRY, REFUND, bad_chat, hits_of, reload, score_of
from tests.factories import UowFactory


def review(
    uow_factory: UowFactory,
    staff: CoachStaff,
    score_id: int,
    verdicts: list[tuple[int, str, str]],
    comment: str = "",
    reviewer_id: int | None = None,
) -> QaScore:
    with uow_factory() as uow:
        return coach.review_score(
            uow, shop_id=staff.shop_id, score_id=score_id,
            reviewer_id=reviewer_id if reviewer_id is not None else staff.supervisor.id,
            verdicts=verdicts, comment=comment,
        )  # fmt: skip


def notifications_of(
    uow_factory: UowFactory, staff: CoachStaff, agent_id: int
) -> list[Notification]:
    with uow_factory() as uow:
        return tickets.list_notifications(uow.session, shop_id=staff.shop_id, agent_id=agent_id)


def test_overturning_a_hit_gives_its_points_back_and_tells_the_agent(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff, bus: EventBus
) -> None:
    score = bad_chat(uow_factory, chat, staff.aftersale)
    hits = hits_of(uow_factory, score.id)
    refund, apology = hits["refund_first"], hits["no_apology_angry"]
    with bus.capture() as events:
        reviewed = review(
            uow_factory, staff, score.id,
            [(refund.id, "overturned", "买家明确要求退款"), (apology.id, "confirmed", "要先道歉")],
            comment="先安抚再处理，退款可以，但要先道歉。",
        )  # fmt: skip
    assert reviewed.score == score.score + refund.points
    assert reviewed.points_lost == score.points_lost - refund.points
    assert reviewed.hit_count == score.hit_count - 1
    assert reviewed.review_status is ReviewStatus.REVIEWED
    assert (reviewed.reviewer_id, reviewed.comment) == (
        staff.supervisor.id,
        "先安抚再处理，退款可以，但要先道歉。",
    )
    assert reviewed.reviewed_at is not None and reviewed.agent_read_at is None
    after = hits_of(uow_factory, score.id)
    assert (after["refund_first"].verdict, after["refund_first"].comment) == (
        Verdict.OVERTURNED, "买家明确要求退款",
    )  # fmt: skip
    assert after["no_apology_angry"].verdict is Verdict.CONFIRMED
    assert after["refund_first"].reviewer_id == staff.supervisor.id
    assert after["no_greeting"].verdict is Verdict.PENDING  # not named: as it was

    [note] = notifications_of(uow_factory, staff, staff.aftersale.id)
    assert note.kind is NotificationKind.QA_REVIEW
    assert note.link == f"/quality/conversations/{score.conversation_id}"
    assert "主管" in note.text and str(reviewed.score) in note.text
    assert "先安抚再处理" in note.text
    [event] = [e for e in events if isinstance(e, QaReviewed)]
    assert (event.score_id, event.agent_id, event.reviewer_id, event.score) == (
        score.id, staff.aftersale.id, staff.supervisor.id, reviewed.score,
    )  # fmt: skip
    assert event.conversation_id == score.conversation_id


def test_a_second_review_changes_only_the_verdicts_it_names(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    score = bad_chat(uow_factory, chat, staff.aftersale)
    hits = hits_of(uow_factory, score.id)
    review(uow_factory, staff, score.id, [(hits["refund_first"].id, "overturned", "")])
    again = review(
        uow_factory, staff, score.id, [(hits["no_greeting"].id, "overturned", "首句不用问候")],
        comment="第二次", reviewer_id=staff.owner.id,
    )  # fmt: skip
    after = hits_of(uow_factory, score.id)
    assert after["refund_first"].verdict is Verdict.OVERTURNED
    assert after["no_greeting"].verdict is Verdict.OVERTURNED
    assert again.score == score.score + hits["refund_first"].points + hits["no_greeting"].points
    assert (again.reviewer_id, again.comment) == (staff.owner.id, "第二次")
    assert len(notifications_of(uow_factory, staff, staff.aftersale.id)) == 2


def test_the_notification_is_in_the_agents_language(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    with uow_factory() as uow:
        accounts.update_agent(
            uow, shop_id=staff.shop_id, agent_id=staff.aftersale.id, acting_agent_id=None,
            locale="en",
        )  # fmt: skip
    score = bad_chat(uow_factory, chat, staff.aftersale)
    review(uow_factory, staff, score.id, [], comment="Apologise first.")
    [note] = notifications_of(uow_factory, staff, staff.aftersale.id)
    assert note.text.startswith("主管 reviewed your quality score")
    assert '"Apologise first."' in note.text


def test_only_supervisors_and_owners_review_and_never_their_own(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    score = bad_chat(uow_factory, chat, staff.aftersale)
    for who in (staff.agent.id, staff.aftersale2.id):
        with pytest.raises(PermissionDenied) as refused:
            review(uow_factory, staff, score.id, [], reviewer_id=who)
        assert refused.value.key == "coach.qa.error.reviewer_role"
    with uow_factory() as uow, pytest.raises(PermissionDenied):  # an API token: no person
        coach.review_score(
            uow, shop_id=staff.shop_id, score_id=score.id, reviewer_id=None, verdicts=[],
            comment="",
        )  # fmt: skip
    # The supervisor answered a chat too: someone else reviews that score.
    c = chat(agent=staff.supervisor).buyer(ANGRY).after(1).reply(REFUND, agent=staff.supervisor)
    [own] = score_of(uow_factory, c.close())
    with pytest.raises(PermissionDenied) as refused:
        review(uow_factory, staff, own.id, [])
    assert refused.value.key == "coach.qa.error.own_score"
    review(uow_factory, staff, own.id, [], comment="owner ok", reviewer_id=staff.owner.id)
    assert reload(uow_factory, score.id).review_status is ReviewStatus.PENDING


@pytest.mark.parametrize(
    "problem",
    ["other_score", "twice", "verdict", "hit_comment", "comment", "unknown_hit"],
)
def test_a_refused_review_changes_nothing(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff, problem: str
) -> None:
    score = bad_chat(uow_factory, chat, staff.aftersale)
    other = bad_chat(uow_factory, chat, staff.aftersale2)
    mine = hits_of(uow_factory, score.id)["refund_first"].id
    theirs = hits_of(uow_factory, other.id)["refund_first"].id
    verdicts, comment, key = {
        "other_score": ([(theirs, "overturned", "")], "", "coach.qa.error.hit_not_in_score"),
        "twice": (
            [(mine, "overturned", ""), (mine, "confirmed", "")],
            "",
            "coach.qa.error.hit_twice",
        ),
        "verdict": ([(mine, "pending", "")], "", "coach.qa.error.verdict"),
        "hit_comment": ([(mine, "overturned", "长" * 301)], "", "coach.qa.error.comment_length"),
        "comment": ([(mine, "overturned", "")], "长" * 1001, "coach.qa.error.comment_length"),
        "unknown_hit": ([(2_000_000, "overturned", "")], "", "coach.qa.error.hit_not_in_score"),
    }[problem]
    with pytest.raises(Invalid) as refused:
        review(uow_factory, staff, score.id, verdicts, comment=comment)
    assert refused.value.key == key
    assert reload(uow_factory, score.id).review_status is ReviewStatus.PENDING
    assert {h.verdict for h in hits_of(uow_factory, score.id).values()} == {Verdict.PENDING}
    assert {h.verdict for h in hits_of(uow_factory, other.id).values()} == {Verdict.PENDING}
    assert notifications_of(uow_factory, staff, staff.aftersale.id) == []


def test_another_shops_score_is_not_found(
    uow_factory: UowFactory, staff: CoachStaff, elsewhere: Elsewhere
) -> None:
    with uow_factory() as uow:
        [theirs] = coach.score_conversation(
            uow, shop_id=elsewhere.staff.shop.id, conversation_id=elsewhere.conversation_id
        )
    with pytest.raises(NotFound):
        review(uow_factory, staff, theirs.id, [])
    with uow_factory() as uow, pytest.raises(NotFound):
        coach.mark_read(uow, shop_id=staff.shop_id, score_id=theirs.id, agent_id=staff.agent.id)
    assert reload(uow_factory, theirs.id).review_status is ReviewStatus.PENDING


def test_the_agent_opening_the_review_reads_it(
    uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    score = bad_chat(uow_factory, chat, staff.aftersale)

    def read(agent_id: int) -> bool:
        with uow_factory() as uow:
            return coach.mark_read(uow, shop_id=staff.shop_id, score_id=score.id, agent_id=agent_id)

    assert read(staff.aftersale.id) is False  # nothing reviewed yet: nothing to read
    review(uow_factory, staff, score.id, [], comment="看一下")
    assert read(staff.supervisor.id) is False  # someone else opening it
    assert reload(uow_factory, score.id).agent_read_at is None
    assert read(staff.aftersale.id) is True
    assert reload(uow_factory, score.id).agent_read_at is not None
    assert read(staff.aftersale.id) is False  # already read
    review(uow_factory, staff, score.id, [], comment="再看一下")  # news again
    assert reload(uow_factory, score.id).agent_read_at is None
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(QaScore.id))) == 1
