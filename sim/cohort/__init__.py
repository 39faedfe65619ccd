"""Everything random about the patients, drawn up front in numpy batches from named streams."""

from sim.cohort.draws import HOURS_PER_WEEK, Cohort, WarmStart, draw, warm_start

__all__ = ["HOURS_PER_WEEK", "Cohort", "WarmStart", "draw", "warm_start"]
