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
    torch.testing.assert_close(z, h @ model.W)  # logits = W^T h, column by column


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
