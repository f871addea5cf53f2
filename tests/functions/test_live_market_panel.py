"""Stream to dashboard: listings scored by score_listings appear on the web app's live market panel
(the function and the app share the Cosmos DB emulator, as they share Cosmos DB in Azure)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

import contract
from app.web.market import summarize_market
from functions.handlers import Runtime, score_listings
from functions.settings import FunctionSettings
from tests.app.conftest import api  # noqa: F401 - the app in-process against the shared emulator
from tests.functions.conftest import dataset_listings, listing_events

pytestmark = [pytest.mark.xdist_group("functions"), pytest.mark.slow]


def test_scored_listings_fill_the_live_market_panel(api: TestClient, settings: FunctionSettings) -> None:  # noqa: F811
    shared = FunctionSettings(**{**settings.__dict__, "cosmos_database": contract.COSMOS_DATABASE})
    runtime = Runtime.from_settings(shared)
    try:
        listings = dataset_listings()[:30]
        # Listed one every 5 s, newest last, all within the last five full minutes (the rate's span).
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(seconds=5 * len(listings) + 1)
        score_listings(listing_events(listings, start=start, spacing_s=5), runtime)
    finally:
        runtime.store.close()
    page = api.get("/dashboard")
    assert page.status_code == 200
    panel = page.text[page.text.index('data-testid="live-market"'):page.text.index("Recent predictions")]
    shown = re.findall(r'data-listing-id="([^"]+)"', panel)
    assert shown[0] == listings[-1]["listing_id"] and len(shown) == 12  # newest first
    assert "Deal ratings" in panel and "Listings per minute" in panel
    rate = re.search(r'data-testid="kpi-listings-rate">([\d.,]+)<', panel)
    assert rate and float(rate.group(1)) == pytest.approx(30 / 5)  # 30 listings in the last 5 full minutes


def test_the_panel_counts_listings_per_minute_and_rating() -> None:
    now = datetime(2026, 11, 28, 2, 30, 30, tzinfo=UTC)
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    listings = [{"listed_at": (now - timedelta(minutes=m)).strftime(stamp), "deal_rating": r}
                for m, r in ((0, "great"), (0, "fair"), (1, "fair"), (7, "high"), (30, "good"))]
    panel = summarize_market(listings, now)
    # The rate is the chart's last five full minutes (02:25-02:29): the current minute is still filling.
    assert panel.per_minute == pytest.approx(1 / 5)
    assert dict(panel.ratings) == {"great": 1, "good": 1, "fair": 2, "high": 1}
    assert panel.by_minute[-1] == ("02:30", 2) and panel.by_minute[-2] == ("02:29", 1)
    assert sum(n for _, n in panel.by_minute) == 4  # the 30-minute-old listing is outside the chart
