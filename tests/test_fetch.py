"""Fetching ground truth: a registry of sha256, files served by a local HTTP server (no
network), a second run that downloads nothing, damaged files fetched again, and where
commands look for ground truth when given no --data."""

import hashlib
import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from test_cli import assert_one_line_error, run

from spikeinfer.exceptions import InputError
from spikeinfer.io import (DATA_ENV, check_pinned, default_data_dir, fetch_ground_truth,
                           make_registry, read_registry)

FILES = {"cascade_gt/DS90-OGB1-m-V1/cell_1.mat": b"first neuron " * 50,
         "cascade_gt/DS90-OGB1-m-V1/cell_2.mat": b"second neuron " * 70,
         "cascade_gt/DS91-GCaMP6s-m-V1/cell_1.mat": b"third neuron " * 90}


class _Server:
    """A folder served over HTTP on 127.0.0.1, recording the path of every GET."""

    def __init__(self, folder: Path):
        self.requests: list[str] = []
        requests = self.requests

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=folder))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A lab's copy of three files served locally, and its registry."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    served = tmp_path / "served"
    for rel, content in FILES.items():
        (served / rel).parent.mkdir(parents=True, exist_ok=True)
        (served / rel).write_bytes(content)
    server = _Server(served)
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps(make_registry(served, server.url, name="test copy",
                                                 version="1")))
    yield server, registry
    server.close()


def test_registry_lists_every_file_with_its_sha256(mirror):
    server, registry = mirror
    doc = json.loads(registry.read_text())
    assert {row["path"]: row["sha256"] for row in doc["files"]} == {
        rel: hashlib.sha256(content).hexdigest() for rel, content in FILES.items()}
    assert doc["base_url"] == server.url and doc["version"] == "1"


def test_second_run_downloads_nothing(mirror, tmp_path):
    server, registry = mirror
    dest = tmp_path / "cache"
    first = fetch_ground_truth(read_registry(registry), dest, progress=False)
    assert sorted(first.downloaded) == sorted(FILES) and first.present == ()
    assert {rel: (dest / rel).read_bytes() for rel in FILES} == FILES
    assert len(server.requests) == 3
    mtimes = {rel: (dest / rel).stat().st_mtime_ns for rel in FILES}
    second = fetch_ground_truth(read_registry(registry), dest, progress=False)
    assert second.downloaded == () and sorted(second.present) == sorted(FILES)
    assert len(server.requests) == 3
    assert {rel: (dest / rel).stat().st_mtime_ns for rel in FILES} == mtimes


def test_damaged_or_missing_file_is_fetched_again_and_only_it(mirror, tmp_path):
    server, registry = mirror
    dest = tmp_path / "cache"
    fetch_ground_truth(read_registry(registry), dest, progress=False)
    damaged = "cascade_gt/DS90-OGB1-m-V1/cell_2.mat"
    lost = "cascade_gt/DS91-GCaMP6s-m-V1/cell_1.mat"
    (dest / damaged).write_bytes(FILES[damaged][:-1] + b"X")  # same size, one byte changed
    (dest / lost).unlink()                                     # an interrupted run
    again = fetch_ground_truth(read_registry(registry), dest, progress=False)
    assert sorted(again.downloaded) == sorted([damaged, lost])
    assert sorted(server.requests[3:]) == sorted(["/" + damaged, "/" + lost])
    assert {rel: (dest / rel).read_bytes() for rel in FILES} == FILES


def test_download_not_matching_its_sha256_is_refused_and_not_kept(mirror, tmp_path):
    server, registry = mirror
    rel = "cascade_gt/DS90-OGB1-m-V1/cell_1.mat"
    doc = json.loads(registry.read_text())
    doc["files"][0]["sha256"] = hashlib.sha256(b"something else").hexdigest()
    registry.write_text(json.dumps(doc))
    dest = tmp_path / "cache"
    with pytest.raises(InputError, match="cell_1.mat") as err:
        fetch_ground_truth(read_registry(registry), dest, retries=0, progress=False)
    assert "\n" not in str(err.value)
    assert not (dest / rel).exists()
    assert not [p for p in dest.rglob("*") if p.is_file()]  # no temporary file left


