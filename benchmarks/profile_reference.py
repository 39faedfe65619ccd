"""Profile the reference scenario once with cProfile (run by hand).

``python benchmarks/profile_reference.py [--reps 20] [--top 25]`` runs replications serially in
this process (cohort draw, model and KPI reduction, as a worker does) and prints the functions
with the most own time and the most cumulative time. The top five go into docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.config import loader

from sim.analysis import runner  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--save", type=Path, default=None, help="write the raw profile (pstats) here")
    args = ap.parse_args()
    s = loader.load(loader.DEFAULT_SCENARIO)
    runner.run(s, 1, executor="serial")          # imports and first-call costs out of the profile
    prof = cProfile.Profile()
    prof.enable()
    runner.run(s, args.reps, executor="serial", keep_occupancy=True)
    prof.disable()
    if args.save:
        prof.dump_stats(args.save)
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(args.top)
        print(f"==== sorted by {key} ====")
        print(buf.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
