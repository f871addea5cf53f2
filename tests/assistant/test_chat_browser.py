"""A real browser (Debian's Chromium, headless, Playwright) on a 390 px phone: asks the assistant, watches the
answer stream in with its citations, reloads and finds the conversation again (the session's history).
Screenshots go to test-results/assistant/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests.app.conftest import ROOT, served
from tests.app.test_browser import CHROMIUM_ARGS, PHONE, _fits_the_screen
from tests.assistant.conftest import assistant_settings
from tests.assistant.test_chat_api import BMW_QUESTION
from tools.local.standins.running import RunningStandIns

pytestmark = pytest.mark.xdist_group("assistant")


@pytest.fixture(scope="module")
def live_url(model_dir: Path, cosmos: Any, stand_ins: RunningStandIns, indexed: list,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = assistant_settings(model_dir, tmp_path_factory.mktemp("browser-outbox"), stand_ins, cosmos.endpoint)
    with served(settings) as url:
        yield url


def test_a_phone_asks_the_assistant_and_finds_the_conversation_after_a_reload(live_url: str, tmp_path: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(f"{live_url}/assistant")
            _fits_the_screen(page)
            page.fill("#chat-input", BMW_QUESTION)
            page.get_by_role("button", name="Ask").click()
            answer = page.get_by_test_id("answer").last
            page.wait_for_function("() => document.querySelectorAll('.chat-log .cite').length > 0")
            text = answer.inner_text()
            assert "Our model prices this car at $" in text and "listing " in text
            assert page.locator(".chat-log .cite").count() >= 1
            _fits_the_screen(page)
            path = tmp_path / "phone-assistant.png"
            page.screenshot(path=str(path), full_page=True)
            results = ROOT / "test-results" / "assistant"
            results.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, results / path.name)

            page.reload()
            page.wait_for_function("() => document.querySelectorAll('.chat-log .from-user').length > 0")
            assert BMW_QUESTION[:40] in page.locator(".chat-log .from-user").first.inner_text()
            assert blocked == []  # the page needs no looser CSP
        finally:
            browser.close()
