"""Shared look of every chart: labels, colours, titles and padding."""

from __future__ import annotations

import altair as alt

from sim.config import units
from sim.config.registry import RESOURCES

HOURS_PER_WEEK = units.HOURS_PER_WEEK  # sim.charts offers it next to DAY_NAMES


DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# How a chart panel or table row names each resource, and its colour (from sim.config.registry).
RESOURCE_LABELS = {r.name: r.title for r in RESOURCES}
RESOURCE_COLORS = {r.name: r.colour for r in RESOURCES}


PLACE_LABELS = {
    "ward": "Ward bed",
    "observation": "Observation bed",
    "clinic": "Infusion chair (clinic monitoring)",
    "home": "Infusion chair, then home",
}


PLACE_COLORS = {"ward": "#b2182b", "observation": "#ef8a62", "clinic": "#2166ac", "home": "#67a9cf"}


GRADE_COLORS = ["#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"]


def _title(text: str, subtitle: str = "") -> alt.TitleParams:
    """A chart title with an explanatory subtitle, neither cut short."""
    return alt.TitleParams(text=text, subtitle=subtitle or alt.Undefined, anchor="start", limit=0)


def _padded(build):
    """Give a chart builder's result ``autosize = pad``: width and height then size the plot area, as in
    Vega-Lite's default, wherever the chart is shown (Streamlit would otherwise fit the whole chart,
    axes and legend included, into the height and squash the plot)."""
    import functools

    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        return build(*args, **kwargs).properties(autosize=alt.AutoSizeParams(type="pad"))

    return wrapper