def test_mirror_url_replaces_the_registry_base(mirror, tmp_path):
    server, registry = mirror
    doc = json.loads(registry.read_text())
    doc["base_url"] = "http://127.0.0.1:9/nowhere/"  # the registry's own host, unreachable
    registry.write_text(json.dumps(doc))
    got = fetch_ground_truth(read_registry(registry, base_url=server.url), tmp_path / "c",
                             progress=False)
    assert sorted(got.downloaded) == sorted(FILES)


@pytest.mark.parametrize("files, fragment", [
    ([{"path": "a.mat"}], "no pinned sha256"),
    ([], "no file with a pinned sha256"),
    ([{"path": "../outside.mat", "sha256": "0" * 64}], "not a relative path"),
    ([{"path": "/etc/passwd", "sha256": "0" * 64}], "not a relative path"),
    ([{"path": "a.mat", "sha256": "abc"}], "64 lowercase hex"),
    ("nope", "list 'files'"),
])
def test_bad_or_unpinned_registry_is_refused_in_one_line(tmp_path, files, fragment):
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps({"version": "1", "base_url": "http://127.0.0.1:9/",
                                    "files": files}))
    with pytest.raises(InputError, match=fragment) as err:
        check_pinned(read_registry(registry))
    assert str(registry) in str(err.value) and "\n" not in str(err.value)


def test_deeply_nested_registry_is_refused_in_one_line(tmp_path):
    registry = tmp_path / "registry.json"
    registry.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(InputError, match="not a JSON registry"):
        read_registry(registry)


def test_shipped_registry_names_the_datasets_and_pins_no_invented_checksum():
    from spikeinfer.io import load_catalogue

    registry = read_registry()
    assert registry.version is None and registry.files == ()
    doc = json.loads(Path(registry.source).read_text())
    assert [d["dataset"] for d in doc["datasets"]] == [
        name for name, entry in load_catalogue().items() if entry.path.startswith("cascade_gt/")]
    with pytest.raises(InputError, match="--registry FILE"):
        check_pinned(registry)


