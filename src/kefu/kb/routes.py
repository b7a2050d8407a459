"""The knowledge base over REST (/api/v1/kb).

Every member of staff reads entries and asks for suggestions; supervisors and owners
change the KB, import and export it, work the unanswered questions and read the lint.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.db import MAX_ID
from kefu.kb import service
from kefu.kb.schemas import (
    AnswerOut,
    DecisionOut,
    EntryCreate,
    EntryList,
    EntryOut,
    EntryUpdate,
    GroupList,
    GroupOut,
    GroupToEntry,
    GroupToPhrasing,
    ImportOut,
    LintOut,
    MisplacedOut,
    NearestOut,
    PairOut,
    SuggestionOut,
)
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_locale, api_principal, get_uow, require
from kefu.web.errors import error_body, localised

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])
curator = require(Role.SUPERVISOR)
IMPORT_ERROR: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "a broken file, or broken rows (`error.rows`: row, column, message); "
        "nothing was imported"
    }
}


def entry_out(view: service.EntryView) -> EntryOut:
    entry = view.entry
    return EntryOut(
        id=entry.id,
        questions=view.questions,
        answer=entry.answer,
        category=entry.category,
        product_id=entry.product_id,
        product_sku=view.product_sku,
        image_key=view.image_key,
        enabled=entry.enabled,
        hit_count=entry.hit_count,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        created_by_id=entry.created_by_id,
        updated_by_id=entry.updated_by_id,
    )


def group_out(view: service.GroupView) -> GroupOut:
    group = view.group
    return GroupOut(
        id=group.id,
        representative=group.representative,
        count=group.count,
        status=group.status.value,
        first_seen_at=group.first_seen_at,
        last_seen_at=group.last_seen_at,
        entry_id=group.entry_id,
        examples=view.examples,
        nearest=[
            NearestOut(entry_id=n.entry_id, question=n.question, score=n.score)
            for n in view.nearest
        ],
    )


def _answer_out(answer: service.Answer) -> AnswerOut:
    return AnswerOut(
        entry_id=answer.entry_id,
        question=answer.question,
        answer=answer.answer,
        score=answer.score,
        category=answer.category,
        image_id=answer.image_id,
    )


@router.get("/entries", response_model=EntryList)
def list_entries(
    q: str = Query(default="", max_length=100, description="words in a phrasing or the answer"),
    category: str | None = Query(default=None, max_length=40),
    enabled: bool | None = None,
    limit: int = Query(default=50, ge=1, le=service.MAX_PAGE_SIZE),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> EntryList:
    page = service.search_entries(
        uow.session,
        shop_id=principal.shop_id,
        query=q,
        category=category,
        enabled=enabled,
        limit=limit,
        offset=offset,
    )
    return EntryList(total=page.total, entries=[entry_out(v) for v in page.items])


@router.get("/entries/{entry_id}", response_model=EntryOut)
def get_entry(
    entry_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> EntryOut:
    return entry_out(service.get_entry(uow.session, shop_id=principal.shop_id, entry_id=entry_id))


@router.post("/entries", response_model=EntryOut, status_code=201)
def create_entry(
    body: EntryCreate,
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> EntryOut:
    image_id = None
    if body.image_key is not None:
        image_id = service.image_by_key(uow.session, shop_id=principal.shop_id, key=body.image_key)
    view = service.create_entry(
        uow,
        shop_id=principal.shop_id,
        questions=body.questions,
        answer=body.answer,
        category=body.category,
        product_id=body.product_id,
        image_id=image_id,
        enabled=body.enabled,
        acting_agent_id=principal.agent_id,
    )
    return entry_out(view)


@router.patch("/entries/{entry_id}", response_model=EntryOut)
def update_entry(
    entry_id: ResourceId,
    body: EntryUpdate,
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> EntryOut:
    sent = body.model_fields_set
    shop_id = principal.shop_id
    service.get_entry(uow.session, shop_id=shop_id, entry_id=entry_id)  # 404 before 422
    image_id: int | service.Unset | None = service.UNSET
    if "image_key" in sent:
        image_id = (
            None
            if body.image_key is None
            else service.image_by_key(uow.session, shop_id=shop_id, key=body.image_key)
        )
    view = service.update_entry(
        uow,
        shop_id=shop_id,
        entry_id=entry_id,
        acting_agent_id=principal.agent_id,
        questions=body.questions,
        answer=body.answer,
        category=body.category,
        product_id=body.product_id if "product_id" in sent else service.UNSET,
        image_id=image_id,
        enabled=body.enabled,
    )
    return entry_out(view)


@router.delete("/entries/{entry_id}", status_code=204)
def delete_entry(
    entry_id: ResourceId,
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> None:
    service.delete_entry(
        uow, shop_id=principal.shop_id, entry_id=entry_id, acting_agent_id=principal.agent_id
    )


@router.get("/suggest", response_model=list[SuggestionOut])
def suggest(
    text: str = Query(default="", max_length=2000, description="the buyer's message"),
    limit: int = Query(default=3, ge=1, le=10),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[SuggestionOut]:
    """Entries an agent could answer the message with, best first (enabled entries only)."""
    found = service.suggest(uow.session, shop_id=principal.shop_id, text=text, limit=limit)
    return [
        SuggestionOut(entry_id=s.entry_id, question=s.question, answer=s.answer, score=s.score)
        for s in found
    ]


@router.get("/match", response_model=DecisionOut)
def match(
    text: str = Query(default="", max_length=2000, description="the buyer's message"),
    threshold: float | None = Query(default=None, ge=0, le=1),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> DecisionOut:
    """What the bot would decide: one answer, two too close to pick between, or none."""
    decision = service.find_answer(
        uow.session, shop_id=principal.shop_id, text=text, threshold=threshold
    )
    return DecisionOut(
        kind=decision.kind,
        answer=_answer_out(decision.answer) if decision.answer else None,
        choices=[_answer_out(a) for a in decision.choices],
        ranked=[_answer_out(a) for a in decision.ranked],
    )


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/vnd.ms-excel": {}}}},
)
def export(
    format: Literal["csv", "xlsx"] = "csv",
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """The whole KB as CSV (UTF-8 with BOM) or XLSX; importing it back changes nothing."""
    exported = service.export_entries(uow.session, shop_id=principal.shop_id, format=format)
    return Response(
        exported.data,
        media_type=exported.content_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@router.post("/import", response_model=ImportOut, responses=IMPORT_ERROR)
def import_file(
    request: Request,
    file: UploadFile = File(..., description="CSV or XLSX: columns 问题, 答案, 分类, 启用 …"),
    dry_run: bool = Query(default=False, description="check and count only; write nothing"),
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> ImportOut | JSONResponse:
    """Import entries: every row or none. Rows match entries by 编号, else by first phrasing."""
    data = file.file.read(service.MAX_IMPORT_BYTES + 1)
    try:
        result = service.import_entries(
            uow,
            shop_id=principal.shop_id,
            data=data,
            filename=file.filename or "",
            acting_agent_id=principal.agent_id,
            dry_run=dry_run,
        )
    except service.ImportRejected as exc:
        locale = api_locale(request)
        rows = [
            {"row": e.row, "column": e.column, "message": localised(locale, e.error)}
            for e in exc.errors
        ]
        body = error_body(exc.code, localised(locale, exc), field="file", rows=rows)
        return JSONResponse(body, status_code=422)
    return ImportOut(
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        dry_run=result.dry_run,
    )


@router.get("/unanswered", response_model=GroupList)
def list_unanswered(
    status: Literal["open", "resolved", "ignored"] = "open",
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> GroupList:
    """Questions the KB had no answer for, grouped; most asked first."""
    page = service.list_groups(
        uow.session,
        shop_id=principal.shop_id,
        status=service.UnansweredStatus(status),
        limit=limit,
        offset=offset,
    )
    return GroupList(total=page.total, groups=[group_out(g) for g in page.items])


@router.get("/unanswered/{group_id}", response_model=GroupOut)
def get_unanswered(
    group_id: ResourceId,
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> GroupOut:
    return group_out(service.get_group(uow.session, shop_id=principal.shop_id, group_id=group_id))


@router.post("/unanswered/{group_id}/entry", response_model=EntryOut, status_code=201)
def group_to_entry(
    group_id: ResourceId,
    body: GroupToEntry,
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> EntryOut:
    """「添加为新问答」: a new entry whose phrasings are the group's questions."""
    view = service.resolve_as_new_entry(
        uow,
        shop_id=principal.shop_id,
        group_id=group_id,
        answer=body.answer,
        questions=body.questions,
        category=body.category,
        acting_agent_id=principal.agent_id,
    )
    return entry_out(view)


