"""The seeds' networks and the project's default, as plain torch modules."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


def init_rate_output(layer: nn.Module, rate: float = 0.02) -> nn.Module:
    """Start the output near a typical rate (spikes per frame) with small weights, so that
    the softplus is not driven into its flat region by the first updates."""
    nn.init.normal_(layer.weight, std=1e-3)
    nn.init.constant_(layer.bias, float(torch.log(torch.expm1(torch.tensor(rate)))))
    return layer


def _pad_same(x: torch.Tensor, receptive_field: int) -> torch.Tensor:
    """Replicate-pad time so that a valid convolution stack keeps the length."""
    left = (receptive_field - 1) // 2
    return F.pad(x, (left, receptive_field - 1 - left), mode="replicate")


# -- elephant (seed 000) ---------------------------------------------------------

@dataclass(frozen=True)
class ElephantConfig:
    """Three valid convolutions (41, 21, 7 samples) over a 128-sample window."""

    window: int = 128
    channels: tuple[int, int, int] = (30, 20, 10)
    kernels: tuple[int, int, int] = (41, 21, 7)
    hidden: int = 10
    n_datasets: int = 0  # unused; keeps one constructor signature for all networks


class ElephantNet(nn.Module):
    """The window's dense layers are a convolution spanning what remains of the window,
    so the whole trace is predicted in one pass (one output per input frame)."""

    def __init__(self, config: ElephantConfig = ElephantConfig()):
        super().__init__()
        self.config = config
        c1, c2, c3 = config.channels
        k1, k2, k3 = config.kernels
        self.conv1 = nn.Conv1d(1, c1, k1)
        self.conv2 = nn.Conv1d(c1, c2, k2)
        self.conv3 = nn.Conv1d(c2, c3, k3)
        remaining = config.window - (k1 - 1) - (k2 - 1) - (k3 - 1)
        self.dense = nn.Conv1d(c3, config.hidden, remaining)  # Dense over the window
        self.out = init_rate_output(nn.Conv1d(config.hidden, 1, 1))

    @property
    def receptive_field(self) -> int:
        return self.config.window

    def forward(self, x: torch.Tensor, dataset: torch.Tensor | None = None) -> torch.Tensor:
        x = _pad_same(x, self.receptive_field)  # (batch, 1, time + window - 1)
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        x = F.relu(self.dense(x))
        return F.softplus(self.out(x)).squeeze(1)  # (batch, time)


# -- attended (seed 002) ---------------------------------------------------------

def derivative_features(x: torch.Tensor) -> torch.Tensor:
    """(batch, 1, time) -> (batch, 5, time): x, dx, d2x, dx^2, d2x^2 (central differences)."""
    dx = torch.gradient(x, dim=-1)[0]
    d2x = torch.gradient(dx, dim=-1)[0]
    return torch.cat([x, dx, d2x, dx * dx, d2x * d2x], dim=1)


@dataclass(frozen=True)
class AttendedConfig:
    """Attended first convolution; Inception cells with dilation, or the simplified net."""

    n_datasets: int = 1
    filters: int = 32
    first_kernel: int = 31
    simplified: bool = False
    n_cells: int = 3
    cell_channels: int = 24
    dilations: tuple[int, ...] = (1, 2, 4)
    cell_kernel: int = 5
    hidden: int = 32


class _InceptionCell(nn.Module):
    """Parallel dilated convolutions, concatenated, with a residual connection."""

    def __init__(self, channels_in: int, channels: int, kernel: int, dilations: tuple[int, ...]):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv1d(channels_in, channels, kernel, dilation=d, padding=d * (kernel - 1) // 2)
            for d in dilations)
        self.mix = nn.Conv1d(channels * len(dilations), channels_in, 1)

    def forward(self, x):
        return x + F.relu(self.mix(torch.cat([F.relu(b(x)) for b in self.branches], dim=1)))


class AttendedNet(nn.Module):
    """Each first-layer filter's activation is weighted by a learned per-dataset embedding.

    An unknown dataset (index -1, or ``dataset=None``) uses the mean embedding.
    """

    def __init__(self, config: AttendedConfig = AttendedConfig()):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(max(config.n_datasets, 1), config.filters)
        nn.init.ones_(self.embedding.weight)
        self.conv1 = nn.Conv1d(5, config.filters, config.first_kernel,
                               padding=config.first_kernel // 2)
        if config.simplified:
            self.body = nn.Sequential(
                nn.Conv1d(config.filters, config.hidden, 9, padding=4), nn.ReLU())
        else:
            self.body = nn.Sequential(*[
                _InceptionCell(config.filters, config.cell_channels, config.cell_kernel,
                               config.dilations) for _ in range(config.n_cells)])
            self.body.append(nn.Conv1d(config.filters, config.hidden, 1))
            self.body.append(nn.ReLU())
        self.out = init_rate_output(nn.Conv1d(config.hidden, 1, 1))  # feed-forward, per step

    @property
    def receptive_field(self) -> int:
        c = self.config
        rf = c.first_kernel + 4  # the second derivative reaches two frames each way
        if c.simplified:
            return rf + 8
        return rf + c.n_cells * (c.cell_kernel - 1) * max(c.dilations)

    def dataset_weights(self, dataset: torch.Tensor | None, batch: int) -> torch.Tensor:
        """(batch, filters) attention; the mean embedding where the dataset is unknown."""
        mean = self.embedding.weight.mean(dim=0)
        if dataset is None:
            return mean.expand(batch, -1)
        known = (dataset >= 0).unsqueeze(1)
        return torch.where(known, self.embedding(dataset.clamp(min=0)), mean)

    def forward(self, x: torch.Tensor, dataset: torch.Tensor | None = None) -> torch.Tensor:
        features = derivative_features(x)  # (batch, 5, time)
        h = F.relu(self.conv1(features))  # (batch, filters, time)
        h = h * self.dataset_weights(dataset, x.shape[0]).unsqueeze(-1)
        h = self.body(h)
        return F.softplus(self.out(h)).squeeze(1)


# -- conv16 (seed 003) -----------------------------------------------------------

@dataclass(frozen=True)
class Conv16Config:
    """8 convolutions and a bidirectional LSTM, with a dataset one-hot (Chenkov & McColgan)."""

    n_datasets: int = 1
    first_kernel: int = 300  # 3 s at 100 Hz
    lstm_hidden: int = 10
    dropout: float = 0.3


class Conv16Net(nn.Module):
    """conv1 10x300 tanh; conv2 10x10, conv3 10x5 ReLU; one-hot joins conv2's output;
    a bidirectional LSTM reads conv3's input and is added to conv4's input; conv4-8
    narrow to one unit; dropout after the first five convolutions."""

    def __init__(self, config: Conv16Config = Conv16Config()):
        super().__init__()
        self.config = config
        d = max(config.n_datasets, 1)
        k = config.first_kernel
        self.conv1 = nn.Conv1d(1, 10, k, padding=k // 2)
        self.conv2 = nn.Conv1d(10, 10, 10)  # even width: padded by hand in forward
        self.conv3 = nn.Conv1d(10 + d, 10, 5, padding="same")
        self.lstm = nn.LSTM(10 + d, config.lstm_hidden, batch_first=True, bidirectional=True)
        self.lstm_proj = nn.Linear(2 * config.lstm_hidden, 10)
        widths = (10, 8, 6, 4, 2, 1)
        self.tail = nn.ModuleList(nn.Conv1d(a, b, 5, padding="same")
                                  for a, b in zip(widths[:-1], widths[1:]))
        # He initialisation with zero biases: with torch's defaults the signal shrinks
        # about 3-fold per layer, so the output started constant (to float precision),
        # which gives a correlation loss no gradient.
        for conv in (self.conv2, self.conv3, *self.tail):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        nn.init.constant_(self.tail[-1].bias, float(torch.log(torch.expm1(torch.tensor(0.02)))))
        self.drop = nn.Dropout(config.dropout)

    @property
    def receptive_field(self) -> int | None:
        return None  # the LSTM sees the whole trace

    def one_hot(self, dataset: torch.Tensor | None, batch: int, time: int) -> torch.Tensor:
        """(batch, n_datasets, time); an unknown dataset gets the uniform mixture."""
        d = max(self.config.n_datasets, 1)
        if dataset is None:
            code = torch.full((batch, d), 1.0 / d)
        else:
            code = torch.where((dataset >= 0).unsqueeze(1),
                               F.one_hot(dataset.clamp(min=0), d).float(),
                               torch.full((batch, d), 1.0 / d))
        return code.unsqueeze(-1).expand(-1, -1, time)

    def forward(self, x: torch.Tensor, dataset: torch.Tensor | None = None) -> torch.Tensor:
        batch, _, time = x.shape
        h = self.drop(torch.tanh(self.conv1(x)[..., :time]))  # (batch, 10, time)
        h = self.drop(F.relu(self.conv2(F.pad(h, (4, 5)))))
        h = torch.cat([h, self.one_hot(dataset, batch, time)], dim=1)  # (batch, 10 + d, time)
        recurrent, _ = self.lstm(h.transpose(1, 2))  # (batch, time, 2 * hidden)
        h = self.drop(F.relu(self.conv3(h)))
        h = h + self.lstm_proj(recurrent).transpose(1, 2)
        for i, conv in enumerate(self.tail):
            h = conv(h)
            if i < len(self.tail) - 1:
                h = F.relu(h)
                if i < 2:
                    h = self.drop(h)  # dropout after convolutions 1-5
        return F.softplus(h).squeeze(1)


# -- default (the project's own) -------------------------------------------------

@dataclass(frozen=True)
class DefaultConfig:
    """A compact dilated residual CNN whose body runs at half the frame rate.

    A stride-2 stem reads the trace and its first difference, the body's dilated
    convolutions run on half as many frames (half the cost, twice the reach), and a
    transposed convolution returns to the input's rate, so timing keeps frame
    resolution. Sized to predict 1000 neuron-hours at 30 Hz in about a minute on 2 cores.
    With ``normalize``, a third input is the trace divided by its noise scale (one
    number per trace), so that indicators of very different dF/F read alike.
    """

    channels: int = 24
    kernel: int = 3
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 1, 2, 4)
    normalize: bool = True  # also read the trace in units of its own noise
    n_datasets: int = 0  # unused; keeps one constructor signature for all networks


#: median |diff| of unit white noise: sqrt(2) * 0.6745.
MEDIAN_ABS_DIFF = 0.9538725524


def noise_scale(x: torch.Tensor) -> torch.Tensor:
    """(..., time) -> (..., 1): the median absolute frame difference along time (the torch
    twin of :func:`spikeinfer.signals.noise_std`, times :data:`MEDIAN_ABS_DIFF`)."""
    return torch.diff(x, dim=-1).abs().median(dim=-1, keepdim=True).values


def noise_units(x: torch.Tensor) -> torch.Tensor:
    """(batch, 1, time) divided by each row's noise scale, median absolute frame difference."""
    return x / noise_scale(x).clamp(min=1e-6)


