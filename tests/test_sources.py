"""measurement.sources: SRC specs for .npy, .npz:KEY, .pt:KEY, .safetensors:KEY, and every bad one.

The safetensors reader is checked against files written byte by byte from the format's
documentation, and, where the `safetensors` package is installed, against files it writes.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from proofs_check.safetensors_layout import write_safetensors
from seli_exact import SeliInputError
from measurement.sources import BFloat16Array, load_source, parse_source, torch_problem


# --------------------------------------------------------------------------- formats


def test_npy_is_memory_mapped(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "a.npy", a)
    got = load_source(str(tmp_path / "a.npy"), "--features")
    assert isinstance(got, np.memmap) and np.array_equal(got, a)
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    assert load_source(str(tmp_path / "empty.npy")).shape == (0, 3)


def test_npz_keys(tmp_path):
    np.savez(tmp_path / "run.npz", W=np.eye(3), y=np.arange(3))
    np.savez(tmp_path / "one.npz", feats=np.ones((2, 2)))
    assert np.array_equal(load_source(f"{tmp_path}/run.npz:W"), np.eye(3))
    assert np.array_equal(load_source(f"{tmp_path}/one.npz"), np.ones((2, 2)))  # the only array
    with pytest.raises(SeliInputError, match=r"`--labels` file .*run\.npz holds 2 arrays, so name one as "
                       r".*run\.npz:KEY; available: W, y\."):
        load_source(f"{tmp_path}/run.npz", "--labels")
    with pytest.raises(SeliInputError, match=r"has no array 'w'; did you mean .*run\.npz:W\? available: W, y\."):
        load_source(f"{tmp_path}/run.npz:w", "--classifier")


def test_safetensors_written_by_the_documented_layout(tmp_path):
    rng = np.random.default_rng(0)
    W = rng.standard_normal((10, 6)).astype(np.float32)
    H = rng.standard_normal((40, 6))
    y = rng.integers(0, 10, size=40)
    write_safetensors(tmp_path / "m.safetensors", {"fc.weight": W, "feats": H, "y": y,
                                                   "half": W.astype(np.float16)},
                      metadata={"format": "pt"}, pad=5)
    p = str(tmp_path / "m.safetensors")
    assert np.array_equal(load_source(p + ":fc.weight"), W)
    got = load_source(p + ":feats")
    assert isinstance(got, np.memmap) and np.array_equal(got, H)
    assert np.array_equal(load_source(p + ":y"), y)
    assert np.array_equal(load_source(p + ":half"), W.astype(np.float16))
    with pytest.raises(SeliInputError, match=r"has no tensor 'fc\.weights'; did you mean .*:fc\.weight\? "
                       r"available: fc\.weight, feats, y, half\."):
        load_source(p + ":fc.weights")


def test_safetensors_bfloat16_widens_exactly(tmp_path):
    torch = pytest.importorskip("torch")
    x = torch.randn(5, 3).to(torch.bfloat16)
    bits = x.view(torch.int16).numpy().view(np.uint16)
    write_safetensors(tmp_path / "b.safetensors", {"x": bits}, dtypes={"x": "BF16"})
    got = load_source(str(tmp_path / "b.safetensors"))
    assert isinstance(got, BFloat16Array) and got.shape == (5, 3) and got.dtype_name == "bfloat16"
    assert np.array_equal(got[1:4], x.float().numpy()[1:4])
    assert np.array_equal(np.asarray(got), x.float().numpy())


def test_safetensors_package_files_read_the_same(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    a = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "y": np.arange(4, dtype=np.int64),
         "h": np.linspace(0, 1, 8).reshape(4, 2)}
    st.save_file(a, str(tmp_path / "x.safetensors"), metadata={"k": "v"})
    for key, arr in a.items():
        got = load_source(f"{tmp_path}/x.safetensors:{key}")
        assert got.dtype == arr.dtype and np.array_equal(got, arr)


def test_pt_tensor_state_dict_and_nested_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(4, 3)
    torch.save(lin.state_dict(), tmp_path / "sd.pt")
    torch.save({"epoch": 7, "state_dict": {"fc.weight": lin.weight.data}, "tags": ["a"]},
               tmp_path / "ckpt.pth")
    torch.save(lin.weight.data, tmp_path / "w.pt")
    torch.save((lin.weight.data, torch.arange(3)), tmp_path / "tuple.pt")
    assert torch.equal(load_source(f"{tmp_path}/sd.pt:weight"), lin.weight.data)
    assert torch.equal(load_source(f"{tmp_path}/ckpt.pth:state_dict.fc.weight"), lin.weight.data)
    assert torch.equal(load_source(f"{tmp_path}/ckpt.pth"), lin.weight.data)  # its only tensor
    assert torch.equal(load_source(f"{tmp_path}/w.pt"), lin.weight.data)
    assert torch.equal(load_source(f"{tmp_path}/tuple.pt:1"), torch.arange(3))
    with pytest.raises(SeliInputError, match=r"has no tensor 'fc\.weight'; did you mean .*ckpt\.pth:"
                       r"state_dict\.fc\.weight\? available: state_dict\.fc\.weight\."):
        load_source(f"{tmp_path}/ckpt.pth:fc.weight", "--classifier")
    with pytest.raises(SeliInputError, match=r"holds a single tensor, so it takes no KEY"):
        load_source(f"{tmp_path}/w.pt:weight")
    with pytest.raises(SeliInputError, match=r"holds 2 tensors, so name one as .*sd\.pt:KEY; "
                       r"available: weight, bias\."):
        load_source(f"{tmp_path}/sd.pt")


def test_pt_legacy_format_and_objects_that_weights_only_refuses(tmp_path):
    torch = pytest.importorskip("torch")
    w = torch.arange(6.0).reshape(2, 3)
    torch.save({"w": w}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    assert torch.equal(load_source(f"{tmp_path}/old.pt:w"), w)
    torch.save({"w": w, "when": np.datetime64("2024-01-01")}, tmp_path / "obj.pt")
    with pytest.raises(SeliInputError, match=r"holds Python objects that loading with "
                       r"weights_only=True refuses; save plain tensors or a state dict"):
        load_source(f"{tmp_path}/obj.pt:w")


def _hostile_tensors(torch):
    """Tensors that hold no plain array of numbers; building some of them warns (beta,
    prototype, deprecated APIs), which is the test's own setup, not what is tested."""
    import warnings

    dense = torch.arange(12.0).reshape(4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "coo": (dense.to_sparse(), r"has layout sparse_coo, not a dense tensor; save it "
                                       r"dense, torch\.save\(t\.to_dense\(\), path\)\.$"),
            "csr": (dense.to_sparse_csr(), r"has layout sparse_csr, not a dense tensor"),
            "meta": (torch.empty(4, 3, device="meta"), r"is on the meta device: it has a shape "
                     r"but no values .*; save the tensor after the weights are loaded\.$"),
            "quantized": (torch.quantize_per_tensor(dense, 0.5, 0, torch.qint8),
                          r"is quantized \(qint8\); save its real values, "
                          r"torch\.save\(t\.dequantize\(\), path\)\.$"),
            "nested": (torch.nested.nested_tensor([dense[:2], dense[:3]]),
                       r"is a nested tensor \(rows of different lengths\), not a matrix"),
        }


