"""What happened in the knowledge base (dispatched after commit)."""

from dataclasses import dataclass

from kefu.events import Event


@dataclass(frozen=True, kw_only=True)
class FaqEntryCreated(Event):
    entry_id: int


@dataclass(frozen=True, kw_only=True)
class FaqEntryUpdated(Event):
    entry_id: int
    changed: tuple[str, ...]  # questions, answer, category, product_id, image_id, enabled


@dataclass(frozen=True, kw_only=True)
class FaqEntryDeleted(Event):
    entry_id: int


@dataclass(frozen=True, kw_only=True)
class FaqImported(Event):
    """A spreadsheet was imported: every row, or (when one was broken) none."""

    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True, kw_only=True)
class UnansweredQuestionRecorded(Event):
    """The bot found no answer; the question joined a group (a new one when ``new_group``)."""

    question_id: int
    group_id: int
    new_group: bool
    conversation_id: int | None


@dataclass(frozen=True, kw_only=True)
class UnansweredGroupResolved(Event):
    """A group of unanswered questions became an entry, phrasings of one, or was ignored."""

    group_id: int
    resolution: str  # "new_entry", "phrasing" or "ignored"
    entry_id: int | None
