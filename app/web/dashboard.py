"""Dashboard figures computed in Python over a bounded, newest-first window of predictions (the Cosmos
emulator has no GROUP BY, and a fixed window keeps the page's cost flat as history grows)."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.records import Prediction

# Traffic bucket sizes to choose from, so the chart has at most ~24 columns whatever the time span.
_BUCKETS = [timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720, 1440, 10080)]


@dataclass
class Dashboard:
    count: int
    average_price: float | None
    median_price: float | None
    makes: int
    per_make: list[tuple[str, int]] = field(default_factory=list)
    price_bins: list[tuple[str, int]] = field(default_factory=list)
    price_bin_tips: list[str] = field(default_factory=list)
    traffic: list[tuple[str, int]] = field(default_factory=list)
    traffic_tips: list[str] = field(default_factory=list)
    traffic_bucket: str = ""
    versions: list[tuple[str, int]] = field(default_factory=list)
    recent: list[Prediction] = field(default_factory=list)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def summarize(predictions: list[Prediction], now: datetime | None = None, recent: int = 12) -> Dashboard:
    prices = [p.price for p in predictions]
    board = Dashboard(
        count=len(predictions),
        average_price=statistics.fmean(prices) if prices else None,
        median_price=statistics.median(prices) if prices else None,
        makes=len({p.make for p in predictions}),
        recent=predictions[:recent],
    )
    board.per_make = Counter(p.make for p in predictions).most_common(12)
    board.versions = Counter(p.model_version for p in predictions).most_common()
    board.price_bins, board.price_bin_tips = _histogram(prices)
    board.traffic, board.traffic_tips, board.traffic_bucket = _traffic(predictions, now or datetime.now(UTC))
    return board


def _histogram(prices: list[float]) -> tuple[list[tuple[str, int]], list[str]]:
    if not prices:
        return [], []
    low, high = min(prices), max(prices)
    width = _nice_step((high - low) / 10 if high > low else max(high, 1) / 5)
    start = math.floor(low / width) * width
    bins = max(1, math.ceil((high - start) / width + 1e-9))
    counts = [0] * bins
    for price in prices:
        counts[min(int((price - start) // width), bins - 1)] += 1
    edges = [start + i * width for i in range(bins)]
    labels = [f"${e / 1000:,.0f}k" if width >= 1000 else f"${e:,.0f}" for e in edges]
    tips = [f"${e:,.0f} to ${e + width:,.0f}: {c} prediction(s)" for e, c in zip(edges, counts, strict=True)]
    return list(zip(labels, counts, strict=True)), tips


def _nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _traffic(predictions: list[Prediction], now: datetime) -> tuple[list[tuple[str, int]], list[str], str]:
    if not predictions:
        return [], [], ""
    times = [parse_time(p.created_at) for p in predictions]
    oldest = min(times)
    span = max(now - oldest, timedelta(minutes=1))
    bucket = next((b for b in _BUCKETS if span / b <= 24), _BUCKETS[-1])
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first = epoch + ((oldest - epoch) // bucket) * bucket
    last = epoch + ((now - epoch) // bucket) * bucket
    n = int((last - first) / bucket) + 1
    counts = [0] * n
    for t in times:
        counts[min(max(int((t - first) / bucket), 0), n - 1)] += 1
    fmt = "%H:%M" if bucket < timedelta(days=1) else "%b %d"
    starts = [first + i * bucket for i in range(n)]
    labels = [s.strftime(fmt) for s in starts]
    tips = [f"{s:%Y-%m-%d %H:%M} UTC: {c} prediction(s)" for s, c in zip(starts, counts, strict=True)]
    return list(zip(labels, counts, strict=True)), tips, _bucket_name(bucket)


def _bucket_name(bucket: timedelta) -> str:
    minutes = int(bucket.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} minute" + ("s" if minutes > 1 else "")
    if minutes < 1440:
        return f"{minutes // 60} hour" + ("s" if minutes >= 120 else "")
    return "day" if minutes == 1440 else "week"


def quality_meaning(label: str) -> str:
    """One line of plain language for a model-quality figure (ml.carprice.gate.quality_rows' labels)."""
    if label == "Evaluation":
        return "How the figures below were measured: the model was trained and tested on many different splits."
    if label == "MAE":
        return "Typical miss: on average a price is off by about this much, up or down."
    if label == "RMSE":
        return "Like the typical miss, but large misses count more; far above it means some prices miss badly."
    if label == "R²":
        return "Share of the differences between car prices the model explains (1 would be perfect)."
    if label == "MAE vs linear baseline":
        return "The typical miss relative to a simple straight-line model's (below 1 means better than it)."
    if label.startswith("R², unseen"):
        return "The same share when the model prices kinds of cars it never saw in training."
    return ""