def test_default_data_dir_prefers_the_cache_and_says_where_it_looked(tmp_path, monkeypatch):
    import spikeinfer.io._fetch as fetch

    cache = tmp_path / "cache"
    monkeypatch.setenv(DATA_ENV, str(cache))
    with pytest.raises(InputError, match="spikeinfer data") as err:
        default_data_dir()  # set but empty: no fallback to a checkout
    assert str(err.value).startswith(str(cache))
    (cache / "cascade_gt").mkdir(parents=True)
    assert default_data_dir() == cache
    # Without the variable: the user cache, else the checkout's ../shared/data.
    monkeypatch.delenv(DATA_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(fetch, "_checkout_data", lambda: tmp_path / "shared")
    assert default_data_dir() == tmp_path / "shared"
    monkeypatch.setattr(fetch, "_checkout_data", lambda: None)
    with pytest.raises(InputError, match=str(tmp_path / "xdg" / "spikeinfer" / "ground_truth")):
        default_data_dir()
    (tmp_path / "xdg" / "spikeinfer" / "ground_truth" / "cascade_gt").mkdir(parents=True)
    assert default_data_dir() == tmp_path / "xdg" / "spikeinfer" / "ground_truth"


# The command line.

def test_data_refuses_the_shipped_registry_without_checksums():
    assert_one_line_error(run("data"), "ground_truth_registry.json", "no file with a pinned sha256",
                    "--registry FILE")


def test_data_command_fetches_once_then_downloads_nothing(mirror, tmp_path, monkeypatch):
    server, registry = mirror
    dest = tmp_path / "cache"
    monkeypatch.setenv(DATA_ENV, str(dest))  # the default --dest
    first = run("data", "--registry", registry)
    assert first.exit_code == 0, first.output
    assert "3 files downloaded, 0 already there" in first.stdout
    assert {rel: (dest / rel).read_bytes() for rel in FILES} == FILES
    second = run("data", "--registry", registry)
    assert second.exit_code == 0, second.output
    assert "0 files downloaded, 3 already there" in second.stdout
    assert len(server.requests) == 3
    assert default_data_dir() == dest


def test_make_registry_lists_a_copy_that_data_then_fetches(mirror, tmp_path):
    server, _ = mirror
    listed = tmp_path / "lab.json"
    made = run("data", "--make-registry", tmp_path / "served", "--url", server.url,
                "--version", "lab-2026", "--registry", listed)
    assert made.exit_code == 0, made.output
    doc = json.loads(listed.read_text())
    assert doc["version"] == "lab-2026" and len(doc["files"]) == 3
    assert_one_line_error(run("data", "--make-registry", tmp_path / "served", "--url", server.url,
                         "--version", "2", "--registry", listed), str(listed), "--force")
    fetched = run("data", "--registry", listed, "--dest", tmp_path / "copy")
    assert fetched.exit_code == 0, fetched.output
    assert {rel: (tmp_path / "copy" / rel).read_bytes() for rel in FILES} == FILES


@pytest.mark.parametrize("command", [
    ("adapt", "REC", "--fps", 30, "-o", "OUT"),
    ("predict", "REC", "--fps", 30, "--adapt", "-o", "OUT.h5"),
])
def test_missing_ground_truth_is_one_line_saying_where_and_what_torun(
        command, tmp_path, monkeypatch, traces_npy):
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(DATA_ENV, str(missing))
    args = [traces_npy if a == "REC" else tmp_path / a if str(a).startswith("OUT") else a
            for a in command]
    assert_one_line_error(run(*args), str(missing), "spikeinfer data")
    assert not (tmp_path / "OUT").exists() and not (tmp_path / "OUT.h5").exists()


def test_partial_copy_of_the_ground_truth_loads_what_it_holds(tmp_path, data_dir):
    from spikeinfer.io import load_ground_truth

    (tmp_path / "cascade_gt").mkdir()
    (tmp_path / "cascade_gt" / "DS05-Cal520-zf-pDp").symlink_to(
        data_dir / "cascade_gt" / "DS05-Cal520-zf-pDp")
    loaded = load_ground_truth(tmp_path, skip_missing=True)
    assert {ts.dataset for ts in loaded} == {"DS05-Cal520-zf-pDp"}
    with pytest.raises(InputError, match="DS01-OGB1-m-V1 not found"):
        load_ground_truth(tmp_path)
    with pytest.raises(InputError, match="spikeinfer data"):
        load_ground_truth(tmp_path / "cascade_gt" / "DS05-Cal520-zf-pDp", skip_missing=True)


def test_adapt_reads_the_fetched_folder_by_default(tmp_path, monkeypatch, data_dir):
    from spikeinfer.embedding import Embedding
    from spikeinfer.io import load_cascade_collection
    from spikeinfer.models import read_card

    fetched = tmp_path / "fetched"
    (fetched / "cascade_gt").mkdir(parents=True)
    for name in ("DS05-Cal520-zf-pDp", "DS23-OGB1-m-PV-V1"):
        (fetched / "cascade_gt" / name).symlink_to(data_dir / "cascade_gt" / name)
    monkeypatch.setenv(DATA_ENV, str(fetched))
    data = load_cascade_collection(fetched / "cascade_gt", quiet=True)
    embedding = Embedding(predictive=False).fit(data)
    embedding.save(tmp_path / "embedding")
    recording = next(ts for ts in data if ts.dataset.startswith("DS23")).subset([0, 1])
    traces = recording.traces[:, :recording.lengths.min()]
    np.save(tmp_path / "rec.npy", traces)
    result = run("adapt", tmp_path / "rec.npy", "--fps", recording.fps, "--embedding",
                  tmp_path / "embedding", "-k", 1, "--steps", 2, "-o", tmp_path / "adapted")
    assert result.exit_code == 0, result.output
    chosen = read_card(tmp_path / "adapted")["card"]["adaptation"]["datasets"]
    assert chosen == embedding.nearest_datasets(traces, recording.fps, 1)
