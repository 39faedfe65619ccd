"""A chart as an image file a planner keeps: PNG rendered on the server, named after what it shows.

Streamlit's own "Download as PNG" names every file ``<time>_chart.png``; the dashboard offers this
instead. Rendering uses ``vl-convert-python`` (the app extra), which draws the whole chart with the
padding of :data:`sim.charts.style.PADDING`, so nothing is cut at the edges.
"""

from __future__ import annotations

import datetime as _dt

import altair as alt

from sim.charts.format import stamped


def title_of(chart: alt.TopLevelMixin) -> str:
    """The chart's title text ("" when it has none)."""
    title = getattr(chart, "title", alt.Undefined)
    text = getattr(title, "text", title)
    return text if isinstance(text, str) else ""


def file_name(chart: alt.TopLevelMixin, stem: str, ext: str = "png", when: _dt.date | None = None) -> str:
    """``<stem>_<chart title>_<date>.<ext>``, e.g. ``tarlatamab_outpatient_Mean_occupancy_by_hour_of_the_week_2026-11-30.png``.

    Parameters
    ----------
    chart : alt.TopLevelMixin
        A chart of this package (its title names the analysis).
    stem : str
        What the chart is about: the scenario, or the analysis (``..._vs_...``).
    ext : str
        File extension.
    when : date, optional
        The date in the name (default today).
    """
    return stamped("_".join(p for p in (stem, title_of(chart)) if p), ext, when)


def png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """The chart as PNG bytes at ``scale`` times its size (2: sharp on a slide or in a print).

    Raises
    ------
    ImportError
        When ``vl-convert-python`` is not installed (it comes with the app extra).
    """
    import vl_convert

    return vl_convert.vegalite_to_png(chart.to_dict(), scale=scale)
