"""``spikeinfer data``: fetch the ground truth that ``adapt`` and ``predict --adapt`` read,
or list a copy of it as a registry."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..exceptions import SpikeinferError


@click.command("data")
@click.option("--registry", "registry_path", type=click.Path(path_type=Path),
              help="Registry JSON: version, base_url and a path, URL and sha256 per file "
                   "[default: the shipped CASCADE registry, which pins no sha256].")
@click.option("--url", "base_url", help="Base URL of a mirror serving the registry's files "
              "(replaces the registry's base_url).")
@click.option("--dest", type=click.Path(path_type=Path),
              help="Folder to fill [default: $SPIKEINFER_DATA, else "
                   "~/.cache/spikeinfer/ground_truth or the platform's user cache].")
@click.option("--retries", type=int, default=2, show_default=True,
              help="Further attempts at a failed or mismatched download.")
@click.option("--make-registry", "listed", type=click.Path(path_type=Path),
              help="Instead of fetching: write to --registry the registry of every file "
                   "under this folder (a lab's copy), served at --url, as --version.")
@click.option("--version", "version", help="With --make-registry: the version it pins.")
@click.option("--force", is_flag=True, help="With --make-registry: overwrite the registry.")
def data(registry_path, base_url, dest, retries, listed, version, force):
    """Fetch ground truth (a sha256 checked per file) into the user cache, where
    'adapt' and 'predict --adapt' look for it; a second run downloads only files that
    are missing or damaged."""
    from ..io import fetch_ground_truth, make_registry, read_registry, write_atomically

    if listed is not None:
        if registry_path is None or base_url is None or version is None:
            raise SpikeinferError("--make-registry needs --registry FILE, --url and --version")
        doc = make_registry(listed, base_url, name=listed.name, version=version)
        text = json.dumps(doc, indent=1) + "\n"
        write_atomically(registry_path, lambda tmp: tmp.write_text(text), force=force)
        click.echo(f"{len(doc['files'])} files of {listed} -> {registry_path}")
        return
    registry = read_registry(registry_path, base_url=base_url)
    result = fetch_ground_truth(registry, dest, retries=retries)
    click.echo(f"{registry.name} {registry.version}: {len(result.downloaded)} files "
               f"downloaded, {len(result.present)} already there (sha256 checked) -> "
               f"{result.folder}")
