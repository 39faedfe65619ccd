"""A centre's KPIs and occupancy per programme (``kpis_by_programme.csv``), from its per-programme logs."""

from __future__ import annotations

import numpy as np

from sim.config.registry import PROGRAMME_KPI_NAMES
from sim.config.scenario import RESOURCES, Scenario, programmes
from sim.metrics.kpis import summarise
from sim.metrics.occupancy import hourly_mean
from sim.model.centre import CentreLog
from sim.model.runlog import RunLog

# The last user of a centre's places in the occupancy split: other services' admissions.
OTHER_SERVICES = "other services"


def programme_rows(centre: CentreLog, s: Scenario, replication: int) -> list[dict]:
    """One row per programme: ``programme`` and its own KPIs (:data:`PROGRAMME_KPI_NAMES`), from its patients and
    its share of the places; tocilizumab costed at the list price of the mg its patients were given."""
    views = dict(programmes(s))
    rows = []
    for name, log in centre.programmes.items():
        row = summarise(log, views[name], replication)
        rows.append({"replication": replication, "programme": name, **{k: row[k] for k in PROGRAMME_KPI_NAMES}})
    return rows


def single_programme_rows(row: dict[str, float], s: Scenario) -> list[dict]:
    """The one programme of a single-drug scenario: its KPI row, under the drug's name."""
    return [{"replication": row["replication"], "programme": s.drug.name, **{k: row[k] for k in PROGRAMME_KPI_NAMES}}]


def user_names(s: Scenario) -> tuple[str, ...]:
    """Who the occupancy split names: every programme, then other services."""
    return tuple(name for name, _ in programmes(s)) + (OTHER_SERVICES,)


def daily_occupancy(pools: dict[str, tuple], window: tuple[float, float]) -> np.ndarray:
    """Mean occupancy of each whole day of the window, shape (days, resources) in :data:`RESOURCES` order."""
    w0, w1 = window
    days = int((w1 - w0) // 24)
    hourly = np.stack([hourly_mean(pools[r][0], pools[r][1], w0, days * 24) for r in RESOURCES], axis=1)
    return hourly.reshape(days, 24, len(RESOURCES)).mean(axis=1).astype(np.float32)


def occupancy_by_user(centre: CentreLog | None, log: RunLog) -> np.ndarray:
    """Daily mean occupancy by user (:func:`user_names`), shape (users, days, resources). A single-drug
    scenario's whole occupancy is its programme's, less other services' beds (from their stays)."""
    window = log.window
    if centre is not None:
        return np.stack([daily_occupancy(p.pools, window) for p in centre.programmes.values()]
                        + [daily_occupancy(centre.others, window)])
    whole = daily_occupancy(log.pools, window)
    others = _other_daily(log)
    return np.stack([whole - others, others])


def _other_daily(log: RunLog) -> np.ndarray:
    """Other services' daily bed occupancy in a single-drug scenario, from their stays."""
    w0, w1 = log.window
    days = int((w1 - w0) // 24)
    out = np.zeros((days, len(RESOURCES)), dtype=np.float32)
    edges = np.arange(days + 1) * 24.0
    for resource, _, start, end in log.other_stays:
        if start == start:
            stop = end if end == end else log.end_time
            a, b = max(start, w0) - w0, min(stop, w0 + days * 24) - w0
            if b > a:
                col = RESOURCES.index(resource)
                out[:, col] += np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0, None) / 24.0
    return out
