"""The training loop, in small steps: train_step, validation_score, early stopping."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from ..nn import flush_denormals
from .data import TrainingSet
from .losses import get_loss


@dataclass
class TrainResult:
    """What happened during training."""

    best_step: int
    best_validation_corr: float
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def _to_tensors(x, y, d):
    return (torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y), torch.from_numpy(d))


def train_step(net, optimizer, loss_fn, batch, bin_frames: int) -> float:
    x, y, d = batch
    net.train()
    optimizer.zero_grad()
    loss = loss_fn(net(x, d), y, bin_frames)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
    optimizer.step()
    return loss.item()


@torch.no_grad()
def validation_score(net, batch, bin_frames: int) -> float:
    """Mean correlation of predictions and targets over the validation windows."""
    from .losses import correlation_loss

    x, y, d = batch
    net.eval()
    return 1.0 - float(correlation_loss(net(x, d), y, bin_frames))


def train_network(net: torch.nn.Module, train: TrainingSet, validation: TrainingSet | None, *,
                  window: int, batch_size: int, steps: int, learning_rate: float, loss: str,
                  noise_levels: tuple[float, float] | None, bin_frames: int = 1,
                  balance_datasets: bool = False,
                  acquisition_rates: tuple[float, float] | None = None,
                  time_stretch: tuple[float, float] | None = None,
                  lr_schedule: str = "constant", eval_every: int = 100, patience: int = 10,
                  random_state: int = 0, max_seconds: float | None = None,
                  progress: bool = True) -> TrainResult:
    """Train ``net`` with Adam on random windows; keep the weights of the best validation step.

    Validation windows are drawn once (fixed seed) from held-out neurons, with the
    same augmentation (``time_stretch`` aside: they keep real time courses) and dataset
    balance; training stops after ``patience`` evaluations without improvement, after
    ``steps`` steps, or after ``max_seconds``.
    ``lr_schedule`` "cosine" decays the learning rate to zero over ``steps``.
    """
    rng = np.random.default_rng(random_state)
    torch.manual_seed(random_state)
    loss_fn = get_loss(loss)
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
    if lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}")
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
                 if lr_schedule == "cosine" else None)
    augment = {"noise_levels": noise_levels, "balance_datasets": balance_datasets,
               "acquisition_rates": acquisition_rates}
    val_batch = None
    if validation is not None and validation.traces:
        val_batch = _to_tensors(*validation.sample_windows(
            max(4 * batch_size, 256), window, np.random.default_rng(random_state + 1), **augment))
    best = (-np.inf, 0, {k: v.clone() for k, v in net.state_dict().items()})
    history, since_best, start = [], 0, time.perf_counter()
    with flush_denormals():
        bar = tqdm(range(1, steps + 1), desc="training", disable=not progress, unit="step")
        running = []
        for step in bar:
            batch = _to_tensors(*train.sample_windows(batch_size, window, rng, **augment,
                                                      time_stretch=time_stretch))
            running.append(train_step(net, optimizer, loss_fn, batch, bin_frames))
            if scheduler is not None:
                scheduler.step()
            if step % eval_every and step != steps:
                continue
            score = validation_score(net, val_batch, bin_frames) if val_batch else -float(
                np.mean(running))
            history.append({"step": step, "train_loss": float(np.mean(running)),
                            "validation_corr": score})
            bar.set_postfix(loss=f"{np.mean(running):.3f}", val=f"{score:.3f}")
            running = []
            if score > best[0]:
                best = (score, step, {k: v.clone() for k, v in net.state_dict().items()})
                since_best = 0
            else:
                since_best += 1
            out_of_time = max_seconds and time.perf_counter() - start > max_seconds
            if since_best >= patience or out_of_time:
                break
    net.load_state_dict(best[2])
    net.eval()
    return TrainResult(best_step=best[1], best_validation_corr=float(best[0]), history=history,
                       seconds=time.perf_counter() - start)
