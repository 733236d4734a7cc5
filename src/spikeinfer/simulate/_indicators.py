"""Indicator presets: kernel, amplitude, saturation and noise fitted to ground truth.

The table is ``indicators.json`` beside this module, written by
``spikeinfer indicators fit`` (see :func:`spikeinfer.simulate.fit_indicator_table`).
"""

from __future__ import annotations

import json
from importlib import resources

from ..exceptions import InputError
from ..io import INDICATORS, normalise_indicator_name

PRESET_FILE = "indicators.json"
def load_indicator_table(path=None) -> dict:
    """The fitted table: ``{"indicators": {name: preset}, "datasets": [...], ...}``.

    Parameters
    ----------
    path : str or Path, default=None
        A table written by ``spikeinfer indicators fit``; the packaged one if omitted.
    """
    try:
        if path is None:
            text = resources.files(__package__).joinpath(PRESET_FILE).read_text()
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        table = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path or PRESET_FILE}: not a readable indicator table "
                         f"({type(err).__name__}: {err})") from None
    if not isinstance(table, dict) or not isinstance(table.get("indicators"), dict):
        raise InputError(f"{path or PRESET_FILE}: no 'indicators' presets in this file")
    return table


def get_indicator_preset(name: str, table: dict | None = None) -> dict:
    """Simulation parameters of one indicator: ``tau_rise_s``, ``tau_decay_s``,
    ``amplitude`` (peak dF/F of one spike) and ``saturation`` (dF/F, None if linear).

    The table also holds each indicator's ground-truth noise level, which is not used
    here: noise belongs to the recording, not to the indicator."""
    presets = (table or load_indicator_table())["indicators"]
    canonical = normalise_indicator_name(str(name))
    if canonical not in presets:
        raise InputError(f"indicator {name!r} has no preset; choose from "
                         f"{', '.join(presets)}")
    preset = presets[canonical]
    return {key: preset[key] for key in ("tau_rise_s", "tau_decay_s", "amplitude", "saturation")}
