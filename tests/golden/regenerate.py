"""Regenerate the golden backtest files (run by hand, only when a model change is MEANT to move numbers).

    python tests/golden/regenerate.py

Each preset in :data:`RUNS` is run through the command line exactly as ``tests/test_golden.py`` runs it,
and its ``kpis.csv`` is copied here as ``<preset>.kpis.csv``. Commit the new files with a message that
says which change moved the numbers and why (the CHANGELOG's "KPI-changing" list too).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

# Short runs that still pass through every part of the pathway: the observation unit and the clinic
# (outpatient), planned ward stays (inpatient), prophylaxis and the pharmacy (prophylactic
# tocilizumab), and a myeloma drug with a different schedule, grade mix and premedication.
RUNS = ("tarlatamab_outpatient", "tarlatamab_inpatient", "tarlatamab_prophylactic_toci", "teclistamab_outpatient")
ARGS = ("--reps", "3", "--seed", "20261130", "--executor", "serial", "--quiet")


def run_preset(preset: str, out: Path) -> Path:
    """Run ``preset`` through ``python -m sim run`` into ``out``; return the path of its kpis.csv."""
    scenario = ROOT / "scenarios" / f"{preset}.toml"
    cmd = [sys.executable, "-m", "sim", "run", str(scenario), *ARGS, "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return out / "kpis.csv"


def golden_path(preset: str) -> Path:
    return HERE / f"{preset}.kpis.csv"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for preset in RUNS:
            shutil.copyfile(run_preset(preset, Path(tmp) / preset), golden_path(preset))
            print(f"wrote {golden_path(preset).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
