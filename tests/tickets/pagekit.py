"""Reading the ticket pages as a person does: logged in with the session cookie, forms
posted with the page's CSRF token, and the page's visible text (tags dropped)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.factories import PASSWORD


@dataclass
class Person:
    """One member of staff's browser: their own client (cookie jar) and CSRF token."""

    client: TestClient
    csrf: str

    def get(self, path: str, **kwargs: Any) -> Response:
        response: Response = self.client.get(path, **kwargs)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Response:
        """A form post as the page sends it (the CSRF token included); not followed."""
        response: Response = self.client.post(
            path, data={"csrf_token": self.csrf, **(data or {})}, follow_redirects=False, **kwargs
        )
        return response

    def follow(self, response: Response) -> Response:
        assert response.status_code == 303, (response.status_code, text_of(response.text))
        return self.get(response.headers["location"])


def log_in(client: TestClient, *, shop: str, email: str) -> Person:
    response = client.post(
        "/api/v1/auth/login", json={"shop": shop, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return Person(client=client, csrf=str(response.json()["csrf_token"]))


def text_of(page: str) -> str:
    """What the page says: the main part's text, whitespace collapsed (scripts' JSON and
    the header dropped)."""
    main = page[page.find("<main") :] if "<main" in page else page
    main = re.sub(r"<script\b.*?</script>", " ", main, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def part(page: str, testid: str) -> str:
    """The text of the first element with ``data-testid`` (to its matching close tag)."""
    start = page.find(f'data-testid="{testid}"')
    assert start >= 0, f"no {testid!r} on the page"
    open_at = page.rfind("<", 0, start)
    tag = re.match(r"<(\w+)", page[open_at:])
    assert tag is not None
    name, depth, at = tag.group(1), 0, open_at
    pattern = re.compile(rf"<(/?){name}\b[^>]*?(/?)>")
    for found in pattern.finditer(page, open_at):
        if found.group(2):
            continue
        depth += -1 if found.group(1) else 1
        if depth == 0:
            at = found.end()
            break
    return text_of(page[open_at:at])
