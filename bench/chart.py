"""The latency chart: one bar per case (median), a tick at its p99, on a log scale, as SVG."""

import math
from html import escape


def latency_svg(rows: list[tuple[str, float, float]], title: str) -> str:
    """``rows``: (label, median_us, p99_us)."""
    width, bar_h, gap, left, right, top = 900, 18, 8, 330, 40, 50
    height = top + len(rows) * (bar_h + gap) + 40
    low = 10 ** math.floor(math.log10(max(1.0, min(m for _, m, _ in rows))))
    high = 10 ** math.ceil(math.log10(max(p for _, _, p in rows)))

    def x(us: float) -> float:
        return left + (width - left - right) * (math.log10(max(us, low)) - math.log10(low)) / (
            math.log10(high) - math.log10(low)
        )

    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            'font-family="sans-serif" font-size="12">'
        ),
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    decade = low
    while decade <= high:
        parts.append(
            f'<line x1="{x(decade):.1f}" y1="{top - 8}" x2="{x(decade):.1f}" y2="{height - 30}" '
            'stroke="#ddd"/>'
        )
        label = (
            f"{decade:g} µs"
            if decade < 1000
            else (f"{decade / 1000:g} ms" if decade < 1e6 else f"{decade / 1e6:g} s")
        )
        parts.append(
            f'<text x="{x(decade):.1f}" y="{height - 14}" text-anchor="middle" fill="#555">{label}</text>'
        )
        decade *= 10
    for i, (label, median, p99) in enumerate(rows):
        y = top + i * (bar_h + gap)
        parts.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect x="{left}" y="{y}" width="{x(median) - left:.1f}" height="{bar_h}" fill="#4a90d9">'
            f"<title>{escape(label)}: median {median:.0f} µs, p99 {p99:.0f} µs</title></rect>"
        )
        parts.append(
            f'<line x1="{x(p99):.1f}" y1="{y - 2}" x2="{x(p99):.1f}" y2="{y + bar_h + 2}" '
            'stroke="#c0392b" stroke-width="2"/>'
        )
    parts.append(
        f'<text x="{width - right}" y="40" text-anchor="end" fill="#555">bar: median · red tick: p99</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
