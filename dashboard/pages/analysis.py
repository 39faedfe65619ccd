"""What the analysis pages (sensitivity, cheapest pair, replications) share: the scenario they run, and how
they write a KPI's amount and a difference of it, in the dashboard's one set of formats
(:mod:`sim.metrics.formats`: a share's difference or CI half-width in percentage points, money with its
currency, never in scientific notation).
"""

from __future__ import annotations

import streamlit as st

from sim.config.scenario import Scenario
from sim.metrics import formats


def has_scenario(scenario: Scenario | None, what: str) -> bool:
    """Whether the sidebar's scenario can run; if not, say so (``what`` runs the scenario as edited there)."""
    if scenario is None:
        st.info(f"Fix the inputs marked in the sidebar first: {what} runs the scenario as edited there.")
    return scenario is not None


def amount(kpi: str, value: float, currency: str) -> str:
    """A KPI's value as on its card: a share in %, money with its currency."""
    return formats.format_value(kpi, value, currency)


def difference(kpi: str, value: float, currency: str, signed: bool = True) -> str:
    """A difference of a KPI, signed; or a CI half-width (``signed=False``); shares in percentage points."""
    if signed:
        return formats.format_diff(kpi, value, currency)
    return formats.format_diff(kpi, abs(value), currency).lstrip("+")
