"""The tarlatamab trial profile reproduces the label's CRS figures (issue 14).

Published figures (Imdelltra HCP site, pooled safety population, n = 473): CRS in 268 patients (57%); grade >= 2
in 80 (15% grade 2 + 1.7% grade 3 + 0.2% grade 4 = 16.9%); of the 268 with CRS, 24%, 8% and 1% had grade >= 2 CRS
after C1D1, C1D8 and C1D15 and 1.5% from cycle 2 on (64, 21 and 7 of 268 for doses 1, 2 and "3 or later", as the
model places every later dose's CRS at dose 3), out of 73%, 60% and 15% of them with CRS after those doses (196, 161
and 40); 10% (27 of 268) were given tocilizumab.

The trial profile is run with every patient eligible for outpatient monitoring and ample capacity, so no patient
is diverted or delayed past the run. Every test pools the patients who started in the statistics window over all
replications (about 7,500) and asks that the simulated proportion lie inside the published figure's Wilson 95%
interval: the simulation's own sampling error (a half-width of about one point) is far below the published
interval's. The per-dose mix is fitted to these figures (scenarios/drugs/tarlatamab.toml), so the tests check that
the whole pipeline (per-dose split, per-dose grade mix, holds, the patients counted) returns what was put in, and
that the per-patient incidence, the per-dose split and the grade mix hold at once.

Reproduce the printed figures with::

    python -m pytest tests/validation/test_tarlatamab_label.py -s -p no:cacheprovider
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from sim import cohort, model
from sim.analysis.stats import wilson
from sim.config import loader
from tests.conftest import HUGE, SCENARIOS

pytestmark = [pytest.mark.validation, pytest.mark.slow]

REPS = 40  # a year of ~190 started patients each: ~7,500 patients, ~4,300 with CRS
TRIAL = ("population.outpatient_eligible=1", *HUGE)
LABEL_PATIENTS = 473
LABEL_CRS = 268


@functools.cache
def counts() -> dict[str, np.ndarray | int]:
    """Pooled over replications, among the patients started in the statistics window: patients, patients with
    CRS, with grade >= 2 CRS, given tocilizumab for CRS/ICANS, and with CRS (of any grade, of grade >= 2) after
    each of doses 1-3."""
    s = loader.load(SCENARIOS / "tarlatamab_outpatient.toml", list(TRIAL))
    assert s.drug.profile == "trial"
    total = {"started": 0, "crs": 0, "crs_g2": 0, "toci": 0, "by_dose": np.zeros(3, dtype=int),
             "g2_by_dose": np.zeros(3, dtype=int)}
    for r in range(REPS):
        log = model.simulate(s, cohort.draw(s, r))
        w0, w1 = log.window
        started = (log.first_dose >= w0) & (log.first_dose < w1)
        grade = log.crs_grade[started]          # (patients, doses), 0 = no CRS after that dose
        crs = (grade > 0).any(axis=1)
        total["started"] += int(started.sum())
        total["crs"] += int(crs.sum())
        total["crs_g2"] += int((grade >= 2).any(axis=1).sum())
        total["toci"] += int(log.given_toci[started].sum())   # as the patients_given_toci KPI counts
        total["by_dose"] += (grade[:, :3] >= 1).sum(axis=0)
        total["g2_by_dose"] += (grade[:, :3] >= 2).sum(axis=0)
    return total


def check(what: str, k: int, n: int, published_k: int, published_n: int) -> None:
    share, (lo, hi) = k / n, wilson(published_k, published_n)
    msg = (f"{what}: simulated {share:.3f} ({k} of {n}) vs published {published_k}/{published_n} = "
           f"{published_k / published_n:.3f}, Wilson 95% interval {lo:.3f}-{hi:.3f}")
    print(msg)
    assert lo <= share <= hi, msg


def test_crs_any_grade_share_of_patients():
    """CRS of any grade: 268 of 473 (57%)."""
    c = counts()
    check("CRS any grade, of patients", c["crs"], c["started"], LABEL_CRS, LABEL_PATIENTS)


def test_crs_grade2plus_rate_kpi():
    """Grade >= 2 CRS (worst grade): 80 of 473 (16.9%), as the ``crs_grade2plus_rate`` KPI counts it (patients
    started with grade >= 2 CRS after any dose received)."""
    c = counts()
    check("crs_grade2plus_rate", c["crs_g2"], c["started"], 80, LABEL_PATIENTS)


@pytest.mark.parametrize("dose,published", [(1, 196), (2, 161), (3, 40)], ids=["dose1", "dose2", "dose3plus"])
def test_crs_after_each_dose_share_of_patients_with_crs(dose, published):
    """CRS after the first, second and third or later dose: 73%, 60% and 15% of the 268 patients with CRS. Held
    together with the per-patient incidence above: the per-dose grade mix must not disturb the split."""
    c = counts()
    check(f"CRS after dose {dose}{' or later' if dose == 3 else ''}, of patients with CRS",
          int(c["by_dose"][dose - 1]), c["crs"], published, LABEL_CRS)


@pytest.mark.parametrize("dose,published", [(1, 64), (2, 21), (3, 7)], ids=["dose1", "dose2", "dose3plus"])
def test_grade2plus_after_each_dose_share_of_patients_with_crs(dose, published):
    """Grade >= 2 CRS after C1D1, C1D8 and C1D15 or later: 24%, 8% and 1% + 1.5% of the 268 patients with CRS."""
    c = counts()
    check(f"grade >= 2 CRS after dose {dose}{' or later' if dose == 3 else ''}, of patients with CRS",
          int(c["g2_by_dose"][dose - 1]), c["crs"], published, LABEL_CRS)


def test_tocilizumab_share_of_patients_with_crs():
    """Tocilizumab in 10% of the patients who had CRS (27 of 268): ``patients_given_toci`` / patients with CRS.
    The KPI counts tocilizumab for ICANS too; the trial profile gives none for ICANS (the label does not say to)."""
    c = counts()
    check("patients given tocilizumab, of patients with CRS", c["toci"], c["crs"], 27, LABEL_CRS)


def test_wilson_helper_matches_textbook_values():
    """The interval the tests use: Newcombe 1998, Table I, 81/263 -> 0.2553-0.3662; 0/10 -> 0-0.2775."""
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
