"""Numbers that carry their source.

Every clinical or operational number in a data file is either a plain number (the user's own
input) or an inline table ``{ value = 0.57, source = "...", verified = true }``. A plain number
is accepted and recorded as unsourced, so the dashboard can flag it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from sim.config.units import HOURS_PER_YEAR

UNSOURCED = "not given (user input)"


class Frozen(BaseModel):
    """Base for every scenario object: immutable, and unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def none_stated() -> dict:
    """Default for a rule the source does not state (e.g. no minimum stay): zero, and not a guess."""
    return {"value": 0.0, "source": "none stated in the source", "verified": True}


class Sourced(Frozen):
    """A number with the publication (or reasoning) it comes from."""

    value: float
    source: str = Field(min_length=1)
    verified: bool = True
    note: str = ""

    def __float__(self) -> float:
        return float(self.value)


class SourcedVector(Frozen):
    """A short vector of numbers (a grade mix, a per-dose split) with its source."""

    value: tuple[float, ...] = Field(min_length=1)
    source: str = Field(min_length=1)
    verified: bool = True
    note: str = ""


def _wrap_plain(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return {"value": v, "source": UNSOURCED, "verified": False}
    if isinstance(v, (list, tuple)):
        return {"value": list(v), "source": UNSOURCED, "verified": False}
    return v


def _range_check(lo: float | None, hi: float | None, lo_open: bool, what: str):
    def check(s: Sourced) -> Sourced:
        v = s.value
        if not math.isfinite(v):
            raise ValueError(f"not a finite number; allowed: {what}")
        bad_lo = lo is not None and (v <= lo if lo_open else v < lo)
        bad_hi = hi is not None and v > hi
        if bad_lo or bad_hi:
            raise ValueError(f"allowed: {what}")
        return s

    return check


def sourced(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
            what: str = "") -> Any:
    """Annotated :class:`Sourced` type with a range check on its value."""
    if not what:
        left = "(" if lo_open else "["
        what = f"a number in {left}{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
    return Annotated[Sourced, BeforeValidator(_wrap_plain), AfterValidator(_range_check(lo, hi, lo_open, what))]


def _check_mix(s: SourcedVector) -> SourcedVector:
    if len(s.value) != 4:
        raise ValueError(f"has {len(s.value)} entries; allowed: 4 shares, for grades 1 to 4")
    if any((not math.isfinite(x)) or x < 0 or x > 1 for x in s.value):
        raise ValueError("has a share outside [0, 1]; allowed: 4 shares in [0, 1] summing to 1")
    total = sum(s.value)
    if abs(total - 1.0) > 1e-3:
        raise ValueError(f"sums to {total:.4f}; allowed: 4 shares summing to 1 (within 0.001)")
    return s


def _check_shares(s: SourcedVector) -> SourcedVector:
    if any((not math.isfinite(x)) or x < 0 or x > 1 for x in s.value):
        raise ValueError("has a share outside [0, 1]; allowed: shares in [0, 1]")
    if sum(s.value) < 1 - 1e-9:
        raise ValueError(
            f"sums to {sum(s.value):.3f}; allowed: shares of patients with the event "
            "after each dose, which must sum to at least 1 (every such patient has it after some dose)")
    return s


# Hours are bounded by a year: longer stays or waits describe no real pathway and would make the
# appointment book scan absurd spans.
MAX_HOURS = float(HOURS_PER_YEAR)
Probability = sourced(0, 1, what="a probability in [0, 1]")
PositiveHours = sourced(0, MAX_HOURS, lo_open=True, what="hours > 0 and at most 8760 (a year)")
NonNegHours = sourced(0, MAX_HOURS, what="hours from 0 to 8760 (a year)")
NonNeg = sourced(0, None, what="a number >= 0")
Positive = sourced(0, None, lo_open=True, what="a number > 0")
Spread = sourced(0, 5, what="a log-normal sigma in [0, 5]")
GradeMix = Annotated[SourcedVector, BeforeValidator(_wrap_plain), AfterValidator(_check_mix)]
DoseShares = Annotated[SourcedVector, BeforeValidator(_wrap_plain), AfterValidator(_check_shares)]


def walk(obj: Any, prefix: str = ""):
    """Yield ``(dotted_path, node)`` for every node of a model tree: models, sequences, tables and leaves
    (a sourced number is a leaf: its own fields are not walked)."""
    yield prefix, obj
    if isinstance(obj, (Sourced, SourcedVector)):
        return
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from walk(getattr(obj, name), f"{prefix}.{name}" if prefix else name)
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from walk(item, f"{prefix}[{i}]")
    elif isinstance(obj, dict):
        for k, item in obj.items():
            yield from walk(item, f"{prefix}.{k}" if prefix else str(k))


def iter_sourced(obj: Any, prefix: str = ""):
    """Yield ``(dotted_path, Sourced | SourcedVector)`` for every sourced number in a model tree."""
    for path, node in walk(obj, prefix):
        if isinstance(node, (Sourced, SourcedVector)):
            yield path, node


def iter_flags(obj: Any, prefix: str = ""):
    """Yield ``(dotted_path, verified)`` for every sourced number and every sourced record (a rule, a
    schedule block, a restart row: an object with its own ``source`` and ``verified``) in a model tree,
    so a count of unverified values also sees a rule that was recalled rather than read."""
    for path, node in walk(obj, prefix):
        if isinstance(node, (Sourced, SourcedVector)):
            yield path, node.verified
        elif isinstance(node, BaseModel) and {"source", "verified"} <= set(type(node).model_fields) \
                and isinstance(node.source, str) and node.source:
            yield path, bool(node.verified)
