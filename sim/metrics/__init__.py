"""What a replication's run log means: its KPI row and its hourly occupancy."""

from sim.metrics.kpis import KPI_COLUMNS, summarise
from sim.metrics.occupancy import hourly_mean, occupancy, peak, step_area

__all__ = ["KPI_COLUMNS", "hourly_mean", "occupancy", "peak", "step_area", "summarise"]
