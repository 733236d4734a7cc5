"""spikeinfer: spike inference from calcium-imaging fluorescence traces."""

from .exceptions import DataWarning, InputError, NotFittedError, SpikeinferError

__all__ = ["TraceSet", "DataWarning", "InputError", "NotFittedError", "SpikeinferError",
           "__version__"]


def __getattr__(name):
    # Loaded when first asked for (TraceSet needs scipy, the version importlib.metadata:
    # seconds), so that the command line starts at once and handles Ctrl-C from the start.
    if name == "TraceSet":
        from .data import TraceSet

        return TraceSet
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("spikeinfer")
        except PackageNotFoundError:  # running from a source tree that is not installed
            return "0.0.0"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
