"""`seli measure`: a trained network's classifier and features against the exact SELI and ETF
geometry of its class counts, and the readers of the files they come in.

  report    measure, Measurement, AngleErrors, NormProfile                    the report
  sources   load_source, parse_source, SRC_HELP                               array files: .npy
            (memory-mapped), .npz, .pt, .safetensors (memory-mapped), float16/32/64, bfloat16

>>> import numpy as np
>>> from measurement import measure
>>> W = np.array([[1.0, 0.0], [-1.0, 0.0]]); H = np.array([[1.0, 0.0], [-1.0, 0.0]])
>>> round(measure(W, H, np.array([0, 1])).distance_to_etf.classifiers, 12)
0.0
"""

from __future__ import annotations

import importlib

_SOURCES = {"measure": "report", "Measurement": "report", "AngleErrors": "report",
            "NormProfile": "report",
            "load_source": "sources", "parse_source": "sources", "SRC_HELP": "sources"}

__all__ = sorted(_SOURCES)


def __getattr__(name: str):
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module 'measurement' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
