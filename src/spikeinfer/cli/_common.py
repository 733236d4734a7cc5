"""Helpers that several commands share."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

import click
import numpy as np

from ..exceptions import SpikeinferError

#: What ``--model`` of ``train`` and ``benchmark cv`` can build (checked by
#: :func:`spikeinfer.models.make_estimator`).
ESTIMATOR_NAMES = ("oasis", "default", "elephant", "attended", "conv16")


def _num(value):
    return None if not np.isfinite(value) else float(value)


def _finite(doc):
    """JSON-ready copy: NaN (an undefined score) becomes null, numpy numbers become floats."""
    if isinstance(doc, dict):
        return {k: _finite(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [_finite(v) for v in doc]
    if isinstance(doc, (float, np.floating)):
        return _num(doc)
    if isinstance(doc, np.integer):
        return int(doc)
    return doc



def _json_params(items) -> dict:
    """``NAME=VALUE`` options (JSON values) as a dict."""
    params = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            raise SpikeinferError(f"--param {item}: value is not JSON (e.g. 0.05, null)") from None
    return params


def _json_out(result, output: Path | None):
    """Print JSON, or write it atomically to ``output``."""
    from ..io import write_atomically

    text = json.dumps(_finite(result), indent=2)
    if output is None:
        click.echo(text)
    else:
        write_atomically(output, lambda tmp: tmp.write_text(text), force=True)


def data_option(help_text: str):
    """``--data DIR``, defaulting to the ground truth ``spikeinfer data`` fetched (see
    :func:`ground_truth_dir`)."""
    return click.option(
        "--data", "data_dir", type=click.Path(path_type=Path), default=None,
        help=f"{help_text} [default: $SPIKEINFER_DATA, else the user cache that "
             "'spikeinfer data' fills, else ../shared/data beside a repository checkout]")


def ground_truth_dir(data_dir: Path | None) -> Path:
    """The folder given with ``--data``, else the default one; one line saying where it
    looked and to run ``spikeinfer data`` when there is none."""
    from ..io import default_data_dir

    return default_data_dir() if data_dir is None else data_dir


def show_progress() -> bool:
    """Progress bars only on a terminal: in a log they are noise that the next line sticks
    to."""
    return sys.stderr.isatty()


@contextmanager
def naming(where: str):
    """The package's errors raised inside, prefixed with ``where`` (the files they concern)."""
    try:
        yield
    except SpikeinferError as err:
        raise type(err)(f"{where}: {err}") from None
