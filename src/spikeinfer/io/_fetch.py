"""Ground truth fetched into a user cache, and where commands look for it.

A registry (JSON) names every file of a ground-truth copy: its path under the data
folder, its URL and its sha256, and the version the list pins. Files are downloaded with
pooch, each to a temporary name and kept only when its sha256 matches; a file already
present is hashed and kept when it matches, fetched again when not. An interrupted run
is resumed by running it again: only missing or damaged files are downloaded.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin

from ..exceptions import InputError
from ._artifact import sha256_of

#: Environment variable naming the ground-truth folder (instead of the user cache).
DATA_ENV = "SPIKEINFER_DATA"
_SHIPPED = "ground_truth_registry.json"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class RegistryFile:
    """One file of a registry: where it goes under the data folder, where it comes from
    and its sha256 (None where the registry pins none)."""

    path: str
    url: str
    sha256: str | None


@dataclass(frozen=True)
class Registry:
    """The files of one version of a ground-truth copy: what they are (``name``), the
    version pinned (None: none), each file with its absolute URL (``files``), and the
    registry's file (``source``), named in messages."""

    name: str
    version: str | None
    files: tuple[RegistryFile, ...]
    source: str


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_ground_truth` did: the folder, and the paths (relative to it)
    downloaded and those already present with the right sha256."""

    folder: Path
    downloaded: tuple[str, ...]
    present: tuple[str, ...]


def shipped_registry_path() -> Path:
    """The registry shipped with the package (CASCADE's ground truth)."""
    return Path(str(resources.files(__package__).joinpath(_SHIPPED)))


def ground_truth_cache() -> Path:
    """The folder ``spikeinfer data`` fills by default: ``$SPIKEINFER_DATA`` if set, else
    ``ground_truth`` in the user's cache folder (``~/.cache/spikeinfer`` on Linux)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("spikeinfer") / "ground_truth"


def _checkout_data() -> Path | None:
    """``../shared/data`` beside the repository this package runs from, if it is run from
    a checkout (the project's own tests and benchmarks) and the folder exists."""
    checkout = Path(__file__).resolve().parents[3]
    data = checkout.parent / "shared" / "data"
    if (checkout / "pyproject.toml").is_file() and data.is_dir():
        return data
    return None


def default_data_dir() -> Path:
    """The ground-truth folder commands read when given no ``--data``.

    The user cache (:func:`ground_truth_cache`) if it holds anything; without
    ``$SPIKEINFER_DATA``, ``../shared/data`` beside a repository checkout; else an
    :class:`~spikeinfer.exceptions.InputError` saying where it looked and how to fetch.
    """
    cache = ground_truth_cache()
    if cache.is_dir() and any(cache.iterdir()):
        return cache
    if not os.environ.get(DATA_ENV):
        checkout = _checkout_data()
        if checkout is not None:
            return checkout
    raise InputError(f"{cache}: no ground truth there; run 'spikeinfer data' to fetch it, "
                     "or pass --data DIR")


def read_registry(path=None, *, base_url: str | None = None) -> Registry:
    """A registry from its JSON file (the shipped one if ``path`` is None).

    The file holds ``name``, ``version``, ``base_url`` and ``files``: a list of
    ``{"path": ..., "url": ..., "sha256": ...}``, ``path`` relative to the data
    folder, ``url`` absolute or relative to ``base_url`` (default: ``path``).
    ``base_url`` given here replaces the file's (a mirror of the same files).
    """
    path = shipped_registry_path() if path is None else Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such registry file") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise InputError(f"{path}: not a JSON registry ({type(err).__name__})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files", []), list):
        raise InputError(f"{path}: a registry is a JSON object with a list 'files'")
    base = base_url if base_url is not None else doc.get("base_url")
    base = str(base).rstrip("/") + "/" if base else None
    files = tuple(_registry_file(row, base, path) for row in doc.get("files", []))
    version = doc.get("version")
    return Registry(name=str(doc.get("name", path.name)),
                    version=None if version is None else str(version), files=files,
                    source=str(path))


def _registry_file(row, base: str | None, source: Path) -> RegistryFile:
    if not isinstance(row, dict) or not isinstance(row.get("path"), str):
        raise InputError(f"{source}: each entry of 'files' needs a 'path' string")
    rel = PurePosixPath(row["path"])
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in row["path"]:
        raise InputError(f"{source}: {row['path']!r} is not a relative path inside the "
                         "data folder")
    url = row.get("url", row["path"])
    if not isinstance(url, str) or not url:
        raise InputError(f"{source}: {row['path']}: 'url' must be a string")
    if "://" not in url:
        if base is None:
            raise InputError(f"{source}: {row['path']}: a relative URL needs a 'base_url' "
                             "(or --url)")
        url = urljoin(base, url)
    sha256 = row.get("sha256")
    if sha256 is not None and not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
        raise InputError(f"{source}: {row['path']}: 'sha256' must be 64 lowercase hex digits")
    return RegistryFile(path=str(rel), url=url, sha256=sha256)


def check_pinned(registry: Registry) -> None:
    """Refuse a registry that pins no version or leaves a file without its sha256."""
    unpinned = [f.path for f in registry.files if f.sha256 is None]
    hint = ("pass --registry FILE, a registry with a URL and sha256 per file "
            "(see the README's 'Ground truth for adaptation')")
    if not registry.files:
        raise InputError(f"{registry.source}: lists no file with a pinned sha256; {hint}")
    if unpinned:
        raise InputError(f"{registry.source}: {len(unpinned)} of {len(registry.files)} files "
                         f"have no pinned sha256 (first: {unpinned[0]}); {hint}")
    if registry.version is None:
        raise InputError(f"{registry.source}: pins no 'version'; {hint}")


def fetch_ground_truth(registry: Registry, folder=None, *, retries: int = 2,
                       progress: bool | None = None) -> FetchResult:
    """Download the files of ``registry`` that ``folder`` lacks or holds damaged.

    Parameters
    ----------
    registry : Registry
        Every file with its sha256 (see :func:`check_pinned`).
    folder : path-like, default=None
        Where the files go, each at its ``path``; the user cache
        (:func:`ground_truth_cache`) if None.
    retries : int, default=2
        Further attempts at a download that fails or does not match its sha256.
    progress : bool or None, default=None
        A progress bar over the files on stderr (None: when stderr is a terminal).

    Returns
    -------
    FetchResult
        What was downloaded and what was already there.
    """
    import pooch
    import requests
    from tqdm.auto import tqdm

    check_pinned(registry)
    if retries < 0:
        raise InputError(f"retries {retries}: use 0 or more")
    folder = Path(ground_truth_cache() if folder is None else folder).expanduser()
    fetcher = pooch.create(path=folder, base_url="", retry_if_failed=retries,
                           registry={f.path: f"sha256:{f.sha256}" for f in registry.files},
                           urls={f.path: f.url for f in registry.files})
    done: dict[str, list[str]] = {"download": [], "update": [], "fetch": []}
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # one summary line instead of a line per file
    try:
        with tqdm(registry.files, desc="ground truth", unit="file",
                  disable=None if progress is None else not progress) as bar:
            for entry in bar:
                try:
                    # pooch hands its action to the processor: download, update, fetch
                    action = fetcher.fetch(entry.path, processor=_action)
                    done[action].append(entry.path)
                except ValueError as err:
                    raise InputError(f"{entry.url}: {_first_line(err)} (kept: "
                                     f"{len(done['fetch']) + len(done['download'])} files "
                                     "in " f"{folder}; run again to resume)") from None
                except requests.exceptions.RequestException as err:
                    raise InputError(f"{entry.url}: download failed ({_first_line(err)}); "
                                     "run again to resume") from None
    finally:
        logger.setLevel(level)
    return FetchResult(folder=folder, downloaded=tuple(done["download"] + done["update"]),
                       present=tuple(done["fetch"]))


def _action(_path, action: str, _pooch) -> str:
    return action


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def make_registry(folder, base_url: str, *, name: str, version: str) -> dict:
    """The registry of every file under ``folder`` (its sha256, its path as its URL
    relative to ``base_url``): what a lab serving a copy of the ground truth publishes
    for :func:`fetch_ground_truth`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    files = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        files.append({"path": file.relative_to(folder).as_posix(), "sha256": sha256_of(file)})
    if not files:
        raise InputError(f"{folder}: holds no file")
    return {"name": name, "version": version, "base_url": base_url, "files": files}
