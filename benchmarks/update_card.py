"""Add measured fields to a shipped model's card, leaving its weights as they are.

- ``training_range``: the recording estimates (noise, amplitude, decay) of the datasets the
  model was trained on (:func:`spikeinfer.models.base.describe_training_range`), outside
  which ``predict`` flags neurons;
- ``count_error_log_sd`` (``--log-sd``, or ``--outputs``: the ``log_sd_all_folds`` that
  ``benchmarks/outputs.py`` chose on the held-out datasets of the cross-validation, native
  condition), the width of the model's intervals.

The card's version goes to ``--version``; its command, scores and notes are kept, and this
command is added to the notes.

    python benchmarks/update_card.py default --data ../shared/data \\
        --outputs benchmarks/results/outputs.json --silence --version 1.2
    python benchmarks/update_card.py elephant --data ../shared/data --version 1.1
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spikeinfer.counts import measure_silence
from spikeinfer.io import load_ground_truth
from spikeinfer.models import load_model
from spikeinfer.models.base import describe_training_range

PRETRAINED = Path(__file__).resolve().parents[1] / "src/spikeinfer/models/pretrained"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="a shipped model (folder under models/pretrained)")
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--outputs", help="outputs.json of benchmarks/outputs.py")
    parser.add_argument("--log-sd", type=float)
    parser.add_argument("--silence", action="store_true", help="measure the silent level")
    parser.add_argument("--version", required=True)
    args = parser.parse_args()

    model = load_model(args.name)
    card = model.card_
    data = load_ground_truth(args.data, [d["dataset"] for d in card["training_data"]])
    model.training_range_ = describe_training_range(data, card.get("noise_range"))
    if args.outputs:
        chosen = json.loads(Path(args.outputs).read_text())["log_sd_all_folds"]
        model.count_error_log_sd_ = chosen["native"]
    if args.silence:
        model.silence_ = measure_silence(model.predict)
    if args.log_sd is not None:
        model.count_error_log_sd_ = args.log_sd
    command = "python " + " ".join(["benchmarks/update_card.py", *sys.argv[1:]])
    notes = "; ".join(n for n in (card.get("notes"), f"card fields added by: {command}") if n)
    model.save(PRETRAINED / args.name, name=args.name, version=args.version,
               command=card.get("command", ""), scores=card.get("scores", {}), notes=notes,
               adaptation=card.get("adaptation", {}))
    print(args.name, args.version, json.dumps({"training_range": model.training_range_,
                                               "count_error_log_sd": model.count_error_log_sd_,
                                               "silence": getattr(model, "silence_", {})}))


if __name__ == "__main__":
    main()
