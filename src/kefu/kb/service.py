"""The knowledge base (知识库): the public face of the domain.

Entries are written in :mod:`kefu.kb.entries` and read in :mod:`kefu.kb.catalogue`, the
per-shop matcher cache is :mod:`kefu.kb.index`, answering :mod:`kefu.kb.answers`,
unanswered questions :mod:`kefu.kb.unanswered` (read in :mod:`kefu.kb.unanswered_inbox`,
resolved in :mod:`kefu.kb.unanswered_resolution`), lint :mod:`kefu.kb.lint`, import and
export :mod:`kefu.kb.transfer` (its columns :mod:`kefu.kb.spreadsheets`, the files
:mod:`kefu.spreadsheets`); other domains and the HTTP layer use them through this module.

For the bot:

* ``find_answer(session, shop_id=…, text=…, threshold=None, product_id=None) -> Decision``
  — ``.answer`` (confident), ``.choices`` (the top two, too close to pick) or neither;
* ``render_answer(answer, answer_variables(session, shop_id=…, customer_id=…))``;
* ``record_hit(uow, shop_id=…, entry_id=…)`` when it sent an entry's answer;
* ``record_unanswered(uow, shop_id=…, text=…, conversation_id=…, customer_id=…)`` when
  the KB had nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.commerce.models import Product
from kefu.conversations import service as conversations
from kefu.kb.answers import Answer as Answer
from kefu.kb.answers import Decision as Decision
from kefu.kb.answers import Suggestion as Suggestion
from kefu.kb.answers import answer_variables as answer_variables
from kefu.kb.answers import find_answer as find_answer
from kefu.kb.answers import render_answer as render_answer
from kefu.kb.answers import shop_vocabulary as shop_vocabulary
from kefu.kb.answers import suggest as suggest
from kefu.kb.catalogue import MAX_PAGE_SIZE as MAX_PAGE_SIZE
from kefu.kb.catalogue import EntryPage as EntryPage
from kefu.kb.catalogue import EntryView as EntryView
from kefu.kb.catalogue import count_entries as count_entries
from kefu.kb.catalogue import get_entry as get_entry
from kefu.kb.catalogue import image_by_key as image_by_key
from kefu.kb.catalogue import list_categories as list_categories
from kefu.kb.catalogue import product_by_sku as product_by_sku
from kefu.kb.catalogue import revision as revision
from kefu.kb.catalogue import search_entries as search_entries
from kefu.kb.entries import MAX_ANSWER_LENGTH as MAX_ANSWER_LENGTH
from kefu.kb.entries import MAX_CATEGORY_LENGTH as MAX_CATEGORY_LENGTH
from kefu.kb.entries import MAX_QUESTION_LENGTH as MAX_QUESTION_LENGTH
from kefu.kb.entries import MAX_QUESTIONS as MAX_QUESTIONS
from kefu.kb.entries import UNSET as UNSET
from kefu.kb.entries import VARIABLES as VARIABLES
from kefu.kb.entries import Unset as Unset
from kefu.kb.entries import add_questions as add_questions
from kefu.kb.entries import create_entry as create_entry
from kefu.kb.entries import delete_entry as delete_entry
from kefu.kb.entries import record_hit as record_hit
from kefu.kb.entries import set_enabled as set_enabled
from kefu.kb.entries import update_entry as update_entry
from kefu.kb.lint import EntryPair as EntryPair
from kefu.kb.lint import LintReport as LintReport
from kefu.kb.lint import Misplaced as Misplaced
from kefu.kb.lint import lint as lint
from kefu.kb.models import UnansweredStatus as UnansweredStatus
from kefu.kb.spreadsheets import MAX_IMPORT_BYTES as MAX_IMPORT_BYTES
from kefu.kb.transfer import ExportFile as ExportFile
from kefu.kb.transfer import ImportRejected as ImportRejected
from kefu.kb.transfer import ImportResult as ImportResult
from kefu.kb.transfer import RowError as RowError
from kefu.kb.transfer import export_entries as export_entries
from kefu.kb.transfer import import_entries as import_entries
from kefu.kb.unanswered import record_unanswered as record_unanswered
from kefu.kb.unanswered_inbox import GroupPage as GroupPage
from kefu.kb.unanswered_inbox import GroupView as GroupView
from kefu.kb.unanswered_inbox import Nearest as Nearest
from kefu.kb.unanswered_inbox import count_open_groups as count_open_groups
from kefu.kb.unanswered_inbox import get_group as get_group
from kefu.kb.unanswered_inbox import list_groups as list_groups
from kefu.kb.unanswered_resolution import group_questions as group_questions
from kefu.kb.unanswered_resolution import ignore_group as ignore_group
from kefu.kb.unanswered_resolution import resolve_as_new_entry as resolve_as_new_entry
from kefu.kb.unanswered_resolution import resolve_as_phrasing as resolve_as_phrasing
from kefu.uow import UnitOfWork


@dataclass(frozen=True)
class ImageUpload:
    """An image sent with an entry form: stored like any upload, under the shop's name."""

    data: bytes
    filename: str
    directory: Path
    max_bytes: int


@dataclass(frozen=True)
class ProductChoice:
    id: int
    sku: str
    title: str


def product_choices(session: Session, *, shop_id: int) -> list[ProductChoice]:
    """The shop's products, for choosing which one an entry is about."""
    rows = session.execute(
        select(Product.id, Product.sku, Product.title)
        .where(Product.shop_id == shop_id)
        .order_by(Product.sku)
    )
    return [ProductChoice(id=row.id, sku=row.sku, title=row.title) for row in rows]


def save_entry(
    uow: UnitOfWork,
    *,
    shop_id: int,
    entry_id: int | None,
    questions: Sequence[str],
    answer: str,
    category: str = "",
    product_id: int | None = None,
    enabled: bool = True,
    image: ImageUpload | None = None,
    remove_image: bool = False,
    acting_agent_id: int | None = None,
) -> EntryView:
    """The entry form: add (``entry_id=None``) or change an entry, with its image. Commits.

    The entry is checked first; a new image is stored only when the rest is valid.
    """
    if entry_id is None:
        view = create_entry(
            uow,
            shop_id=shop_id,
            questions=questions,
            answer=answer,
            category=category,
            product_id=product_id,
            enabled=enabled,
            acting_agent_id=acting_agent_id,
            commit=False,
        )
    else:
        view = update_entry(
            uow,
            shop_id=shop_id,
            entry_id=entry_id,
            questions=questions,
            answer=answer,
            category=category,
            product_id=product_id,
            enabled=enabled,
            image_id=None if remove_image else UNSET,
            acting_agent_id=acting_agent_id,
            commit=False,
        )
    if image is not None and image.data:
        stored = conversations.store_upload(
            uow,
            shop_id=shop_id,
            directory=image.directory,
            data=image.data,
            filename=image.filename,
            max_bytes=image.max_bytes,
            agent_id=acting_agent_id,
            commit=False,
        )
        view = update_entry(
            uow,
            shop_id=shop_id,
            entry_id=view.id,
            image_id=stored.id,
            acting_agent_id=acting_agent_id,
            commit=False,
        )
    uow.commit()
    return get_entry(uow.session, shop_id=shop_id, entry_id=view.id)
