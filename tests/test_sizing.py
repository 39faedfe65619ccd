"""Capacity sizing: the analytic Erlang-B answer, neighbours that fail on the same seeds, few evaluations,
monotone curves, unreachable targets that end quickly, and target parsing that refuses bad input."""

from __future__ import annotations

import math
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.analysis import runner, sizing
from sim.analysis.sizing import (
    Target,
    bracket_and_bisect,
    parse_target,
    size_one,
    size_pair,
)
from sim.analysis.stats import mean_ci
from sim.cli import main
from sim.cli.size import parse_bounds, parse_resources, parse_unit_costs
from sim.config import loader
from sim.config.errors import UsageError
from tests.conftest import REFERENCE, ROOT, SHORT
from tests.queueing import erlang_b, mm_c


def smallest_c(a: float, target: float, lo: int, hi: int) -> int | None:
    """Brute force: the smallest c in [lo, hi] with blocking <= target."""
    return next((c for c in range(lo, hi + 1) if erlang_b(c, a) <= target), None)


def exact(values_at):
    """An evaluator returning a KPI known exactly (three identical replications: a zero-width CI)."""
    calls = []

    def evaluate(point):
        calls.append(dict(point))
        return pd.DataFrame({"replication": [0, 1, 2], **{k: [v] * 3 for k, v in values_at(point).items()}})

    evaluate.calls = calls
    return evaluate


def bound(lo: int, hi: int) -> int:
    """Most evaluations the search may use on [lo, hi] (plus the end points' checks)."""
    return 2 * math.ceil(math.log2(hi - lo + 1)) + 3


# --------------------------------------------------------------------------- a loss system on sim.resources.Pool

def loss_evaluator(lam: float, mu: float, n: int, reps: int, seed: int = 7):
    """Replication r draws its arrivals and services from its own seed whatever the capacity:
    common random numbers, as the real runner does."""
    def evaluate(point):
        c = point["servers"]
        rows = [{"replication": r, "blocking": mm_c(c, lam, mu, n, np.random.default_rng([seed, r]), loss=True)[1]}
                for r in range(reps)]
        return pd.DataFrame(rows)

    return evaluate


def test_sizing_finds_the_erlang_b_answer_on_a_pool_loss_system():
    lam, mu, target = 5.0, 1.0, 0.05
    want = smallest_c(lam / mu, target, 1, 30)
    assert want == 9 and erlang_b(8, 5.0) > 0.065 and erlang_b(9, 5.0) < 0.04   # a clear answer
    res = size_one(loss_evaluator(lam, mu, 5000, 12), "servers", [Target("blocking", "<=", target)], 1, 30,
                   start=3, report_kpis=())
    assert res.status == "found" and res.answer == {"servers": want}, res.table()
    at, below = res.candidate(servers=want), res.candidate(servers=want - 1)
    assert at.feasible and at.stats["blocking"][2] <= target
    assert not below.feasible and below.stats["blocking"][2] > target
    # the simulated blocking agrees with Erlang B at the answer
    assert at.stats["blocking"][1] <= erlang_b(want, 5.0) <= at.stats["blocking"][2]
    assert len(res.candidates) <= bound(1, 30)


@pytest.mark.parametrize("load,target,start", [(5.0, 0.05, 1), (5.0, 0.01, 20), (2.0, 0.001, 4), (12.0, 0.02, 12),
                                               (0.5, 0.5, 1)])
def test_sizing_matches_erlang_b_exactly_with_a_known_kpi(load, target, start):
    ev = exact(lambda p: {"blocking": erlang_b(p["servers"], load)})
    res = size_one(ev, "servers", [Target("blocking", "<=", target)], 1, 60, start)
    assert res.answer == {"servers": smallest_c(load, target, 1, 60)}
    if res.answer["servers"] > 1:
        assert res.status == "found" and not res.candidate(servers=res.answer["servers"] - 1).feasible
    else:
        assert res.status == "at_min"
    assert len(ev.calls) == len(res.candidates) <= bound(1, 60)
    assert len({c["servers"] for c in ev.calls}) == len(ev.calls)      # no point run twice
    assert res.notes == []


