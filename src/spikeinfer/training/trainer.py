"""The one training loop: a step function run up to ``steps`` times, with callbacks for
what happens around it (validation and early stopping with the best weights kept, a time
budget, a progress bar, a checkpoint file, work at the end such as calibrating the
output).

Every model of the package trains through :class:`Trainer`: the networks of
:mod:`spikeinfer.models`, the generative models and the embedding's single-neuron
networks. A step function draws its batch, takes one gradient step and returns its
losses; everything else is a :class:`Callback`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..io import write_atomically
from ..nn import flush_denormals

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What happened during training."""

    steps: int = 0
    seconds: float = 0.0
    best_step: int = 0
    best_score: float = float("nan")
    history: list[dict] = field(default_factory=list)
    stopped_by: str = ""


class Callback:
    """Hooks around the steps; each may set ``trainer.stop_reason`` to end training."""

    def on_train_begin(self, trainer: Trainer) -> None:
        """Before the first step."""

    def on_step_end(self, trainer: Trainer, step: int, logs: dict[str, float]) -> None:
        """After step ``step`` (from 1), with the losses it returned."""

    def on_train_end(self, trainer: Trainer) -> None:
        """After the last step."""


class Trainer:
    """Run ``step(step_number) -> dict of losses`` up to ``steps`` times.

    Parameters
    ----------
    step : callable
        One training step; returns its losses by name.
    steps : int
        Most steps.
    callbacks : sequence of Callback
        Called in order after every step and at the start and end.
    flush_denormals : bool, default=False
        Treat denormal floats as zero during training (near-zero rates otherwise slow
        the CPU many-fold).
    """

    def __init__(self, step: Callable[[int], dict[str, float]], steps: int,
                 callbacks: Sequence[Callback] = (), flush_denormals: bool = False):
        self.step = step
        self.steps = steps
        self.callbacks = list(callbacks)
        self.flush_denormals = flush_denormals
        self.result = TrainResult()
        self.stop_reason = ""
        self.start_time = 0.0

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.start_time

    def fit(self) -> TrainResult:
        """Train; returns the :class:`TrainResult` (also :attr:`result`)."""
        self.start_time = time.perf_counter()
        for callback in self.callbacks:
            callback.on_train_begin(self)
        with flush_denormals() if self.flush_denormals else contextlib.nullcontext():
            for step in range(1, self.steps + 1):
                logs = self.step(step)
                self.result.steps = step
                for callback in self.callbacks:
                    callback.on_step_end(self, step, logs)
                if self.stop_reason:
                    break
        self.result.stopped_by = self.stop_reason or "steps"
        for callback in self.callbacks:
            callback.on_train_end(self)
        self.result.seconds = self.elapsed_s
        logger.debug("trained %d steps in %.0f s (%s)", self.result.steps, self.result.seconds,
                     self.result.stopped_by)
        return self.result


class History(Callback):
    """Losses averaged over every ``every`` steps (and the last) into ``result.history``."""

    def __init__(self, every: int = 100):
        self.every = every
        self._running: list[dict] = []

    def on_step_end(self, trainer, step, logs):
        self._running.append(logs)
        if step % self.every == 0 or step == trainer.steps or trainer.stop_reason:
            self.flush(trainer, step)

    def flush(self, trainer: Trainer, step: int) -> dict:
        if not self._running:
            return {}
        mean = {k: float(np.mean([r[k] for r in self._running])) for k in self._running[0]}
        trainer.result.history.append({"step": step, **mean})
        self._running = []
        return mean


class EarlyStopping(Callback):
    """Every ``every`` steps (and at the last), ``evaluate()`` scores the model (higher
    is better; without ``evaluate``, minus the mean training loss since the last
    evaluation); after ``patience`` evaluations without a better score training stops.
    At the end, ``module`` gets back the weights of the best evaluation.
    """

    def __init__(self, module: torch.nn.Module, evaluate: Callable[[], float] | None,
                 every: int, patience: int, loss_name: str = "loss"):
        self.module = module
        self.evaluate = evaluate
        self.every = every
        self.patience = patience
        self.loss_name = loss_name
        self._running: list[float] = []
        self._since_best = 0
        self._best_state: dict | None = None

    def on_train_begin(self, trainer):
        self._best_state = _copy_state(self.module)
        trainer.result.best_score = -np.inf

    def on_step_end(self, trainer, step, logs):
        self._running.append(logs[self.loss_name])
        if step % self.every and step != trainer.steps:
            return
        train_loss = float(np.mean(self._running))
        score = self.evaluate() if self.evaluate is not None else -train_loss
        trainer.result.history.append({"step": step, "train_loss": train_loss,
                                       "validation_corr": score})
        self._running = []
        if score > trainer.result.best_score:
            trainer.result.best_score, trainer.result.best_step = float(score), step
            self._best_state = _copy_state(self.module)
            self._since_best = 0
        else:
            self._since_best += 1
            if self._since_best >= self.patience:
                trainer.stop_reason = "early stopping"

    def on_train_end(self, trainer):
        if self._best_state is not None:
            self.module.load_state_dict(self._best_state)
        self.module.eval()


class TimeBudget(Callback):
    """Stops training once ``max_seconds`` of wall time have passed, checked every
    ``every`` steps (so that a budget stops where an evaluation has just been made)."""

    def __init__(self, max_seconds: float | None, every: int = 1):
        self.max_seconds = max_seconds
        self.every = every

    def on_step_end(self, trainer, step, logs):
        if self.max_seconds and step % self.every == 0 and trainer.elapsed_s > self.max_seconds:
            trainer.stop_reason = trainer.stop_reason or "time budget"


class ProgressBar(Callback):
    """A tqdm bar over the steps showing the latest losses; it ends at the step reached."""

    def __init__(self, description: str = "training", enabled: bool = True):
        self.description = description
        self.enabled = enabled
        self._bar = None

    def on_train_begin(self, trainer):
        self._bar = tqdm(total=trainer.steps, desc=self.description, unit="step",
                         disable=not self.enabled)

    def on_step_end(self, trainer, step, logs):
        self._bar.update(1)
        if step % 10 == 0:
            self._bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items()})

    def on_train_end(self, trainer):
        self._bar.close()


class Checkpoint(Callback):
    """Writes ``module``'s weights to ``path`` (safetensors, atomically) each time
    :class:`EarlyStopping` finds a better score, so that a long run killed half way
    leaves its best weights."""

    def __init__(self, module: torch.nn.Module, path):
        self.module = module
        self.path = Path(path)
        self._saved_step = -1

    def on_step_end(self, trainer, step, logs):
        if trainer.result.best_step == step and step != self._saved_step:
            from safetensors.torch import save_file

            state = {k: v.contiguous() for k, v in self.module.state_dict().items()}
            write_atomically(self.path, lambda tmp: save_file(state, str(tmp)), force=True)
            self._saved_step = step


class AtEnd(Callback):
    """Calls ``function(trainer)`` after training (and after the best weights are back,
    when placed after :class:`EarlyStopping`): e.g. calibrating a network's output."""

    def __init__(self, function: Callable[[Trainer], None]):
        self.function = function

    def on_train_end(self, trainer):
        self.function(trainer)


def _copy_state(module: torch.nn.Module) -> dict:
    return {k: v.clone() for k, v in module.state_dict().items()}


def gradient_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                  parameters=None, clip_norm: float | None = None) -> float:
    """One optimiser step on ``loss`` (gradients clipped to ``clip_norm`` if given)."""
    optimizer.zero_grad()
    loss.backward()
    if clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(parameters, clip_norm)
    optimizer.step()
    return float(loss.item())
