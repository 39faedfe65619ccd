"""Calendar units, defined once. Simulation time is in hours from Monday 00:00 of the first week.

The constants are ints: they size and index arrays (168 hours of the week), and an int mixed with a
float gives exactly the float result the literal ``24.0`` or ``168.0`` gave, so no number moves.
"""

from __future__ import annotations

HOURS_PER_DAY = 24
DAYS_PER_WEEK = 7
HOURS_PER_WEEK = DAYS_PER_WEEK * HOURS_PER_DAY
# Weekday 0 is Monday, as in a scenario's calendar (t = 0 is a Monday midnight).
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_NAMES = tuple(name[:3] for name in WEEKDAY_NAMES)
WEEKS_PER_YEAR = 52             # demand growth per year is compounded over 52 weeks
DAYS_PER_YEAR = 365             # "a year" as an upper bound on hours and day counts
HOURS_PER_YEAR = DAYS_PER_YEAR * HOURS_PER_DAY
