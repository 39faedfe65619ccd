"""A centre: several programmes' patients on one site, each with its own run log, and the centre's log."""

from __future__ import annotations

from dataclasses import dataclass

from sim.cohort import Cohort
from sim.config.scenario import Scenario, programmes
from sim.model.pathway import Model
from sim.model.runlog import RunLog, merge
from sim.model.site import Site


@dataclass(frozen=True)
class CentreLog:
    """One replication of a centre: the centre's log (every programme's patients, the whole pools, the
    pharmacy and other services) and each programme's own (its patients and its share of the pools)."""

    centre: RunLog
    programmes: dict[str, RunLog]
    # other services' share of the pools (``[[other_admissions]]``): (times, levels, requested at, hours waited)
    others: dict[str, tuple]


def _models(s: Scenario, cohorts: tuple[Cohort, ...], trace: tuple[int, int] | None = None) -> tuple[Site, list]:
    views = programmes(s)
    if len(cohorts) != len(views):
        raise ValueError(f"{len(cohorts)} cohorts for {len(views)} programmes")
    site = Site(s, cohorts[0], programmes=len(views))
    models = [(name, Model(view, c, trace=trace[1] if trace is not None and trace[0] == j else None,
                           site=site, tag=j))
              for j, ((name, view), c) in enumerate(zip(views, cohorts))]
    return site, models


def simulate_centre(s: Scenario, cohorts: tuple[Cohort, ...]) -> CentreLog:
    """Run one replication of centre ``s`` for its programmes' ``cohorts`` (:func:`sim.cohort.draw_centre`)."""
    site, models = _models(s, cohorts)
    site.run([m for _, m in models])
    logs = {name: m.close(site.pool_logs(j)) for j, (name, m) in enumerate(models)}
    centre = site.finish(merge(list(logs.values()), site.pool_logs()))
    return CentreLog(centre, logs, site.pool_logs(site.other_tag))


def trace_centre(s: Scenario, cohorts: tuple[Cohort, ...], programme: str, patient: int) -> list[tuple[float, str]]:
    """One patient of ``programme``, step by step, in the centre (sharing the beds with the other programmes)."""
    names = [name for name, _ in programmes(s)]
    if programme not in names:
        raise ValueError(f"programme = {programme!r}; allowed: {', '.join(names)}")
    j = names.index(programme)
    if not 0 <= patient < cohorts[j].n:
        raise ValueError(f"patient = {patient}; allowed: 0 to {cohorts[j].n - 1} (patients of {programme} referred "
                         "in this replication)")
    site, models = _models(s, cohorts, trace=(j, patient))
    site.run([m for _, m in models])
    return models[j][1].trace
