"""A scenario with a few fields changed: the points that sizing, stock curves and sensitivity run.

Every analysis starts from a validated :class:`~sim.config.scenario.Scenario` and asks for variants of
it, e.g. ``{"capacity.observation_beds": 5}``. A variant is the scenario's resolved form with the
changes merged in exactly as ``--set`` merges them into a file (a plain number over a sourced value
becomes an unverified user override), validated again, so a variant can never hold a value the
scenario file could not.
"""

from __future__ import annotations

from typing import Any, Mapping

from sim.config import loader
from sim.config.errors import ScenarioError, UsageError
from sim.config.scenario import Scenario


def _tree(changes: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``{"a.b": 1, "a.c": 2}`` -> ``{"a": {"b": 1, "c": 2}}``, refusing a key set both as a value and a table."""
    tree: dict[str, Any] = {}
    for key, value in changes.items():
        parts = str(key).split(".")
        if not key or any(not p for p in parts):
            raise ScenarioError(where, str(key), value, "expected a dotted field name such as capacity.chairs")
        node = tree
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ScenarioError(where, str(key), value, f"'{p}' is set both as a value and as a table")
        node[parts[-1]] = value
    return tree


def vary(scenario: Scenario, changes: Mapping[str, Any], where: str | None = None) -> Scenario:
    """The scenario with ``changes`` (``{dotted field: value}``) applied and validated like ``--set``.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario to start from.
    changes : mapping
        E.g. ``{"capacity.observation_beds": 5, "drug.crs.rate": 0.45}``; empty returns ``scenario``.
    where : str, optional
        What the changes are, for error messages (default: the scenario's name and the changes).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError, ScenarioErrors
        For an unknown field or a value the field does not allow.
    """
    if not isinstance(scenario, Scenario):
        raise UsageError(f"scenario = {type(scenario).__name__}; allowed: a Scenario, e.g. from sim.load(...)")
    if not changes:
        return scenario
    # A resolved scenario holds one toxicity profile of its drug file, not the file itself, so these
    # cannot be re-resolved here; the loader can (sim.load(..., set=...)).
    reloaded = [k for k in changes if str(k).split(".")[0] == "extends" or str(k) in ("drug.file", "drug.profile")]
    if reloaded:
        raise UsageError(f"{reloaded[0]} cannot be changed on a loaded scenario; allowed: load it again with "
                         f"sim.load(name_or_path, set={{{reloaded[0]!r}: ...}})")
    if where is None:
        shown = ", ".join(f"{k} = {v!r}" for k, v in changes.items())
        where = f"scenario {scenario.name!r} with {shown}"
    data = loader.resolve(loader.plain(scenario), where, _tree(changes, where))
    return loader.validate(data, where)
