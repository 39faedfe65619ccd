"""Step-up dosing capacity simulator for bispecific T-cell engagers (BTCEs).

Data flows one way: scenario -> cohort -> model -> metrics -> analysis -> CLI / dashboard. This module
is the public API the notebooks, the command line and the dashboard share::

    import sim

    s = sim.load("tarlatamab_outpatient", set={"capacity.observation_beds": 5})
    result = sim.run(s, reps=20)
    result.summary()                       # every KPI with its 95% CI (summary.csv of `python -m sim run`)
    sim.compare({"outpatient": s, "inpatient": sim.load("tarlatamab_inpatient")}, reps=20).table
    sim.size(s, "observation_beds", "p_dose_postponed<=0.02", reps=20).answer
    sim.stock_curve(s, [800, 1600, 3200], reps=20)
    sim.run_to_precision(s, ["crs_rate"], 0.05)   # replications until the CI is within 5% of the mean

See ``docs/api.md`` for a session. Importing ``sim`` never imports Altair, Streamlit or Dask.
"""

from pathlib import Path
from typing import Any, Mapping

from sim._version import (
    __version__,  # first: submodules read sim.__version__ while this package initialises
)
from sim.analysis.compare import Comparison
from sim.analysis.compare import compare_scenarios as compare
from sim.analysis.levelling import LevellingResult, level
from sim.analysis.precision import Assessment, run_to_precision
from sim.analysis.runner import EXECUTORS, RunResult, run
from sim.analysis.sensitivity import sensitivity
from sim.analysis.sizing import SizingResult, Target, size
from sim.analysis.stock import stock_curve
from sim.analysis.variants import vary
from sim.analysis.warmup import WarmupResult, warmup
from sim.config import changes, loader
from sim.config.errors import ScenarioError, ScenarioErrors, UsageError
from sim.config.presets import list_presets as presets
from sim.config.scenario import Scenario

__all__ = [
    "__version__", "load", "loads", "presets", "vary", "run", "compare", "size", "stock_curve", "sensitivity",
    "run_to_precision", "warmup", "level", "Scenario", "RunResult", "Comparison", "SizingResult", "Target",
    "WarmupResult", "LevellingResult", "Assessment", "EXECUTORS",
    "ScenarioError", "ScenarioErrors", "UsageError",
]


def load(name_or_path: str | Path, set: Mapping[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario: a preset by name, or a TOML file, with optional changes.

    Parameters
    ----------
    name_or_path : str or Path
        A preset name such as ``"tarlatamab_outpatient"`` (see :func:`presets`) or a path to a file.
    set : dict, optional
        Dotted fields and values, e.g. ``{"capacity.observation_beds": 5, "drug.crs.rate": 0.45}``,
        validated exactly like ``python -m sim run --set`` (a number over a sourced value becomes an
        unverified user override; ``drug.profile`` selects another toxicity profile).

    Returns
    -------
    Scenario
        Frozen and validated.

    Raises
    ------
    ScenarioError, ScenarioErrors
        Naming the file, the field, the value and what is allowed.
    UsageError
        For a ``set`` that is not a dict of dotted fields.
    """
    if not isinstance(name_or_path, (str, Path)):
        raise UsageError(f"name_or_path = {name_or_path!r}; allowed: a preset name or a path to a scenario file")
    items = changes.set_items(set)
    try:
        return loader.load(name_or_path, items)
    except ScenarioError as exc:
        raise changes.reworded(exc) from None
    except ScenarioErrors as exc:
        raise ScenarioErrors([changes.reworded(e) for e in exc.errors]) from None


def loads(text: str, where: str = "text", base_dir: Path | None = None) -> Scenario:
    """Load a scenario from TOML text; ``extends`` and drug files resolve inside ``base_dir``
    (default ``scenarios/``), which the text cannot leave."""
    if not isinstance(text, str):
        raise UsageError(f"text = {type(text).__name__}; allowed: scenario TOML as a str")
    return loader.loads(text, where=where, base_dir=base_dir)