@pytest.mark.parametrize("op,kpi_at", [("<=", lambda c: 2 - c / 10), (">=", lambda c: c / 10)])
def test_the_confidence_bound_on_the_far_side_decides(op, kpi_at):
    # ten replications spread +/-0.2 around the mean: a 95% half-width of 0.096. The mean meets the
    # target 1.0 from c = 10, but the CI's upper bound (for <=) or lower bound (for >=) only from 11.
    def evaluate(point):
        return pd.DataFrame({"kpi": kpi_at(point["servers"]) + np.linspace(-0.2, 0.2, 10)})

    res = size_one(evaluate, "servers", [Target("kpi", op, 1.0)], 1, 40, 5)
    assert res.answer == {"servers": 11}
    mean, lo, hi, n = res.candidate(servers=10).stats["kpi"]
    assert mean == pytest.approx(1.0) and n == 10 and hi - lo == pytest.approx(2 * 0.0962, abs=1e-3)
    assert not res.candidate(servers=10).feasible and res.candidate(servers=11).feasible


@settings(max_examples=200, deadline=None)
@given(lo=st.integers(0, 50), width=st.integers(0, 200), threshold=st.integers(-10, 300),
       start=st.none() | st.integers(-10, 300))
def test_bracket_and_bisect_finds_any_threshold_in_few_steps(lo, width, threshold, start):
    hi = lo + width
    seen = []

    def feasible(c):
        assert lo <= c <= hi
        seen.append(c)
        return c >= threshold

    answer, below = bracket_and_bisect(feasible, lo, hi, start)
    want = max(lo, threshold) if threshold <= hi else None
    assert answer == want
    if want is None:
        assert below == hi
    elif want == lo:
        assert below is None
    else:
        assert below == want - 1 and below in seen and want in seen
    assert len(seen) == len(set(seen)) <= bound(lo, hi)


def test_unreachable_target_ends_quickly_with_a_clear_message():
    # a floor no capacity removes (as postponements for reasons other than beds)
    ev = exact(lambda p: {"blocking": 0.01 + erlang_b(p["servers"], 5.0)})
    t0 = time.perf_counter()
    res = size_one(ev, "servers", [Target("blocking", "<=", 0.005)], 1, 1000, start=5)
    assert time.perf_counter() - t0 < 2
    assert res.status == "unreachable" and res.answer is None and not res.found
    assert "no servers in [1, 1000] meets blocking<=0.005" in res.message and "Raise the upper bound" in res.message
    assert "at servers = 1000" in res.message
    assert len(ev.calls) <= bound(1, 1000)


def test_lower_bound_that_already_meets_the_target_is_reported():
    res = size_one(exact(lambda p: {"blocking": erlang_b(p["servers"], 0.1)}), "servers",
                   [Target("blocking", "<=", 0.2)], 1, 10, start=5)
    assert res.status == "at_min" and res.answer == {"servers": 1} and "lower bound" in res.message


def test_every_target_must_hold():
    ev = exact(lambda p: {"blocking": erlang_b(p["servers"], 5.0), "waiting": 10.0 / p["servers"]})
    one = size_one(ev, "servers", [Target("blocking", "<=", 0.05)], 1, 40)
    both = size_one(ev, "servers", [Target("blocking", "<=", 0.05), Target("waiting", "<=", 0.5)], 1, 40)
    assert one.answer == {"servers": 9} and both.answer == {"servers": 20}
    assert both.table().loc[lambda t: t["answer"], "meets waiting<=0.5"].item()


def test_monotone_kpi_gives_a_monotone_curve_and_no_warning():
    res = size_one(exact(lambda p: {"blocking": erlang_b(p["servers"], 6.0)}), "servers",
                   [Target("blocking", "<=", 0.01)], 1, 64, 2)
    curve = res.table().sort_values("servers")
    means = curve["blocking_mean"].to_numpy()
    assert (np.diff(means) < 0).all() and res.notes == []
    assert list(curve["feasible"]) == sorted(curve["feasible"])      # fails, then meets


def test_a_kpi_that_worsens_with_capacity_is_reported():
    # blocking falls with capacity except for a bump at 6 to 8: the search's points show it
    bump = {6: 0.30, 7: 0.28, 8: 0.26}
    ev = exact(lambda p: {"blocking": bump.get(p["servers"], erlang_b(p["servers"], 3.0))})
    res = size_one(ev, "servers", [Target("blocking", "<=", 0.02)], 1, 40, start=4)
    assert res.found
    assert any("not monotone" in n for n in res.notes), (res.notes, res.table())


