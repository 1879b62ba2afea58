"""Arrays named by SRC specs: `file.npy`, `file.npz:KEY`, `file.pt:KEY`, `file.safetensors:KEY`.

`load_source(spec, arg)` returns an array-like with `.shape`, `.dtype` and row slicing, without
reading more of the file than it must, so `measurement.measure` can stream large inputs:
  .npy          memory-mapped (numpy.load(mmap_mode="r"));
  .npz:KEY      read into memory (zip members cannot be mapped); a single-array file needs no KEY;
  .pt:KEY       torch.load(weights_only=True, mmap=True): a tensor, or KEY in a saved dict, list
                or tuple, nested levels joined by "." (a state dict's "fc.weight", or
                "state_dict.fc.weight" inside a checkpoint); torch is imported only here;
  .safetensors:KEY  memory-mapped by the reader below, from the format's documentation (an
                8-byte little-endian header length N, N bytes of JSON {name: {"dtype", "shape",
                "data_offsets": [begin, end]}, "__metadata__": {...}}, then the little-endian
                C-order byte buffer the offsets point into); BF16 tensors are widened to float32
                row block by row block.
A file that is missing, unreadable or damaged, or a KEY that is not there (the available keys
are listed), raises SeliInputError naming the argument, the file and the fix; so does a tensor
that holds no plain array of numbers (sparse, meta-device, quantized or nested: `torch_problem`).
A relative SRC is refused when the current folder was removed.

>>> import numpy as np, tempfile, os
>>> folder = tempfile.mkdtemp()
>>> np.savez(os.path.join(folder, "run.npz"), W=np.eye(3), y=np.arange(3))
>>> load_source(os.path.join(folder, "run.npz") + ":y").tolist()
[0, 1, 2]
"""

from __future__ import annotations

import difflib
import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seli_exact.errors import SeliInputError
from seli_exact.validate import relative_path

KINDS = {".npy": "npy", ".npz": "npz", ".pt": "pt", ".pth": "pt", ".safetensors": "safetensors"}
SRC_HELP = ("a file: X.npy, X.npz:KEY, X.pt:KEY (a tensor, or a key of a saved dict such as "
            "model.pt:fc.weight) or X.safetensors:KEY")

# safetensors dtype names -> numpy dtypes (little-endian); BF16 is handled apart
_ST_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
    "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?",
}
_ST_MAX_HEADER = 100_000_000  # the format's own limit on N


@dataclass(frozen=True)
class Source:
    """A parsed SRC spec: the file, its kind (npy, npz, pt, safetensors) and the KEY, if any."""

    spec: str
    path: Path
    kind: str
    key: str | None


def parse_source(spec, arg: str = "SRC") -> Source:
    """Split `spec` into file and KEY (after the last ':') and check that the file exists."""
    if not isinstance(spec, str) or not spec.strip() or "\x00" in spec:
        raise SeliInputError(f"`{arg}` must name a file; got {spec!r}. Give {SRC_HELP}.")
    relative_path(arg, spec)
    try:
        return _parse(spec, arg)
    except OSError as err:  # a name too long, a folder we may not enter, ...
        raise SeliInputError(
            f"`{arg}` {spec!r} cannot be opened ({os.strerror(err.errno) if err.errno else err}); "
            "check the path."
        ) from None


def _parse(spec: str, arg: str) -> Source:
    path, key = spec, None
    if not os.path.exists(spec) and ":" in spec:
        path, key = spec.rsplit(":", 1)
        if not key:
            raise SeliInputError(
                f"`{arg}` {spec!r} ends in ':' with no KEY. Name the array after the colon, "
                "e.g. model.pt:fc.weight, or drop the colon."
            )
    p = Path(path)
    kind = KINDS.get(p.suffix.lower())
    if kind is None:
        raise SeliInputError(
            f"`{arg}` {spec!r} is not a file type measure reads (got suffix {p.suffix or 'none'!r}); "
            f"give {SRC_HELP}."
        )
    if not p.exists():
        raise SeliInputError(f"`{arg}` file {path} does not exist; check the path.")
    if not p.is_file():
        raise SeliInputError(f"`{arg}` {path} is not a regular file; give {SRC_HELP}.")
    if not os.access(p, os.R_OK):
        raise SeliInputError(f"`{arg}` file {path} is not readable; check its permissions.")
    if key is not None and kind == "npy":
        raise SeliInputError(
            f"`{arg}` {spec!r}: a .npy file holds one array, so it takes no KEY; give {path} alone."
        )
    return Source(spec, p, kind, key)


def load_source(spec, arg: str = "SRC"):
    """The array named by `spec` (see the module docstring): numpy, memmap, or a torch tensor."""
    src = parse_source(spec, arg)
    return {"npy": _npy, "npz": _npz, "pt": _pt, "safetensors": _safetensors}[src.kind](src, arg)


