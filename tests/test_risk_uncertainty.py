"""Risk factors keep the population on target; parameter uncertainty widens intervals around the same mean."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import cohort, model
from sim.analysis import runner
from sim.analysis.uncertainty import decompose
from sim.cohort.toxicity import factor_combinations, individual_rates
from sim.config import loader
from sim.model.pathway import CRS
from tests.conftest import HUGE, SCENARIOS, SHORT


def test_calibration_is_exact_in_expectation():
    prev = np.array([0.5, 0.4, 0.25])
    log_or = np.log([3.0, 2.5, 1.0])
    combos, weight = factor_combinations(prev)
    p = individual_rates(0.57, combos, prev, log_or)
    assert float(np.sum(weight * p)) == pytest.approx(0.57, abs=1e-9)
    assert p[combos[:, 0] == 1].min() > p[combos[:, 0] == 0].min()


def test_high_risk_patients_have_more_crs_and_the_population_stays_on_target():
    s = loader.load(SCENARIOS / "tarlatamab_outpatient.toml", [*SHORT, *HUGE])
    has, high = [], []
    for rep in range(30):
        m = model.Model(s, cohort.draw(s, rep))
        has.append((m.grade[CRS] > 0).any(axis=1))
        high.append(m.c.high_risk)
    has, high = np.concatenate(has), np.concatenate(high)
    n = has.size
    assert abs(has.mean() - 0.57) < 3.3 * math.sqrt(0.57 * 0.43 / n)
    assert has[high].mean() > has[~high].mean() + 0.1


def test_odds_ratios_must_name_known_risk_factors():
    from sim.config.errors import ScenarioErrors

    with pytest.raises(ScenarioErrors) as exc:
        loader.load(SCENARIOS / "tarlatamab_outpatient.toml", ["drug.risk_odds_ratios.crs.smoking=2"])
    assert "smoking" in str(exc.value) and "population.risk_factors" in str(exc.value)


def test_uncertainty_draws_parameters_per_replication():
    s = loader.load(SCENARIOS / "tarlatamab_outpatient.toml",
                    [*SHORT, "drug.profile=real_world", "run.parameter_uncertainty=true"])
    rates = {cohort.draw(s, r).crs_rate for r in range(5)}
    assert len(rates) == 5
    fixed = loader.load(SCENARIOS / "tarlatamab_outpatient.toml", [*SHORT, "drug.profile=real_world"])
    assert cohort.draw(fixed, 0).crs_rate == pytest.approx(0.533)
    # the patients are the same with and without uncertainty (only the parameters differ)
    np.testing.assert_array_equal(cohort.draw(s, 3).crs_patient_u, cohort.draw(fixed, 3).crs_patient_u)


@pytest.mark.slow
def test_uncertainty_widens_intervals_around_the_same_mean():
    base = [*SHORT, *HUGE, "drug.profile=real_world"]
    fixed = runner.run(loader.load(SCENARIOS / "tarlatamab_outpatient.toml", base), 40).kpis
    unc = runner.run(loader.load(SCENARIOS / "tarlatamab_outpatient.toml",
                                 [*base, "run.parameter_uncertainty=true"]), 40).kpis
    assert unc["crs_rate"].std() > 1.4 * fixed["crs_rate"].std()
    assert unc["icans_rate"].std() > 1.4 * fixed["icans_rate"].std()
    table = decompose(unc, fixed).set_index("kpi")
    row = table.loc["crs_rate"]
    assert row["ci_low"] < fixed["crs_rate"].mean() < row["ci_high"]
    assert 0.3 < row["share_parameter"] <= 1.0
    # a KPI the parameters do not touch keeps its spread: little of it is parameter uncertainty
    assert table.loc["patients_referred", "share_parameter"] < 0.3


@pytest.mark.slow
def test_thin_evidence_for_prophylaxis_shows_as_a_wide_interval():
    """Tarlatamab's prophylaxis evidence is 1 of 10 patients (Joshi et al. 2025): under parameter uncertainty
    the simulated CRS rate with prophylaxis must spread far more than the replications' own noise."""
    path = SCENARIOS / "tarlatamab_prophylactic_toci.toml"
    entry = loader.load(path).drug.prophylaxis["before_dose_1"]
    assert entry.treated is not None and entry.treated.patients == 10
    fixed = runner.run(loader.load(path, [*SHORT, *HUGE]), 20).kpis
    unc = runner.run(loader.load(path, [*SHORT, *HUGE, "run.parameter_uncertainty=true"]), 20).kpis
    assert unc["crs_rate"].std() > 2.5 * fixed["crs_rate"].std()