def test_a_point_meeting_the_targets_below_one_that_fails_is_reported():
    # feasible at 5, infeasible at 6, feasible again from 7: the start at 5 and the bisection show it
    ev = exact(lambda p: {"blocking": 0.0 if p["servers"] == 5 or p["servers"] >= 7 else 1.0})
    judge = sizing._Judge(ev, ("servers",), [Target("blocking", "<=", 0.5)], (), 0.95, None)
    for c in (5, 6, 7):
        judge({"servers": c})
    notes = sizing.monotonicity_notes(judge)
    assert any("monotonicity violated" in n and "servers = 6" in n for n in notes), notes


def test_pair_search_finds_the_cheapest_feasible_pair_in_few_evaluations():
    # two separate loss systems; the pair must keep total blocking <= target
    la, lb, target = 4.0, 7.0, 0.06
    costs = {"a": 3.0, "b": 1.0}

    def total(a, b):
        return erlang_b(a, la) + erlang_b(b, lb)

    ev = exact(lambda p: {"blocking": total(p["a"], p["b"])})
    res = size_pair(ev, ("a", "b"), [Target("blocking", "<=", target)], {"a": (1, 30), "b": (1, 30)}, costs,
                    start={"a": 4, "b": 8})
    grid = [(costs["a"] * a + costs["b"] * b, a, b) for a in range(1, 31) for b in range(1, 31) if total(a, b) <= target]
    best_cost = min(grid)[0]
    assert res.found and res.cost(res.answer) == best_cost
    assert total(res.answer["a"], res.answer["b"]) <= target
    assert total(res.answer["a"] - 1, res.answer["b"]) > target and total(res.answer["a"], res.answer["b"] - 1) > target
    assert len(ev.calls) < 60 < 30 * 30             # far fewer than the grid
    assert res.table()["answer"].sum() == 1
    assert all(f["capacity_cost"] >= best_cost for f in res.frontier)


def test_pair_search_reports_more_of_the_first_resource_needing_more_of_the_second():
    need = {1: 9, 2: 5, 3: 7, 4: 3}          # B needed for each A; 3 needs more B than 2 (not monotone)
    ev = exact(lambda p: {"short": max(0, need.get(p["a"], 1) - p["b"])})
    res = size_pair(ev, ("a", "b"), [Target("short", "<=", 0)], {"a": (1, 8), "b": (1, 12)}, {"a": 1.0, "b": 1.0})
    assert res.answer == {"a": 5, "b": 1}
    assert [(f["a"], f["b"]) for f in res.frontier] == [(1, 9), (2, 5), (3, 7), (4, 3), (5, 1)]
    assert any("monotonicity violated: a = 2, b = 5 meets every target but a = 3, b = 5 does not" in n
               for n in res.notes), res.notes


def test_pair_search_reports_an_unreachable_target():
    ev = exact(lambda p: {"blocking": erlang_b(p["a"], 4.0) + erlang_b(p["b"], 7.0)})
    res = size_pair(ev, ("a", "b"), [Target("blocking", "<=", 1e-9)], {"a": (1, 12), "b": (1, 12)},
                    {"a": 1.0, "b": 1.0})
    assert res.status == "unreachable" and res.answer is None and "Raise the upper bound" in res.message
    assert len(ev.calls) <= bound(1, 12)


# --------------------------------------------------------------------------- targets and options

@pytest.mark.parametrize("text,want", [
    ("p_dose_postponed<=0.02", Target("p_dose_postponed", "<=", 0.02)),
    ("  icu_boarding_hours >= 2 ", Target("icu_boarding_hours", ">=", 2.0)),
    ("cost_per_patient_started<=1.5e5", Target("cost_per_patient_started", "<=", 150000.0)),
    ("util_chairs>=-.5", Target("util_chairs", ">=", -0.5)),
])
def test_targets_parse(text, want):
    assert parse_target(text) == want