# --------------------------------------------------------------------------- formats


def _damaged(src: Source, arg: str, what: str, err) -> SeliInputError:
    reason = str(err).strip().splitlines()[0].rstrip(".") if str(err).strip() else type(err).__name__
    return SeliInputError(
        f"`{arg}` file {src.path} is not a readable {what} ({reason}); re-save it, or check "
        "that the file was copied completely."
    )


def _npy(src: Source, arg: str):
    try:
        return np.load(src.path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        if any(s in str(err) for s in ("allow_pickle", "Object arrays", "Python objects")):
            raise SeliInputError(
                f"`{arg}` file {src.path} holds Python objects, not numbers; save a numeric "
                "array (numpy.save(path, np.asarray(x, dtype=np.float32)))."
            ) from None
        if "mmap length" in str(err):
            err = "shorter than its header says"
        raise _damaged(src, arg, ".npy file", err) from None
    except Exception as err:  # OSError, EOFError, a header numpy cannot parse: a damaged file
        raise _damaged(src, arg, ".npy file", err) from None


def _missing_key(src: Source, arg: str, keys: list[str], what: str) -> SeliInputError:
    if not keys:
        return SeliInputError(f"`{arg}` file {src.path} holds no {what}; save the arrays into it.")
    shown = ", ".join(keys[:20]) + (f", ... ({len(keys) - 20} more)" if len(keys) > 20 else "")
    if src.key is None:
        return SeliInputError(
            f"`{arg}` file {src.path} holds {len(keys)} {what}s, so name one as "
            f"{src.path}:KEY; available: {shown}."
        )
    near = ([k for k in keys if k.casefold() == src.key.casefold()]
            or [k for k in keys if k.endswith("." + src.key)]  # e.g. DataParallel's "module."
            or difflib.get_close_matches(src.key, keys, n=1, cutoff=0.6))
    hint = f"did you mean {src.path}:{near[0]}? " if near else ""
    return SeliInputError(
        f"`{arg}` file {src.path} has no {what} {src.key!r}; {hint}available: {shown}."
    )


def _npz(src: Source, arg: str):
    try:
        # opened here so that a damaged archive's file is closed too
        with open(src.path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            keys = list(z.files)
            key = src.key
            if key is None and len(keys) == 1:
                key = keys[0]
            if key not in keys:
                raise _missing_key(src, arg, keys, "array")
            return z[key]
    except SeliInputError:
        raise
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise SeliInputError(
                f"`{arg}` array {src.spec} holds Python objects, not numbers; save a numeric array."
            ) from None
        raise _damaged(src, arg, ".npz file", err) from None
    except Exception as err:  # zipfile.BadZipFile, OSError, EOFError, ...: a damaged archive
        raise _damaged(src, arg, ".npz file", err) from None


def _flatten(obj, prefix: str, out: dict) -> None:
    """Tensors in nested dicts, lists and tuples, keyed by their path joined with '.'."""
    # a nested tensor raises on .shape: ask it first
    if hasattr(obj, "detach") and (getattr(obj, "is_nested", False)
                                   or (hasattr(obj, "shape") and hasattr(obj, "dtype"))):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _flatten(v, f"{prefix}.{i}" if prefix else str(i), out)


def _pt(src: Source, arg: str):
    try:
        import torch
    except ImportError:
        raise SeliInputError(
            f"`{arg}` {src.spec} is a PyTorch file, and reading it needs torch; install torch, "
            "or save the array as .npy."
        ) from None
    import pickle

    try:
        with warnings.catch_warnings():
            # torch's own deprecation of its storage classes, raised while it rebuilds some
            # tensors (quantized ones): about torch's internals, nothing the user can act on
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
            try:
                obj = torch.load(src.path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as err:
                if "mmap" not in str(err) and "zip" not in str(err):
                    raise
                # files in torch's legacy (pre-1.6) format cannot be memory-mapped
                obj = torch.load(src.path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Unsupported global" in str(err):
            raise SeliInputError(
                f"`{arg}` file {src.path} holds Python objects that loading with "
                "weights_only=True refuses; save plain tensors or a state dict "
                "(torch.save(model.state_dict(), path))."
            ) from None
        raise _damaged(src, arg, "PyTorch file", err) from None
    except Exception as err:  # RuntimeError, EOFError, zipfile errors: a damaged or foreign file
        raise _damaged(src, arg, "PyTorch file", err) from None
    tensors: dict = {}
    _flatten(obj, "", tensors)
    if "" in tensors:  # the file is one tensor
        if src.key is not None:
            raise SeliInputError(
                f"`{arg}` file {src.path} holds a single tensor, so it takes no KEY; give "
                f"{src.path} alone."
            )
        return _readable(tensors[""], f"`{arg}` tensor in {src.path}")
    keys = list(tensors)
    key = src.key
    if key is None and len(keys) == 1:
        key = keys[0]
    if key not in tensors:
        raise _missing_key(src, arg, keys, "tensor")
    return _readable(tensors[key], f"`{arg}` tensor {key!r} in {src.path}")


def _readable(t, name: str):
    problem = torch_problem(t)
    if problem is not None:
        raise SeliInputError(f"{name} {problem}.")
    return t


def torch_problem(t) -> str | None:
    """Why a torch tensor holds no plain (strided, in-memory) array of numbers to read in row
    blocks, with the fix, as the end of a sentence; None when it holds one. Complex and integer
    dtypes are judged by the reader that knows what the array is for (measurement.measure).

    >>> torch_problem(np.zeros(3)) is None
    True
    """
    if getattr(t, "is_nested", False):
        return ("is a nested tensor (rows of different lengths), not a matrix; save a regular "
                "tensor, torch.stack(list(t.unbind())) when the rows are of one length")
    layout = str(getattr(t, "layout", "torch.strided"))
    if layout != "torch.strided":
        return (f"has layout {layout.removeprefix('torch.')}, not a dense tensor; save it dense, "
                "torch.save(t.to_dense(), path)")
    if getattr(t, "is_meta", False):
        return ("is on the meta device: it has a shape but no values (a model built on "
                "device='meta' and never loaded); save the tensor after the weights are loaded")
    if getattr(t, "is_quantized", False):
        return (f"is quantized ({str(t.dtype).removeprefix('torch.')}); save its real values, "
                "torch.save(t.dequantize(), path)")
    return None


def _safetensors(src: Source, arg: str):
    header, data_start, data_len = _safetensors_header(src, arg)
    keys = [k for k in header if k != "__metadata__"]
    key = src.key
    if key is None and len(keys) == 1:
        key = keys[0]
    if key not in keys:
        raise _missing_key(src, arg, keys, "tensor")
    entry = header[key]
    bad = lambda why: SeliInputError(  # noqa: E731
        f"`{arg}` file {src.path} has a damaged entry for {key!r} ({why}); re-save the file."
    )
    if not isinstance(entry, dict):
        raise bad("not an object")
    name, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if name != "BF16" and name not in _ST_DTYPES:
        raise SeliInputError(
            f"`{arg}` tensor {src.spec} has dtype {name!r}, which measure does not read; save it "
            "as F16, BF16, F32 or F64 (labels as an integer type)."
        )
    if (not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape)
            or not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) for o in offsets)):
        raise bad("shape or data_offsets malformed")
    begin, end = offsets
    itemsize = 2 if name == "BF16" else np.dtype(_ST_DTYPES[name]).itemsize
    if not 0 <= begin <= end <= data_len or end - begin != math.prod(shape) * itemsize:
        raise bad(f"data_offsets {offsets} do not fit shape {shape} and the file's size")
    dtype = "<u2" if name == "BF16" else _ST_DTYPES[name]
    if end == begin:
        arr = np.zeros(shape, dtype=dtype)
    else:
        arr = np.memmap(src.path, dtype=dtype, mode="r", offset=data_start + begin, shape=tuple(shape))
    return BFloat16Array(arr) if name == "BF16" else arr


def _safetensors_header(src: Source, arg: str) -> tuple[dict, int, int]:
    """(header, where the byte buffer starts, its length)."""
    size = src.path.stat().st_size
    try:
        with open(src.path, "rb") as fh:
            raw = fh.read(8)
            if len(raw) < 8:
                raise ValueError("shorter than the 8-byte header length")
            n = int.from_bytes(raw, "little")
            if n > _ST_MAX_HEADER or 8 + n > size:
                raise ValueError(f"header length {n} does not fit a file of {size} bytes")
            header = json.loads(fh.read(n).decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
    except (ValueError, UnicodeDecodeError, OSError, RecursionError) as err:
        raise _damaged(src, arg, ".safetensors file", err) from None
    return header, 8 + n, size - 8 - n


class BFloat16Array:
    """A read-only (..., ) bfloat16 array held as uint16 bits, read as float32 on indexing.

    bfloat16 is the top half of a float32, so widening is exact: bits << 16.
    """

    dtype = np.dtype(np.float32)
    dtype_name = "bfloat16"

    def __init__(self, bits: np.ndarray):
        self._bits = bits

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._bits.shape)

    @property
    def ndim(self) -> int:
        return self._bits.ndim

    def __len__(self) -> int:
        return len(self._bits)

    def __getitem__(self, index) -> np.ndarray:
        part = np.asarray(self._bits[index], dtype=np.uint32)
        return (part << np.uint32(16)).view(np.float32)

    def __array__(self, dtype=None, copy=None):
        out = self[...]
        return out if dtype is None else out.astype(dtype)
