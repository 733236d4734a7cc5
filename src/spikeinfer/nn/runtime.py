"""CPU settings for running the networks."""

from contextlib import contextmanager

import torch


@contextmanager
def flush_denormals():
    """Treat denormal floats as zero inside the block (near-zero rates otherwise slow the
    CPU many-fold), restoring torch's default afterwards: it is process-wide state."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
