"""The ground-truth catalogue: which datasets exist, their indicator, cell type,
cross-validation group (datasets of the same neurons share one) and the fold each group
is held out in, read from ``groundtruth.json`` beside this module; and the indicator
names the package knows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

INDICATORS = ("GCaMP6f", "GCaMP6s", "GCaMP7f", "GCaMP8f", "GCaMP8s", "OGB-1", "GCaMP5k",
              "Cal-520", "R-CaMP", "jRCaMP1a", "jRGECO1a", "XCaMP")
# Spellings in CASCADE folder names that differ from the indicator's usual name.
_ALIASES = {"jgeco1a": "jRGECO1a", "xcampgf": "XCaMP"}
_KEYS = {re.sub(r"[^a-z0-9]", "", name.lower()): name for name in INDICATORS} | _ALIASES
#: Spikefinder training sets loaded with the CASCADE datasets by default: set 4 is the
#: only one whose neurons are in no CASCADE dataset.
DEFAULT_SPIKEFINDER_SETS = ("spikefinder-4",)


def normalise_indicator_name(name: str) -> str:
    """The usual spelling of an indicator name ('OGB1' -> 'OGB-1', 'jGECO1a' -> 'jRGECO1a');
    case, hyphens and spaces do not matter. Unknown names are returned unchanged."""
    return _KEYS.get(re.sub(r"[^a-z0-9]", "", name.lower()), name)


@dataclass(frozen=True)
class DatasetEntry:
    """One ground-truth dataset of the catalogue."""

    dataset: str
    indicator: str | None
    cell_type: str  # "excitatory" or "inhibitory"
    group: str
    same_neurons_as: str | None
    cv_fold: int
    path: str  # under the data folder

    @property
    def is_inhibitory(self) -> bool:
        return self.cell_type == "inhibitory"


@cache
def load_catalogue() -> dict[str, DatasetEntry]:
    """Dataset name -> entry, in the catalogue's order."""
    doc = json.loads(resources.files(__package__).joinpath("groundtruth.json").read_text())
    return {row["dataset"]: DatasetEntry(**row) for row in doc["datasets"]}


def dataset_group(dataset: str) -> str:
    """The cross-validation group of a dataset: its ``DSnn`` prefix, or the group of the
    CASCADE dataset holding the same neurons (for a name not in the catalogue, its
    ``DSnn`` prefix or the name itself)."""
    entry = load_catalogue().get(dataset)
    if entry is not None:
        return entry.group
    return dataset.split("-")[0] if dataset.startswith("DS") else dataset


def is_inhibitory(dataset: str) -> bool:
    """Whether the catalogue lists the dataset (or its group) as inhibitory neurons."""
    group = dataset_group(dataset)
    return any(e.is_inhibitory for e in load_catalogue().values() if e.group == group)


def dataset_indicator(dataset: str) -> str | None:
    """The indicator of a catalogued dataset (None if unknown); for another name, the
    words between its number and its species, normalised ('DS99-OGB1-m-V1' -> 'OGB-1')."""
    entry = load_catalogue().get(dataset)
    if entry is not None:
        return entry.indicator
    words = dataset.split("-")[1:]
    stop = next((i for i, w in enumerate(words) if w in ("m", "zf", "spinal")), len(words))
    name = "-".join(w for w in words[:stop] if not w.isdigit())  # 'OGB1-2': second OGB1 set
    return normalise_indicator_name(name) if name else None


def cv_folds() -> list[list[str]]:
    """The cross-validation folds in use: for each, the datasets it holds out (the
    CASCADE datasets and Spikefinder set 4)."""
    folds: dict[int, list[str]] = {}
    for entry in load_catalogue().values():
        if entry.path.startswith("cascade_gt/") or entry.dataset in DEFAULT_SPIKEFINDER_SETS:
            folds.setdefault(entry.cv_fold, []).append(entry.dataset)
    return [sorted(folds[k]) for k in sorted(folds)]
