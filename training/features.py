"""Penultimate features of a trained model, collected the way neural-collapse codebases do.

A forward pre-hook on the model's last nn.Linear (its classifier) records that layer's *input* for
every batch of a DataLoader run through the model in eval mode without gradients (Papyan et al.;
Zhu et al.'s validate_NC.py registers the same hook on `model.fc`). The result is in PyTorch's
layouts, ready for `measurement.measure(f.classifier, f.features, f.labels, bias=f.bias)`:

    f = collect_features(model, train_loader)        # features (n, d), labels (n,), W (k, d)

"Last" means last in `model.modules()` order, which is the classifier for the usual definitions
(ResNets' `fc`, VGG's `classifier[-1]`, training.models.FeatureNet's `classifier`); pass `layer=`
(the module, or its name in `model.named_modules()`) where it is not.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from seli_exact.errors import SeliInputError


class PenultimateFeatures(NamedTuple):
    """What `collect_features` returns; all CPU tensors."""

    features: torch.Tensor  # (n, d), in the dtype the layer received
    labels: torch.Tensor  # (n,) int64
    classifier: torch.Tensor  # (k, d) the layer's weight (nn.Linear.weight)
    bias: torch.Tensor | None  # (k,) or None for a bias-free layer


def last_linear(model: nn.Module, layer: nn.Module | str | None = None) -> nn.Linear:
    """The classifier layer: `layer` when given (a module or a name), else the last nn.Linear."""
    if isinstance(layer, str):
        named = dict(model.named_modules())
        if layer not in named:
            linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
            raise SeliInputError(
                f"`layer` {layer!r} is not a module of the model; its linear layers are "
                f"{', '.join(linears) or 'none'}. Name one of them."
            )
        layer = named[layer]
    if layer is None:
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise SeliInputError(
                f"the model ({type(model).__name__}) has no nn.Linear to read features from; "
                "pass layer= with its classifier module."
            )
        layer = linears[-1]
    if not isinstance(layer, nn.Linear):
        raise SeliInputError(
            f"`layer` must be an nn.Linear (the classifier); got {type(layer).__name__}. "
            "Pass the model's last linear layer."
        )
    return layer


@torch.no_grad()
def collect_features(model: nn.Module, loader, *, layer: nn.Module | str | None = None,
                     device=None) -> PenultimateFeatures:
    """Run `loader` ((inputs, labels) batches) through `model` and keep the classifier's inputs.

    The model is put in eval mode for the pass (batch norm uses its running statistics, as for
    the logged metrics of training.deepnet) and returned to the mode it was in. Inputs are moved
    to `device` (default: where the model's first parameter lives).
    """
    fc = last_linear(model, layer)
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    feats: list[torch.Tensor] = []
    labels: list[torch.Tensor] = []
    seen: list[torch.Tensor] = []

    def hook(module, inputs):
        seen.append(inputs[0].detach())

    was_training = model.training
    handle = fc.register_forward_pre_hook(hook)
    try:
        model.eval()
        for batch in loader:
            if not isinstance(batch, (list, tuple)) or len(batch) < 2:
                raise SeliInputError(
                    f"every batch of the loader must be (inputs, labels); got a "
                    f"{type(batch).__name__}. Wrap the dataset so it yields pairs."
                )
            x, y = batch[0], batch[1]
            seen.clear()
            model(x.to(device))
            if len(seen) != 1:
                raise SeliInputError(
                    f"the classifier layer ran {len(seen)} times in one forward pass; features "
                    "are read from a layer that runs once. Pass layer= with the classifier."
                )
            h = seen[0]
            if h.ndim != 2 or h.shape[0] != len(y):
                raise SeliInputError(
                    f"the classifier's input has shape {tuple(h.shape)} for a batch of {len(y)}; "
                    "features must be one row per example (batch, d). Pass layer= with a "
                    "classifier applied to pooled features."
                )
            feats.append(h.cpu())
            labels.append(torch.as_tensor(y).reshape(-1).to("cpu", torch.int64))
    finally:
        handle.remove()
        model.train(was_training)
    if not feats:
        raise SeliInputError("the loader yielded no batches; pass the training set's DataLoader.")
    bias = None if fc.bias is None else fc.bias.detach().cpu().clone()
    return PenultimateFeatures(torch.cat(feats), torch.cat(labels),
                               fc.weight.detach().cpu().clone(), bias)
