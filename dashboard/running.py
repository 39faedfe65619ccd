"""Running scenarios from the dashboard: the public API (:mod:`sim`), a progress bar fed by its
callback, and the session cache. The dashboard has no analysis loops of its own."""

from __future__ import annotations

import time
from typing import Callable, Sequence

import pandas as pd
import streamlit as st

import sim
from dashboard import state
from sim.analysis import views
from sim.config.scenario import Scenario
from sim.metrics import series

EXECUTORS = {"All cores (processes)": "processes", "One core (serial)": "serial"}
# Each replication is reduced in the worker to the small arrays the charts draw (not the event log).
CHART_SERIES = {"extract": series.collect}


def executor() -> str:
    """The runner's executor the user chose under Run options (all cores by default)."""
    return EXECUTORS.get(st.session_state.get("executor", ""), "processes")


def _bar(text: str):
    bar = st.progress(0.0, text=text)

    def update(done: int, total: int) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=f"{text}: {done} of {total} replications")

    return bar, update


def run_view(scenario: Scenario, reps: int, label: str = "Simulating",
             progress: Callable[[int, int], None] | None = None) -> views.RunView:
    """Run ``scenario`` (or take it from the session cache) and return its :class:`~sim.analysis.views.RunView`."""
    key = state.run_key(scenario, reps)
    cached = state.recall("results", key)
    if cached is not None:
        return cached
    own_bar = None
    if progress is None:
        own_bar, progress = _bar(f"{label} '{scenario.name}'")
    t0 = time.perf_counter()
    result = sim.run(scenario, reps, executor=executor(), progress=progress, **CHART_SERIES)
    view = views.view_from_result(result, time.perf_counter() - t0)
    if own_bar is not None:
        own_bar.empty()
    state.remember("results", key, view)
    return view


def run_main(scenario: Scenario, reps: int) -> views.RunView | None:
    """The sidebar's Run button: run, cache, and make this the run the pages show.

    A run the runner refuses (e.g. a replication count out of range) is reported, not raised.
    """
    try:
        view = run_view(scenario, reps)
    except ValueError as exc:
        st.error(f"The simulation did not run: {exc}")
        return None
    st.session_state["last_run_key"] = state.run_key(scenario, reps)
    return view


def compare_views(scenarios: dict[str, Scenario], reps: int, label: str) -> list[views.RunView]:
    """Run scenarios on one seed (common random numbers; :func:`sim.compare`) under one progress bar,
    and return their :class:`~sim.analysis.views.RunView`, in the order given."""
    bar, update = _bar(label)
    t0 = time.perf_counter()
    comparison = sim.compare(scenarios, reps, executor=executor(), progress=update, **CHART_SERIES)
    seconds = (time.perf_counter() - t0) / len(scenarios)
    bar.empty()
    return [views.view_from_result(r, seconds) for r in comparison.runs.values()]


def size(scenario: Scenario, resource: str, target: sim.Target, reps: int, low: int, high: int,
         label: str) -> sim.SizingResult:
    """:func:`sim.size` of one resource, each capacity evaluated shown on a progress bar."""
    # bracketing and bisection evaluate at most about 2 log2(range) + 2 capacities
    most = 2 * max(1, high - low + 1).bit_length() + 2
    bar = st.progress(0.0, text=label)

    def evaluated(c) -> None:
        bar.progress(min(1.0, c.order / most), text=f"{label}: {resource} = {c.point[resource]} evaluated "
                                                      f"({'meets' if c.feasible else 'fails'} the target)")

    result = sim.size(scenario, resource, target, reps, low=low, high=high, executor=executor(),
                      on_candidate=evaluated)
    bar.empty()
    return result


def stock_curve(scenario: Scenario, levels: Sequence[float], param: str, reps: int, label: str) -> pd.DataFrame:
    """:func:`sim.stock_curve` on one progress bar."""
    bar, update = _bar(label)
    curve = sim.stock_curve(scenario, levels, param, reps, executor=executor(), progress=update)
    bar.empty()
    return curve
