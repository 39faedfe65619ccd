"""When the infusion centre is open and when a first dose may be given.

Hours are floats from t = 0, Monday 00:00 of the first simulated week; day d covers [24 d, 24 d + 24).
"""

from __future__ import annotations

import numpy as np

from sim.config.scenario import CalendarConfig


class Calendar:
    """Answers "next open day" and "next permitted start day" in O(1) from precomputed tables."""

    def __init__(self, cfg: CalendarConfig, n_days: int):
        self.cfg = cfg
        self.open_hour = float(cfg.open_hour)
        self.close_hour = float(cfg.close_hour)
        # Tables extend a year past the run so look-ups near the end never fall off.
        self.n_days = n_days + 400
        weekday = np.arange(self.n_days) % 7
        open_day = np.isin(weekday, cfg.open_weekdays)
        holidays = [h for h in cfg.holidays if h < self.n_days]
        open_day[holidays] = False
        start_day = open_day & np.isin(weekday, cfg.start_weekdays)
        self.is_open = open_day.tolist()
        self.is_start = start_day.tolist()
        # next_open[d] / next_start[d]: the first open / start day >= d (-1: none in the table)
        self.next_open = self._next_true(open_day)
        self.next_start = self._next_true(start_day)

    @staticmethod
    def _next_true(flags: np.ndarray) -> list[int]:
        """nxt[d] = smallest d' >= d with flags[d'], or -1 when there is none in the table."""
        days = np.append(np.flatnonzero(flags), -1)        # the flagged days, then "none"
        return days[np.searchsorted(days[:-1], np.arange(len(flags)))].tolist()

    def next_open_day(self, day: int) -> int:
        """First day >= ``day`` on which the centre is open (-1 if none within the table)."""
        return self.next_open[day] if day < self.n_days else -1

    def next_start_day(self, day: int) -> int:
        """First day >= ``day`` on which a first dose may be given (-1 if none within the table)."""
        return self.next_start[day] if day < self.n_days else -1

    def open_hours_between(self, start: float, end: float) -> float:
        """Opening hours of the days from the one holding ``start`` up to (not including) the one holding ``end``."""
        return sum(self.closes(day) - self.opens(day) for day in range(int(start // 24), int(end // 24))
                   if self.is_open[day])

    def opens(self, day: int) -> float:
        return day * 24.0 + self.open_hour

    def closes(self, day: int) -> float:
        return day * 24.0 + self.close_hour
