"""Real-browser fixtures: the app served by uvicorn on a free local port, and Debian's Chromium.

Playwright's own browser download is not used; it drives /usr/bin/chromium.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect, sync_playwright

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class LiveServer:
    url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    port = _free_port()
    # Lifespan on: it starts the realtime hub and the message writer, as `kefu serve` does.
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    # Waiting for the server to bind, not for time to pass: returns as soon as it listens.
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.01)
    yield LiveServer(url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing on CI: `make test` installs chromium as root")
        pytest.skip(f"{CHROMIUM} is not installed (run `make test` as root to install it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of what the person saw, for a human to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def no_script_errors(page: Page) -> Iterator[None]:
    """An exception in the page's script fails the test, even when the screen looks right.
    A refused form answers 4xx on purpose; Chromium logs that as a failed load."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    yield
    assert errors == []


NewPage = Callable[..., Page]


@pytest.fixture
def people(browser: Browser) -> Iterator[NewPage]:
    """A browser context per person (an agent, a buyer …): ``people(setup)`` opens one,
    ``setup`` preparing its context first (permissions, routes). Any script error or
    dialog on any of their pages fails the test."""
    opened: list[BrowserContext] = []
    problems: list[str] = []

    def new_page(setup: Callable[[BrowserContext], None] | None = None) -> Page:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
        if setup is not None:
            setup(context)
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda m: (
                problems.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )

        def dialog(d: Dialog) -> None:
            problems.append(f"dialog: {d.message}")
            d.dismiss()

        page.on("dialog", dialog)
        return page

    yield new_page
    for context in opened:
        context.close()
    assert problems == []


def log_in_to_desk(page: Page, server: LiveServer, *, shop: str, email: str) -> None:
    """Open /desk, log in on the page it redirects to, and wait for the live connection."""
    page.goto(server.url + "/desk")
    expect(page).to_have_url(f"{server.url}/login?next=%2Fdesk")
    page.get_by_label("店铺代码").fill(shop)
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server.url + "/desk")
    expect(page.get_by_test_id("desk-connection")).to_have_attribute("data-state", "open")
