"""Writing `.safetensors` files by the format's documentation, apart from the reader they check.

The layout: an 8-byte little-endian header length N, N bytes of JSON {name: {"dtype", "shape",
"data_offsets": [begin, end]}, "__metadata__": {...}}, then the little-endian C-order buffers the
offsets point into. sec5.metrics stores models this way for measurement.sources to read back, and
tests/test_sources.py writes its damaged and hand-made files with it.

>>> import numpy as np, tempfile
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "m.safetensors"
>>> write_safetensors(path, {"w": np.arange(3, dtype=np.float32)})
>>> raw = path.read_bytes()
>>> int.from_bytes(raw[:8], "little") == len(raw) - 8 - 12
True
"""

from __future__ import annotations

import json

import numpy as np

_NAMES = {"float64": "F64", "float32": "F32", "float16": "F16", "int64": "I64", "int32": "I32",
          "uint8": "U8", "bool": "BOOL"}


def write_safetensors(path, tensors: dict, *, metadata=None, pad: int = 0, dtypes=None) -> None:
    """Write `tensors` {name: array}; `dtypes` {name: dtype name} overrides the name taken from an
    array's numpy dtype (e.g. "BF16" for uint16 bits), `metadata` is stored as "__metadata__",
    and `pad` spaces end the header (the format allows them)."""
    header, blobs, offset = {}, [], 0
    for key, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[key] = {"dtype": (dtypes or {}).get(key, _NAMES.get(arr.dtype.name)),
                       "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode() + b" " * pad
    with open(path, "wb") as fh:
        fh.write(len(text).to_bytes(8, "little"))
        fh.write(text)
        for blob in blobs:
            fh.write(blob)
