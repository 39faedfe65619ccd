"""Named random streams: one ``SeedSequence`` per run, one child per replication, one grandchild per name.

Replication ``r`` of a run with seed ``s`` is ``SeedSequence(s, spawn_key=(r,))``, exactly the
``r``-th child that ``SeedSequence(s).spawn`` would give, built directly so a replication needs no
siblings (serial, parallel and distributed runs draw the same numbers). Names only ever get
appended, so adding a stream never changes the draws of an existing one.
"""

from __future__ import annotations

import numpy as np

STREAMS = (
    "arrivals", "weight", "eligibility", "risk_factors", "therapy",
    "crs_patient", "crs_dose", "crs_grade", "crs_onset", "crs_duration",
    "icans_patient", "icans_dose", "icans_grade", "icans_onset", "icans_duration",
    "toci", "pharmacy_lead", "background_times", "background_weight", "parameters",
    "prevalent", "crs_recurrence", "effect_parameters", "other_admissions",
)


def replication_streams(seed: int, replication: int) -> dict[str, np.random.Generator]:
    """Independent generators, one per name, for one replication."""
    rep = np.random.SeedSequence(seed, spawn_key=(replication,))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, rep.spawn(len(STREAMS)))}
