"""CPU per replication of the model, this tree against another commit, measured interleaved.

    python benchmarks/compare_commits.py BASE [--rounds 6] [--reps 30]

A shared machine's speed drifts by up to 2x within minutes, so two runs minutes apart compare the
machine, not the code. This checks BASE out in a temporary git worktree and times both trees in
alternation (base, this, base, this, ...), each round a fresh process that draws the reference
scenario's cohorts untimed and then times ``sim.model.simulate`` on them with ``time.process_time``
(garbage collector paused, as the runner does). Reported: CPU ms per replication of each tree and
the ratio this/base, as the median of the per-round ratios (each pair ran minutes apart at most).
Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_ROUND = """
import gc, sys, time
from sim import cohort, model
from sim.config import loader
s = loader.load(loader.DEFAULT_SCENARIO)
cohorts = [cohort.draw(s, r) for r in range(int(sys.argv[1]))]
model.simulate(s, cohorts[0])
gc.disable()
t0 = time.process_time()
for c in cohorts:
    model.simulate(s, c)
print(1e3 * (time.process_time() - t0) / len(cohorts))
"""


def cpu_ms_per_rep(tree: Path, reps: int) -> float:
    out = subprocess.run([sys.executable, "-c", ONE_ROUND, str(reps)], cwd=tree, check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(tree)})
    return float(out.stdout.strip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("base", help="the commit to compare with (e.g. 45f14f0)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            times: dict[str, list[float]] = {"base": [], "this": []}
            for r in range(args.rounds):
                for name, tree in (("base", base), ("this", ROOT)):
                    times[name].append(cpu_ms_per_rep(tree, args.reps))
                    print(f"round {r + 1}: {name} {times[name][-1]:.1f} ms CPU per replication", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=True)
    ratios = [t / b for t, b in zip(times["this"], times["base"])]
    print(f"base {statistics.median(times['base']):.1f} ms, this {statistics.median(times['this']):.1f} ms per "
          f"replication (medians); this/base {statistics.median(ratios):.3f} (median of {args.rounds} paired rounds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
