"""Cheapest pair of resources: every pair the search evaluated, whether it met the target, the frontier
(the fewest of one resource for each number of the other) and the cheapest pair on it."""

from __future__ import annotations

import altair as alt
import pandas as pd

from sim.charts.style import RESOURCE_LABELS, _padded, _title

OUTCOMES = ("meets the target", "fails the target", "cheapest pair")
OUTCOME_COLORS = ("#009E73", "#D55E00", "#000000")   # Okabe-Ito: colour-blind safe


def pair_frame(table: pd.DataFrame, resources: tuple[str, str], currency: str = "USD") -> pd.DataFrame:
    """The pairs of :meth:`sim.SizingResult.table` to draw: ``a``, ``b``, ``outcome`` and the cost as text."""
    ra, rb = resources
    outcome = ["cheapest pair" if ans else ("meets the target" if ok else "fails the target")
               for ok, ans in zip(table["feasible"], table["answer"])]
    cost = table["capacity_cost"] if "capacity_cost" in table else pd.Series([float("nan")] * len(table))
    return pd.DataFrame({"a": table[ra].astype(int), "b": table[rb].astype(int), "outcome": outcome,
                         "cost": [f"{currency} {c:,.0f}" for c in cost]})


@_padded
def pair_chart(pairs: pd.DataFrame, frontier: pd.DataFrame, resources: tuple[str, str]) -> alt.Chart:
    """The evaluated pairs as points coloured by outcome, and the frontier as a step line.

    ``frontier`` has one row per number of the first resource walked: ``a`` and the smallest ``b``
    meeting the target with it.
    """
    ra, rb = resources
    x = alt.X("a:Q", title=f"{RESOURCE_LABELS.get(ra, ra)} (places)", axis=alt.Axis(tickMinStep=1),
              scale=alt.Scale(zero=False, padding=12))
    y = alt.Y("b:Q", title=f"{RESOURCE_LABELS.get(rb, rb)} (places)", axis=alt.Axis(tickMinStep=1),
              scale=alt.Scale(zero=False, padding=12))
    line = alt.Chart(frontier).mark_line(interpolate="step-after", color="#7f7f7f", strokeDash=[4, 3]).encode(x=x, y=y)
    points = alt.Chart(pairs).mark_point(filled=True, size=90).encode(
        x=x, y=y, shape=alt.Shape("outcome:N", legend=None, scale=alt.Scale(domain=list(OUTCOMES))),
        color=alt.Color("outcome:N", title=None, legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=list(OUTCOMES), range=list(OUTCOME_COLORS))),
        tooltip=[alt.Tooltip("a:Q", title=RESOURCE_LABELS.get(ra, ra)),
                 alt.Tooltip("b:Q", title=RESOURCE_LABELS.get(rb, rb)),
                 alt.Tooltip("outcome:N", title="Outcome"), alt.Tooltip("cost:N", title="Capacity cost")])
    return alt.layer(line, points).properties(
        width=480, height=300,
        title=_title("Pairs evaluated", "dashed: the fewest of the second resource that meets the target for each "
                                        "number of the first (the frontier)"))
