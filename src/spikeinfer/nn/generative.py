"""Torch modules of the generative models (seed 001), each configured by a frozen dataclass.

Windows reach the networks as ``(batch, 1, time)`` dF/F. The classifier and the
autoencoder read them in units of the window's own noise (so that indicators whose
dF/F differ a hundred-fold read alike); the GAN works in units of a fixed noise scale
per dataset, which it is given with the label.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

from .networks import MEDIAN_ABS_DIFF, noise_scale


def window_sigma(x: torch.Tensor) -> torch.Tensor:
    """(batch, 1, time) -> (batch, 1, 1): noise std from the median |frame difference|."""
    return (noise_scale(x) / MEDIAN_ABS_DIFF).clamp(min=1e-4)


class _Residual(nn.Module):
    """x + LeakyReLU(conv(x) + optional per-example bias), a dilated 'same' convolution."""

    def __init__(self, channels: int, kernel: int, dilation: int, cond: int = 0):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel, dilation=dilation,
                              padding=dilation * (kernel - 1) // 2)
        self.cond = nn.Linear(cond, channels) if cond else None

    def forward(self, x, c=None):
        h = self.conv(x)
        if self.cond is not None:
            h = h + self.cond(c).unsqueeze(-1)
        return x + F.leaky_relu(h, 0.2)


# -- classifier -------------------------------------------------------------------

@dataclass(frozen=True)
class ClassifierConfig:
    """Dilated residual CNN; one logit per frame, read at the window's centre."""

    channels: int = 32
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 1)


