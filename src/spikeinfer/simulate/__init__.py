"""Forward model: spike trains -> calcium -> fluorescence (dF/F) with noise.

Spikes (Poisson, bursty, or given, e.g. real ground truth) -> double-exponential
calcium evaluated at exact spike times (any frame rate) -> per-spike amplitude
variability -> saturation -> slow drift -> neuropil -> shot-like and Gaussian noise at
a CASCADE noise level. Indicator presets are fitted to the ground truth
(``indicators.json``, ``spikeinfer indicators fit``).
"""

from ._fit import fit_indicator_table, fit_kernel, format_indicator_table
from ._forward import (
    apply_saturation,
    compute_calcium,
    double_exponential_kernel,
    simulate_fluorescence,
    simulate_recording,
)
from ._indicators import get_indicator_preset, load_indicator_table
from ._save import SIMULATION_FORMATS, save_simulation, simulation_paths
from ._spikes import SPIKE_PATTERNS, simulate_spike_times

__all__ = ["SIMULATION_FORMATS", "SPIKE_PATTERNS", "apply_saturation",
           "compute_calcium", "double_exponential_kernel", "fit_indicator_table", "fit_kernel",
           "format_indicator_table", "get_indicator_preset", "load_indicator_table",
           "save_simulation",
           "simulate_fluorescence", "simulate_recording", "simulate_spike_times",
           "simulation_paths"]