@pytest.mark.parametrize("text,says", [
    ("p_dose_postponed<0.02", "operator '<' is not allowed"),
    ("p_dose_postponed==0.02", "operator '==' is not allowed"),
    ("p_dose_postponed<=abc", "expected KPI<=NUMBER"),
    ("p_dose_postponed<=0.02 and 1", "expected KPI<=NUMBER"),
    ("__import__('os').system('true')<=1", "expected KPI<=NUMBER"),
    ("p_dose_postponed", "expected KPI<=NUMBER"),
    ("", "expected KPI<=NUMBER"),
    ("p_dose_postponed<=1e999", "not a finite number"),
    ("beds_free<=3", "unknown KPI 'beds_free'"),
    ("replication<=3", "unknown KPI 'replication'"),
])
def test_bad_targets_are_refused_with_the_reason(text, says):
    with pytest.raises(ValueError) as err:
        parse_target(text)
    msg = str(err.value)
    assert says in msg and repr(text) in msg and "\n" not in msg
    if "unknown KPI" in says:
        assert "allowed KPIs: patients_referred" in msg and "p_dose_postponed" in msg


def test_resources_bounds_and_unit_costs_are_checked(reference):
    assert parse_resources("chairs, observation_beds") == ("chairs", "observation_beds")
    assert sizing.resources_of(("chairs", "observation_beds")) == ("chairs", "observation_beds")
    for bad in ("beds", ("chairs", "chairs"), ("chairs", "ward_beds", "icu_beds"), ()):
        with pytest.raises(UsageError):
            sizing.resources_of(bad)
    with pytest.raises(UsageError):
        parse_resources("")
    assert parse_bounds("3", ("chairs", "icu_beds"), "--min") == 3
    assert parse_bounds("icu_beds=2", ("chairs", "icu_beds"), "--min") == {"icu_beds": 2}
    assert sizing.bounds_of(3, ("chairs", "icu_beds"), 1, "low") == {"chairs": 3, "icu_beds": 3}
    assert sizing.bounds_of({"icu_beds": 2}, ("chairs", "icu_beds"), 1, "low") == {"chairs": 1, "icu_beds": 2}
    for bad in ("x", "ward_beds=3", "chairs=two"):
        with pytest.raises(UsageError):
            parse_bounds(bad, ("chairs", "icu_beds"), "--min")
    for bad in ({"ward_beds": 3}, 2.5, "3"):
        with pytest.raises(UsageError):
            sizing.bounds_of(bad, ("chairs", "icu_beds"), 1, "low")
    with pytest.raises(UsageError, match="above"):
        sizing.check_bounds({"chairs": 5}, {"chairs": 4})
    assert parse_unit_costs("chairs=10", ("chairs", "icu_beds")) == {"chairs": 10.0}
    for bad in ("chairs=-1", "chairs=abc", "ward_beds=3", "chairs"):
        with pytest.raises(UsageError):
            parse_unit_costs(bad, ("chairs", "icu_beds"))
    costs = sizing.unit_costs_of(reference, ("chairs", "icu_beds"), {"chairs": 10})
    assert costs == {"chairs": 10.0, "icu_beds": sizing.default_unit_costs(reference)["icu_beds"]}
    for bad in ({"chairs": -1}, {"ward_beds": 3}, {"chairs": "abc"}):
        with pytest.raises(UsageError):
            sizing.unit_costs_of(reference, ("chairs", "icu_beds"), bad)


def test_capacity_curve_of_a_search_and_its_answer():
    evaluate = exact(lambda point: {"p": {3: 0.11, 4: 0.03, 5: 0.005}[point["beds"]]})
    res = size_one(evaluate, "beds", [Target("p", "<=", 0.02)], 3, 5, start=3)
    curve = res.curve("p")
    assert list(curve["capacity"]) == sorted(curve["capacity"]) and list(curve.columns[:4]) == \
        ["capacity", "mean", "ci_low", "ci_high"]
    assert res.answer == {"beds": 5} and curve.set_index("capacity").loc[4, "mean"] == pytest.approx(0.03)
    with pytest.raises(UsageError):
        size_pair(evaluate, ("a",), [Target("p", "<=", 0.02)], {"a": (1, 2)}, {"a": 1.0})


