"""What settings pages share when a form is posted: the text the person typed (to show it
again when it is refused) and the redirect after a change, back to the page with a notice
and the anchor of what changed (post/redirect/get, so a reload never posts twice)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import RedirectResponse


async def typed_fields(request: Request) -> dict[str, str]:
    """Every text field of the posted form (file fields left out)."""
    form = await request.form()
    return {name: value for name, value in form.multi_items() if isinstance(value, str)}


def redirect_done(path: str, notice: str, anchor: str) -> RedirectResponse:
    """303 back to ``path`` saying ``notice`` (one of the page's known notices)."""
    return RedirectResponse(f"{path}?done={notice}#{anchor}", status_code=303)
