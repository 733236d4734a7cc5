"""Figures without pyplot: each is a ``matplotlib.figure.Figure`` saved through the
package's atomic writer, so that plotting never touches a user's matplotlib backend."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from matplotlib.figure import Figure
from PIL import Image

from ..io import write_atomically


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize=(6.0, 4.0), **subplots):
    """(figure, axes) as ``pyplot.subplots`` gives them, without pyplot."""
    figure = Figure(figsize=figsize)
    return figure, figure.subplots(nrows, ncols, **subplots)


def save_figure(figure: Figure, path, *, dpi: int = 110, force: bool = False,
                palette: bool = False) -> Path:
    """Write ``figure`` atomically; the format follows the suffix (``.png``, ``.svg``,
    ``.pdf``). ``palette`` stores a PNG with 256 colours (noisy matrix images stay small)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".") or "png"

    def write(tmp):
        if palette and fmt == "png":
            buffer = BytesIO()
            figure.savefig(buffer, dpi=dpi, format="png")
            buffer.seek(0)
            with Image.open(buffer) as image:
                image.convert("RGB").quantize(256).save(tmp, format="PNG", optimize=True)
        else:
            figure.savefig(tmp, dpi=dpi, format=fmt)

    write_atomically(path, write, force=force)
    return path