def test_default_unit_costs_are_price_times_hours_available(reference):
    costs = sizing.default_unit_costs(reference)
    c, days = reference.costs, reference.run.horizon_weeks * 7
    # chairs: 10 opening hours on 5 weekdays, no holidays in the reference scenario
    assert costs["chairs"] == pytest.approx(c.chair_hour.value * 10 * 5 * reference.run.horizon_weeks)
    assert costs["observation_beds"] == pytest.approx(c.observation_day.value * days)
    assert costs["icu_beds"] == pytest.approx(c.icu_day.value * days)
    assert costs["ed_bays"] == pytest.approx(c.ed_visit.value / reference.operations.ed_hours.value * 24 * days)
    holiday = loader.load(REFERENCE, [f"calendar.holidays=[{reference.run.warmup_weeks * 7}]"])
    assert sizing.default_unit_costs(holiday)["chairs"] == pytest.approx(costs["chairs"] - c.chair_hour.value * 10)


# --------------------------------------------------------------------------- the real model (short runs)

def test_real_model_answer_meets_targets_and_one_fewer_does_not_on_the_same_seeds():
    target = Target("p_dose_postponed", "<=", 0.03)
    evaluate = sizing.model_evaluator(loader.load(REFERENCE, SHORT), 4, executor="serial")
    res = size_one(evaluate, "observation_beds", [target], 1, 12, start=2, report_kpis=("util_observation_beds",))
    assert res.status == "found", res.message
    n = res.answer["observation_beds"]
    assert res.candidate(observation_beds=n).feasible and not res.candidate(observation_beds=n - 1).feasible
    # independent runs at the answer and one below, same seed and replications, give the same verdicts
    for beds, ok in ((n, True), (n - 1, False)):
        k = runner.run(loader.load(REFERENCE, [*SHORT, f"capacity.observation_beds={beds}"]), 4,
                       executor="serial").kpis
        _, _, lo, hi, _ = mean_ci(k["p_dose_postponed"].to_numpy())
        assert target.met(lo, hi) is ok
        assert hi == pytest.approx(res.candidate(observation_beds=beds).stats["p_dose_postponed"][2])
    assert len(res.candidates) <= bound(1, 12)


def test_real_model_postponement_falls_as_observation_beds_grow():
    evaluate = sizing.model_evaluator(loader.load(REFERENCE, SHORT), 3, executor="serial")
    # from 2 beds up: with 1 bed patients wait past max_start_delay_days and are referred elsewhere,
    # which removes their doses from the count (postponement is then not monotone)
    means = [evaluate({"observation_beds": b})["p_dose_postponed"].mean() for b in (2, 3, 4, 6)]
    assert all(a > b for a, b in zip(means, means[1:])), means


def sim_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


SET_SHORT = [x for o in SHORT for x in ("--set", o)]


def test_size_command_writes_the_candidates_and_the_answer(tmp_path, capsys):
    code = main(["size", str(REFERENCE), "--resource", "observation_beds", "--target", "p_dose_postponed<=0.03",
                 "--reps", "3", "--executor", "serial", "--quiet", "--out", str(tmp_path), *SET_SHORT])
    out = capsys.readouterr().out
    assert code == 0, out
    table = pd.read_csv(tmp_path / "sizing.csv")
    assert table["answer"].sum() == 1
    ans = table[table["answer"]].iloc[0]
    assert ans["feasible"] and ans["p_dose_postponed_ci_high"] <= 0.03
    below = table[table["observation_beds"] == ans["observation_beds"] - 1].iloc[0]
    assert not below["feasible"] and below["p_dose_postponed_ci_high"] > 0.03
    assert f"smallest observation_beds meeting p_dose_postponed<=0.03 with 95% confidence: " \
           f"{int(ans['observation_beds'])}" in out
    assert {"util_observation_beds_mean", "p_dose_postponed_ci_low", "replications"} <= set(table.columns)


def test_size_command_exits_1_on_an_unreachable_target_quickly(tmp_path):
    # far more patients than are referred in the window: no number of beds can start them
    t0 = time.perf_counter()
    r = sim_cli("size", str(REFERENCE), "--resource", "observation_beds", "--target", "patients_started>=10000",
                "--reps", "2", "--min", "1", "--max", "6", "--executor", "serial", "--quiet", "--out", str(tmp_path),
                *SET_SHORT)
    assert r.returncode == 1, r.stderr
    assert "no observation_beds in [1, 6] meets patients_started>=10000" in r.stdout and "Raise the upper bound" in r.stdout
    assert time.perf_counter() - t0 < 120 and "Traceback" not in r.stderr
    table = pd.read_csv(tmp_path / "sizing.csv")
    # from the scenario's 4 beds: 4, 5, 6 (the bound) and stop
    assert sorted(table["observation_beds"]) == [4, 5, 6]
    assert not table["feasible"].any() and not table["answer"].any()


