"""What a centre costs to simulate: CPU per patient-year against the single-drug reference, and how one
replication's cost grows with the centre's size.

    python benchmarks/bench_centre.py [--centre centre_comprehensive] [--rounds 4] [--reps 6]
    python benchmarks/bench_centre.py --wall 100      # also: 100 replications at 1,000 a year, wall clock
    python benchmarks/bench_centre.py --instructions 4   # the ratio in instructions (valgrind; about 8 minutes)

A patient-year is a year one patient spends on treatment (first dose to leaving, within the simulated time:
``bench_reference.patient_years``, the README's figure), so it compares drugs with different times on
therapy, centres of any size and runs of any length. The reference and the centre are timed
in alternation in one process, replication by replication (CPU time, garbage collector paused as the runner
does; cohorts drawn untimed), and the ratio is the median of the pairs' ratios, because a shared machine's
speed drifts by up to 2x within minutes. The scaling rows rescale every programme's demand, other services'
admissions, every capacity and the tocilizumab stock by the same factor so the centre has 200, 500, 1,000 and
2,000 new patients a year at the same load; the slope of CPU against patients says whether the cost is linear.
Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import gc
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from bench_reference import patient_years  # noqa: E402
from sim import cohort, model  # noqa: E402
from sim.config.registry import RESOURCE_NAMES  # noqa: E402
from sim.config.scenario import programmes  # noqa: E402

SIZES = (200, 500, 1000, 2000)
# The README's speed target for one replication of the reference on one core (20 replications a second):
# the machine speed at which the project's targets were set.
REFERENCE_TARGET_S = 0.050


def patients_per_year(s: sim.Scenario) -> float:
    return sum(v.demand.patients_per_week for _, v in programmes(s)) * 52


def scaled(s: sim.Scenario, per_year: float) -> sim.Scenario:
    """``s`` with every programme's demand, other services' admissions, capacity and tocilizumab stock scaled to
    ``per_year`` new patients a year (the same load on a larger centre)."""
    factor = per_year / patients_per_year(s)
    changes = {f"programmes.{name}.demand.patients_per_week": v.demand.patients_per_week * factor
               for name, v in programmes(s)} if s.programmes else {
        "demand.patients_per_week": s.demand.patients_per_week * factor}
    for j, o in enumerate(s.other_admissions):
        changes[f"other_admissions.{j}.per_week"] = o.per_week.value * factor
    for r in RESOURCE_NAMES:
        changes[f"capacity.{r}"] = max(1, round(getattr(s.capacity, r) * factor))
    ph = s.pharmacy
    if ph is not None:
        # the stock too: left at the preset's size, a larger centre ran out every week (P(stock-out) 100% and
        # ~100 emergency orders a replication at 1,000 a year), which is not the same load
        for field in ("order_up_to", "reorder_point", "order_quantity", "initial_stock_mg"):
            if getattr(ph, field) is not None:
                changes[f"pharmacy.{field}"] = getattr(ph, field) * factor
        changes["pharmacy.background_doses_per_week"] = ph.background_doses_per_week.value * factor
    return sim.vary(s, changes)


def replications(s: sim.Scenario, reps: int, first: int = 0) -> tuple[list, Callable]:
    """The cohorts of replications ``first`` to ``first + reps - 1`` of ``s`` (drawn now, so a timing leaves them
    out), and the model that runs one: a centre's or a single drug's."""
    if s.programmes:
        return [cohort.draw_centre(s, r) for r in range(first, first + reps)], model.simulate_centre
    return [cohort.draw(s, r) for r in range(first, first + reps)], model.simulate


def years_on_treatment(s: sim.Scenario, log) -> float:
    """Patient-years on treatment of one replication's log (a centre's: all its programmes)."""
    return patient_years(log.centre if s.programmes else log)


def cpu_per_patient_year(s: sim.Scenario, reps: int, first: int = 0) -> tuple[float, float]:
    """(CPU seconds per replication, CPU seconds per patient-year) of the model (draws excluded), over ``reps``
    replications from number ``first``."""
    draws, run = replications(s, reps, first)
    gc.collect()
    gc.disable()
    try:
        cpu, years = 0.0, 0.0
        for d in draws:
            t0 = time.process_time()
            log = run(s, d)
            cpu += time.process_time() - t0
            years += years_on_treatment(s, log)
        return cpu / reps, cpu / years
    finally:
        gc.enable()


# One process of the instruction count: draws the first ``reps`` cohorts of a scenario, then runs the model on the
# first ``run`` of them (0: none, the baseline the count of the model is taken from) and prints their patient-years.
COUNTED = """
import gc, sys
sys.path.insert(0, sys.argv[4])
import bench_centre, sim
s, reps, run = sim.load(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
draws, simulate = bench_centre.replications(s, reps)
gc.disable()
print(sum(bench_centre.years_on_treatment(s, simulate(s, d)) for d in draws[:run]))
"""


def instructions_per_patient_year(name: str, reps: int) -> tuple[float, float]:
    """(instructions of the model per replication, per patient-year) over the first ``reps`` replications of
    scenario ``name``, counted by valgrind's callgrind: the process that runs them less the same process that
    only draws their cohorts. Instructions do not depend on how fast the machine is at the time, so this ratio
    is the same on every run (for one Python and one set of libraries); CPU time also pays for cache misses."""
    counts, years = [], 0.0
    for run in (reps, 0):
        out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
                              COUNTED, name, str(reps), str(run), str(ROOT / "benchmarks")],
                             capture_output=True, text=True, check=True)
        counts.append(int(re.search(r"Collected : (\d+)", out.stderr).group(1)))
        if run:
            years = float(out.stdout.split()[-1])
    model_instructions = counts[0] - counts[1]
    return model_instructions / reps, model_instructions / years


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--centre", default="centre_comprehensive")
    ap.add_argument("--reference", default="tarlatamab_outpatient")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--wall", type=int, default=0, help="also time this many replications of the centre and of the "
                                                        "reference, each scaled to 1,000 new patients a year, on 2 "
                                                        "worker processes (wall clock)")
    ap.add_argument("--instructions", type=int, default=0, metavar="REPS",
                    help="instead, count the instructions (valgrind) of this many replications of each and compare "
                         "them per patient-year: the ratio without the machine's noise (minutes)")
    args = ap.parse_args()
    if args.instructions:
        return instructions(args.reference, args.centre, args.instructions)
    ref, centre = sim.load(args.reference), sim.load(args.centre)
    # Replication by replication in alternation, the ratio taken within each pair: the machine's speed moves
    # by up to 40% within seconds, so rounds of several replications of one then the other gave ratios from
    # 1.1 to 1.9 for the same work.
    per_year: dict[str, list[float]] = {"reference": [], "centre": []}
    for _ in range(args.rounds):
        for r in range(args.reps):
            for name, s in (("reference", ref), ("centre", centre)):
                per_year[name].append(cpu_per_patient_year(s, 1, first=r)[1])
    ratios = [c / r for c, r in zip(per_year["centre"], per_year["reference"])]
    print(f"CPU ms per patient-year on treatment ({args.rounds} rounds of {args.reps} replications, each of the "
          "reference then of the centre, median):")
    for name, s in (("reference", ref), ("centre", centre)):
        print(f"  {name:10s} {s.name:28s} {1e3 * statistics.median(per_year[name]):7.2f} ms "
              f"({patients_per_year(s):.0f} new patients a year, {len(programmes(s))} programme(s))")
    q1, q3 = np.percentile(ratios, [25, 75])
    print(f"  centre / reference: {statistics.median(ratios):.2f} (median of {len(ratios)} paired ratios; "
          f"middle half {q1:.2f}-{q3:.2f})")
    print("\nCPU s per replication as the centre grows (demand, other admissions, capacity and stock scaled "
          "together):")
    # the sizes in turn within each round, as the ratio above: measured one after another, a drift of the
    # machine's speed between the first size and the last read as a bend in the line
    sized = [scaled(centre, size) for size in SIZES]
    rounds = [[cpu_per_patient_year(s, max(1, args.reps // 2))[0] for s in sized] for _ in range(args.rounds)]
    cpu = [statistics.median(r[j] for r in rounds) for j in range(len(SIZES))]
    for size, c in zip(SIZES, cpu):
        print(f"  {size:5d} new patients a year: {c:6.2f} s per replication")
    slope, intercept = np.polyfit(SIZES, cpu, 1)
    fit = np.polyval([slope, intercept], SIZES)
    worst = max(abs(f - c) / c for f, c in zip(fit, cpu))
    print(f"  linear fit: {1e3 * slope:.2f} ms per new patient a year + {intercept:.2f} s; largest deviation from "
          f"it {worst:.0%}")
    if args.wall:
        print(f"\n{args.wall} replications at 1,000 new patients a year on 2 worker processes (wall clock):")
        # how fast the machine is right now (it drifts by up to 2x): the reference at its own size, one core
        probes = [cpu_per_patient_year(ref, 6)[0]]
        walls = {}
        for name, s in (("centre", centre), ("reference", ref)):
            big = scaled(s, 1000)
            t0 = time.perf_counter()
            sim.run(big, reps=args.wall, executor="processes", workers=2)
            walls[name] = time.perf_counter() - t0
            print(f"  {name:10s} {s.name:28s} {walls[name]:6.1f} s")
            probes.append(cpu_per_patient_year(ref, 6)[0])
        print(f"  the machine's speed meanwhile: one replication of {ref.name} (its own size) took "
              f"{', '.join(f'{1e3 * p:.0f}' for p in probes)} ms CPU before, between and after (compare the README's "
              "'one replication, one core' row: the same work on a faster day)")
        # The same run in units of the machine's speed, so runs on slow and fast hours compare: the wall time over
        # one reference replication's CPU, and what that makes on a machine that meets the reference's own target.
        unit = statistics.median(probes)
        print(f"  in reference replications: the centre's run took {walls['centre'] / unit:.0f} times one replication "
              f"of {ref.name}; at the README's target for it ({1e3 * REFERENCE_TARGET_S:.0f} ms, "
              f"{1 / REFERENCE_TARGET_S:.0f} replications a second on one core) that is "
              f"{walls['centre'] / unit * REFERENCE_TARGET_S:.0f} s")
    return 0


def instructions(reference: str, centre: str, reps: int) -> int:
    """Print the reference's and the centre's instructions per replication and per patient-year, and their ratio."""
    if shutil.which("valgrind") is None:
        print("valgrind not found (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    print(f"Instructions of the model (valgrind's callgrind), over replications 0-{reps - 1} of each:")
    per_year = {}
    for role, name in (("reference", reference), ("centre", centre)):
        per_rep, per_year[role] = instructions_per_patient_year(name, reps)
        print(f"  {role:10s} {name:28s} {per_rep / 1e6:8.0f} million per replication, "
              f"{per_year[role] / 1e6:6.3f} million per patient-year")
    print(f"  centre / reference per patient-year: {per_year['centre'] / per_year['reference']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
