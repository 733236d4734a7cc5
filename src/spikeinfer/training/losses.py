"""Losses on (batch, time) predictions and targets."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def correlation_loss(pred: torch.Tensor, target: torch.Tensor, bin_frames: int = 1) -> torch.Tensor:
    """1 - Pearson correlation per window, after summing ``bin_frames`` frames (conv16's 25 Hz)."""
    if bin_frames > 1:
        pred = F.avg_pool1d(pred.unsqueeze(1), bin_frames).squeeze(1)
        target = F.avg_pool1d(target.unsqueeze(1), bin_frames).squeeze(1)
    p = pred - pred.mean(dim=1, keepdim=True)
    t = target - target.mean(dim=1, keepdim=True)
    corr = (p * t).sum(1) / (p.norm(dim=1) * t.norm(dim=1) + 1e-8)
    return 1.0 - corr.mean()


def mse_loss(pred: torch.Tensor, target: torch.Tensor, bin_frames: int = 1) -> torch.Tensor:
    """Mean squared error of expected spikes per frame (CASCADE's loss)."""
    return F.mse_loss(pred, target)


def mse_corr_loss(pred: torch.Tensor, target: torch.Tensor, bin_frames: int = 1) -> torch.Tensor:
    """MSE (keeps the output calibrated in spikes) plus correlation (shape)."""
    scale = target.pow(2).mean().clamp(min=1e-6)
    return mse_loss(pred, target) / scale + correlation_loss(pred, target, bin_frames)


LOSSES = {"mse": mse_loss, "corr": correlation_loss, "mse+corr": mse_corr_loss}


def get_loss(name: str):
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}")
    return LOSSES[name]
