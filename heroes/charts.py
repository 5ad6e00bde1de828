"""Small server-side charts, drawn as inline SVG (no JavaScript, no image files, no inline styles)."""

from datetime import datetime

from django.utils.html import format_html, format_html_join

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 30, 40
# A read with no hits still gets a bar this tall, in the "miss" colour, so it reads as
# "0%" rather than as a gap where data is missing.
ZERO_BAR = 3


def hit_ratio_svg(reads: list[tuple[int, int]], *, now: datetime) -> str:
    """
    One bar per recent read (its share of ids served from the cache) and a line for the
    hit ratio over the last ten reads, with a percentage axis, a legend and the time of
    the newest read's side. ``reads`` holds (hits, misses) pairs, oldest first.
    """
    reads = [(h, m) for h, m in reads if h + m]
    if not reads:
        return ""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / len(reads)
    bottom = TOP + plot_h

    def y(ratio: float) -> float:
        return round(TOP + plot_h * (1 - ratio), 1)

    def bar(i: int, h: int, m: int):
        ratio = h / (h + m)
        height = max(plot_h * ratio, ZERO_BAR)
        return (
            round(LEFT + i * step + step * 0.1, 1),
            round(bottom - height, 1),
            max(round(step * 0.8, 1), 1),
            round(height, 1),
            "bar" if h else "bar zero",
            i + 1,
            h,
            m,
        )

    bars = format_html_join(
        "",
        (
            '<rect x="{}" y="{}" width="{}" height="{}" class="{}">'
            "<title>read {}: {} hits, {} misses</title></rect>"
        ),
        (bar(i, h, m) for i, (h, m) in enumerate(reads)),
    )
    grid = format_html_join(
        "",
        (
            '<line x1="{}" y1="{}" x2="{}" y2="{}" class="grid"/>'
            '<text x="{}" y="{}" class="label" text-anchor="end">{}%</text>'
        ),
        ((LEFT, y(p / 100), WIDTH - RIGHT, y(p / 100), LEFT - 6, y(p / 100) + 4, p) for p in (0, 50, 100)),
    )
    points = []
    for i in range(len(reads)):
        window = reads[max(0, i - 9) : i + 1]
        ratio = sum(h for h, _ in window) / sum(h + m for h, m in window)
        points.append(f"{round(LEFT + (i + 0.5) * step, 1)},{y(ratio)}")
    latest = sum(h for h, _ in reads[-10:]) / sum(h + m for h, m in reads[-10:])
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-title chart-desc">'
        '<title id="chart-title">Cache hit ratio of the last {n} reads</title>'
        '<desc id="chart-desc">Bars: each read\'s share of ids served from the cache (a read with no hits '
        "shows as a thin red bar at 0%). Line: hit ratio over the last ten reads, now {latest}. "
        "Oldest read on the left, newest on the right, as of {time}.</desc>"
        '<g class="legend" aria-hidden="true">'
        '<rect x="{left}" y="8" width="12" height="12" class="bar"/>'
        '<text x="{lx1}" y="18" class="label">hits per read</text>'
        '<rect x="{lx2}" y="8" width="12" height="12" class="bar zero"/>'
        '<text x="{lx3}" y="18" class="label">no hits</text>'
        '<line x1="{lx4}" y1="14" x2="{lx5}" y2="14" class="line"/>'
        '<text x="{lx6}" y="18" class="label">ratio, last 10 reads</text>'
        "</g>"
        "{grid}{bars}"
        '<polyline points="{points}" class="line"/>'
        '<text x="{left}" y="{axis}" class="label">oldest</text>'
        '<text x="{middle}" y="{axis}" class="label" text-anchor="middle">last {n} reads</text>'
        '<text x="{right}" y="{axis}" class="label" text-anchor="end">newest, {time}</text>'
        "</svg>",
        w=WIDTH,
        h=HEIGHT,
        n=len(reads),
        latest=f"{latest:.0%}",
        time=now.strftime("%H:%M:%S UTC"),
        left=LEFT,
        lx1=LEFT + 16,
        lx2=LEFT + 112,
        lx3=LEFT + 128,
        lx4=LEFT + 196,
        lx5=LEFT + 218,
        lx6=LEFT + 224,
        grid=grid,
        bars=bars,
        points=" ".join(points),
        axis=HEIGHT - 12,
        middle=LEFT + plot_w / 2,
        right=WIDTH - RIGHT,
    )
