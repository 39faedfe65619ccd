"""What the analysis pages (sensitivity, cheapest pair, replications) share: the scenario they run, and how
they write a KPI's amount and a difference of it (a share's difference or CI half-width in percentage
points, money with its currency, never in scientific notation).

Until the dashboard's shared formats (issue 16's units work) are merged, :func:`amount` and
:func:`difference` are the analysis pages' own; they build on :func:`sim.charts.format_value`.
"""

from __future__ import annotations

import streamlit as st

from sim import charts
from sim.config.scenario import Scenario


def has_scenario(scenario: Scenario | None, what: str) -> bool:
    """Whether the sidebar's scenario can run; if not, say so (``what`` runs the scenario as edited there)."""
    if scenario is None:
        st.info(f"Fix the inputs marked in the sidebar first: {what} runs the scenario as edited there.")
    return scenario is not None


def amount(kpi: str, value: float, currency: str) -> str:
    """A KPI's value as on its card: a share in %, money with the currency in front."""
    text = charts.format_value(kpi, value, currency)
    return f"{currency} {text}" if charts.kpi_info(kpi, currency).kind == "money" and text != "n/a" else text


def difference(kpi: str, value: float, currency: str, signed: bool = True) -> str:
    """A difference of a KPI (or a CI half-width, ``signed=False``): shares in percentage points."""
    if value != value:
        return "n/a"
    sign = ("+" if value > 0 else "−" if value < 0 else "") if signed else ""
    if charts.kpi_info(kpi, currency).kind == "share":
        return f"{sign}{100 * abs(value):.1f} pp"
    return sign + amount(kpi, abs(value), currency)
