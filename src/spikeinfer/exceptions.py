"""The package's own error types.

Every error a user can cause with their data or arguments derives from
:class:`SpikeinferError`, so that the command line can report it as one line.
"""


class SpikeinferError(Exception):
    """Base class of all errors raised by spikeinfer on bad input."""


class InputError(SpikeinferError, ValueError):
    """A data file or array cannot be used: wrong format, shape, values or frame rate."""


class NotFittedError(SpikeinferError, AttributeError):
    """A model was used before being fitted or loaded."""


class DataWarning(UserWarning):
    """A data file has an irregularity that was repaired or skipped while loading."""
