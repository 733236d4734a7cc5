"""The networks: output shape, receptive field, dataset conditioning, and learning."""

import pytest
import torch

from spikeinfer.nn import (
    NETWORKS,
    AttendedConfig,
    AttendedNet,
    Conv16Config,
    Conv16Net,
    DefaultConfig,
    DefaultNet,
)
from spikeinfer.nn.networks import noise_units


def build(name, n_datasets=3, **params):
    net_cls, config_cls = NETWORKS[name]
    if name in ("attended", "conv16"):
        params["n_datasets"] = n_datasets
    return net_cls(config_cls(**params)).eval()


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize("length", [257, 1000])
def test_output_keeps_length_and_is_a_rate(name, length):
    x = torch.randn(3, 1, length)
    with torch.no_grad():
        y = build(name)(x, torch.tensor([0, 1, -1]))
    assert y.shape == (3, length)
    assert (y >= 0).all() and torch.isfinite(y).all()


@pytest.mark.parametrize("name", ["elephant", "attended", "default"])
def test_receptive_field(name):
    """An output frame depends on the input within its receptive field and nowhere else
    (the default's noise scale, one number per trace, is left out here)."""
    net = build(name, **({"normalize": False} if name == "default" else {}))
    x = torch.randn(1, 1, 600, requires_grad=True)
    centre = 300
    net(x, torch.tensor([0]))[0, centre].backward()
    reached = torch.nonzero(x.grad[0, 0]).ravel()
    span = int(reached.max() - reached.min() + 1)
    assert span <= net.receptive_field
    assert span >= 0.8 * net.receptive_field  # the field is not overstated either
    assert reached.min() <= centre <= reached.max()


def test_elephant_matches_the_seed():
    net = build("elephant")
    assert [c.kernel_size[0] for c in (net.conv1, net.conv2, net.conv3)] == [41, 21, 7]
    assert net.receptive_field == 128


def test_conv16_matches_the_seed():
    net = build("conv16")
    assert net.conv1.kernel_size[0] == 300 and net.conv1.out_channels == 10
    assert net.conv2.kernel_size[0] == 10 and net.conv3.kernel_size[0] == 5
    assert net.lstm.bidirectional
    assert 3 + len(net.tail) == 8  # eight convolutions in all
    assert net.tail[-1].out_channels == 1


def test_attended_weights_filters_per_dataset_and_falls_back_to_the_mean():
    net = AttendedNet(AttendedConfig(n_datasets=3)).eval()
    with torch.no_grad():
        net.embedding.weight.copy_(torch.tensor([[0.0] * 32, [1.0] * 32, [2.0] * 32]))
        x = torch.randn(1, 1, 400)
        out = {d: net(x, torch.tensor([d])) for d in (0, 1, 2, -1)}
        unknown_none = net(x, None)
    assert not torch.allclose(out[0], out[2])
    # Unknown dataset (-1 or None) uses the mean embedding, which here equals dataset 1's.
    torch.testing.assert_close(out[-1], out[1])
    torch.testing.assert_close(unknown_none, out[1])


def test_conv16_unknown_dataset_uses_the_uniform_code():
    net = Conv16Net(Conv16Config(n_datasets=2)).eval()
    code = net.one_hot(torch.tensor([0, -1]), 2, 5)
    torch.testing.assert_close(code[0, :, 0], torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(code[1, :, 0], torch.tensor([0.5, 0.5]))


def test_noise_units_ignore_the_trace_scale_and_the_default_reads_them():
    torch.manual_seed(0)
    x = torch.randn(2, 1, 500).cumsum(-1) * 0.1 + torch.randn(2, 1, 500) * 0.02
    torch.testing.assert_close(noise_units(7.0 * x), noise_units(x))
    assert DefaultNet(DefaultConfig()).stem.in_channels == 3  # trace, difference, noise units
    assert DefaultNet(DefaultConfig(normalize=False)).stem.in_channels == 2


def test_default_keeps_odd_lengths_and_runs_at_half_rate_inside():
    net = build("default").eval()
    with torch.no_grad():
        assert net(torch.randn(1, 1, 301)).shape == (1, 301)
    assert net.stem.stride == (2,) and net.up.stride == (2,)


def test_default_upsampling_equals_the_transposed_convolution():
    net = build("default")
    h = torch.randn(2, net.config.channels, 37)
    with torch.no_grad():
        torch.testing.assert_close(net._upsample(h), net.up(h))


@pytest.mark.parametrize("seed", range(6))
def test_conv16_output_follows_the_input_from_initialisation(seed):
    """conv16 is trained by correlation alone: an output constant at initialisation (as
    torch's default initialisation gave for its narrow ReLU tail) has no gradient."""
    torch.manual_seed(seed)
    x = 0.1 * torch.randn(2, 1, 2000)
    with torch.no_grad():
        y = build("conv16")(x, torch.tensor([0, 1]))
    assert (y.std(dim=1) > 1e-5).all()
