"""Networks for the deep-net experiments (Sec. 5, Fig 2 and Fig 11): ResNet-18, VGG-13, an MLP.

Every network is a feature extractor followed by a linear classifier WITHOUT bias, so that the
logits are W^T h exactly as in the UFM (h = penultimate features, W = classifier.weight.T,
(d, k)). `model.features(x)` returns h, (N, d); `model(x)` returns the logits, (N, k).
"""

from __future__ import annotations

import torch
from torch import nn

from seli_exact.errors import SeliInputError

from .deepnet_config import ARCHS


class FeatureNet(nn.Module):
    """body -> h (N, d) -> classifier (bias-free Linear d -> k) -> logits (N, k)."""

    def __init__(self, body: nn.Module, d: int, k: int):
        super().__init__()
        self.body = body
        self.d = d
        self.classifier = nn.Linear(d, k, bias=False)  # no bias: logits = W^T h as in (1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.body(x))

    @property
    def W(self) -> torch.Tensor:
        """The classifiers as columns, (d, k)."""
        return self.classifier.weight.T


# ---------------------------------------------------------------- MLP for the digits default

def mlp(in_shape: tuple[int, int, int], k: int, *, width: int = 256, depth: int = 3) -> FeatureNet:
    """`depth` hidden layers of `width` units, ReLU, batch norm; features = last hidden layer."""
    c, h, w = in_shape
    layers: list[nn.Module] = [nn.Flatten()]
    fan_in = c * h * w
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True)]
        fan_in = width
    return FeatureNet(nn.Sequential(*layers), width, k)


# ---------------------------------------------------------------- ResNet-18, CIFAR variant

class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


def resnet18(in_shape: tuple[int, int, int], k: int, *, width: int = 64) -> FeatureNet:
    """He et al.'s ResNet-18 for small images: 3x3 stride-1 stem, no max-pool; d = 8 * width."""
    c = in_shape[0]
    layers: list[nn.Module] = [
        nn.Conv2d(c, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)
    ]
    c_in = width
    for i, c_out in enumerate((width, 2 * width, 4 * width, 8 * width)):
        for j in range(2):
            layers.append(BasicBlock(c_in, c_out, 2 if (i > 0 and j == 0) else 1))
            c_in = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return FeatureNet(nn.Sequential(*layers), c_in, k)


# ---------------------------------------------------------------- VGG-13 adapted to the input

VGG13 = (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


def vgg13(in_shape: tuple[int, int, int], k: int, *, width: int = 64) -> FeatureNet:
    """VGG-13 with batch norm; a max-pool is dropped once the image is 1 pixel wide, so 8x8
    and 28x28 inputs work as well as 32x32; global average pool, then the bias-free classifier.
    Channel counts scale with `width` (64 = the original); d = 8 * width."""
    c, h, w = in_shape
    size = min(h, w)
    layers: list[nn.Module] = []
    c_in = c
    for v in VGG13:
        if v == "M":
            if size >= 2:
                layers.append(nn.MaxPool2d(2))
                size //= 2
            continue
        c_out = v * width // 64
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                   nn.ReLU(inplace=True)]
        c_in = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return FeatureNet(nn.Sequential(*layers), c_in, k)


def build_model(arch: str, in_shape: tuple[int, int, int], k: int, *, width: int | None = None,
                seed: int | None = None) -> FeatureNet:
    """One of ARCHS for images of shape (C, H, W) and k classes; `seed` fixes the initialization."""
    builders = {"mlp": mlp, "resnet18": resnet18, "vgg13": vgg13}
    if arch not in builders:
        raise SeliInputError(
            f"`arch` must be one of {', '.join(ARCHS)}; got {arch!r}. Use mlp for the digits default."
        )
    if width is not None and (not isinstance(width, int) or width < 1):
        raise SeliInputError(f"`width` must be a whole number >= 1; got {width!r}. Try 64.")
    kwargs = {} if width is None else {"width": width}
    if seed is None:
        return builders[arch](tuple(in_shape), k, **kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return builders[arch](tuple(in_shape), k, **kwargs)
