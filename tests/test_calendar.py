from __future__ import annotations

import numpy as np
import pytest

from sim.config.scenario import CalendarConfig
from sim.model.calendar import Calendar


def cal(**kw):
    base = dict(open_hour=8, close_hour=18, open_weekdays=[0, 1, 2, 3, 4], start_weekdays=[0, 1],
                lead_time_days=7)
    base.update(kw)
    return Calendar(CalendarConfig(**base), 60)


def test_weekends_and_start_days():
    c = cal()
    assert c.next_open_day(5) == 7 and c.next_open_day(6) == 7 and c.next_open_day(3) == 3
    assert c.next_start_day(2) == 7 and c.next_start_day(8) == 8 and c.next_start_day(9) == 14


def test_holidays_close_the_centre():
    c = cal(holidays=[7, 8])
    assert c.next_open_day(7) == 9
    assert c.next_start_day(7) == 14


def test_hours():
    c = cal()
    assert c.opens(2) == 2 * 24 + 8 and c.closes(2) == 2 * 24 + 18


@pytest.mark.parametrize("flags", [[], [False] * 5, [True] * 3, [False, True, False, False, True, False]])
def test_next_flagged_day_table_matches_its_definition(flags):
    """nxt[d] is the first flagged day >= d, or -1 when none is left in the table."""
    f = np.array(flags, dtype=bool)
    expected = [next((e for e in range(d, len(f)) if f[e]), -1) for d in range(len(f))]
    assert Calendar._next_true(f) == expected


def test_open_hours_count_open_days_only_and_ignore_start_weekdays():
    """Two weeks of a Monday-to-Friday 8-18 centre with one holiday: 9 open days of 10 hours, whatever days
    first doses may start on (a centre's programmes share the site's count)."""
    for start_weekdays in ([0, 1], [2], [0, 1, 2, 3, 4]):
        c = cal(holidays=[3], start_weekdays=start_weekdays)
        assert c.open_hours_between(0.0, 14 * 24.0) == 90.0
    assert cal().open_hours_between(5 * 24.0, 7 * 24.0) == 0.0   # a weekend
