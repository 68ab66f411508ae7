"""The statistics charts' geometry: bars scaled from zero to a round top, in the order given,
each value written where it fits."""

from decimal import Decimal

import pytest

from regulation.charts import CHAR_WIDTH, ChartPoint, horizontal_bar_chart, nice_ceiling


@pytest.mark.parametrize(
    ("value", "top"),
    [(7263, 10000), (48, 50), (12, 20), (100, 100), (2.1, 2.5), (0.3, 0.5), (0, 1)],
)
def test_the_axis_ends_at_a_round_number_at_or_above_the_largest_value(value, top):
    assert nice_ceiling(value) == pytest.approx(top)


def points(*values: int) -> list[ChartPoint]:
    return [ChartPoint(f"Bar {v}", Decimal(v), f"{v}%") for v in values]


def test_bar_lengths_are_proportional_to_the_values_from_zero():
    chart = horizontal_bar_chart(points(48, 12, 6), unit_suffix="%")

    snapchat, whatsapp, instagram = chart.bars
    assert snapchat.width == pytest.approx(chart.plot_width * 48 / 50, abs=0.01)
    assert whatsapp.width == pytest.approx(snapchat.width / 4, abs=0.01)
    assert instagram.width == pytest.approx(whatsapp.width / 2, abs=0.01)


def test_bars_keep_their_order_and_never_overlap():
    chart = horizontal_bar_chart(points(3171, 7062, 5441))

    assert [bar.label for bar in chart.bars] == ["Bar 3171", "Bar 7062", "Bar 5441"]
    for upper, lower in zip(chart.bars, chart.bars[1:], strict=False):
        assert upper.y + upper.height < lower.y
    assert chart.bars[-1].y + chart.bars[-1].height <= chart.plot_bottom < chart.height


def test_ticks_run_from_zero_to_the_top_across_the_plot():
    chart = horizontal_bar_chart(points(7263, 3171))

    assert [t.label for t in chart.ticks] == ["0", "2,000", "4,000", "6,000", "8,000", "10,000"]
    assert chart.ticks[0].x == chart.plot_left
    assert chart.ticks[-1].x == pytest.approx(chart.plot_left + chart.plot_width)


def test_percentage_ticks_carry_the_unit():
    chart = horizontal_bar_chart(points(48, 5), unit_suffix="%")

    assert [t.label for t in chart.ticks] == ["0%", "10%", "20%", "30%", "40%", "50%"]


def test_the_longest_value_text_fits_after_the_longest_bar():
    long_text = [ChartPoint("2018/19", Decimal(4373), "4,373 ('at least')")]
    chart = horizontal_bar_chart(long_text + points(7262))

    for bar in chart.bars:
        assert bar.value_x > chart.plot_left + bar.width
        assert bar.value_x + len(bar.value_text) * CHAR_WIDTH <= chart.width


def test_a_chart_without_points_has_no_bars():
    chart = horizontal_bar_chart([])

    assert chart.bars == ()
    assert chart.ticks[0].label == "0"