class SpikeClassifierNet(nn.Module):
    def __init__(self, config: ClassifierConfig = ClassifierConfig()):
        super().__init__()
        self.config = config
        c = config.channels
        self.stem = nn.Conv1d(2, c, 5, padding=2)
        self.blocks = nn.ModuleList(_Residual(c, config.kernel, d) for d in config.dilations)
        self.out = nn.Conv1d(c, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 1, time) dF/F -> (batch, time) logits of 'a spike in this frame'."""
        z = x / window_sigma(x)
        h = torch.cat([z, torch.diff(z, dim=-1, prepend=z[..., :1])], dim=1)  # (batch, 2, time)
        h = F.leaky_relu(self.stem(h), 0.2)
        for block in self.blocks:
            h = block(h)
        return self.out(h).squeeze(1)


# -- autoencoder ------------------------------------------------------------------

@dataclass(frozen=True)
class AutoencoderConfig:
    """Three stride-2 convolutions to a ``latent``-dimensional code, and back."""

    window: int = 64
    latent: int = 8
    channels: tuple[int, int, int] = (32, 64, 64)


class WindowAutoencoderNet(nn.Module):
    """Encodes a window in units of its own noise std; the decoder's output is scaled
    back by that std, which travels beside the code (it is not part of it)."""

    def __init__(self, config: AutoencoderConfig = AutoencoderConfig()):
        super().__init__()
        if config.window % 8:
            raise ValueError(f"window={config.window} must be a multiple of 8")
        self.config = config
        c1, c2, c3 = config.channels
        self.encoder = nn.Sequential(
            nn.Conv1d(1, c1, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
            nn.Conv1d(c1, c2, 5, stride=2, padding=2), nn.LeakyReLU(0.2),
            nn.Conv1d(c2, c3, 5, stride=2, padding=2), nn.LeakyReLU(0.2), nn.Flatten())
        flat = c3 * config.window // 8
        self.to_latent = nn.Linear(flat, config.latent)
        self.from_latent = nn.Linear(config.latent, flat)
        self.decoder = nn.Sequential(
            nn.ConvTranspose1d(c3, c2, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.ConvTranspose1d(c2, c1, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.ConvTranspose1d(c1, 1, 4, stride=2, padding=1))

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """(batch, 1, window) in noise units -> (batch, latent)."""
        return self.to_latent(self.encoder(z))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """(batch, latent) -> (batch, 1, window) in noise units."""
        c3 = self.config.channels[2]
        return self.decoder(self.from_latent(code).view(-1, c3, self.config.window // 8))

    def forward(self, x: torch.Tensor):
        """(batch, 1, window) dF/F -> reconstruction in noise units, the input in noise
        units, the code and the noise std (batch, 1, 1)."""
        sigma = window_sigma(x)
        z = x / sigma
        code = self.encode(z)
        return self.decode(code), z, code, sigma


# -- conditional GAN --------------------------------------------------------------

@dataclass(frozen=True)
class GeneratorConfig:
    """Fully convolutional: spikes per frame, a label embedding, a latent per trace and
    noise per frame in; fluorescence in units of the label's noise scale out.

    A causal convolution of the spikes with ``kernel_frames`` taps (a learned bank of
    transient shapes, 3.2 s at 30 Hz) feeds the stem beside the spikes, so that long
    decays need not be built from the dilated stack; the dilations reach
    1 + 2 * sum(dilations) = 269 frames (9 s at 30 Hz)."""

    n_labels: int = 1
    embedding: int = 8
    z_trace: int = 4  # per-trace latent (amplitude, noise level of this neuron)
    z_frame: int = 4  # per-frame noise channels
    kernel_frames: int = 96
    kernels: int = 8
    channels: int = 24
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 1, 2, 4)


class Generator(nn.Module):
    def __init__(self, config: GeneratorConfig = GeneratorConfig()):
        super().__init__()
        self.config = config
        c = config.channels
        cond = config.embedding + config.z_trace
        self.embedding = nn.Embedding(max(config.n_labels, 1), config.embedding)
        self.transients = nn.Conv1d(1, config.kernels, config.kernel_frames)
        self.stem = nn.Conv1d(1 + config.kernels + config.z_frame, c, 3, padding=1)
        self.blocks = nn.ModuleList(_Residual(c, config.kernel, d, cond) for d in config.dilations)
        self.out = nn.Conv1d(c, 1, 1)

    def forward(self, counts: torch.Tensor, embedding: torch.Tensor, z_trace: torch.Tensor,
                z_frame: torch.Tensor) -> torch.Tensor:
        """counts (batch, 1, time), embedding (batch, embedding), z_trace (batch, z_trace),
        z_frame (batch, z_frame, time) -> (batch, time) in noise-scale units."""
        c = torch.cat([embedding, z_trace], dim=1)  # (batch, cond)
        causal = F.pad(counts, (self.config.kernel_frames - 1, 0))
        transients = self.transients(causal)  # (batch, kernels, time): spikes so far, filtered
        h = self.stem(torch.cat([counts, transients, z_frame], dim=1))  # (batch, channels, time)
        for block in self.blocks:
            h = block(h, c)
        return self.out(h).squeeze(1)


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Spectrally normalised convolutions over (trace, its difference, spikes), three
    of stride 2, averaged over time; a projection onto the label's embedding."""

    n_labels: int = 1
    channels: int = 48


class Discriminator(nn.Module):
    def __init__(self, config: DiscriminatorConfig = DiscriminatorConfig()):
        super().__init__()
        self.config = config
        c = config.channels
        self.body = nn.Sequential(
            spectral_norm(nn.Conv1d(3, c // 2, 5, padding=2)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv1d(c // 2, c, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv1d(c, c, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv1d(c, c, 4, stride=2, padding=1)), nn.LeakyReLU(0.2))
        self.out = spectral_norm(nn.Linear(c, 1))
        self.embedding = spectral_norm(nn.Embedding(max(config.n_labels, 1), c))

    def forward(self, x: torch.Tensor, counts: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """x (batch, 1, time) in noise-scale units, counts (batch, 1, time), label
        (batch,) -> (batch,) realness scores."""
        features = torch.cat([x, torch.diff(x, dim=-1, prepend=x[..., :1]), counts], dim=1)
        h = self.body(features).mean(dim=-1)  # (batch, channels)
        return self.out(h).squeeze(1) + (self.embedding(label) * h).sum(dim=1)
