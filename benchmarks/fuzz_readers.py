"""The readers on many damaged files of every format (the fuzz test of
``tests/test_fuzz.py``, with more files): each is truncated at a random length, has random
bits flipped, or is replaced by random bytes; its read must end in a TraceSet or one
InputError. Every format runs in its own process, so that a crash or a hang of a reader
(a library's C code) shows as such, not as the end of this script.

    python benchmarks/fuzz_readers.py --data ../shared/data --files 300
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import FORMATS, damage, make_example, read_example  # noqa: E402

from spikeinfer import InputError  # noqa: E402


def _run_format(fmt: str, n_files: int, data_dir: str, queue) -> None:
    counts = {"tried": 0, "read": 0, "input_error": 0, "other": 0, "examples": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(n_files):
            how = ("truncate", "flip", "random")[seed % 3]
            folder = Path(tmp) / f"{seed}"
            path = make_example(fmt, folder, Path(data_dir))
            damage(path, how, seed)
            counts["tried"] += 1
            try:
                read_example(fmt, path)
                counts["read"] += 1
            except InputError:
                counts["input_error"] += 1
            except Exception:  # the failures this script looks for
                counts["other"] += 1
                if len(counts["examples"]) < 3:
                    counts["examples"].append(f"{how} {seed}: {traceback.format_exc(limit=2)}")
    queue.put(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--files", type=int, default=300, help="Damaged files per format.")
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds per format.")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    print("| format | files | read | one-line error | other failure | crash or hang |")
    print("|---|---|---|---|---|---|")
    total_failures = 0
    for fmt in FORMATS:
        queue = context.Queue()
        process = context.Process(target=_run_format, args=(fmt, args.files, args.data, queue))
        process.start()
        process.join(args.timeout)
        if process.is_alive():
            process.kill()
            print(f"| {fmt} | - | - | - | - | hang |")
            total_failures += 1
            continue
        if process.exitcode != 0:
            print(f"| {fmt} | - | - | - | - | crash (exit {process.exitcode}) |")
            total_failures += 1
            continue
        c = queue.get()
        total_failures += c["other"]
        print(f"| {fmt} | {c['tried']} | {c['read']} | {c['input_error']} | {c['other']} | 0 |")
        for example in c["examples"]:
            print(example)
    print(f"\nfailures: {total_failures}")


if __name__ == "__main__":
    main()
