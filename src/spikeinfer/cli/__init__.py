"""Command line: ``spikeinfer predict | evaluate | benchmark | train | adapt | data | models
| demo | plot | simulate | indicators | generative | embedding``.

One module per command group; this one holds the entry point and turns the package's
errors and warnings into one line each on stderr. Each command imports what it needs when
it runs, so that ``spikeinfer --help`` starts without loading torch.
"""

from __future__ import annotations

import sys

#: Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130
INTERRUPTED_MESSAGE = "spikeinfer: interrupted"

try:  # the libraries take seconds to import: Ctrl-C then too gives one line, no traceback
    import logging
    import warnings

    import click
    from tqdm import tqdm

    from ..exceptions import SpikeinferError
    from . import benchmark, data, demo, embedding, evaluate, generative, models, plot, predict
    from . import simulate, train
    from ._common import show_progress
except KeyboardInterrupt:
    print(INTERRUPTED_MESSAGE, file=sys.stderr)
    raise SystemExit(INTERRUPTED) from None


def _show_warning(message, category, filename, lineno, file=None, line=None):
    with tqdm.external_write_mode(file=sys.stderr):  # on its own line, not on a bar's
        click.echo(f"spikeinfer: warning: {message}", err=True)


class _Group(click.Group):
    """Turns the package's errors into one line on stderr and exit code 2, and Ctrl-C
    into one line and exit code 130 (``predict`` keeps its finished chunks for
    ``--resume``)."""

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
        except KeyboardInterrupt:
            # on a terminal, after the "^C" it echoes or an open progress bar
            click.echo(("\n" if show_progress() else "") + INTERRUPTED_MESSAGE, err=True)
            sys.exit(INTERRUPTED)


@click.group(cls=_Group)
@click.version_option(package_name="spikeinfer")
def main():
    """Infer spikes from calcium-imaging fluorescence traces."""


for command in (predict.predict, evaluate.evaluate, benchmark.benchmark, models.models_cmd,
                plot.plot, demo.demo, train.train, train.adapt, data.data, simulate.simulate,
                simulate.indicators, generative.generative, embedding.embedding):
    main.add_command(command)
