"""training.models: shapes, bias-free classifier, penultimate features, the published layouts."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from seli_exact.errors import SeliInputError  # noqa: E402
from training.models import build_model  # noqa: E402

SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32)]


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny nets gain nothing from intra-op threads, and on a busy machine threads only wait."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.mark.parametrize("arch,width,d", [("mlp", 16, 16), ("resnet18", 4, 32), ("vgg13", 8, 64)])
@pytest.mark.parametrize("shape", SHAPES)
def test_logits_are_W_transpose_h(arch, width, d, shape):
    k = 10
    model = build_model(arch, shape, k, width=width, seed=0).eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        h = model.features(x)
        z = model(x)
    assert h.shape == (3, d) and z.shape == (3, k)
    assert model.classifier.bias is None  # no bias, as in the UFM
    assert model.W.shape == (d, k)
    # logits = W^T h, column by column: the float32 logits against the same product in float64,
    # within float32's bound for a dot product of d terms, gamma_d u32 sum |h_i| |W_ic|, plus
    # the rounding of the result (whatever order the CPU kernel sums in)
    from tests.fp_bounds import U32, gamma

    h64, W64 = h.double(), model.W.detach().double()
    bound = gamma(d) * (h64.abs() @ W64.abs()) + U32 * (h64 @ W64).abs()
    assert bool(((z.double() - h64 @ W64).abs() <= bound).all())
    assert not torch.equal(z, h @ model.W.flip(1))  # the columns are the classes, in order


def test_resnet18_is_the_cifar_variant():
    model = build_model("resnet18", (3, 32, 32), 10)
    stem = model.body[0]
    assert isinstance(stem, nn.Conv2d) and stem.kernel_size == (3, 3) and stem.stride == (1, 1)
    assert not any(isinstance(m, nn.MaxPool2d) for m in model.modules())
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(convs) == 17  # stem + 8 basic blocks x 2: with the classifier, 18 layers
    # 11,173,962 parameters is the usual count of this network with a biased 512 -> 10 layer
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 11_173_962 - 10
    assert model.d == 512


@pytest.mark.parametrize("shape,pools", [((3, 32, 32), 5), ((1, 28, 28), 4), ((1, 8, 8), 3)])
def test_vgg13_adapts_its_pools_to_the_input(shape, pools):
    model = build_model("vgg13", shape, 10, width=8)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 10  # VGG-13: 10 conv layers (+ the classifier; its FC head is one layer)
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == pools
    with torch.no_grad():
        assert model.eval()(torch.zeros(2, *shape)).shape == (2, 10)


def test_vgg13_full_width_channels():
    model = build_model("vgg13", (3, 32, 32), 10)
    outs = [m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert outs == [64, 64, 128, 128, 256, 256, 512, 512, 512, 512]


def test_seed_fixes_the_initialization_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = build_model("mlp", (1, 8, 8), 10, seed=5)
    assert torch.equal(torch.get_rng_state(), before)
    b = build_model("mlp", (1, 8, 8), 10, seed=5)
    c = build_model("mlp", (1, 8, 8), 10, seed=6)
    assert torch.equal(a.classifier.weight, b.classifier.weight)
    assert not torch.equal(a.classifier.weight, c.classifier.weight)


def test_bad_arch_and_width():
    with pytest.raises(SeliInputError, match="`arch` must be one of mlp, resnet18, vgg13; got 'vit'"):
        build_model("vit", (1, 8, 8), 10)
    with pytest.raises(SeliInputError, match="`width` must be a whole number >= 1; got 0"):
        build_model("mlp", (1, 8, 8), 10, width=0)


@pytest.mark.parametrize("arch,width", [("mlp", 16), ("mlp", None), ("resnet18", 4),
                                        ("vgg13", 8)])
@pytest.mark.parametrize("shape", SHAPES)
def test_the_cost_model_counts_the_built_networks(arch, width, shape):
    """training.cost counts a network's arithmetic without building it (the CLI's time estimate
    and default thread count): its parameters are torch's count of the built model, its
    multiply-adds what forward hooks on every Conv2d and Linear count in a real forward pass."""
    from training.cost import network_layers, network_macs, network_params

    model = build_model(arch, shape, 10, width=width, seed=0).eval()
    macs, layers = 0, 0

    def count(m, inputs, out):
        nonlocal macs
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            macs += out[0].numel() * (m.in_channels // m.groups) * kh * kw  # per image
        else:
            macs += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(count)
            layers += 1
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    assert network_params(arch, shape, 10, width) == sum(p.numel() for p in model.parameters())
    assert network_macs(arch, shape, 10, width) == macs
    assert network_layers(arch, shape, 10, width) == layers
