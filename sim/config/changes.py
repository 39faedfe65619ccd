"""A library caller's ``set=`` changes, as the loader's ``--set`` items.

``sim.load(name, set={"capacity.chairs": 8})`` validates its changes exactly as ``python -m sim run
--set capacity.chairs=8`` does, so each change is written as the same ``KEY=VALUE`` item and the loader
parses it; the loader's messages, worded for ``--set``, are reworded for ``set=``.
"""

from __future__ import annotations

from typing import Any, Mapping

from sim.config.errors import ScenarioError, UsageError


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


def set_items(changes: Mapping[str, Any] | None) -> list[str]:
    """``changes`` (dotted field -> value, or nested tables) as ``KEY=VALUE`` items for :func:`sim.config.loader.load`."""
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


def reworded(exc: ScenarioError) -> ScenarioError:
    """``exc`` as a ``set=`` caller reads it: the loader words overrides as the CLI's ``--set``; a library caller passed ``set=``."""
    where = exc.where.replace(" with --set", " with the set= changes").replace("--set", "set=")
    return ScenarioError(where, exc.field, exc.value, exc.allowed)
