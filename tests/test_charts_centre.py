"""A centre's charts and table on their data: each programme's row, and the weekly occupancy stacked by
user with the capacity as a rule (sim.charts.centre)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.charts import centre
from sim.charts.style import NEUTRAL, PALETTE
from sim.config.registry import RESOURCE_NAMES

USERS = ("teclistamab", "talquetamab", "other services")


def occupancy(reps: int = 2, days: int = 15) -> np.ndarray:
    """(reps, users, days, resources): user u uses u + 1 ward beds on every day of replication 0 and
    u + 3 in replication 1, nothing elsewhere."""
    occ = np.zeros((reps, len(USERS), days, len(RESOURCE_NAMES)), dtype=np.float32)
    ward = RESOURCE_NAMES.index("ward_beds")
    for u in range(len(USERS)):
        occ[0, u, :, ward] = u + 1
        occ[1, u, :, ward] = u + 3
    return occ


def test_users_frame_averages_replications_and_days_into_whole_weeks():
    frame = centre.users_frame(occupancy(), USERS, "ward_beds")
    # 15 days are two whole weeks; the part-week is left out
    assert sorted(frame["week"].unique()) == [1, 2]
    got = frame.set_index(["user", "week"])["occupancy"]
    assert got[("teclistamab", 1)] == pytest.approx(2.0)      # mean of 1 and 3
    assert got[("other services", 2)] == pytest.approx(4.0)   # mean of 3 and 5
    assert list(dict.fromkeys(frame["user"])) == list(USERS)
    # the mean over replications given directly is read the same
    same = centre.users_frame(occupancy().mean(axis=0), USERS, "ward_beds")
    pd.testing.assert_frame_equal(frame, same)
    assert (centre.users_frame(occupancy(), USERS, "chairs")["occupancy"] == 0).all()


def test_users_frame_refuses_a_wrong_shape_or_resource():
    with pytest.raises(ValueError, match="expected"):
        centre.users_frame(occupancy(), USERS[:2], "ward_beds")
    with pytest.raises(ValueError, match="allowed: chairs"):
        centre.users_frame(occupancy(), USERS, "beds")


def test_users_chart_stacks_users_in_order_with_capacity_as_a_rule():
    frame = centre.users_frame(occupancy(), USERS, "ward_beds")
    spec = centre.users_chart(frame, "ward_beds", 6).to_dict()
    area, rule = spec["layer"]
    assert area["mark"]["type"] == "area" and area["encoding"]["y"]["stack"] == "zero"
    colour = area["encoding"]["color"]
    assert colour["scale"]["domain"] == list(USERS)
    assert colour["scale"]["range"][-1] == NEUTRAL and set(colour["scale"]["range"]) <= PALETTE
    assert rule["mark"]["type"] == "rule"
    assert "Who uses the ward beds" in str(spec["title"])
    # the capacity line's data holds the capacity
    rule_data = spec["datasets"][rule["data"]["name"]]
    assert rule_data == [{"capacity": 6}]


def test_programme_table_has_one_row_per_programme_with_the_postponed_share_s_interval():
    rows = []
    for prog, started in (("teclistamab", 60.0), ("elranatamab", 7.0)):
        for kpi, mean, lo, hi in (("patients_started", started, started - 2, started + 2),
                                  ("doses_given", 10 * started, 0, 0), ("doses_postponed", 3.0, 1.0, 5.0),
                                  ("p_dose_postponed", 0.025, 0.01, 0.04), ("ed_visits", 1.5, 0.5, 2.5),
                                  ("ward_bed_days", 400.0, 380.0, 420.0),
                                  ("cost_per_patient_started", 12345.6, 12000.0, 12600.0)):
            rows.append({"programme": prog, "kpi": kpi, "mean": mean, "sd": 1.0, "ci_low": lo, "ci_high": hi, "n": 5})
    table = centre.programme_table(pd.DataFrame(rows), "EUR").set_index("Programme")
    assert list(table.index) == ["teclistamab", "elranatamab"]
    assert table.loc["teclistamab", "Patients started"] == "60"
    assert table.loc["elranatamab", "Doses postponed (no place), % of doses"] == "2.5%"
    assert table.loc["elranatamab", "Doses postponed, 95% CI"] == "1.0% to 4.0%"
    assert table.loc["teclistamab", "Cost per patient started, EUR per patient"] == "EUR 12,346"
    assert (table["Replications"] == 5).all()
    assert "Observation bed-days" not in table.columns   # a KPI the summary lacks is left out
