"""The smallest difference between strategies that matters, per KPI: defaults from ``matters.toml``.

A paired difference is *distinguishable* when its 95% CI excludes 0; it *matters* when the whole CI lies
beyond the threshold held here (a planning convention, see the file). :func:`threshold` gives each KPI's
default rule; :meth:`Threshold.amount` turns it into an amount in the KPI's raw unit for a given base mean.
Pure data and arithmetic: no pandas.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

from sim.config import registry

RULES = ("pp", "percent_of_base", "absolute")
# How a rule's number is named beside an input box.
RULE_UNITS = {"pp": "percentage points", "percent_of_base": "% of the base's mean"}


@dataclass(frozen=True)
class Threshold:
    """A minimum difference that matters: ``value`` read by ``rule`` (one of :data:`RULES`)."""

    value: float
    rule: str

    def amount(self, base_mean: float) -> float:
        """The threshold in the KPI's raw unit (a share as a fraction) for a base strategy's mean."""
        if self.rule == "pp":
            return self.value / 100.0
        if self.rule == "percent_of_base":
            return abs(float(base_mean)) * self.value / 100.0
        return self.value

    def unit(self, kpi: str, currency: str = "USD") -> str:
        """What ``value`` is counted in, for a label: "percentage points", "% of the base's mean" or the
        KPI's unit."""
        return RULE_UNITS.get(self.rule) or registry.kpi(kpi).unit.replace("{currency}", currency)


def _rule(entry: object, where: str, kind: str) -> Threshold:
    """One entry of matters.toml as a Threshold; ValueError naming the entry otherwise."""
    keys = list(entry) if isinstance(entry, dict) else []
    if len(keys) != 1 or keys[0] not in RULES:
        raise ValueError(f"matters.toml: {where} = {entry!r}; allowed: exactly one of {', '.join(RULES)}")
    rule, value = keys[0], entry[keys[0]]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"matters.toml: {where}.{rule} = {value!r}; allowed: a number >= 0")
    if rule == "pp" and kind != "share":
        raise ValueError(f"matters.toml: {where}.pp is for shares; {where} is a {kind}: "
                         "allowed: percent_of_base or absolute")
    return Threshold(float(value), rule)


@functools.cache
def _data() -> dict:
    return tomllib.loads(resources.files("sim.config").joinpath("matters.toml").read_text(encoding="utf-8"))


@functools.cache
def by_kind() -> dict[str, Threshold]:
    """The default threshold of each KPI kind (registry.KPI_KINDS)."""
    kinds = _data().get("kinds", {})
    missing = [k for k in registry.KPI_KINDS if k not in kinds]
    if missing:
        raise ValueError(f"matters.toml: [kinds] lacks {', '.join(missing)}; allowed: one entry per kind "
                         f"({', '.join(registry.KPI_KINDS)})")
    return {k: _rule(kinds[k], f"kinds.{k}", k) for k in registry.KPI_KINDS}


@functools.cache
def defaults() -> dict[str, Threshold]:
    """Every registry KPI's default threshold: its own entry in matters.toml, else its kind's."""
    own = _data().get("kpis", {})
    unknown = [k for k in own if k not in registry.KPI_NAMES]
    if unknown:
        raise ValueError(f"matters.toml: [kpis] names {', '.join(unknown)}; allowed: KPI names of "
                         "sim/config/registry.py")
    return {k.name: _rule(own[k.name], f"kpis.{k.name}", k.kind) if k.name in own else by_kind()[k.kind]
            for k in registry.KPIS}


def threshold(kpi: str) -> Threshold:
    """The default threshold of ``kpi``; a KPI outside the registry gets a count's."""
    return defaults().get(kpi) or by_kind()["count"]


def source() -> str:
    """Where the defaults come from (a planning convention), for a caption or report."""
    return str(_data()["source"])
