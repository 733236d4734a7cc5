"""``spikeinfer demo``: simulate, predict, score and draw in one go."""

from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import SpikeinferError


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("spikeinfer_demo.png"),
              show_default=True, help="Figure to write.")
@click.option("--model", "model_name", default="default", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing figure.")
def demo(output, model_name, seed, force):
    """Simulate a 30 Hz GCaMP6s recording, predict its spikes, print the score, save a
    figure."""
    from ..evaluation import mean_scores, score_neurons
    from ..inference import predict_recording
    from ..io import TraceSource
    from ..models import load_model
    from ..plotting import plot_prediction
    from ..simulate import simulate_recording

    if output.exists() and not force:
        raise SpikeinferError(f"{output}: already exists; pass --force to overwrite")
    ts = simulate_recording(n_neurons=20, duration_s=300.0, fps=30.0, indicator="GCaMP6s",
                            random_state=seed)
    model = load_model(model_name)
    prediction = predict_recording(TraceSource.from_traceset(ts), model).spikes  # as predict
    means = mean_scores(score_neurons(prediction, ts.spike_counts(), ts.fps))
    click.echo(f"simulated {ts.n_neurons} neurons x {ts.n_frames / ts.fps:.0f} s at "
               f"{ts.fps:g} Hz; model {model_name}: correlation {means['corr']:.3f}, "
               f"AUC {means['auc']:.3f}, spike-count bias {means['bias']:+.2f}")
    click.echo("(the simulator's spikes are not calibrated to real ones: counts on them do not "
               "test the model's, see 'spikeinfer simulate --help')")
    plot_prediction(ts, prediction, output, force=force,
                    title=f"spikeinfer demo: model {model_name}, corr {means['corr']:.2f}")
    click.echo(f"figure: {output}")
