"""Torch modules, each configured by a frozen dataclass, and the CPU setting they run under.

Every spike network maps ``(batch, channels_in, time)`` to ``(batch, time)`` expected
spikes per frame, keeps the time length (inputs are padded by half the
receptive field), and can be applied to a whole trace in one pass. The generative
models' networks (seed 001) are in :mod:`spikeinfer.nn.generative`.
"""

from .networks import (
    MEDIAN_ABS_DIFF,
    NETWORK_FPS,
    NETWORKS,
    AttendedConfig,
    AttendedNet,
    Conv16Config,
    Conv16Net,
    DefaultConfig,
    DefaultNet,
    ElephantConfig,
    ElephantNet,
    TinyCNN,
    TinyCNNConfig,
    derivative_features,
    noise_scale,
    noise_units,
)
from .runtime import flush_denormals

__all__ = ["MEDIAN_ABS_DIFF", "NETWORK_FPS", "NETWORKS", "AttendedConfig", "AttendedNet",
           "Conv16Config", "Conv16Net", "DefaultConfig", "DefaultNet", "ElephantConfig",
           "ElephantNet", "TinyCNN", "TinyCNNConfig", "derivative_features", "flush_denormals",
           "noise_scale", "noise_units"]
