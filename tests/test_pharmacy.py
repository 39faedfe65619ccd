"""Tocilizumab stock: least-waste vials, conservation of vials, stock-outs and their consequences."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest

from sim import cohort, model
from sim.analysis import runner
from sim.analysis.stats import wilson
from sim.analysis.stock import smallest_meeting, stock_curve
from sim.config import loader
from sim.model.pharmacy import VIALS, least_waste
from tests.conftest import REFERENCE, ROOT, SCENARIOS, SHORT


def brute_force(mg: float, available=(12, 12, 12)):
    best = None
    for combo in itertools.product(*(range(a + 1) for a in available)):
        opened = sum(v * n for v, n in zip(VIALS, combo))
        if opened + 1e-9 >= mg:
            key = (opened, sum(combo))
            if best is None or key < best[0]:
                best = (key, combo)
    return None if best is None else best[1]


@pytest.mark.parametrize("weight", range(30, 151))
def test_least_waste_matches_brute_force_for_every_weight(weight):
    mg = min(8.0 * weight, 800.0)
    got, want = least_waste(mg), brute_force(mg)
    opened = lambda c: sum(v * n for v, n in zip(VIALS, c))  # noqa: E731
    assert opened(got) == opened(want) and sum(got) == sum(want), (weight, got, want)
    assert opened(got) >= mg


def test_least_waste_uses_only_what_is_on_hand():
    assert least_waste(560, (0, 0, 2)) == (0, 0, 2)
    assert least_waste(560, (10, 0, 0)) == (7, 0, 0)
    assert least_waste(800, (1, 1, 1)) is None
    for stock in itertools.product(range(3), repeat=3):
        assert least_waste(500, stock) == brute_force(500, stock)


def scenario(*overrides: str, name: str = "tarlatamab_outpatient.toml"):
    return loader.load(SCENARIOS / name, [*SHORT, *overrides])


POLICIES = [
    (),
    ("pharmacy.order_up_to=800", "pharmacy.emergency_order=false"),
    ("pharmacy.policy=\"continuous\"", "pharmacy.reorder_point=400", "pharmacy.order_quantity=1200"),
    ("pharmacy.shelf_life_months=1", "pharmacy.order_up_to=6000"),
]


@pytest.mark.parametrize("overrides", POLICIES, ids=["periodic", "short-stock", "continuous", "expiring"])
def test_vials_are_conserved_and_stock_never_negative(overrides):
    s = scenario(*overrides)
    for rep in range(2):
        ph = model.simulate(s, cohort.draw(s, rep)).pharmacy
        for j, v in enumerate(VIALS):
            received = sum(n for _, size, n, _ in ph.received if size == v)
            used = sum(n for _, size, n, _ in ph.used if size == v)
            expired = sum(n for _, size, n in ph.expired if size == v)
            assert ph.initial[j] + received == used + expired + ph.final[j], v
            assert ph.final[j] >= 0
        assert min(ph.on_hand_mg) >= 0
    if "pharmacy.shelf_life_months=1" in overrides:
        assert sum(n for _, _, n in ph.expired) > 0


def test_very_large_stock_never_runs_out():
    k = runner.run(scenario("pharmacy.order_up_to=100000"), 3, executor="serial").kpis
    assert (k["toci_stockout_events"] == 0).all() and (k["toci_doses_delayed"] == 0).all()
    assert (k["p_stockout"] == 0).all()


def test_small_stock_without_emergency_orders_delays_doses():
    k = runner.run(scenario("pharmacy.order_up_to=400", "pharmacy.emergency_order=false",
                            "pharmacy.vial_split={mg80 = 0.0, mg200 = 0.0, mg400 = 1.0}"), 3, executor="serial").kpis
    assert (k["toci_stockout_events"] > 0).all()
    assert k["toci_doses_delayed"].sum() > 0 and k["toci_delay_hours_mean"].max() > 0


def test_stockout_probability_does_not_rise_with_stock():
    path = SCENARIOS / "tarlatamab_outpatient.toml"
    curve = stock_curve(loader.load(path, SHORT), [800, 1600, 3200, 12000], "pharmacy.order_up_to", 6,
                        executor="serial")
    p = curve["p_stockout"].tolist()
    assert all(a >= b for a, b in zip(p, p[1:])), p
    assert p[0] > 0 and p[-1] == 0
    delayed = curve["toci_doses_delayed"].tolist()
    assert delayed[0] >= delayed[-1]
    best = smallest_meeting(curve, "pharmacy.order_up_to", 0.5)
    assert best is None or best in (800, 1600, 3200, 12000)


def test_prophylaxis_uses_more_tocilizumab_on_the_same_cohort():
    base = runner.run(scenario(), 3, executor="serial").kpis
    pro = runner.run(scenario(name="tarlatamab_prophylactic_toci.toml"), 3, executor="serial").kpis
    assert (pro["toci_mg"] > base["toci_mg"]).all()
    assert (pro["toci_mg_used"] > base["toci_mg_used"]).all()


def test_step_up_dose_waits_for_a_tocilizumab_dose_on_hand():
    scarce = ("pharmacy.order_up_to=400", "pharmacy.emergency_order=false", "pharmacy.background_doses_per_week=3",
              "pharmacy.vial_split={mg80 = 0.0, mg200 = 0.0, mg400 = 1.0}", "pharmacy.lead_time_days_min=5",
              "pharmacy.lead_time_days_max=9")
    held = runner.run(scenario(*scarce, "pharmacy.hold_step_up_without_stock=true"), 2, executor="serial").kpis
    free = runner.run(scenario(*scarce), 2, executor="serial").kpis
    assert held["doses_held_for_stock"].sum() > 0
    assert (free["doses_held_for_stock"] == 0).all()


def test_without_a_pharmacy_section_stock_is_unlimited():
    s = scenario()
    s = s.model_copy(update={"pharmacy": None})
    k = runner.run(s, 1, executor="serial").kpis
    assert k.loc[0, "toci_stockout_events"] == 0
    assert k.loc[0, "toci_cost"] == pytest.approx(k.loc[0, "toci_mg"] * s.costs.tocilizumab_per_mg.value)


def test_wilson_interval():
    lo, hi = wilson(0, 20)
    assert lo == 0 and 0.15 < hi < 0.17
    lo, hi = wilson(10, 20)
    assert lo < 0.5 < hi


def test_stock_command(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sim", "stock", str(REFERENCE), "--values", "800,6000", "--reps", "2",
                        "--quiet", "--executor", "serial", "--out", str(tmp_path), *sum((["--set", o] for o in SHORT), [])],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "stock.csv").exists() and "P(stock-out)" in r.stdout
    r = subprocess.run([sys.executable, "-m", "sim", "stock", "--values", "a,b"], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
