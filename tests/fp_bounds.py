"""A priori rounding-error bounds for float32 forward passes, for tests that compare features.

Two float32 evaluations of the same network (different batch sizes, BLAS kernels, CPU
capabilities or thread counts) may sum in different orders, so their features agree only up to
rounding. `forward_bound(layers, x)` evaluates the layers in float64 from the float32 weights
(exact: every float32 is a float64) and propagates the standard bound of floating-point
summation (Higham, "Accuracy and Stability of Numerical Algorithms", Sec. 3.1): a sum of m
products computed in any order, with or without FMA, is within gamma_m * sum |terms| of the
exact sum, gamma_m = m u / (1 - m u), u = 2^-24. Errors carried in from the input pass through
a linear map as |W| e, and through ReLU unchanged (it is 1-Lipschitz).

Any float32 evaluation lies within `bound` of the exact result elementwise, so two evaluations
lie within 2 * bound of each other, whatever the summation order.

>>> import numpy as np
>>> gamma(10) > 10 * 2.0**-24
True
"""

from __future__ import annotations

import numpy as np

U32 = 2.0**-24  # unit roundoff of float32
U64 = 2.0**-53  # of float64, for the reference's own rounding


def gamma(m: int, u: float = U32) -> float:
    """Higham's gamma_m: the relative error bound of an m-term floating-point sum."""
    if m * u >= 1:
        raise ValueError(f"gamma_m needs m u < 1; got m={m}, u={u}")
    return m * u / (1 - m * u)


def forward_bound(layers, x) -> tuple[np.ndarray, np.ndarray]:
    """(reference, bound): the exact forward pass of `layers` (an iterable of torch modules:
    Flatten, Linear, BatchNorm1d in eval mode, ReLU) on float32 input `x`, computed in float64,
    and an elementwise bound on how far any float32 evaluation can lie from it."""
    import torch

    ref = x.detach().double().cpu().numpy()
    err = np.zeros_like(ref)  # the input is given exactly
    for layer in layers:
        if isinstance(layer, torch.nn.Flatten):
            ref, err = ref.reshape(ref.shape[0], -1), err.reshape(err.shape[0], -1)
        elif isinstance(layer, torch.nn.Linear):
            W = layer.weight.detach().double().cpu().numpy()  # (out, in)
            b = (np.zeros(W.shape[0]) if layer.bias is None
                 else layer.bias.detach().double().cpu().numpy())
            terms = (np.abs(ref) + err) @ np.abs(W).T + np.abs(b)  # sum of |terms| of each output
            m = W.shape[1] + 1
            err = err @ np.abs(W).T + (gamma(m) + gamma(m, U64)) * terms
            ref = ref @ W.T + b
        elif isinstance(layer, torch.nn.BatchNorm1d):
            if layer.training:
                raise ValueError("forward_bound models batch norm in eval mode only")
            mean = layer.running_mean.double().cpu().numpy()
            var = layer.running_var.double().cpu().numpy()
            w = layer.weight.detach().double().cpu().numpy()
            b = layer.bias.detach().double().cpu().numpy()
            alpha = w / np.sqrt(var + layer.eps)
            # y = x alpha + (b - mean alpha): at most eight roundings (eps added, sqrt, divide,
            # times weight, mean times alpha, subtract, x times alpha, add), each relative to
            # a term of S below
            S = (np.abs(ref) + err) * np.abs(alpha) + np.abs(mean * alpha) + np.abs(b)
            err = err * np.abs(alpha) + (gamma(8) + gamma(8, U64)) * S
            ref = (ref - mean) * alpha + b
        elif isinstance(layer, torch.nn.ReLU):
            ref = np.maximum(ref, 0.0)
        else:
            raise ValueError(f"forward_bound has no rounding model for {type(layer).__name__}")
    return ref, err