class DefaultNet(nn.Module):
    def __init__(self, config: DefaultConfig = DefaultConfig()):
        super().__init__()
        self.config = config
        c, k = config.channels, config.kernel
        self.stem = nn.Conv1d(3 if config.normalize else 2, c, 4, stride=2, padding=1)
        self.blocks = nn.ModuleList(
            nn.Conv1d(c, c, k, dilation=d, padding=d * (k - 1) // 2) for d in config.dilations)
        self.up = nn.ConvTranspose1d(c, c, 2, stride=2)
        self.out = init_rate_output(nn.Conv1d(c, 1, 1))

    @property
    def receptive_field(self) -> int:
        # body reach in half-rate frames, doubled; + stem (4) and difference (1)
        return 2 * (self.config.kernel - 1) * sum(self.config.dilations) + 5

    def trace_statistics(self, x: torch.Tensor) -> dict:
        """What the network measures over its whole input (the noise scale), to be passed
        to ``forward`` with each segment of an input too long for one pass."""
        if not self.config.normalize:
            return {}
        return {"noise": noise_scale(F.pad(x, (0, x.shape[-1] % 2), mode="replicate"))}

    def forward(self, x: torch.Tensor, dataset: torch.Tensor | None = None,
                noise: torch.Tensor | None = None) -> torch.Tensor:
        time = x.shape[-1]
        x = F.pad(x, (0, time % 2), mode="replicate")  # even length for the stride
        features = [x, torch.diff(x, dim=-1, prepend=x[..., :1])]
        if self.config.normalize:
            features.append(noise_units(x) if noise is None else x / noise.clamp(min=1e-6))
        h = F.relu(self.stem(torch.cat(features, dim=1)))  # (batch, channels, time / 2)
        for block in self.blocks:
            h = h + F.relu(block(h), inplace=True)
        h = F.relu(self._upsample(h), inplace=True)  # (batch, channels, time)
        return F.softplus(self.out(h)).squeeze(1)[:, :time]

    def _upsample(self, h: torch.Tensor) -> torch.Tensor:
        """``self.up`` (transposed convolution, kernel 2, stride 2) computed as a 1x1
        convolution to both phases, then interleaved: the same numbers, several times
        faster on CPU than torch's transposed convolution."""
        weight = self.up.weight  # (channels_in, channels_out, 2)
        c_out = weight.shape[1]
        phases = F.conv1d(h, weight.permute(1, 2, 0).reshape(2 * c_out, -1, 1),
                          self.up.bias.repeat_interleave(2))  # (batch, channels_out * 2, t)
        batch, _, half = phases.shape
        return phases.view(batch, c_out, 2, half).transpose(2, 3).reshape(batch, c_out, 2 * half)


# -- single-neuron networks of the embedding (seed 000) ------------------------

@dataclass(frozen=True)
class TinyCNNConfig:
    """Two convolutions: ``channels`` filters of ``kernels[0]`` frames, then one output
    filter of ``kernels[1]`` frames (1 s and 0.5 s at 30 Hz)."""

    channels: int = 16
    kernels: tuple[int, int] = (31, 15)


class TinyCNN(nn.Module):
    """(batch, 1, time) dF/F -> (batch, time) non-negative spike rate, same length."""

    def __init__(self, config: TinyCNNConfig = TinyCNNConfig()):
        super().__init__()
        self.config = config
        k1, k2 = config.kernels
        self.conv1 = nn.Conv1d(1, config.channels, k1, padding=k1 // 2, padding_mode="replicate")
        self.conv2 = nn.Conv1d(config.channels, 1, k2, padding=k2 // 2, padding_mode="replicate")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv1(x))  # (batch, channels, time)
        return F.softplus(self.conv2(h)).squeeze(1)  # (batch, time)


#: The rate (Hz) each network's kernel sizes were designed for.
NETWORK_FPS = {"elephant": 100.0, "attended": 100.0, "conv16": 100.0, "default": 30.0}

NETWORKS = {
    "elephant": (ElephantNet, ElephantConfig),
    "attended": (AttendedNet, AttendedConfig),
    "conv16": (Conv16Net, Conv16Config),
    "default": (DefaultNet, DefaultConfig),
}
