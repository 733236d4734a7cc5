"""``spikeinfer models``: the shipped models."""

from __future__ import annotations

import click


@click.command("models")
def models_cmd():
    """List the shipped models."""
    from ..models import list_models, read_card

    for name in list_models():
        doc = read_card(name)
        card = doc["card"]
        kind = doc["params"].get("network", card["architecture"])
        fps = "runs at any rate" if not card.get("fps") else f"runs at {card['fps']:g} Hz"
        cv = card.get("scores", {}).get("cross_validation", {})
        score = (f"; grouped-CV corr {cv['native']:.3f} native, {cv['degraded']:.3f} degraded"
                 if cv else "")
        click.echo(f"{name}: {kind}, {fps}, {len(card.get('training_data', []))} training "
                   f"datasets{score}")
