"""Everything random about the patients, drawn up front in numpy batches from named streams."""

from sim.cohort.draws import Cohort, WarmStart, draw, draw_centre, warm_start

__all__ = ["Cohort", "WarmStart", "draw", "draw_centre", "warm_start"]
