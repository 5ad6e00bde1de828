"""Small server-side charts, drawn as inline SVG (no JavaScript, no image files)."""

from django.utils.html import format_html, format_html_join

WIDTH, HEIGHT, PAD = 600, 140, 36


def hit_ratio_svg(reads: list[tuple[int, int]]) -> str:
    """
    One bar per recent read (its share of ids served from the cache) and a line for the
    hit ratio over the last ten reads. ``reads`` holds (hits, misses) pairs, oldest first.
    """
    reads = [(h, m) for h, m in reads if h + m]
    if not reads:
        return ""
    step = (WIDTH - 2 * PAD) / len(reads)
    plot = HEIGHT - 2 * PAD

    def y(ratio: float) -> float:
        return round(PAD + plot * (1 - ratio), 1)

    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" class="bar"><title>read {}: {} hits, {} misses</title></rect>',
        (
            (round(PAD + i * step, 1), y(h / (h + m)), max(round(step - 1, 1), 1), round(plot * h / (h + m), 1), i + 1, h, m)
            for i, (h, m) in enumerate(reads)
        ),
    )
    points = []
    for i in range(len(reads)):
        window = reads[max(0, i - 9) : i + 1]
        hits = sum(h for h, _ in window)
        ratio = hits / sum(h + m for h, m in window)
        points.append(f"{round(PAD + (i + 0.5) * step, 1)},{y(ratio)}")
    latest = sum(h for h, _ in reads[-10:]) / sum(h + m for h, m in reads[-10:])
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-title chart-desc">'
        '<title id="chart-title">Cache hit ratio of the last {n} reads</title>'
        '<desc id="chart-desc">Bars: each read\'s share of ids served from the cache. Line: hit ratio over '
        "the last ten reads, now {latest}.</desc>"
        '<line x1="{p}" y1="{top}" x2="{right}" y2="{top}" class="grid"/>'
        '<line x1="{p}" y1="{bottom}" x2="{right}" y2="{bottom}" class="grid"/>'
        '<text x="2" y="{top_text}" class="label">100%</text><text x="2" y="{bottom_text}" class="label">0%</text>'
        '{bars}<polyline points="{points}" class="line"/></svg>',
        w=WIDTH, h=HEIGHT, n=len(reads), latest=f"{latest:.0%}", p=PAD, right=WIDTH - PAD, top=PAD, bottom=HEIGHT - PAD,
        top_text=PAD + 4, bottom_text=HEIGHT - PAD + 4, bars=bars, points=" ".join(points),
    )
