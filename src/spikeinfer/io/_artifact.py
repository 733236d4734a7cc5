"""Saved artifacts (spike models, generative models, embeddings): a folder with a JSON
document ``model.json`` and, for networks, ``weights.safetensors``.

The document says what it is (``kind``), carries its card, hyper-parameters and learned
values, and the sha256 of its weights file, which is checked on reading. Reading parses
JSON and safetensors only: nothing in an artifact is executed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from ..exceptions import InputError
from ._write import write_atomically

DOCUMENT = "model.json"
WEIGHTS = "weights.safetensors"
#: What an artifact can be.
ARTIFACT_KINDS = ("spike-model", "generative", "embedding")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _to_json(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in {DOCUMENT}")


def write_artifact(folder, document: dict, tensors: dict | None = None) -> Path:
    """Write ``document`` (with ``kind``) to ``folder/model.json`` and ``tensors`` (name ->
    torch tensor or array) to ``folder/weights.safetensors``, each atomically, the weights
    first so that the document can name their sha256."""
    if document.get("kind") not in ARTIFACT_KINDS:
        raise InputError(f"artifact kind must be one of {ARTIFACT_KINDS}, got {document.get('kind')!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    document = dict(document)
    if tensors is not None:
        write_atomically(folder / WEIGHTS, lambda tmp: _save_tensors(tensors, tmp), force=True)
        document["weights"] = {"file": WEIGHTS, "sha256": sha256_of(folder / WEIGHTS)}
    text = json.dumps(document, indent=2, default=_to_json)
    write_atomically(folder / DOCUMENT, lambda tmp: tmp.write_text(text + "\n"), force=True)
    return folder


def _save_tensors(tensors: dict, path: Path) -> None:
    arrays = {k: np.ascontiguousarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)
              for k, v in tensors.items()}
    save_file(arrays, str(path))


def read_artifact(folder, kind: str | None = None) -> tuple[dict, dict | None]:
    """The document of the artifact in ``folder`` and its weights (name -> array), None
    if it has none; raises InputError naming the file for anything unreadable, of
    another ``kind``, or whose weights do not match their recorded sha256. A document
    without ``kind`` (written before kinds existed) is a spike model."""
    folder = Path(folder)
    path = folder / DOCUMENT
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: not a readable model file ({type(err).__name__}: {err})"
                         ) from None
    if not isinstance(document, dict):
        raise InputError(f"{path}: expected a JSON object")
    found = document.setdefault("kind", "spike-model")
    if kind is not None and found != kind:
        raise InputError(f"{path}: holds a {found}, not a {kind}")
    weights = document.get("weights")
    if weights is None and (folder / WEIGHTS).is_file():
        weights = {"file": WEIGHTS}  # written before checksums were recorded
    if weights is None:
        return document, None
    file = folder / str(weights.get("file", WEIGHTS))
    if file.parent != folder or not file.is_file():
        raise InputError(f"{path}: weights file {weights.get('file')!r} not found beside it")
    expected = weights.get("sha256")
    if expected is not None and sha256_of(file) != expected:
        raise InputError(f"{file}: sha256 does not match the one recorded in {DOCUMENT} "
                         "(damaged or replaced)")
    try:
        return document, load_file(str(file))
    except (SafetensorError, OSError, ValueError) as err:
        raise InputError(f"{file}: not readable safetensors ({err})") from None
