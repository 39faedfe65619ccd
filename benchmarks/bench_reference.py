"""Speed of the reference scenario (run by hand: ``python benchmarks/bench_reference.py``).

Measures, on this machine:
  * replications per second: serial, ``processes`` on 2 workers (target >= 1.85x serial), and a
    Dask ``LocalCluster`` of 2 workers (its start-up overhead reported separately);
  * 1,000 replications with ``processes`` on 2 workers (target <= 30 s), KPIs only, as sizing and
    sweeps run them, and optionally through the CLI (``--cli``: occupancy kept and written);
  * the model's cost per simulated patient-year on treatment, in microseconds.

Everything runs on the scenario's own seed, so repeated runs simulate the same replications.
Not a test: numbers depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import cohort, model

from sim.config import loader

from sim.analysis import runner  # noqa: E402

HOURS_PER_YEAR = 8766.0


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def cpu_timed(fn):
    """CPU time of ``fn`` in this process, with the garbage collector paused as the runner does."""
    gc.disable()
    try:
        t0 = time.process_time()
        out = fn()
        return time.process_time() - t0, out
    finally:
        gc.enable()
        gc.collect(0)


def patient_years(log) -> float:
    """Years on treatment simulated in one replication: first dose to leaving (or the end)."""
    start = log.first_dose
    on = np.isfinite(start)
    stop = np.where(np.isfinite(log.left_at), log.left_at, log.end_time)[on]
    return float(np.sum(np.minimum(stop, log.end_time) - start[on]) / HOURS_PER_YEAR)


def per_patient_year(scenario, reps: int) -> dict:
    """CPU time of cohort draw + simulation (no KPI reduction) per simulated patient-year.

    CPU rather than wall time, so that other work on a shared machine does not inflate it."""
    t_model = t_cohort = 0.0
    years = 0.0
    events = 0
    for r in range(reps):
        t, c = cpu_timed(lambda r=r: cohort.draw(scenario, r))
        t_cohort += t
        t, log = cpu_timed(lambda c=c: model.simulate(scenario, c))
        t_model += t
        years += patient_years(log)
        events += sum(len(p[0]) for p in log.pools.values())
    return {"replications": reps, "patient_years_per_replication": years / reps,
            "us_per_patient_year_model": 1e6 * t_model / years,
            "us_per_patient_year_with_cohort": 1e6 * (t_model + t_cohort) / years,
            "occupancy_changes_per_replication": events / reps}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--serial-reps", type=int, default=60)
    ap.add_argument("--parallel-reps", type=int, default=300)
    ap.add_argument("--big", type=int, default=1000, help="replications of the timed large run (0: skip)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the best of each mode is reported")
    ap.add_argument("--cli", action="store_true", help="also time 'python -m sim run --reps BIG' end to end")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()

    s = loader.load(loader.DEFAULT_SCENARIO)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or None
    out: dict = {"commit": commit, "cores": os.cpu_count(), "python": sys.version.split()[0],
                 "scenario": s.name, "workers": args.workers}
    print(f"reference scenario {s.name}, commit {commit}, {os.cpu_count()} cores, Python {out['python']}")

    runner.run(s, 2, executor="serial")                       # warm imports and caches
    out["load_average_before"] = os.getloadavg()
    busy = out["load_average_before"][0] > 0.5
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{x:.1f}" for x in out["load_average_before"])
          + (" (above 0.5: other work, or a run just before this one, shares these cores and every figure "
             "below may suffer)" if busy else " (idle)"))
    # Best of --repeat rounds, modes interleaved: on a shared machine other work only ever adds
    # time, so the fastest round is the closest to the machine's own speed.
    best = {"serial": float("inf"), "processes": float("inf"), "dask": float("inf")}
    cpu_serial = float("inf")
    for _ in range(args.repeat):
        c0 = time.process_time()
        t, _ = timed(lambda: runner.run(s, args.serial_reps, executor="serial"))
        cpu_serial = min(cpu_serial, time.process_time() - c0)
        best["serial"] = min(best["serial"], t)
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t, _ = timed(lambda: runner.run(s, args.parallel_reps, executor="processes", workers=args.workers))
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if t < best["processes"]:
            best["processes"] = t
            # CPU the worker processes got: if it is the serial CPU per replication, the workers
            # did no extra work and any shortfall from 2x is time they waited for a core.
            child_cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
            out["processes_worker_cpu_s_per_rep"] = child_cpu / args.parallel_reps
            out["processes_cpu_share"] = child_cpu / (t * args.workers)
        if not args.no_dask:
            t, _ = timed(lambda: runner.run(s, args.parallel_reps, executor="dask", workers=args.workers))
            best["dask"] = min(best["dask"], t)
    serial = args.serial_reps / best["serial"]
    out["serial_reps_per_s"] = serial
    out["serial_cpu_s_per_rep"] = cpu_serial / args.serial_reps
    print(f"serial:               {serial:7.2f} rep/s  ({args.serial_reps} reps in {best['serial']:.2f} s; "
          f"{1e3 * out['serial_cpu_s_per_rep']:.0f} ms CPU per replication)")
    procs = args.parallel_reps / best["processes"]
    out["processes_reps_per_s"] = procs
    out["processes_speedup"] = procs / serial
    print(f"processes x{args.workers}:         {procs:7.2f} rep/s  ({args.parallel_reps} reps in "
          f"{best['processes']:.2f} s; {procs / serial:.2f}x serial, target >= 1.85x)")
    print(f"  workers used {1e3 * out['processes_worker_cpu_s_per_rep']:.0f} ms CPU per replication and got "
          f"{100 * out['processes_cpu_share']:.0f}% of their {args.workers} cores")

    if not args.no_dask:
        from distributed import Client, LocalCluster

        t_start = min(timed(lambda: _start_stop_cluster(LocalCluster, Client, args.workers))[0]
                      for _ in range(args.repeat))
        dask = args.parallel_reps / best["dask"]
        out.update(dask_reps_per_s=dask, dask_speedup=dask / serial, dask_cluster_start_stop_s=t_start,
                   dask_reps_per_s_excluding_start=args.parallel_reps / max(best["dask"] - t_start, 1e-9))
        print(f"dask LocalCluster x{args.workers}: {dask:7.2f} rep/s  ({args.parallel_reps} reps in {best['dask']:.2f} s, "
              f"{dask / serial:.2f}x serial; of which ~{t_start:.1f} s cluster start/stop; "
              f"{out['dask_reps_per_s_excluding_start']:.2f} rep/s without it)")

    if args.big:
        t, _ = timed(lambda: runner.run(s, args.big, executor="processes", workers=args.workers))
        out["big_run_s"] = t
        out["big_run_reps"] = args.big
        print(f"{args.big} reps, processes x{args.workers} (KPIs only): {t:.1f} s (target <= 30 s)")
        if args.cli:
            with tempfile.TemporaryDirectory() as tmp:
                t, _ = timed(lambda: subprocess.run(
                    [sys.executable, "-m", "sim", "run", "--reps", str(args.big), "--workers", str(args.workers),
                     "--quiet", "--out", tmp], cwd=ROOT, check=True, capture_output=True))
            out["big_run_cli_s"] = t
            print(f"{args.big} reps via the CLI (occupancy kept, files written): {t:.1f} s")

    ppy = per_patient_year(s, 20)
    out["load_average_after"] = os.getloadavg()
    out.update(ppy)
    print(f"model cost: {ppy['us_per_patient_year_model']:.0f} us per patient-year on treatment "
          f"({ppy['us_per_patient_year_with_cohort']:.0f} with the cohort draw; "
          f"{ppy['patient_years_per_replication']:.1f} patient-years per replication)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


def _start_stop_cluster(LocalCluster, Client, workers):
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)


if __name__ == "__main__":
    raise SystemExit(main())
