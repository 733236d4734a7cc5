"""spikeinfer: spike inference from calcium-imaging fluorescence traces."""

from importlib.metadata import PackageNotFoundError, version

from .data import TraceSet
from .exceptions import DataWarning, InputError, NotFittedError, SpikeinferError

try:
    __version__ = version("spikeinfer")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["TraceSet", "DataWarning", "InputError", "NotFittedError", "SpikeinferError",
           "__version__"]
