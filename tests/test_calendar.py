from __future__ import annotations

from sim.calendar import Calendar
from sim.scenario import CalendarConfig


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
