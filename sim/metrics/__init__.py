"""What a replication's run log means: its KPI row and its hourly occupancy."""

from sim.config.registry import PROGRAMME_KPI_NAMES
from sim.metrics.kpis import KPI_COLUMNS, summarise
from sim.metrics.occupancy import hourly_mean, occupancy, peak, step_area
from sim.metrics.programmes import (
    OTHER_SERVICES,
    occupancy_by_user,
    programme_rows,
    single_programme_rows,
    user_names,
)

__all__ = ["KPI_COLUMNS", "OTHER_SERVICES", "PROGRAMME_KPI_NAMES", "hourly_mean", "occupancy", "occupancy_by_user",
           "peak", "programme_rows", "single_programme_rows", "step_area", "summarise", "user_names"]
