"""dashboard.running's own helpers (the runs themselves are tested through the app: tests/test_app.py)."""

from __future__ import annotations

import pytest

from dashboard.running import time_left


@pytest.mark.parametrize("done, total, elapsed, said", [
    (0, 100, 3.0, ""),                          # no pace yet
    (100, 100, 9.0, ""),                        # over
    (20, 100, 2.0, " · about 8 s left"),        # 0.1 s a replication, 80 to go
    (99, 100, 0.05, " · about 1 s left"),       # never "0 s" while one is still running
    (10, 100, 20.0, " · about 3 min left"),     # 180 s
    (8, 100, 7.0, " · about 80 s left"),
])
def test_time_left_says_the_wait_at_the_pace_so_far(done, total, elapsed, said):
    assert time_left(done, total, elapsed) == said
