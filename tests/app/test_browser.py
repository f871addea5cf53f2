"""A real browser (Debian's Chromium, headless, driven by Playwright) prices a car on the predictor page,
then finds that prediction on the dashboard. Screenshots go to the test's tmp dir and test-results/app/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.app.conftest import ROOT, app_settings, served

pytestmark = pytest.mark.xdist_group("app")

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
CAR = {
    "selects": {"make": "bmw", "body_style": "sedan", "fuel_type": "gas", "aspiration": "std", "num_of_doors": "four",
                "drive_wheels": "rwd"},
    "numbers": {"engine_size": "164", "horsepower": "121", "curb_weight": "2710", "city_mpg": "21",
                "highway_mpg": "28"},
}


@pytest.fixture(scope="module")
def live_url(model_dir: Path, cosmos, batch_run, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = app_settings(
        model_dir=model_dir, outbox_dir=tmp_path_factory.mktemp("browser-outbox"), cosmos_endpoint=cosmos.endpoint
    )
    with served(settings) as url:
        yield url


def _shot(page: Page, tmp_path: Path, name: str, full_page: bool = True) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    results = ROOT / "test-results" / "app"
    results.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, results / path.name)


def test_browser_prices_a_car_and_finds_it_on_the_dashboard(live_url: str, tmp_path: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

            page.goto(f"{live_url}/")
            page.get_by_text("More details").click()  # doors and horsepower are optional: they sit in there
            for field, value in CAR["selects"].items():
                page.select_option(f"#f-{field}", value)
            for field, value in CAR["numbers"].items():
                page.fill(f"#f-{field}", value)
            page.get_by_role("button", name="Get price").click()

            price = page.get_by_test_id("price")
            price.wait_for()
            assert price.inner_text().startswith("$")
            assert int(price.inner_text().strip("$").replace(",", "")) > 1000
            assert page.get_by_test_id("price-range").inner_text().count("$") == 2
            version = page.get_by_test_id("result-model-version").inner_text()
            prediction_id = page.get_by_test_id("prediction-id").inner_text()
            _shot(page, tmp_path, "predictor")

            page.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
            row = page.locator(f'tr[data-prediction-id="{prediction_id}"]')
            row.wait_for()
            assert "BMW" in row.inner_text() and version in row.inner_text()
            _shot(page, tmp_path, "dashboard")

            page.get_by_role("navigation").get_by_role("link", name="Batch results").click()
            page.get_by_test_id("batch-table").wait_for()
            _shot(page, tmp_path, "batch", full_page=False)

            assert blocked == []  # nothing on the pages needed a looser CSP
        finally:
            browser.close()


PHONE = {"width": 390, "height": 844}


def _fits_the_screen(page: Page) -> None:
    overflow = page.evaluate(
        "() => ({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, view: innerWidth})"
    )
    assert overflow["doc"] <= overflow["view"] and overflow["body"] <= overflow["view"], overflow
    nav = page.get_by_role("navigation")
    for link in nav.get_by_role("link").all():
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], link.inner_text()
        assert box["height"] < 40, f"{link.inner_text()} wraps onto several lines"


@pytest.fixture(scope="module")
def streamed_listings(model_dir: Path, cosmos) -> int:
    """Listings scored by the function app's own handler into the shared emulator (the live-market table)."""
    from functions.handlers import Runtime
    from functions.settings import FunctionSettings
    from tools.local.replayer import Replayer

    runtime = Runtime.from_settings(FunctionSettings(cosmos_endpoint=cosmos.endpoint, model_dir=model_dir))
    try:
        report = Replayer(runtime, lambda path, data: None).deliver(20)
    finally:
        runtime.store.close()
    assert report is not None and report.scored
    return report.scored


def test_every_page_fits_a_phone_screen(live_url: str, streamed_listings: int, tmp_path: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
            page.goto(f"{live_url}/")
            _fits_the_screen(page)
            _shot(page, tmp_path, "phone-predictor-form")
            page.get_by_text("More details").click()  # the optional fields
            for field, value in CAR["selects"].items():
                page.select_option(f"#f-{field}", value)
            for field, value in CAR["numbers"].items():
                page.fill(f"#f-{field}", value)
            page.get_by_role("button", name="Get price").click()
            page.get_by_test_id("price").wait_for()
            _fits_the_screen(page)
            _shot(page, tmp_path, "phone-predictor")

            page.goto(f"{live_url}/dashboard")
            page.get_by_test_id("newest-listings").wait_for()  # the widest table: it scrolls inside its card
            _fits_the_screen(page)
            label_heights = page.eval_on_selector_all(
                ".chart .axis-label", "els => els.map(e => e.getBoundingClientRect().height)"
            )
            assert label_heights and min(label_heights) >= 9, label_heights  # readable chart text
            _shot(page, tmp_path, "phone-dashboard")

            page.goto(f"{live_url}/batch")
            page.get_by_test_id("batch-table").wait_for()
            _fits_the_screen(page)
            _shot(page, tmp_path, "phone-batch")

            page.goto(f"{live_url}/docs")
            assert page.evaluate("() => document.querySelector('meta[name=viewport]')?.content") == \
                "width=device-width, initial-scale=1"
            page.locator(".opblock").first.wait_for()  # Swagger UI has drawn the operations
            _shot(page, tmp_path, "phone-docs", full_page=False)
            back = page.get_by_test_id("docs-back")
            box = back.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            back.click()
            page.get_by_role("button", name="Get price").wait_for()  # back on the predictor
        finally:
            browser.close()
