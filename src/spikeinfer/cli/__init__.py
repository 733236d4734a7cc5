"""Command line: ``spikeinfer predict | evaluate | benchmark | train | adapt | data | models
| demo | plot | simulate | indicators | generative | embedding``.

One module per command group; this one holds the entry point and turns the package's
errors and warnings into one line each on stderr. Each command imports what it needs when
it runs, so that ``spikeinfer --help`` starts without loading torch.
"""

from __future__ import annotations

import logging
import sys
import warnings

import click

from ..exceptions import SpikeinferError
from . import benchmark, data, demo, embedding, evaluate, generative, models, plot, predict
from . import simulate, train


def _show_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"spikeinfer: warning: {message}", err=True)


class _Group(click.Group):
    """Turns the package's errors into one line on stderr and exit code 2."""

    def invoke(self, ctx):
        warnings.showwarning = _show_warning
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
        try:
            return super().invoke(ctx)
        except SpikeinferError as err:
            click.echo(f"spikeinfer: error: {err}", err=True)
            sys.exit(2)
        except OSError as err:
            where = f"{err.filename}: " if err.filename else ""
            click.echo(f"spikeinfer: error: {where}{err.strerror or err}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="spikeinfer")
def main():
    """Infer spikes from calcium-imaging fluorescence traces."""


for command in (predict.predict, evaluate.evaluate, benchmark.benchmark, models.models_cmd,
                plot.plot, demo.demo, train.train, train.adapt, data.data, simulate.simulate,
                simulate.indicators, generative.generative, embedding.embedding):
    main.add_command(command)
