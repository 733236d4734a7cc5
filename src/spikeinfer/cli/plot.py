"""``spikeinfer plot``: a figure of a prediction."""

from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import SpikeinferError


@click.command()
@click.argument("prediction_path", metavar="PREDICTION", type=click.Path(path_type=Path))
@click.option("--input", "input_path", type=click.Path(path_type=Path),
              help="The traces predicted (and their ground truth, where they have one).")
@click.option("--fps", type=float, help="Frame rate of --input, where its format has none.")
@click.option("--neurons", help="Comma-separated rows to draw, e.g. 0,3,7 (default: 0,1,2).")
@click.option("--start", "start_s", type=float, default=0.0, show_default=True, help="Seconds.")
@click.option("--duration", "duration_s", type=float, default=60.0, show_default=True,
              help="Seconds.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Figure: .png, .svg or .pdf.")
@click.option("--force", is_flag=True, help="Overwrite an existing figure.")
def plot(prediction_path, input_path, fps, neurons, start_s, duration_s, output, force):
    """Draw a prediction: traces with inferred spikes, interval band and spike times, a
    raster and the population rate; true spikes beside them where INPUT has them."""
    from ..io import load_spikefinder, load_traces, read_prediction
    from ..plotting import plot_recording

    if output.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise SpikeinferError(f"{output}: figure must end in .png, .svg or .pdf")
    if output.exists() and not force:
        raise SpikeinferError(f"{output}: already exists; pass --force to overwrite")
    prediction = read_prediction(prediction_path)
    traces = None
    if input_path is not None:
        name = input_path.name.lower()
        traces = (load_spikefinder(input_path) if name.endswith(".calcium.csv") else
                  load_traces(input_path, fps=fps or prediction["fps"]))
        if traces.traces.shape != prediction["spikes"].shape:
            raise SpikeinferError(f"{input_path}: {traces.traces.shape} traces, but the "
                                  f"prediction is {prediction['spikes'].shape}")
    try:
        rows = [int(v) for v in neurons.split(",")] if neurons else None
    except ValueError:
        raise SpikeinferError(f"--neurons {neurons}: expected numbers like 0,3,7") from None
    plot_recording(prediction, output, traces, rows, start_s, duration_s, force=force)
    click.echo(f"figure: {output}")