def test_tensors_without_plain_values_are_refused_naming_file_and_key(tmp_path):
    """Before, a sparse or meta tensor reached measure and failed deep inside torch (a 68-line
    NotImplementedError); now the reader says which tensor of which file, and the fix."""
    torch = pytest.importorskip("torch")
    cases = _hostile_tensors(torch)
    torch.save({key: t for key, (t, _) in cases.items()}, tmp_path / "bad.pt")
    for key, (t, fix) in cases.items():
        with pytest.raises(SeliInputError, match=rf"^`--features` tensor '{key}' in "
                           rf"{tmp_path}/bad\.pt {fix}"):
            load_source(f"{tmp_path}/bad.pt:{key}", "--features")
        torch.save(t, tmp_path / f"{key}.pt")  # the file is the tensor
        with pytest.raises(SeliInputError, match=rf"^`--means` tensor in {tmp_path}/{key}\.pt "):
            load_source(f"{tmp_path}/{key}.pt", "--means")


def test_measure_refuses_the_same_tensors_passed_directly():
    torch = pytest.importorskip("torch")
    from measurement.report import measure

    y = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    for key, (t, fix) in _hostile_tensors(torch).items():
        with pytest.raises(SeliInputError, match=rf"^`W` \(classifier\) {fix}"):
            measure(t, torch.randn(8, 3), y)
    assert torch_problem(torch.zeros(2, 2)) is None and torch_problem(np.zeros(2)) is None


