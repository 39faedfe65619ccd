"""Little's law on every resource: mean occupancy = admissions per hour x mean stay.

The occupancy comes from the pool's own log (what the KPIs use); the admissions and the stays are
derived independently, from the doses given and the configuration, in set-ups where every stay is
known exactly: no toxicity for planned stays (chairs, observation beds, planned ward stays), and
for toxicity stays a CRS that is always grade 3, starts 2 h after the infusion and lasts exactly
72 h (both log-normal spreads set to 0) with a fixed 48 h ICU length of stay, so every ICU stay is 48 h
and every step-down ward stay is the configured hours; ED and urgent-care bays hold every onset at home
for their assessment hours. Capacity is unlimited, so nobody waits and stays are not stretched by queues.

Over a finite window [w0, w1) Little's law holds up to the stays that straddle its ends:

    | area(w0, w1) - sum of stays admitted in [w0, w1) | <= (occupancy at w0 + occupancy at w1) * longest stay

That bound is asserted exactly (not a loose percentage), and the test also requires the bound to
be small (< 5% of the area) so that it cannot pass vacuously.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import cohort, model
from sim.config import loader
from sim.config.params import Sourced
from sim.metrics import step_area
from sim.model.runlog import PLACE_CODES
from tests.conftest import HUGE, SCENARIOS, SHORT

NO_TOXICITY = ["drug.crs.rate=0", "drug.icans.rate=0"]
ICU_STAY = 72.0   # the CRS episode
ICU_LOS = 48.0    # its ICU length of stay
KNOWN_CRS = ["drug.crs.grade_mix=[0.0, 0.0, 1.0, 0.0]", "drug.crs.onset_median_hours=2", "drug.crs.onset_sigma=0",
             f"drug.crs.duration_median_hours={ICU_STAY:g}", "drug.crs.duration_sigma=0", "drug.icans.rate=0",
             "population.outpatient_eligible=1"]


def run(name: str, *overrides: str, rep: int = 0):
    s = loader.load(SCENARIOS / f"{name}.toml", [*SHORT, *HUGE, *overrides])
    c = cohort.draw(s, rep)
    return s, c, model.simulate(s, c)


def level_at(times: list[float], levels: list[int], t: float) -> int:
    j = int(np.searchsorted(np.asarray(times), t, side="right")) - 1
    return int(levels[j]) if j >= 0 else 0


def check_littles_law(log, resource: str, arrivals: np.ndarray, stays: np.ndarray) -> None:
    """Assert L = lambda W on [w0, w1) with the exact boundary bound; arrivals and stays per admission."""
    w0, w1 = log.window
    span = w1 - w0
    times, levels = log.pools[resource][0], log.pools[resource][1]
    inside = (arrivals >= w0) & (arrivals < w1)
    assert inside.sum() > 20, f"too few admissions to {resource} to test anything"
    lam = inside.sum() / span                      # admissions per hour
    w = float(stays[inside].mean())                # mean stay (h)
    occupancy = step_area(times, levels, w0, w1) / span
    bound = (level_at(times, levels, w0) + level_at(times, levels, w1)) * float(stays.max()) / span
    assert bound < 0.05 * occupancy, (resource, bound, occupancy)
    assert abs(occupancy - lam * w) <= bound + 1e-9, (resource, occupancy, lam, w, lam * w, bound)


def schedule_blocks(s, n_doses: int) -> list:
    """The schedule block of each dose 1..n (a block with count 0 repeats until the end)."""
    blocks = []
    for block in s.drug.schedule:
        blocks += [block] * (block.count if block.count else n_doses)
    return blocks[:n_doses]


def planned_stays(s, c, log, places: tuple[str, ...]):
    """(arrival, stay) of every dose monitored in ``places``, from the configuration alone: the block's
    premedication (+ prophylaxis), then the monitoring hours (after the infusion where the block says so)
    or the infusion (+ hydration) if longer;
    a dose monitored at home holds its chair for premedication and infusion only."""
    d = s.drug
    blocks = schedule_blocks(s, log.max_doses)
    pro = s.strategy.prophylaxis
    arrivals, stays = [], []
    for i, k in zip(*np.nonzero(np.isfinite(log.dose_time))):
        place = {v: name for name, v in PLACE_CODES.items()}[int(log.dose_place[i, k])]
        if place not in places:
            continue
        block = blocks[k]
        own_infusion = block.infusion_hours.value if block.infusion_hours is not None else d.chair.infusion_hours.value
        # monitoring the label counts after the infusion starts when the infusion ends
        required = block.monitor_hours.value + (own_infusion if block.monitor_from == "infusion_end" else 0.0)
        where, hours = s.strategy.place_for(k + 1, required, bool(c.high_risk[i]), bool(c.eligible[i]), False)
        assert where == place
        gets_pro = pro is not None and (k + 1) in pro.doses and (pro.patients == "all" or c.high_risk[i])
        pre = (d.chair.premedication_hours.value if block.premedication else 0.0) \
            + (pro.chair_hours.value if gets_pro else 0.0)
        infusion = own_infusion + (d.chair.hydration_hours.value if block.hydration else 0.0)
        stays.append(pre + (infusion if place == "home" else max(hours, infusion)))
        arrivals.append(log.dose_time[i, k] - pre)   # dose_time is the start of the infusion
    return np.array(arrivals), np.array(stays)


@pytest.mark.parametrize("name", ["tarlatamab_outpatient", "tarlatamab_inpatient", "tarlatamab_outpatient_short",
                                  "tarlatamab_prophylactic_toci", "tarlatamab_risk_stratified"])
def test_chairs(name):
    s, c, log = run(name, *NO_TOXICITY)
    check_littles_law(log, "chairs", *planned_stays(s, c, log, ("clinic", "home")))


# the reference scenario's observation unit is in tests/test_model.py::test_littles_law_on_observation_beds
@pytest.mark.parametrize("name", ["tarlatamab_prophylactic_toci", "tarlatamab_risk_stratified"])
def test_observation_beds(name):
    s, c, log = run(name, *NO_TOXICITY)
    check_littles_law(log, "observation_beds", *planned_stays(s, c, log, ("observation",)))


@pytest.mark.parametrize("name", ["tarlatamab_inpatient", "tarlatamab_risk_stratified", "tarlatamab_outpatient"])
def test_ward_beds_planned_stays(name):
    s, c, log = run(name, *NO_TOXICITY)
    check_littles_law(log, "ward_beds", *planned_stays(s, c, log, ("ward",)))


def _every_onset_at_home_to(place: str) -> list[str]:
    return [f"strategy.onset_at_home.{kind}_grade{g}={place}" for kind in ("crs", "icans") for g in (1, 2, 3, 4)]


def test_ed_bays():
    """Every home onset holds an ED bay for exactly operations.ed_hours (the bay is freed when the
    patient goes home or, with unlimited beds, moves at once to the ward or ICU)."""
    s, _, log = run("tarlatamab_outpatient_short", *_every_onset_at_home_to("ed"))
    arrivals = np.asarray(log.ed_visits)
    check_littles_law(log, "ed_bays", arrivals, np.full(arrivals.size, s.operations.ed_hours.value))


def test_urgent_care_bays():
    """Urgent care open around the clock: every home onset holds an urgent-care bay for exactly
    urgent_care.assessment_hours, and none goes to the ED."""
    s, _, log = run("tarlatamab_outpatient_short", *_every_onset_at_home_to("urgent_care"),
                    "urgent_care.open_hour=0", "urgent_care.close_hour=24")
    arrivals = np.asarray(log.urgent_care_visits)
    assert len(log.ed_visits) == 0
    check_littles_law(log, "urgent_care_bays", arrivals, np.full(arrivals.size, s.urgent_care.assessment_hours.value))


def _with_icu_stay(s, hours: float):
    """``s`` with grade 3 CRS given a fixed ICU length of stay (log-normal spread 0)."""
    crs = list(s.drug.management.crs)
    crs[2] = crs[2].model_copy(update={"stay_median_hours": Sourced(value=hours, source="test"),
                                       "stay_sigma": Sourced(value=0.0, source="test")})
    management = s.drug.management.model_copy(update={"crs": tuple(crs)})
    return s.model_copy(update={"drug": s.drug.model_copy(update={"management": management})})


def test_icu_beds_and_step_down_ward():
    """Known toxicity stays: every CRS is grade 3 (ICU), starts 2 h into the infusion while the patient is in
    the chair or observation bed, and lasts 72 h; its ICU length of stay is 48 h, so each ICU stay is 48 h
    (the patient leaves before the episode ends) and is followed by exactly
    operations.icu_step_down_ward_hours on the ward (no planned ward use: everyone is eligible)."""
    s = _with_icu_stay(loader.load(SCENARIOS / "tarlatamab_outpatient.toml", [*SHORT, *HUGE, *KNOWN_CRS]), ICU_LOS)
    log = model.simulate(s, cohort.draw(s, 0))
    icu = np.asarray(log.icu_admissions)
    assert len(log.ed_visits) == 0  # every onset happened in a chair or bed, as the set-up intends
    check_littles_law(log, "icu_beds", icu, np.full(icu.size, ICU_LOS))
    step_down = s.operations.icu_step_down_ward_hours.value
    check_littles_law(log, "ward_beds", icu + ICU_LOS, np.full(icu.size, step_down))


def test_clinic_rooms():
    """Part F's follow-up visits: every visit holds a clinic room for exactly operations.clinic_visit_hours."""
    s, _, log = run("tarlatamab_outpatient_short", *NO_TOXICITY, "population.outpatient_eligible=1")
    arrivals = np.asarray(log.clinic_visits)
    check_littles_law(log, "clinic_rooms", arrivals, np.full(arrivals.size, s.operations.clinic_visit_hours.value))