@router.post("/unanswered/{group_id}/phrasing", response_model=EntryOut)
def group_to_phrasing(
    group_id: ResourceId,
    body: GroupToPhrasing,
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> EntryOut:
    """「添加为…的问法」: the group's questions become phrasings of an existing entry."""
    view = service.resolve_as_phrasing(
        uow,
        shop_id=principal.shop_id,
        group_id=group_id,
        entry_id=body.entry_id,
        acting_agent_id=principal.agent_id,
    )
    return entry_out(view)


@router.post("/unanswered/{group_id}/ignore", response_model=GroupOut)
def ignore_group(
    group_id: ResourceId,
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> GroupOut:
    """「忽略」: not a KB question; later copies of it stay out of the list."""
    service.ignore_group(
        uow, shop_id=principal.shop_id, group_id=group_id, acting_agent_id=principal.agent_id
    )
    return group_out(service.get_group(uow.session, shop_id=principal.shop_id, group_id=group_id))


@router.get("/lint", response_model=LintOut)
def lint(principal: Principal = Depends(curator), uow: UnitOfWork = Depends(get_uow)) -> LintOut:
    """Duplicate entries, contradicting answers, and phrasings in the wrong entry."""
    report = service.lint(uow.session, shop_id=principal.shop_id)

    def pair(p: service.EntryPair) -> PairOut:
        return PairOut(
            first_id=p.first_id,
            first_question=p.first_question,
            second_id=p.second_id,
            second_question=p.second_question,
            score=p.score,
            detail=p.detail,
        )

    return LintOut(
        entries=report.entries,
        duplicates=[pair(p) for p in report.duplicates],
        contradictions=[pair(p) for p in report.contradictions],
        misplaced=[
            MisplacedOut(
                entry_id=m.entry_id,
                question=m.question,
                own_score=m.own_score,
                other_id=m.other_id,
                other_question=m.other_question,
                other_score=m.other_score,
            )
            for m in report.misplaced
        ],
    )
