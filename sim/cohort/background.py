"""Tocilizumab wanted by other services (CAR-T, other wards): drawn up front, like every patient draw."""

from __future__ import annotations

import numpy as np

from sim.config.scenario import Pharmacy as PharmacyConfig
from sim.config.units import HOURS_PER_WEEK


def background_demand(cfg: PharmacyConfig, until: float, rng_times: np.random.Generator,
                      weights_kg: np.ndarray, mg_per_kg: float, max_mg: float) -> tuple[np.ndarray, np.ndarray]:
    """Times (hours) and mg of tocilizumab doses wanted by other services (Poisson)."""
    rate = cfg.background_doses_per_week.value / HOURS_PER_WEEK
    if rate <= 0 or until <= 0:
        return np.empty(0), np.empty(0)
    n = rng_times.poisson(rate * until)
    times = np.sort(rng_times.random(n) * until)
    w = weights_kg[:n] if weights_kg.size >= n else np.resize(weights_kg, n)
    return times, np.minimum(mg_per_kg * w, max_mg)
