"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import JSONResponse

from kefu import migrate
from kefu.db import DatabaseUnavailable, check_database
from kefu.web.context import AppContext
from kefu.web.deps import get_context

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and serving (says nothing about its dependencies)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(context: AppContext = Depends(get_context)) -> JSONResponse:
    """Ready for traffic: the database answers and carries the current schema."""
    try:
        check_database(context.engine)
    except DatabaseUnavailable as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
    if not migrate.is_up_to_date(context.engine):
        return JSONResponse(
            {"status": "unavailable", "database": "schema is not up to date; run 'kefu migrate'"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})
