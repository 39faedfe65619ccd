"""The plans of doses a run's replications share (:func:`sim.config.dose_plan.plans_made`)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from sim import cohort, model
from sim.config import dose_plan, loader
from sim.model import pathway
from tests.conftest import SCENARIOS, SHORT


def test_plans_are_kept_per_drug_and_strategy_object_and_only_for_the_last_pairs(monkeypatch):
    monkeypatch.setattr(dose_plan, "_MADE", OrderedDict())
    s = loader.load(SCENARIOS / "tarlatamab_outpatient.toml", SHORT)
    made = dose_plan.plans_made(s.drug, s.strategy)
    assert dose_plan.plans_made(s.drug, s.strategy) is made
    # an equal copy is another object: its plans are its own (identity, not content, is the key)
    copy = s.model_copy(deep=True)
    assert copy.drug == s.drug and dose_plan.plans_made(copy.drug, copy.strategy) is not made
    for _ in range(dose_plan.PAIRS_KEPT):
        other = s.model_copy(deep=True)
        dose_plan.plans_made(other.drug, other.strategy)
    assert len(dose_plan._MADE) == dose_plan.PAIRS_KEPT
    assert dose_plan.plans_made(s.drug, s.strategy) is not made   # forgotten: planned again


def test_a_replication_reuses_earlier_plans_and_gives_the_same_numbers(monkeypatch):
    s = loader.load(SCENARIOS / "teclistamab_inpatient_single_admission.toml", SHORT)
    calls = []
    planner = pathway.plan_dose

    def counted(*args, **kwargs):
        calls.append(args[2:])
        return planner(*args, **kwargs)

    monkeypatch.setattr(pathway, "plan_dose", counted)
    monkeypatch.setattr(dose_plan, "_MADE", OrderedDict())
    cohorts = [cohort.draw(s, r) for r in range(3)]
    model.simulate(s, cohorts[0])
    planned_first = len(calls)
    warm = [model.simulate(s, c) for c in cohorts[1:]]
    assert planned_first > 0 and len(calls) - planned_first < planned_first / 4
    assert len(set(calls)) == len(calls)   # no dose planned twice for one kind of patient

    cold = []
    for c in cohorts[1:]:
        dose_plan._MADE.clear()   # the same replications, each planned from scratch
        cold.append(model.simulate(s, c))
    for a, b in zip(warm, cold):
        assert np.array_equal(a.dose_time, b.dose_time, equal_nan=True)
        assert np.array_equal(a.dose_place, b.dose_place)
        assert np.array_equal(np.asarray(a.stay_end), np.asarray(b.stay_end), equal_nan=True)
