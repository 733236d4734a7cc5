"""Atomic writing: a file appears complete under its name, or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..exceptions import InputError


def write_atomically(path: Path, write: Callable[[Path], None], force: bool = False) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    Refuses an existing ``path`` unless ``force``; on any error the temporary
    file is removed and nothing is left at ``path``.
    """
    path = Path(path)
    if path.exists() and not force:
        raise InputError(f"{path}: already exists; pass --force to overwrite")
    if not path.parent.is_dir():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
