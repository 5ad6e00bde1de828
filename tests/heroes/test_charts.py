from datetime import UTC, datetime

from heroes.charts import hit_ratio_svg

NOW = datetime(2026, 11, 27, 12, 34, 56, tzinfo=UTC)


def test_the_chart_has_an_axis_a_legend_and_a_time():
    svg = hit_ratio_svg([(1, 1), (2, 0)], now=NOW)
    assert ">0%</text>" in svg and ">50%</text>" in svg and ">100%</text>" in svg
    assert "hits per read" in svg and "ratio, last 10 reads" in svg
    assert "newest, 12:34:56 UTC" in svg and "oldest" in svg


def test_a_read_with_no_hits_is_a_visible_bar_not_a_gap():
    """0 hits draws a thin bar of its own class at 0%, so it is not mistaken for missing data."""
    svg = hit_ratio_svg([(0, 3), (3, 0)], now=NOW)
    bars = [part for part in svg.split("<rect")[1:] if "<title>read" in part]
    assert len(bars) == 2
    assert 'class="bar zero"' in bars[0] and 'height="3"' in bars[0]
    assert 'class="bar"' in bars[1]


def test_no_reads_no_chart():
    assert hit_ratio_svg([], now=NOW) == "" and hit_ratio_svg([(0, 0)], now=NOW) == ""