def test_size_command_bad_input_exits_2_with_one_line(capsys):
    r = sim_cli("size", str(REFERENCE), "--resource", "observation_beds", "--target", "beds<=3")
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert "unknown KPI 'beds'" in r.stderr and "allowed KPIs:" in r.stderr
    for args, says in ((["--target", "p_dose_postponed<3"], "operator '<' is not allowed"),
                       (["--target", "p_dose_postponed<=0.02", "--resource", "beds"], "unknown resource 'beds'"),
                       (["--target", "p_dose_postponed<=0.02", "--reps", "1"], "2 or more"),
                       (["--target", "p_dose_postponed<=0.02", "--min", "9", "--max", "3"], "above"),
                       (["--target", "p_dose_postponed<=0.02", "--unit-cost", "chairs=1"], "two resources"),
                       (["--target", "p_dose_postponed<=0.02", "--kpis", "nope"], "unknown KPI 'nope'"),
                       (["--resource", "observation_beds"], "at least one --target")):
        if "--resource" not in args:
            args = [*args, "--resource", "observation_beds"]
        assert main(["size", str(REFERENCE), *args]) == 2, args
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1, err


def test_size_refuses_bad_arguments_before_running(monkeypatch, reference):
    monkeypatch.setattr(runner, "run", lambda *a, **k: pytest.fail("ran before checking the arguments"))
    for kwargs, says in (({"resources": "beds"}, "unknown resource 'beds'"),
                         ({"targets": "p_dose_postponed<2"}, "operator '<' is not allowed"),
                         ({"targets": []}, "targets is empty"),
                         ({"reps": 1}, "2 or more"),
                         ({"low": 9, "high": 3}, "above"),
                         ({"unit_costs": {"chairs": 1.0}}, "two resources"),
                         ({"report_kpis": ["nope"]}, "unknown KPI 'nope'")):
        args = {"resources": "observation_beds", "targets": "p_dose_postponed<=0.02", **kwargs}
        with pytest.raises(UsageError, match=says):
            sim.size(reference, **args)
    with pytest.raises(sim.ScenarioErrors, match="ward_beds_reserved_for_unplanned"):
        sim.size(reference, "ward_beds", "p_dose_postponed<=0.02", low=1)


def test_size_command_refuses_a_bound_the_scenario_cannot_take_before_running(monkeypatch, capsys):
    monkeypatch.setattr(runner, "run", lambda *a, **k: pytest.fail("ran before validating the bounds"))
    code = main(["size", str(REFERENCE), "--resource", "ward_beds", "--target", "p_dose_postponed<=0.02",
                 "--min", "1", "--quiet"])
    assert code == 2 and "ward_beds_reserved_for_unplanned" in capsys.readouterr().err


def test_size_command_pair_finds_the_cheapest_feasible_pair(tmp_path, capsys):
    # 5 replications: with 3, chairs = 7 failed with 4 observation beds but met the target with 3 (noise)
    code = main(["size", str(REFERENCE), "--resource", "chairs,observation_beds", "--target", "p_dose_postponed<=0.03",
                 "--reps", "5", "--max", "14", "--executor", "serial", "--quiet", "--out", str(tmp_path), *SET_SHORT])
    out = capsys.readouterr().out
    assert code == 0, out
    table = pd.read_csv(tmp_path / "sizing.csv")
    ans = table[table["answer"]].iloc[0]
    feasible = table[table["feasible"]]
    assert ans["capacity_cost"] == feasible["capacity_cost"].min()
    for r in ("chairs", "observation_beds"):
        other = "observation_beds" if r == "chairs" else "chairs"
        nb = table[(table[r] == ans[r] - 1) & (table[other] == ans[other])]
        assert len(nb) == 1 and not nb["feasible"].item()
    assert "cheapest chairs and observation_beds" in out and len(table) < 14 * 14
