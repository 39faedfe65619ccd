"""Named random streams: one ``SeedSequence`` per run, one child per replication, one grandchild per name.

Replication ``r`` of a run with seed ``s`` is ``SeedSequence(s, spawn_key=(r,))``, exactly the
``r``-th child that ``SeedSequence(s).spawn`` would give, built directly so a replication needs no
siblings (serial, parallel and distributed runs draw the same numbers). Names only ever get
appended, so adding a stream never changes the draws of an existing one.

In a centre (``[programmes.<name>]``) each programme's patients draw from their own branch,
``SeedSequence(s, spawn_key=(r, PROGRAMME_BRANCH, key(name)))``, named by the programme and not by
its place in the file: a programme's patients are the same whether or not other programmes are in
the scenario (common random numbers across centre designs). What the programmes share (the
pharmacy's lead times, other services' tocilizumab and admissions) draws from the replication's own
streams, as a single-drug scenario does.
"""

from __future__ import annotations

import hashlib

import numpy as np

STREAMS = (
    "arrivals", "weight", "eligibility", "risk_factors", "therapy",
    "crs_patient", "crs_dose", "crs_grade", "crs_onset", "crs_duration",
    "icans_patient", "icans_dose", "icans_grade", "icans_onset", "icans_duration",
    "toci", "pharmacy_lead", "background_times", "background_weight", "parameters",
    "prevalent", "crs_recurrence", "effect_parameters", "other_admissions", "other_toci",
    "other_toci_repeats",
)


def replication_streams(seed: int, replication: int) -> dict[str, np.random.Generator]:
    """Independent generators, one per name, for one replication."""
    return _named(np.random.SeedSequence(seed, spawn_key=(replication,)))


def _named(parent: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, parent.spawn(len(STREAMS)))}


# Far above any index ``SeedSequence.spawn`` gives a replication's own streams, so no branch meets one.
PROGRAMME_BRANCH = 2**31


def programme_key(name: str) -> int:
    """A programme's name as a spawn-key word: the first 8 bytes of its SHA-256 (stable across runs and machines)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")


def programme_streams(seed: int, replication: int, name: str) -> dict[str, np.random.Generator]:
    """The streams of programme ``name``'s patients in one replication: as :func:`replication_streams`,
    on the programme's own branch."""
    return _named(np.random.SeedSequence(seed, spawn_key=(replication, PROGRAMME_BRANCH, programme_key(name))))
