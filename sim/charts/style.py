"""Shared look of every chart: labels, colours, titles and padding."""

from __future__ import annotations

import altair as alt

from sim.config import units
from sim.config.registry import RESOURCES

HOURS_PER_WEEK = units.HOURS_PER_WEEK  # sim.charts offers both
DAY_NAMES = units.DAY_NAMES


# How a chart panel or table row names each resource, and its colour (from sim.config.registry).
RESOURCE_LABELS = {r.name: r.title for r in RESOURCES}
RESOURCE_COLORS = {r.name: r.colour for r in RESOURCES}


PLACE_LABELS = {
    "ward": "Ward bed",
    "observation": "Observation bed",
    "clinic": "Infusion chair (clinic monitoring)",
    "home": "Infusion chair, then home",
}


# Okabe & Ito (2008), "Color Universal Design": eight colours told apart with every common colour-vision
# deficiency (the resources' colours in sim.config.registry are the same). Every chart draws from here.
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "black": "#000000"}
NEUTRAL = "#767676"             # grey for context marks (reference lines, "no difference"): 4.5:1 on white
MAIN = OKABE_ITO["blue"]        # a chart's one series
ALERT = OKABE_ITO["vermillion"]  # what needs attention: at capacity, a stock-out, a target line
# Ordered severity (grade 1-4): darker with the grade, so it reads in greyscale too (yellow is too faint on white).
GRADE_COLORS = [OKABE_ITO["sky_blue"], OKABE_ITO["orange"], OKABE_ITO["vermillion"], OKABE_ITO["black"]]
TOXICITY_COLORS = {"CRS": OKABE_ITO["orange"], "ICANS": OKABE_ITO["blue"]}
PLACE_COLORS = {"ward": OKABE_ITO["vermillion"], "observation": OKABE_ITO["orange"], "clinic": OKABE_ITO["blue"],
                "home": OKABE_ITO["sky_blue"]}
# Sequential schemes (heat maps) from Vega's perceptually uniform, colour-blind-safe family.
SEQUENTIAL_SCHEME = "viridis"
PALETTE = frozenset([*OKABE_ITO.values(), NEUTRAL, "#FFFFFF"])


# Plot-area widths (px). The dashboard's main column is about 780 px wide in a 1280 px window (the
# sidebar takes 336 px and the page's padding 2 x 80 px): a chart with its axis labels and legend must
# fit in it, and a legend goes below a chart rather than beside it.
FULL_WIDTH = 560
# Space around every chart, so an exported image keeps a margin on the right (its last panel ended
# at the image's edge and looked cut).
PADDING = {"left": 5, "top": 5, "right": 20, "bottom": 5}


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
        return build(*args, **kwargs).properties(autosize=alt.AutoSizeParams(type="pad"), padding=PADDING)

    return wrapper

