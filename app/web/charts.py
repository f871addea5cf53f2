"""Charts drawn server-side as inline SVG: no JavaScript, no CDN, crisp at any zoom, readable by
screen readers (role=img, a label, and a <title> tooltip on every bar). Colours come from app.css."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

Formatter = Callable[[float], str]


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _nice_max(value: float, ticks: int = 4) -> float:
    """An axis maximum of `ticks` equal whole-number steps of 1, 2 or 5 times a power of ten."""
    raw = max(value, 1) / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next((s * magnitude for s in (1, 2, 5, 10) if raw <= s * magnitude), 10 * magnitude)
    return max(step, 1) * ticks


def horizontal_bars(
    items: Sequence[tuple[str, float]], label: str, fmt: Formatter = _count, width: int = 560
) -> Markup:
    if not items:
        return _empty(label)
    row, top, left, right = 26, 8, 136, 56  # room for a make's name at phone-sized text
    height = top * 2 + row * len(items)
    peak = max(v for _, v in items) or 1
    span = width - left - right
    parts = []
    for i, (name, value) in enumerate(items):
        y = top + i * row
        bar = max(2.0, span * value / peak)
        parts.append(
            f'<text class="axis-label" x="{left - 8}" y="{y + row / 2 + 4}" text-anchor="end">{escape(name)}</text>'
            f'<rect class="bar" x="{left}" y="{y + 4}" width="{bar:.1f}" height="{row - 8}" rx="3">'
            f"<title>{escape(name)}: {fmt(value)}</title></rect>"
            f'<text class="bar-value" x="{left + bar + 6:.1f}" y="{y + row / 2 + 4}">{fmt(value)}</text>'
        )
    return _svg(width, height, label, "".join(parts))


def columns(
    items: Sequence[tuple[str, float]], label: str, fmt: Formatter = _count, width: int = 560, height: int = 220,
    tooltips: Sequence[str] | None = None, label_every: int | None = None,
) -> Markup:
    if not items:
        return _empty(label)
    top, bottom, left, right = 12, 38, 54, 8
    plot_h = height - top - bottom
    peak = _nice_max(max(v for _, v in items))
    slot = (width - left - right) / len(items)
    every = label_every or max(1, round(len(items) / 6))
    parts = [_gridlines(left, width - right, top, plot_h, peak, fmt)]
    for i, (name, value) in enumerate(items):
        x = left + i * slot
        h = plot_h * value / peak
        bar = min(slot * 0.76, 56.0)  # a lone column stays a column, not a slab
        tip = tooltips[i] if tooltips else f"{name}: {fmt(value)}"
        parts.append(
            f'<rect class="bar" x="{x + (slot - bar) / 2:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
            f'height="{max(h, 0):.1f}" rx="2"><title>{escape(tip)}</title></rect>'
        )
        if i % every == 0:
            parts.append(
                f'<text class="axis-label" x="{x + slot / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(name)}</text>'
            )
    return _svg(width, height, label, "".join(parts))


def _gridlines(x0: float, x1: float, top: float, plot_h: float, peak: float, fmt: Formatter) -> str:
    out = []
    for k in range(5):
        value = peak * k / 4
        y = top + plot_h - plot_h * k / 4
        out.append(
            f'<line class="grid" x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis-label" x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt(value)}</text>'
        )
    return "".join(out)


def _svg(width: int, height: int, label: str, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="xMinYMin meet">{body}</svg>'
    )


def _empty(label: str) -> Markup:
    return Markup(f'<p class="empty">No data yet for “{escape(label)}”.</p>')


def range_bar(low: float, price: float, high: float, width: int = 360, height: int = 44) -> Markup:
    """The plausible range as a band with the estimate marked, labelled at both ends."""
    pad = (high - low) * 0.15 or max(price * 0.05, 1)
    lo, hi = low - pad, high + pad

    def x(v: float) -> float:
        return 8 + (width - 16) * (v - lo) / (hi - lo)

    return Markup(
        f'<svg class="range-bar" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Plausible range ${low:,.0f} to ${high:,.0f}, estimate ${price:,.0f}">'
        f'<rect class="range-track" x="8" y="10" width="{width - 16}" height="10" rx="5"/>'
        f'<rect class="range-band" x="{x(low):.1f}" y="10" width="{x(high) - x(low):.1f}" height="10" rx="5"/>'
        f'<circle class="range-mark" cx="{x(price):.1f}" cy="15" r="8"/>'
        f'<text class="axis-label" x="{x(low):.1f}" y="38" text-anchor="middle">${low:,.0f}</text>'
        f'<text class="axis-label" x="{x(high):.1f}" y="38" text-anchor="middle">${high:,.0f}</text>'
        "</svg>"
    )
