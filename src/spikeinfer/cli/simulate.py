"""``spikeinfer simulate`` and ``spikeinfer indicators``: simulated recordings and the
indicator presets they use."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import numpy as np

from ..exceptions import SpikeinferError
from ..simulate import SIMULATION_FORMATS, SPIKE_PATTERNS
from ._common import _finite, data_option, ground_truth_dir


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Traces file: N.calcium.csv (Spikefinder, 100 Hz; spikes in N.spikes.csv), "
              "OUT.npy or OUT.h5 (spikes per frame in OUT.truth.npy / OUT.truth.h5).")
@click.option("--indicator", help="Preset fitted to ground truth (see 'spikeinfer indicators "
              "list'); without it rise 0.05 s, decay 0.8 s, amplitude 0.5, linear.")
@click.option("--neurons", "n_neurons", type=int, default=10, show_default=True)
@click.option("--duration", "duration_s", type=float, default=120.0, show_default=True,
              help="Seconds.")
@click.option("--fps", type=float, default=30.0, show_default=True, help="Frame rate in Hz.")
@click.option("--noise", "noise_level", type=float, default=2.0, show_default=True,
              help="CASCADE noise level nu of every trace.")
@click.option("--rate", "rate_hz", type=float, default=0.5, show_default=True,
              help="Mean firing rate (Hz).")
@click.option("--spikes", "spike_pattern", type=click.Choice(SPIKE_PATTERNS), default="poisson",
              show_default=True, help="Poisson spikes, or Poisson bursts of 3 spikes on average.")
@click.option("--amplitude-cv", type=float, default=0.0, show_default=True,
              help="Coefficient of variation of each spike's amplitude.")
@click.option("--drift", "drift_dff", type=float, default=0.0, show_default=True,
              help="Std of a slow baseline drift (dF/F).")
@click.option("--neuropil", type=float, default=0.0, show_default=True,
              help="Coefficient of a neuropil background shared by all neurons.")
@click.option("--shot-noise", type=float, default=0.0, show_default=True,
              help="Fraction of the noise variance that grows like sqrt(1 + dF/F).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(SIMULATION_FORMATS), default="auto",
              show_default=True)
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
def simulate(output, indicator, n_neurons, duration_s, fps, noise_level, rate_hz, spike_pattern,
             amplitude_cv, drift_dff, neuropil, shot_noise, seed, fmt, force):
    """Simulate a recording with its true spikes (training or test data).

    \b
    The presets are linear: every simulated spike is as large as the average spike of
    the preset's ground truth, bursts included (real isolated spikes of GCaMP6, GCaMP7f
    and GCaMP5k are 0.1-0.4 of that). The default model's counts are not calibrated on
    them: at 30 Hz and
    nu 2 it predicts 5.3x the true count on the generic indicator, 1.9-4.8x on the GCaMP,
    Cal-520 and XCaMP presets, 0.9-1.0x on jRCaMP1a and jRGECO1a, and 0.2-0.3x on OGB-1
    and R-CaMP (whose spikes are near the noise). Use simulated recordings to test
    timing and correlation, not absolute counts.
    """
    from ..signals import check_fps
    from ..simulate import save_simulation, simulate_recording, simulation_paths

    fps = check_fps(fps, "--fps: ")
    checks = [("--neurons", n_neurons, n_neurons >= 1, "at least 1"),
              ("--duration", duration_s, np.isfinite(duration_s) and duration_s * fps >= 2,
               "at least 2 frames long"),
              ("--rate", rate_hz, np.isfinite(rate_hz) and rate_hz >= 0, "at least 0"),
              ("--noise", noise_level, np.isfinite(noise_level) and noise_level >= 0,
               "at least 0"),
              ("--amplitude-cv", amplitude_cv, np.isfinite(amplitude_cv) and amplitude_cv >= 0,
               "at least 0"),
              ("--drift", drift_dff, np.isfinite(drift_dff) and drift_dff >= 0, "at least 0"),
              ("--neuropil", neuropil, np.isfinite(neuropil) and neuropil >= 0, "at least 0"),
              ("--shot-noise", shot_noise, 0 <= shot_noise <= 1, "between 0 and 1")]
    for option, value, ok, requirement in checks:
        if not ok:
            raise SpikeinferError(f"{option} {value:g}: must be {requirement}")
    if simulation_paths(output, fmt)[0] == "spikefinder" and fps != 100:
        raise SpikeinferError(f"{output}: Spikefinder files are at 100 Hz; pass --fps 100 "
                              "or write .npy or .h5")
    ts = simulate_recording(n_neurons, duration_s, fps, rate_hz=rate_hz, indicator=indicator,
                            noise_level=noise_level, amplitude_cv=amplitude_cv,
                            drift_dff=drift_dff, neuropil=neuropil, shot_noise=shot_noise,
                            spike_pattern=spike_pattern, random_state=seed)
    traces_path, truth_path = save_simulation(output, ts, fmt, force=force)
    params = ts.meta["simulation"]
    click.echo(f"simulated {ts.n_neurons} neurons x {duration_s:g} s at {fps:g} Hz "
               f"({indicator or 'generic kinetics'}, nu {params['noise_level']:.2f}), "
               f"{sum(s.size for s in ts.spike_times)} spikes -> {traces_path}, {truth_path}")


@click.group()
def indicators():
    """Indicator presets of the simulator, fitted to ground truth."""


@indicators.command("list")
@click.option("--table", "table_path", type=click.Path(path_type=Path),
              help="A table written by 'spikeinfer indicators fit' (default: the shipped one).")
@click.option("--datasets", "with_datasets", is_flag=True, help="Also show every dataset's fit.")
@click.option("--json", "as_json", is_flag=True)
def indicators_list(table_path, with_datasets, as_json):
    """Show the presets: kinetics, amplitude, saturation, noise level, fit quality."""
    from ..simulate import format_indicator_table, load_indicator_table

    table = load_indicator_table(table_path)
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    text = format_indicator_table(table)
    click.echo(text if with_datasets else text.split("\n\n")[0])


@indicators.command("fit")
@data_option("Folder with cascade_gt/ and spikefinder/ (set 4 is added).")
@click.option("--fps", type=float, default=30.0, show_default=True,
              help="Every recording is resampled to this rate before fitting.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="JSON table to write (the shipped one: src/spikeinfer/simulate/indicators.json).")
@click.option("--force", is_flag=True, help="Overwrite an existing table.")
def indicators_fit(data_dir, fps, output, force):
    """Fit kinetics, amplitude and saturation per ground-truth dataset; presets per indicator."""
    import shlex
    import time

    from ..signals import check_fps
    from ..io import load_ground_truth
    from ..io import write_atomically
    from ..simulate import fit_indicator_table, format_indicator_table

    fps = check_fps(fps, "--fps: ")
    if output.exists() and not force:
        raise SpikeinferError(f"{output}: already exists; pass --force to overwrite")
    start = time.perf_counter()
    data = load_ground_truth(ground_truth_dir(data_dir))
    table = fit_indicator_table(data, fps)
    seconds = time.perf_counter() - start
    table = {"command": "spikeinfer " + shlex.join(sys.argv[1:]), "seconds": round(seconds),
             **table}
    text = json.dumps(_finite(table), indent=1)
    write_atomically(output, lambda tmp: tmp.write_text(text + "\n"), force=force)
    click.echo(format_indicator_table(table))
    click.echo(f"fitted {len(table['datasets'])} datasets in {seconds:.0f} s -> {output}")
