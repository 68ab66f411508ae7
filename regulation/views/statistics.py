"""The statistics page: the NSPCC's national series and the per-platform shares, each drawn
as an SVG chart on the server beside a data table, then every other published indicator with
its own table, with figures that disagree side by side."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from regulation.charts import BarChart, ChartPoint, horizontal_bar_chart
from regulation.conditional import conditional_on
from regulation.models import Indicator, Observation, Platform, Source, Unit

# The two series the page draws, in the page's order.
NATIONAL_SERIES = "scwc-offences-national"
PLATFORM_SHARES = "scwc-platform-share"
CHARTED = (NATIONAL_SERIES, PLATFORM_SHARES)
YEAR = re.compile(r"(19|20)\d\d")


@dataclass(frozen=True)
class IndicatorSection:
    indicator: Indicator
    observations: list[Observation]
    chart: BarChart | None
    # Figures with no single number ("over a quarter"): in the table, not on the chart.
    uncharted: list[Observation]


def period_order(observation: Observation) -> tuple:
    """A series runs in time order. A figure without period dates sorts by the first year its
    label names ("2018/19 (year to Apr 2019)"), so it is not pushed to the end."""
    if observation.period_start is not None:
        year = observation.period_start.year
    else:
        found = YEAR.search(observation.period_label)
        year = int(found.group()) if found else 9999
    return (year, observation.period_label, observation.key or "")


def bar_label(observation: Observation, indicator_slug: str) -> str:
    if indicator_slug == PLATFORM_SHARES:
        names = [p.name for p in observation.platforms.all()]
        label = " and ".join(names) if names else observation.metric
        # Disagreeing figures for the same platforms need telling apart on the chart too.
        return f"{label} ({observation.key})" if observation.conflicts_with.all() else label
    return observation.period_label


def chart_points(observations: Iterable[Observation], indicator_slug: str) -> list[ChartPoint]:
    return [
        ChartPoint(
            label=bar_label(o, indicator_slug),
            value=o.value,
            value_text=o.value_text,
            css_class="conflict" if o.conflicts_with.all() else "",
        )
        for o in observations
        if o.value is not None
    ]


def charted(indicator: Indicator) -> IndicatorSection:
    observations = list(indicator.observations.all())
    if indicator.slug == NATIONAL_SERIES:
        observations.sort(key=period_order)
    else:  # shares: largest first, as a reader compares them
        observations.sort(key=lambda o: (o.value is None, -(o.value or 0), o.key or ""))
    points = chart_points(observations, indicator.slug)
    suffix = "%" if indicator.unit == Unit.PERCENT else ""
    return IndicatorSection(
        indicator=indicator,
        observations=observations,
        chart=horizontal_bar_chart(points, unit_suffix=suffix) if points else None,
        uncharted=[o for o in observations if o.value is None],
    )


def listed(indicator: Indicator) -> IndicatorSection:
    """An indicator the page does not chart: its figures in time order, in a table only."""
    observations = sorted(indicator.observations.all(), key=period_order)
    return IndicatorSection(
        indicator=indicator, observations=observations, chart=None, uncharted=[]
    )


def sections(indicators: Iterable[Indicator]) -> list[IndicatorSection]:
    """The charted series first, in the page's order, then every other indicator by name."""
    by_slug = {i.slug: i for i in indicators}
    charted_first = [charted(by_slug[slug]) for slug in CHARTED if slug in by_slug]
    others = [listed(i) for slug, i in by_slug.items() if slug not in CHARTED]
    return charted_first + sorted(others, key=lambda s: (s.indicator.name, s.indicator.slug))


def conflict_groups(series: Sequence[IndicatorSection]) -> list[list[Observation]]:
    """Each set of published figures that disagree, once, in key order."""
    groups: dict[frozenset, list[Observation]] = {}
    for item in series:
        for observation in item.observations:
            others = list(observation.conflicts_with.all())
            if others:
                members = sorted([observation, *others], key=lambda o: o.key or "")
                groups.setdefault(frozenset(o.pk for o in members), members)
    return list(groups.values())


def statistics_queryset():
    published_platforms = Platform.objects.published().order_by("name")
    observations = (
        Observation.objects.published()
        .select_related("indicator")
        .prefetch_related(
            "sources",
            Prefetch("platforms", queryset=published_platforms),
            Prefetch(
                "conflicts_with",
                queryset=Observation.objects.published()
                .select_related("indicator")
                .prefetch_related("sources"),
            ),
        )
    )
    return Indicator.objects.published().prefetch_related(
        "sources", Prefetch("observations", queryset=observations)
    )


@require_safe
@conditional_on(Indicator, Observation, Platform, Source)
def statistics(request: HttpRequest) -> HttpResponse:
    series = sections(statistics_queryset())
    context = {"series": series, "conflicts": conflict_groups(series)}
    return render(request, "regulation/statistics.html", context)
