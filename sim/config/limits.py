"""Bounds on what the loader reads, checked before anything is parsed.

These are not clinical or operational numbers (those live in data files): they are guards that keep
a wrong or hostile input (``/dev/zero`` as a scenario, a 100 MB description, a TOML file nested
5,000 deep) from exhausting memory, the recursion limit or the user's patience. Each is set well
above what any real scenario needs, so a legitimate file never meets it.
"""

from __future__ import annotations

MAX_FILE_BYTES = 1024 * 1024
"""Largest scenario, drug or uploaded TOML text, in bytes. The largest file in the library is a drug
file of ~12 KB; 1 MB leaves room for ~80 times that and still parses in well under a second."""

MAX_TEXT_CHARS = 10_000
"""Longest text value (a description, a source, a name), in characters. The longest in the library
is ~250; 10,000 is several pages. Every text is copied into each output and saved-run manifest."""

MAX_NESTING_DEPTH = 32
"""Deepest nesting of tables and arrays (and parts of a ``--set`` key). The library's deepest path is
6 levels (``drug.management.crs[1].next_dose_monitor_hours.value``). The TOML parser, the merge of
``extends`` and the validation all recurse once per level, so this keeps them far from Python's
recursion limit (1,000 frames), which a file nested 5,000 deep would otherwise hit."""
