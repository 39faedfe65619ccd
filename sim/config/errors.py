"""The errors a user sees for bad input: a bad scenario (:class:`ScenarioError`, :class:`ScenarioErrors`)
and a bad argument to a library function (:class:`UsageError`)."""

from __future__ import annotations


class ScenarioError(Exception):
    """Bad input: names where it came from, the field, the value and what is allowed.

    Parameters
    ----------
    where : str
        The file (or "--set", or "upload") the bad value came from.
    field : str
        Dotted path of the field, e.g. ``capacity.chairs``.
    value : object
        The offending value (shown with ``repr``); ``None`` when the value is missing.
    allowed : str
        What would have been accepted.
    """

    def __init__(self, where: str, field: str, value: object, allowed: str):
        self.where = where
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(self.message)

    @property
    def message(self) -> str:
        shown = "" if self.value is _MISSING else f" = {self.value!r}"
        field = f"{self.field}{shown}: " if self.field else ""
        return f"{self.where}: {field}{self.allowed}"


class _Missing:
    def __repr__(self) -> str:  # pragma: no cover - never shown
        return "<missing>"


_MISSING = _Missing()
MISSING = _MISSING


class ScenarioErrors(Exception):
    """Several independent problems found in one input, each a :class:`ScenarioError`."""

    def __init__(self, errors: list[ScenarioError]):
        self.errors = errors
        super().__init__("\n".join(e.message for e in errors))


class UsageError(ValueError):
    """A library function called with an argument it does not accept.

    Raised for a replication count out of range, an unknown executor, resource or KPI, a malformed
    target, bounds that do not fit, and the like; the message names the argument, the value and what
    is allowed. A ``ValueError``, so code that caught those before keeps working. The command line
    turns it, like :class:`ScenarioError`, into one line and exit status 2; any other exception
    is a bug and surfaces as one.
    """
