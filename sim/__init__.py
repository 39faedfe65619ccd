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

See ``docs/api.md`` for a session. Importing ``sim`` never imports Altair, Streamlit or Dask.
"""

__version__ = "0.1.0"   # first: submodules import it while this package is still initialising

from pathlib import Path
from typing import Any, Mapping

from sim.analysis.compare import Comparison
from sim.analysis.compare import compare_scenarios as compare
from sim.analysis.runner import EXECUTORS, RunResult, run
from sim.analysis.sensitivity import sensitivity
from sim.analysis.sizing import SizingResult, Target, size
from sim.analysis.stock import stock_curve
from sim.analysis.variants import vary
from sim.analysis.warmup import WarmupResult, warmup
from sim.config import loader
from sim.config.errors import MISSING, ScenarioError, ScenarioErrors, UsageError
from sim.config.scenario import Scenario

__all__ = [
    "__version__", "load", "loads", "presets", "vary", "run", "compare", "size", "stock_curve", "sensitivity",
    "warmup", "Scenario", "RunResult", "Comparison", "SizingResult", "Target", "WarmupResult", "EXECUTORS",
    "ScenarioError", "ScenarioErrors", "UsageError",
]


def presets() -> list[str]:
    """Names of the preset scenarios in ``scenarios/`` (``base.toml`` is a building block, not a preset)."""
    return sorted(p.stem for p in loader.SCENARIO_DIR.glob("*.toml") if p.stem != "base")


def _path_of(name_or_path: str | Path) -> Path:
    """A preset name (``"tarlatamab_outpatient"``) or a path to a scenario file."""
    if isinstance(name_or_path, Path):
        return name_or_path
    if not isinstance(name_or_path, str):
        raise UsageError(f"name_or_path = {name_or_path!r}; allowed: a preset name or a path to a scenario file")
    if "/" in name_or_path or "\\" in name_or_path or name_or_path.endswith(".toml"):
        return Path(name_or_path)
    path = loader.SCENARIO_DIR / f"{name_or_path}.toml"
    if name_or_path == "base" or not path.exists():
        raise ScenarioError(name_or_path, "", MISSING, f"no preset of that name; allowed: {', '.join(presets())}, "
                            "or a path to a scenario file")
    return path


def _literal(key: str, value: Any) -> list[str]:
    """``KEY=VALUE`` items as ``--set`` takes them, the value written as a TOML literal (tables as dotted keys)."""
    import tomli_w

    if isinstance(value, Mapping):
        return [item for k, v in value.items() for item in _literal(f"{key}.{k}", v)]
    if value is None:
        raise UsageError(f"set[{key!r}] = None; allowed: a value (leave the key out to keep the scenario's)")
    try:
        text = tomli_w.dumps({"v": value})
    except TypeError:
        raise UsageError(f"set[{key!r}] = {value!r}; allowed: a number, text, true/false or a list") from None
    return [f"{key}={text.removeprefix('v = ').strip()}"]


def _set_items(changes: Mapping[str, Any] | None) -> list[str]:
    if changes is None:
        return []
    if not isinstance(changes, Mapping):
        raise UsageError(f"set = {changes!r}; allowed: a dict of dotted fields, e.g. {{'capacity.chairs': 8}}")
    items = []
    for key, value in changes.items():
        if not isinstance(key, str) or not key or "=" in key or any(not p.strip() for p in key.split(".")):
            raise UsageError(f"set key {key!r}; allowed: a dotted field name such as 'capacity.chairs'")
        items.extend(_literal(key.strip(), value))
    return items


def _reworded(exc: ScenarioError) -> ScenarioError:
    """The loader words overrides as the CLI's ``--set``; a library caller passed ``set=``."""
    where = exc.where.replace(" with --set", " with the set= changes").replace("--set", "set=")
    return ScenarioError(where, exc.field, exc.value, exc.allowed)


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
    path = _path_of(name_or_path)
    items = _set_items(set)
    try:
        return loader.load(path, items)
    except ScenarioError as exc:
        raise _reworded(exc) from None
    except ScenarioErrors as exc:
        raise ScenarioErrors([_reworded(e) for e in exc.errors]) from None


def loads(text: str, where: str = "text", base_dir: Path | None = None) -> Scenario:
    """Load a scenario from TOML text; ``extends`` and drug files resolve inside ``base_dir``
    (default ``scenarios/``), which the text cannot leave."""
    if not isinstance(text, str):
        raise UsageError(f"text = {type(text).__name__}; allowed: scenario TOML as a str")
    return loader.loads(text, where=where, base_dir=base_dir)
