"""Validation: the real-world lymphoma profile reproduces the 14-institution bispecific cohort.

A 14-institution shared database of patients with aggressive B-cell lymphoma given a CD20 x CD3
bispecific (ASH annual meeting abstract; glofitamab 45%, mosunetuzumab 29%, epcoritamab 23% of 262
patients) reported, of 244 patients with CRS data, CRS of any grade after cycle 1 in 79 (32%), grade 2
in 19 (8%) and grade >= 3 in 12 (5%). The figures are pooled over the drugs, so each drug's
``real_world`` profile carries them and each is checked here on its own inpatient preset.

These checks reproduce figures the profile was built from: they test that the pipeline (cohort draws,
per-dose split, worst grade per patient, the patients counted) returns what was put in, counted the way
the abstract counts it (patients started, CRS after a cycle 1 dose, worst grade in cycle 1). The tolerance
is the published proportion's Wilson 95% interval against the simulation's t 95% CI across replications,
as in ``test_published_outcomes``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from sim import cohort, model
from sim.analysis.stats import mean_ci
from sim.config import loader
from tests.conftest import SCENARIOS
from tests.validation.test_published_outcomes import consistent, report, wilson

pytestmark = [pytest.mark.validation, pytest.mark.slow]

REPS = 10  # replications of a full scenario year each
PATIENTS_WITH_CRS_DATA = 244
# Cycle length of each drug's label (Epkinly: 28-day cycles; Columvi and Lunsumio: 21-day cycles).
CYCLE_DAYS = {"epcoritamab": 28, "glofitamab": 21, "mosunetuzumab": 21}
FIGURES = [("crs", 79, "CRS any grade in cycle 1, 79 of 244"),
           ("crs_g2", 19, "worst grade 2 in cycle 1, 19 of 244"),
           ("crs_g3", 12, "grade >= 3 in cycle 1, 12 of 244")]


@functools.lru_cache(maxsize=None)
def cycle_1_outcomes(drug: str) -> list[dict[str, np.ndarray]]:
    """Per replication, for the patients started in the statistics window: CRS after a dose given in
    cycle 1 (within the label's cycle length of the first dose) and its worst grade there."""
    s = loader.load(SCENARIOS / f"{drug}_inpatient.toml", ["drug.profile=real_world"])
    out = []
    for r in range(REPS):
        log = model.simulate(s, cohort.draw(s, r))
        w0, w1 = log.window
        started = (log.first_dose >= w0) & (log.first_dose < w1)
        in_cycle_1 = log.dose_time < log.first_dose[:, None] + CYCLE_DAYS[drug] * 24.0  # NaN (not given) -> False
        worst = np.where(in_cycle_1, log.crs_grade, 0).max(axis=1)[started]
        out.append({"crs": worst > 0, "crs_g2": worst == 2, "crs_g3": worst >= 3})
    return out


@pytest.mark.parametrize("key,k,label", FIGURES, ids=[f[0] for f in FIGURES])
@pytest.mark.parametrize("drug", sorted(CYCLE_DAYS))
def test_real_world_profile_reproduces_the_14_institution_cohort(drug, key, k, label):
    reps = cycle_1_outcomes(drug)
    assert all(rep[key].size > 100 for rep in reps)  # a full year of starts in every replication
    mean, _, lo, hi, _ = mean_ci(np.array([rep[key].mean() for rep in reps]))
    pub = wilson(k, PATIENTS_WITH_CRS_DATA)
    msg = report(f"{drug} real_world {key}", (mean, lo, hi), label, pub)
    print(msg)
    assert consistent((mean, lo, hi), pub), msg
