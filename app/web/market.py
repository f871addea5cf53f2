"""The live market panel: figures over the stream's newest scored listings (the function app's market
container), computed here because the Cosmos emulator has no GROUP BY and a bounded window keeps the
page's cost flat."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.web.dashboard import parse_time

DEAL_RATINGS = ("great", "good", "fair", "high")  # as functions/market.py rates them
MINUTES = 15  # the listings-per-minute chart's span
RATE_WINDOW = 5  # full minutes the headline rate averages over: the chart's last bars before the current one


@dataclass
class MarketPanel:
    listings: int
    per_minute: float  # the mean of the chart's last RATE_WINDOW full-minute bars
    by_minute: list[tuple[str, int]] = field(default_factory=list)
    ratings: list[tuple[str, int]] = field(default_factory=list)
    newest: list[dict] = field(default_factory=list)


def summarize_market(listings: list[dict], now: datetime | None = None, newest: int = 12) -> MarketPanel:
    now = now or datetime.now(UTC)
    times = []
    for listing in listings:
        try:
            times.append(parse_time(listing["listed_at"]))
        except (KeyError, TypeError, ValueError):
            continue
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=MINUTES - 1)
    counts = [0] * MINUTES
    for moment in times:
        slot = int((moment - start) // timedelta(minutes=1))
        if 0 <= slot < MINUTES:
            counts[slot] += 1
    rated = Counter(listing.get("deal_rating") for listing in listings)
    return MarketPanel(
        listings=len(listings),
        # The current minute is still filling: the rate is read off the full minutes the chart shows before it.
        per_minute=sum(counts[-RATE_WINDOW - 1:-1]) / RATE_WINDOW,
        by_minute=[((start + timedelta(minutes=i)).strftime("%H:%M"), n) for i, n in enumerate(counts)],
        ratings=[(rating, rated.get(rating, 0)) for rating in DEAL_RATINGS],
        newest=listings[:newest],
    )
