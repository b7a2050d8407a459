"""Live hints on a draft (coach.live.check_draft_for): what the agent is warned of while
typing, with the spans to underline and the better phrasing for this buyer, in a handful
of read-only queries whatever the conversation's length."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import pytest
from sqlalchemy import Engine, event

from kefu.accounts.models import Agent
from kefu.clock import FrozenClock
from kefu.coach import service as coach
from kefu.coach.live import ANALYSED_CHARS, MAX_DRAFT, LiveCheck, LiveHit
from kefu.errors import Invalid, NotFound, PermissionDenied
from tests.coach.conftest import Chat, ChatFactory, CoachStaff, Elsewhere
from tests.factories import UowFactory

ANGRY = "你们的东西质量太差了，我要退款"
REFUND = "那你退款好了"


class Check(Protocol):
    def __call__(self, chat: Chat, text: str, *, agent: Agent | None = None) -> LiveCheck: ...


@pytest.fixture
def check(uow_factory: UowFactory, clock: FrozenClock, staff: CoachStaff) -> Check:
    """``check(chat, text, agent=None)`` → the LiveCheck of the draft as ``agent`` now."""

    def run(chat: Chat, text: str, *, agent: Agent | None = None) -> LiveCheck:
        who = agent or chat.agent
        with uow_factory() as uow:
            return coach.check_draft_for(
                uow.session, shop_id=staff.shop_id, agent_id=who.id,
                conversation_id=chat.conversation_id, text=text, now=clock.now(),
            )  # fmt: skip

    return run


def codes(result: LiveCheck) -> set[str]:
    return {hit.code for hit in result.hits}


def hit(result: LiveCheck, code: str) -> LiveHit:
    [found] = [h for h in result.hits if h.code == code]
    return found


def test_a_refund_pushed_at_a_complaint_is_hinted_with_a_better_phrasing(
    chat: ChatFactory, check: Check, staff: CoachStaff
) -> None:
    c = chat(name="王芳", gender="F").buyer(ANGRY)
    result = check(c, REFUND)
    assert {"refund_first", "no_apology_angry", "no_greeting"} <= codes(result)
    refund = hit(result, "refund_first")
    assert refund.name == "首句推退款" and refund.severity == "major" and refund.points == 10
    assert refund.description
    # The span is where the draft says it: the desk underlines exactly that.
    assert 0 <= refund.start < refund.end <= len(REFUND)
    assert "退款" in REFUND[refund.start : refund.end]
    # The better phrasing is written for this buyer: 王女士, no variable left in braces.
    assert refund.suggestion.startswith("王女士")
    assert "{" not in refund.suggestion
    # Something missing (no apology, no greeting) is about the whole draft.
    missing = hit(result, "no_apology_angry")
    assert missing.start == missing.end == 0 and missing.excerpt == REFUND
    # The buyer complains: the apology-first opening is offered, filled in too.
    assert result.complaint is True
    assert result.apology_template is not None
    assert result.apology_template.startswith("王女士") and "抱歉" in result.apology_template
    assert result.truncated is False and result.elapsed_ms >= 0


def test_a_good_answer_to_the_complaint_has_no_hint(chat: ChatFactory, check: Check) -> None:
    c = chat().buyer(ANGRY)
    good = (
        "王女士您好，非常抱歉给您带来不好的体验！麻烦您把订单号和照片发给我，"
        "如果确实是质量问题，我们可以帮您换货或退款。"
    )
    result = check(c, good)
    assert result.hits == ()
    # The bar still says the buyer is waiting on a complaint; the draft already apologises.
    assert result.complaint is True


def test_an_angry_buyer_is_read_as_angry_and_a_calm_one_is_not(
    chat: ChatFactory, check: Check
) -> None:
    angry = chat(name="李雷", gender="M").buyer("气死我了！！！你们这什么垃圾东西，骗子！")
    result = check(angry, "好的")
    assert result.buyer_angry is True and result.complaint is True
    assert result.apology_template is not None and result.apology_template.startswith("李先生")

    calm = chat(name="韩梅梅", gender=None).buyer("请问这件大衣有M码吗")
    result = check(calm, "有的")
    assert result.buyer_angry is False and result.complaint is False
    assert result.apology_template is None
    assert "refund_first" not in codes(check(calm, REFUND))  # no complaint: not "first"


def test_once_the_complaint_is_answered_the_apology_bar_goes(
    chat: ChatFactory, check: Check
) -> None:
    c = chat().buyer(ANGRY).reply("您好，非常抱歉，麻烦发一下订单号").buyer("订单号 DD20261123001")
    result = check(c, "好的，我看一下")
    assert result.complaint is False and result.apology_template is None
    assert "no_apology_angry" not in codes(result)


def test_a_blank_draft_has_no_hint_but_says_the_buyer_complains(
    chat: ChatFactory, check: Check
) -> None:
    c = chat().buyer(ANGRY)
    for blank in ("", "   \n "):
        result = check(c, blank)
        assert result.hits == ()
        assert result.complaint is True and result.apology_template


def test_each_agents_first_reply_is_asked_to_greet(
    chat: ChatFactory, check: Check, staff: CoachStaff
) -> None:
    c = chat().buyer("在吗")
    assert "no_greeting" in codes(check(c, "什么事"))
    assert "no_greeting" not in codes(check(c, "您好，在的，请问有什么可以帮您？"))
    c.reply("您好，在的").buyer("这件有货吗")
    # Their second reply need not greet again …
    assert "no_greeting" not in codes(check(c, "有货的"))
    # … but a colleague joining the conversation must.
    joining = check(c, "有货的", agent=staff.aftersale2)
    greet = hit(joining, "no_greeting")
    assert greet.start == greet.end == 0 and greet.suggestion.startswith("王女士")


def test_a_greeting_older_than_the_live_window_still_counts(
    chat: ChatFactory, check: Check, staff: CoachStaff
) -> None:
    c = chat().buyer("在吗").reply("您好，很高兴为您服务")
    for n in range(45):  # the agent's greeting falls out of the newest 40 messages
        c.buyer(f"第{n}个问题：这个颜色还有吗")
    assert "no_greeting" not in codes(check(c, "有的"))
    assert "no_greeting" in codes(check(c, "有的", agent=staff.aftersale2))


def test_spans_are_offsets_into_the_draft_as_typed(chat: ChatFactory, check: Check) -> None:
    c = chat().buyer(ANGRY)
    # Traditional characters, full-width punctuation and English mixed in: folded for the
    # patterns, but the span points into what the agent typed.
    draft = "Hello 親，那你退貨好了 OK？"
    result = check(c, draft)
    refund = hit(result, "refund_first")
    assert draft[refund.start : refund.end].startswith(("退貨", "那你退貨"))
    assert "no_greeting" not in codes(result)  # "Hello" and 親 greet
    # Emoji are one character each, as the desk counts them (code points, not UTF-16).
    plain = hit(check(c, REFUND), "refund_first")
    prefixed = "😊😊 " + REFUND
    shifted = hit(check(c, prefixed), "refund_first")
    assert (shifted.start, shifted.end) == (plain.start + 3, plain.end + 3)


def test_emoji_only_and_odd_drafts_are_checked_without_error(
    chat: ChatFactory, check: Check
) -> None:
    c = chat().buyer(ANGRY)
    for draft in ("😊👍🙏", "🤬" * 300, "\u200b\u200d", "<script>alert(1)</script>", "\n" * 50):
        result = check(c, draft)
        assert "refund_first" not in codes(result)
        assert all(0 <= h.start <= h.end <= len(draft) for h in result.hits)


def test_long_drafts_are_read_up_to_the_limit_and_longer_ones_refused(
    chat: ChatFactory, check: Check
) -> None:
    c = chat().buyer(ANGRY)
    longest = REFUND + "好" * (MAX_DRAFT - len(REFUND))
    result = check(c, longest)
    assert result.truncated is True
    assert "refund_first" in codes(result)  # at the start: within what is read
    late = "好" * ANALYSED_CHARS + REFUND
    assert "refund_first" not in codes(check(c, late))  # past what is read
    assert check(c, "好" * ANALYSED_CHARS).truncated is False
    with pytest.raises(Invalid) as refused:
        check(c, longest + "好")
    assert refused.value.field == "text"
    assert refused.value.params == {"length": MAX_DRAFT + 1, "limit": MAX_DRAFT}


def test_a_slow_reply_is_asked_to_apologise_for_the_wait(
    chat: ChatFactory, check: Check, clock: FrozenClock
) -> None:
    c = chat().buyer("在吗").reply("您好，在的").buyer("这件有货吗")
    assert "slow_reply_no_apology" not in codes(check(c, "有货的"))
    c.after(5)
    assert "slow_reply_no_apology" in codes(check(c, "有货的"))
    assert "slow_reply_no_apology" not in codes(check(c, "不好意思久等了，有货的"))


def test_another_shops_conversation_is_not_found(
    uow_factory: UowFactory, clock: FrozenClock, staff: CoachStaff, elsewhere: Elsewhere
) -> None:
    for who in (staff.owner, staff.aftersale):
        with uow_factory() as uow, pytest.raises(NotFound):
            coach.check_draft_for(
                uow.session, shop_id=staff.shop_id, agent_id=who.id,
                conversation_id=elsewhere.conversation_id, text=REFUND, now=clock.now(),
            )  # fmt: skip


def test_a_conversation_the_agent_may_not_work_is_refused_as_in_the_desk(
    uow_factory: UowFactory, clock: FrozenClock, staff: CoachStaff, chat: ChatFactory
) -> None:
    c = chat().buyer(ANGRY)  # 售后, given to 小刘
    with uow_factory() as uow, pytest.raises(PermissionDenied):
        coach.check_draft_for(
            uow.session, shop_id=staff.shop_id, agent_id=staff.agent.id,  # 小美 of 售前
            conversation_id=c.conversation_id, text=REFUND, now=clock.now(),
        )  # fmt: skip
    for allowed in (staff.supervisor, staff.owner, staff.aftersale2):  # 小张: 售后 too
        with uow_factory() as uow:
            result = coach.check_draft_for(
                uow.session, shop_id=staff.shop_id, agent_id=allowed.id,
                conversation_id=c.conversation_id, text=REFUND, now=clock.now(),
            )  # fmt: skip
        assert "refund_first" in codes(result)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        statement = str(args[2])
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_check_reads_a_few_rows_whatever_the_length_and_writes_nothing(
    chat: ChatFactory, check: Check, db: Engine
) -> None:
    # The same story, once in three lines and once after 120 more: the same queries.
    complaint = ANGRY + "，订单 DD20261123001"  # the suggestions' variables look it up
    short = chat(name="王芳").buyer("在吗").reply("您好").buyer(complaint)
    long = chat(name="李雷", gender="M").buyer("在吗").reply("您好")
    for n in range(60):
        # Each line names an order number too: looking them up is one query for all.
        long.buyer(f"第{n}次问：订单 DD202611230{n:02d} 到哪了").reply(f"第{n}次答：在路上")
    long.buyer(complaint)
    counts = []
    for c in (short, long):
        check(c, REFUND)  # warm the readings cache: the first read of a line loads the model
        with statements(db) as seen:
            result = check(c, REFUND)
        assert "refund_first" in codes(result)
        assert set(seen) <= {"SELECT", "BEGIN", "ROLLBACK", "COMMIT"}, seen
        counts.append(sum(1 for s in seen if s == "SELECT"))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 14, counts
    # Nothing to phrase (no hit, no complaint): the buyer's variables are not even read.
    calm = chat(name="韩梅梅").buyer("请问有M码吗")
    check(calm, "您好，有的")
    with statements(db) as seen:
        assert check(calm, "您好，有的").hits == ()
    assert sum(1 for s in seen if s == "SELECT") <= 6
