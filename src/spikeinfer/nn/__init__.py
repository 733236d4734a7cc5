"""Torch modules, each configured by a frozen dataclass, and the CPU setting they run under.

Every network maps ``(batch, channels_in, time)`` to ``(batch, time)`` expected
spikes per frame, keeps the time length (inputs are padded by half the
receptive field), and can be applied to a whole trace in one pass.
"""

from .networks import (
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
                       derivative_features,
)
from .runtime import flush_denormals

__all__ = ["NETWORK_FPS", "NETWORKS", "AttendedConfig", "AttendedNet", "Conv16Config", "Conv16Net",
           "DefaultConfig", "DefaultNet", "ElephantConfig", "ElephantNet", "derivative_features",
           "flush_denormals"]
