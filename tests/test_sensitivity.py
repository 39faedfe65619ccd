"""Sensitivity: parameters parse strictly, overrides validate like the file, the tornado orders by swing on
common random numbers, and a grid has one point per combination."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis import runner, sensitivity
from sim.analysis.sensitivity import (
    Param,
    base_value,
    grid_points,
    tornado_table,
)
from sim.cli import main
from sim.cli.sensitivity import parse_param
from sim.config import loader
from sim.config.errors import ScenarioError, ScenarioErrors, UsageError
from tests.conftest import REFERENCE, SHORT

SET_SHORT = [x for o in SHORT for x in ("--set", o)]


# --------------------------------------------------------------------------- parsing

def test_params_parse():
    assert parse_param("demand.patients_per_week=2:6") == Param("demand.patients_per_week", (2, 6))
    assert parse_param("drug.crs.rate=0.45:0.65") == Param("drug.crs.rate", (0.45, 0.65))
    assert parse_param("drug.crs.rate = 0.45,0.65") == Param("drug.crs.rate", (0.45, 0.65))
    assert parse_param("demand.patients_per_week=2:6", grid=True).values == (2, 4, 6)
    assert parse_param("capacity.chairs=2:6", grid=True, levels=4).values == (2, 3, 5, 6)   # whole numbers stay whole
    assert parse_param("capacity.chairs=8:9", grid=True, levels=5).values == (8, 9)       # rounded, de-duplicated
    assert parse_param("drug.crs.rate=0.4:0.6", grid=True, levels=3).values == pytest.approx((0.4, 0.5, 0.6))
    assert parse_param("capacity.chairs=8,10,12", grid=True).values == (8, 10, 12)
    # the library takes the same as structured values, checked the same way
    assert sensitivity.params_of({"capacity.chairs": (8, 10)}) == [Param("capacity.chairs", (8, 10))]
    for bad, says in (({"capacity.chairs": (10, 8)}, "not below"), ({"capacity.chairs": (8, 9, 10)}, "one-way"),
                      ({"capacity.chairs": (8, float("nan"))}, "not a finite number"), ({}, "params is empty"),
                      ({"__import__('os')": (1, 2)}, "not a dotted scenario key")):
        with pytest.raises(UsageError, match=says):
            sensitivity.params_of(bad)


@pytest.mark.parametrize("text,grid,says", [
    ("demand.patients_per_week", False, "expected KEY=LOW:HIGH"),
    ("demand.patients_per_week=6:2", False, "not below"),
    ("demand.patients_per_week=2:2", False, "not below"),
    ("demand.patients_per_week=a:b", False, "not a number"),
    ("demand.patients_per_week=1:2:3", False, "two numbers"),
    ("demand.patients_per_week=1,2,3", False, "one-way sensitivity takes a low and a high"),
    ("demand.patients_per_week=1,1", True, "repeated"),
    ("demand.patients_per_week=nan:1", False, "not a number"),
    ("1abc=2:3", False, "not a dotted scenario key"),
    ("demand..x=2:3", False, "not a dotted scenario key"),
    ("__import__('os')=1:2", False, "not a dotted scenario key"),
])
def test_bad_params_are_refused(text, grid, says):
    with pytest.raises(UsageError) as err:
        parse_param(text, grid=grid)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_base_value_reads_plain_and_sourced_numbers(reference):
    assert base_value(reference, "demand.patients_per_week") == pytest.approx(3.846)
    assert base_value(reference, "drug.crs.rate") == pytest.approx(0.57)
    assert base_value(reference, "capacity.chairs") == 10
    assert base_value(reference, "population.risk_factors.elevated_ldh") == pytest.approx(0.5)
    assert math.isnan(base_value(reference, "strategy.name")) and math.isnan(base_value(reference, "no.such"))


def test_overrides_are_validated_like_the_file_and_flagged(monkeypatch, short):
    s = sim.vary(short, {"drug.crs.rate": 0.45})
    assert s == loader.load(REFERENCE, [*SHORT, "drug.crs.rate=0.45"])
    assert s.drug.crs.rate.value == 0.45 and not s.drug.crs.rate.verified
    assert s.drug.crs.rate.source.startswith(loader.OVERRIDE_SOURCE)
    monkeypatch.setattr(runner, "run", lambda *a, **k: pytest.fail("ran before every point was validated"))
    # the bad point is the last one: nothing may run before it is found
    with pytest.raises((ScenarioError, ScenarioErrors), match="drug.crs.rate"):
        sensitivity.one_way(short, {"demand.patients_per_week": (2, 6), "drug.crs.rate": (0.5, 1.5)}, 2,
                            ["p_dose_postponed"])
    with pytest.raises((ScenarioError, ScenarioErrors), match="capacity.beds"):
        sensitivity.full_grid(short, {"capacity.beds": (1, 2)}, 2, ["p_dose_postponed"])
    with pytest.raises(UsageError, match="unknown KPI 'nope'"):
        sensitivity.one_way(short, {"demand.patients_per_week": (2, 6)}, 2, ["nope"])
    with pytest.raises(UsageError, match="given twice"):
        sensitivity.one_way(short, [parse_param("capacity.chairs=8:9"), parse_param("capacity.chairs=9:10")], 2,
                            ["p_dose_postponed"])
    with pytest.raises(UsageError, match="drug.profile cannot be changed"):
        sensitivity.full_grid(short, {"drug.profile": (1, 2)}, 2, ["p_dose_postponed"])


# --------------------------------------------------------------------------- the tornado

def frames_for(effects: dict[str, float], noise: np.ndarray) -> tuple[pd.DataFrame, list, list]:
    """KPI = 10 + effect x (+/-1) + the same replication noise at every point (common random numbers)."""
    def frame(shift: float) -> pd.DataFrame:
        return pd.DataFrame({"replication": np.arange(noise.size), "kpi": 10 + shift + noise, "other": -shift + noise})

    return frame(0.0), [frame(-e) for e in effects.values()], [frame(e) for e in effects.values()]


def test_tornado_orders_parameters_by_swing():
    effects = {"a": 0.5, "b": 3.0, "c": -1.0, "d": 0.0}
    noise = np.random.default_rng(3).normal(0, 2, 20)
    base, lows, highs = frames_for(effects, noise)
    params = [Param(n, (0, 1)) for n in effects]
    t = tornado_table(params, base, lows, highs, ["kpi", "other"], base_values=[0.5] * 4)
    block = t[t["kpi"] == "kpi"]
    assert list(block["param"]) == ["b", "c", "a", "d"] and list(block["rank"]) == [1, 2, 3, 4]
    assert block["swing"].to_numpy() == pytest.approx([6.0, 2.0, 1.0, 0.0])
    assert list(t["kpi"].unique()) == ["kpi", "other"]            # KPIs in the order asked for
    c = block.set_index("param").loc["c"]
    assert c["value_low"] == pytest.approx(11 + noise.mean()) and c["value_high"] == pytest.approx(9 + noise.mean())
    # paired on the same replications, the noise cancels: the difference is exact
    assert c["diff_high_minus_low"] == pytest.approx(-2.0)
    assert c["diff_ci_low"] == pytest.approx(-2.0) and c["diff_ci_high"] == pytest.approx(-2.0)
    assert c["value_low_ci_high"] - c["value_low_ci_low"] > 1          # unpaired, the noise shows
    assert list(t.columns[:5]) == ["param", "low", "base", "high", "kpi"]


def test_one_way_on_the_model_ranks_demand_above_the_crs_rate(tmp_path):
    params = [parse_param("drug.crs.rate=0.45:0.65"), parse_param("demand.patients_per_week=1:6")]
    # 6 replications: at 6 referrals a week the observation unit's postponements vary a lot between
    # replications, and 3 gave a paired interval too wide to exclude 0
    t = sim.sensitivity(loader.load(REFERENCE, SHORT), params, 6, ["p_dose_postponed", "crs_rate"], executor="serial")
    post = t[t["kpi"] == "p_dose_postponed"]
    assert list(post["param"]) == ["demand.patients_per_week", "drug.crs.rate"]
    assert post.iloc[0]["value_high"] > post.iloc[0]["value_base"] > post.iloc[0]["value_low"]
    assert post.iloc[0]["diff_ci_low"] > 0                              # more referrals, more postponements
    crs = t[t["kpi"] == "crs_rate"].set_index("param")
    assert crs.loc["drug.crs.rate", "value_high"] > crs.loc["drug.crs.rate", "value_low"]
    assert crs.loc["drug.crs.rate", "base"] == pytest.approx(0.57)
    # the baseline is the scenario as given, run on the same seed
    ref = runner.run(loader.load(REFERENCE, SHORT), 6, executor="serial").kpis
    assert post.iloc[0]["value_base"] == pytest.approx(ref["p_dose_postponed"].mean())


def test_grid_has_one_point_per_combination():
    a = parse_param("demand.patients_per_week=2:6", grid=True)                 # 2, 4, 6
    b = parse_param("capacity.observation_beds=2,5", grid=True)
    g = sensitivity.full_grid(loader.load(REFERENCE, SHORT), [a, b], 2, ["p_dose_postponed"], executor="serial")
    assert len(g) == len(a.values) * len(b.values) == 6
    assert set(zip(g["demand.patients_per_week"], g["capacity.observation_beds"])) == \
        {(x, y) for x in a.values for y in b.values}
    assert (g["replications"] == 2).all()
    assert {"p_dose_postponed", "p_dose_postponed_ci_low", "p_dose_postponed_ci_high"} <= set(g.columns)
    # the same point run on its own gives the same numbers (same seed, same replications)
    k = runner.run(loader.load(REFERENCE, [*SHORT, "demand.patients_per_week=6", "capacity.observation_beds=2"]), 2,
                   executor="serial").kpis
    row = g[(g["demand.patients_per_week"] == 6) & (g["capacity.observation_beds"] == 2)].iloc[0]
    assert row["p_dose_postponed"] == pytest.approx(k["p_dose_postponed"].mean())


def test_grid_size_is_bounded():
    assert len(grid_points([Param("a", (1, 2, 3)), Param("b", (1, 2))])) == 6
    with pytest.raises(ValueError, match="points"):
        grid_points([Param(f"p{i}", tuple(range(11))) for i in range(4)])


# --------------------------------------------------------------------------- the command

def test_sensitivity_command_writes_the_tornado_sorted_by_swing(tmp_path, capsys):
    code = main(["sensitivity", str(REFERENCE), "--param", "drug.crs.rate=0.45:0.65", "--param",
                 "demand.patients_per_week=1:6", "--kpis", "p_dose_postponed", "--reps", "2", "--executor", "serial",
                 "--quiet", "--out", str(tmp_path), *SET_SHORT])
    out = capsys.readouterr().out
    assert code == 0, out
    t = pd.read_csv(tmp_path / "tornado.csv")
    assert list(t["param"]) == ["demand.patients_per_week", "drug.crs.rate"] and (t["swing"].diff().dropna() <= 0).all()
    assert out.index("demand.patients_per_week") < out.index("drug.crs.rate")


def test_sensitivity_command_grid_and_bad_input(tmp_path, capsys):
    code = main(["sensitivity", str(REFERENCE), "--grid", "--param", "capacity.observation_beds=2,5", "--param",
                 "demand.patients_per_week=2:4", "--levels", "2", "--kpis", "p_dose_postponed", "--reps", "2",
                 "--executor", "serial", "--quiet", "--out", str(tmp_path), *SET_SHORT])
    assert code == 0
    assert len(pd.read_csv(tmp_path / "grid.csv")) == 4
    capsys.readouterr()
    for args, says in ((["--param", "demand.patients_per_week=6:2"], "not below"),
                       ([], "at least one --param"),
                       (["--param", "capacity.beds=1:2"], "capacity.beds"),
                       (["--param", "demand.patients_per_week=1:2", "--kpis", "nope"], "unknown KPI 'nope'"),
                       (["--param", "demand.patients_per_week=1:2", "--reps", "1"], "2 or more")):
        assert main(["sensitivity", str(REFERENCE), *args, "--quiet"]) == 2, args
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1, err


@pytest.mark.slow
def test_grid_on_dask_gives_the_serial_numbers():
    pytest.importorskip("distributed")
    params = [parse_param("demand.patients_per_week=2,6", grid=True), parse_param("drug.crs.rate=0.5,0.6", grid=True)]
    short = loader.load(REFERENCE, SHORT)
    serial = sensitivity.full_grid(short, params, 2, ["p_dose_postponed", "crs_rate"], executor="serial")
    dask = sensitivity.full_grid(short, params, 2, ["p_dose_postponed", "crs_rate"], executor="dask",
                                 workers=2)
    pd.testing.assert_frame_equal(serial, dask)


def test_a_dotted_key_reaches_into_arrays_like_the_dashboard_s_fields():
    """``drug.schedule.0.monitor_hours`` (an element of an array) can be varied, set and swept; other
    elements keep their values, and an element past the end is refused."""
    s = sim.load("tarlatamab_inpatient")
    v = sim.vary(s, {"drug.schedule.0.monitor_hours": 30, "strategy.monitoring.0.hours": 36})
    assert v.drug.schedule[0].monitor_hours.value == 30 and not v.drug.schedule[0].monitor_hours.verified
    assert v.drug.schedule[1].monitor_hours == s.drug.schedule[1].monitor_hours
    assert v.strategy.monitoring[0].hours == 36 and v.strategy.monitoring[1] == s.strategy.monitoring[1]
    assert sim.load("tarlatamab_inpatient", set={"strategy.monitoring.0.hours": 36}) == sim.vary(
        s, {"strategy.monitoring.0.hours": 36})
    with pytest.raises(ScenarioErrors, match="drug.schedule"):
        sim.vary(s, {"drug.schedule.9.monitor_hours": 30})
    table = sim.sensitivity(sim.vary(s, {"run.warmup_weeks": 2, "run.horizon_weeks": 6, "run.follow_up_weeks": 2}),
                            {"strategy.monitoring.0.hours": (24, 72)}, reps=2, kpis=["ward_bed_days"],
                            executor="serial")
    assert table.loc[0, "value_high"] > table.loc[0, "value_low"]   # longer stays, more ward bed-days


def test_each_run_is_heard_as_it_finishes_baseline_first():
    s = sim.load("tarlatamab_outpatient", set={"run.warmup_weeks": 2, "run.horizon_weeks": 6, "run.follow_up_weeks": 2})
    heard = []
    table = sim.sensitivity(s, {"demand.patients_per_week": (2, 6), "capacity.observation_beds": (3, 5)}, reps=2,
                            kpis=["p_dose_postponed"], executor="serial",
                            on_point=lambda point, kpis: heard.append((dict(point), kpis)))
    assert [p for p, _ in heard] == [{}, {"demand.patients_per_week": 2}, {"demand.patients_per_week": 6},
                                     {"capacity.observation_beds": 3}, {"capacity.observation_beds": 5}]
    # the frames heard are the ones the table is made of
    demand = table[table["param"] == "demand.patients_per_week"].iloc[0]
    assert demand["value_high"] == pytest.approx(heard[2][1]["p_dose_postponed"].mean())
    assert demand["value_base"] == pytest.approx(heard[0][1]["p_dose_postponed"].mean())
