"""Running scenarios from the dashboard: the runner, a progress bar fed by its callback, and the cache."""

from __future__ import annotations

import inspect
import time
from typing import Callable

import pandas as pd
import streamlit as st

from dashboard import state
from sim import charts
from sim.analysis import runner, views
from sim.config.scenario import Scenario
from sim.metrics import series

EXECUTORS = {"All cores (processes)": "processes", "One core (serial)": "serial"}


def _chart_kwargs() -> dict:
    # A runner that can reduce each replication in the worker (extract) sends back small arrays; an
    # older one sends the hourly occupancy, from which the occupancy charts can still be drawn.
    if "extract" in inspect.signature(runner.run).parameters:
        return {"extract": series.collect}
    return {"keep_occupancy": True}


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
    """Run ``scenario`` (or take it from the session cache) and return its :class:`~sim.views.RunView`."""
    key = state.run_key(scenario, reps)
    cached = state.recall("results", key)
    if cached is not None:
        return cached
    own_bar = None
    if progress is None:
        own_bar, progress = _bar(f"{label} '{scenario.name}'")
    t0 = time.perf_counter()
    result = runner.run(scenario, reps, executor=executor(), progress=progress, **_chart_kwargs())
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


def gantt_for(view: views.RunView) -> pd.DataFrame:
    """The dosing calendar of a run: the sample doses its replication 0 recorded (nothing re-simulated)."""
    return charts.dosing_calendar(view.dose_calendar)


def run_many(scenarios: list[tuple[object, Scenario]], reps: int, seed: int, label: str) -> dict[object, pd.DataFrame]:
    """Run several scenarios on the same seed and replications (common random numbers), one progress bar.

    Returns ``{tag: KPI frame}`` in the order given.
    """
    bar, update = _bar(label)
    total = reps * len(scenarios)
    out: dict[object, pd.DataFrame] = {}
    for n, (tag, s) in enumerate(scenarios):
        result = runner.run(s, reps, seed=seed, executor=executor(),
                            progress=lambda d, _t, base=n * reps: update(base + d, total))
        out[tag] = result.kpis
    bar.empty()
    return out