# --------------------------------------------------------------------------- bad specs and files


@pytest.mark.parametrize("spec, match", [
    ("", r"`--features` must name a file; got ''"),
    ("   ", r"`--features` must name a file"),
    ("{d}/nothere.npy", r"`--features` file .*nothere\.npy does not exist; check the path\."),
    ("{d}/nothere.pt:fc.weight", r"`--features` file .*nothere\.pt does not exist"),
    ("{d}/a.csv", r"is not a file type measure reads \(got suffix '\.csv'\); give a file: X\.npy"),
    ("{d}/noext", r"got suffix 'none'"),
    ("{d}/a.npy:x", r"a \.npy file holds one array, so it takes no KEY; give .*a\.npy alone\."),
    ("{d}/a.npz:", r"ends in ':' with no KEY"),
    ("{d}/folder.npy", r"is not a regular file"),
])
def test_bad_specs(tmp_path, spec, match):
    np.save(tmp_path / "a.npy", np.ones(2))
    np.savez(tmp_path / "a.npz", x=np.ones(2))
    (tmp_path / "folder.npy").mkdir()
    with pytest.raises(SeliInputError, match=match):
        load_source(spec.format(d=tmp_path), "--features")


@pytest.mark.parametrize("name, content, match", [
    ("t.npy", b"\x93NUMPY garbage", r"is not a readable \.npy file \("),
    ("t.safetensors", struct.pack("<Q", 20000) + b"[" * 20000, r"is not a readable \.safetensors file"),
    ("t.npz", b"PK\x03\x04 not a zip", r"is not a readable \.npz file \("),
    ("t.pt", b"not a torch file", r"is not a readable PyTorch file \("),
    ("t.safetensors", b"\x05", r"is not a readable \.safetensors file \(shorter than the 8-byte"),
    ("t.safetensors", struct.pack("<Q", 10**6) + b"{}", r"header length 1000000 does not fit a file of 10 bytes"),
    ("t.safetensors", struct.pack("<Q", 3) + b"[1]", r"header is not a JSON object"),
])
def test_damaged_files(tmp_path, name, content, match):
    if name.endswith(".pt"):
        pytest.importorskip("torch")
    (tmp_path / name).write_bytes(content)
    with pytest.raises(SeliInputError, match=match):
        load_source(str(tmp_path / name), "--features")


def test_truncated_npy(tmp_path):
    np.save(tmp_path / "t.npy", np.zeros((100, 3)))
    raw = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(raw[:300])  # a copy cut short
    with pytest.raises(SeliInputError, match=r"is not a readable \.npy file \(shorter than its header "
                       r"says\); re-save it, or check that the file was copied completely\."):
        load_source(str(tmp_path / "t.npy"))


def test_damaged_safetensors_entries_and_dtypes(tmp_path):
    p = tmp_path / "x.safetensors"
    write_safetensors(p, {"a": np.ones((2, 2))})
    raw = p.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header["a"]["shape"] = [3, 2]  # 48 bytes claimed for 32 stored
    text = json.dumps(header).encode()
    p.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n:])
    with pytest.raises(SeliInputError, match=r"has a damaged entry for 'a' \(data_offsets \[0, 32\] do not "
                       r"fit shape \[3, 2\] and the file's size\); re-save the file\."):
        load_source(str(p))
    write_safetensors(p, {"a": np.ones(2, dtype=np.uint8)}, dtypes={"a": "F8_E4M3"})
    with pytest.raises(SeliInputError, match=r"has dtype 'F8_E4M3', which measure does not read"):
        load_source(str(p))
    write_safetensors(p, {})
    with pytest.raises(SeliInputError, match=r"holds no tensor; save the arrays into it"):
        load_source(str(p))


def test_npy_of_objects(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(SeliInputError, match=r"holds Python objects, not numbers"):
        load_source(str(tmp_path / "o.npy"))


def test_parse_keeps_paths_with_colons(tmp_path):
    odd = tmp_path / "run:1.npy"
    np.save(odd, np.ones(3))
    src = parse_source(str(odd))
    assert src.key is None and src.kind == "npy"
    np.savez(tmp_path / "r.npz", a=np.ones(1))
    src = parse_source(f"{tmp_path}/r.npz:a")
    assert (src.key, src.kind) == ("a", "npz")
