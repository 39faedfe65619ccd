"""Prophylactic tocilizumab before the first dose of a myeloma bispecific: Kowalski et al., Blood Adv 2025.

A single dose of tocilizumab before step-up dose 1 in 119 patients (University of Miami): CRS in 8.9% of
patients on teclistamab, 13% on talquetamab and 12.5% on elranatamab; 10 of 12 CRS events grade 1 and no
grade >= 3. With tocilizumab before dose 1 for every patient, the inpatient presets of those three drugs
must give CRS to a share of the patients started that lies in each drug's published Wilson 95% interval,
and grade >= 3 CRS to about none. The counts behind each interval are the drug file's own
``[prophylaxis.before_dose_1] treated`` (the abstract gives the rates, not every drug's n; see the drug
files), so the test follows the data if better counts are found.

The test has power: replications are enough that the simulation's own 95% interval is narrow against the
published one (checked), so a prophylaxis effect as weak as the old single relative risk of 0.41 (CRS in
about 30% of teclistamab patients) fails it.
"""

from __future__ import annotations

import functools

import pytest

from sim import cohort, model
from sim.analysis.stats import wilson
from sim.config import loader
from tests.conftest import SCENARIOS

pytestmark = [pytest.mark.validation, pytest.mark.slow]

REPS = 8   # about 190 patients started a year per replication: ~1,500 per drug
PROPHYLAXIS_BEFORE_DOSE_1 = "strategy.prophylaxis={doses=[1], timing='before_dose', patients='all', chair_hours=1}"
PRESETS = ("teclistamab_inpatient", "talquetamab_inpatient", "elranatamab_inpatient")


@functools.cache
def crs_counts(preset: str):
    """Over the replications, the patients started in the statistics window, how many had any CRS and how
    many grade >= 3 CRS, and the drug's published counts with prophylaxis.

    Patients are pooled over replications: they are independent draws (no parameter uncertainty here).
    """
    s = loader.load(SCENARIOS / f"{preset}.toml", [PROPHYLAXIS_BEFORE_DOSE_1])
    treated = s.drug.prophylaxis["before_dose_1"].treated
    started = any_crs = severe = 0
    for r in range(REPS):
        log = model.simulate(s, cohort.draw(s, r))
        w0, w1 = log.window
        window = (log.first_dose >= w0) & (log.first_dose < w1)
        assert window.sum() > 100  # a full year of starts in every replication
        started += int(window.sum())
        any_crs += int((log.crs_grade > 0).any(axis=1)[window].sum())
        severe += int((log.crs_grade >= 3).any(axis=1)[window].sum())
    return started, any_crs, severe, treated


@pytest.mark.parametrize("preset", PRESETS)
def test_crs_with_tocilizumab_before_dose_1_is_within_kowalski_interval(preset):
    started, any_crs, _, treated = crs_counts(preset)
    lo, hi = wilson(treated.events, treated.patients)
    sim_lo, sim_hi = wilson(any_crs, started)
    share = any_crs / started
    print(f"{preset}: CRS with prophylaxis {any_crs}/{started} = {share:.3f} (Wilson {sim_lo:.3f}-{sim_hi:.3f}) "
          f"vs Kowalski {treated.events}/{treated.patients}, Wilson {lo:.3f}-{hi:.3f}")
    assert sim_hi - sim_lo < (hi - lo) / 4, "too few replications for the test to tell the model from the data"
    assert lo <= share <= hi


@pytest.mark.parametrize("preset", PRESETS)
def test_no_grade_3_crs_with_tocilizumab_before_dose_1(preset):
    started, _, severe, treated = crs_counts(preset)
    # Kowalski: no grade >= 3 CRS; the upper Wilson bound of 0 events in this drug's patients
    _, hi = wilson(0, treated.patients)
    assert severe / started <= hi
    assert severe <= 0.005 * started
