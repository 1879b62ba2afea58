"""`seli measure`: JSON = the Python API, the table, --out files, and one-sentence exits 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from seli_cli.main import main
from measurement.report import measure

from .test_measure import noisy_network, seli_network

COUNTS = (40, 20, 8, 3, 2)


def run(capsys, *argv):
    code = main(["measure", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    W, H, y = noisy_network(COUNTS, d=6, seed=11)
    np.save(tmp_path / "W.npy", W.astype(np.float32))
    np.save(tmp_path / "H.npy", H.astype(np.float32))
    np.save(tmp_path / "y.npy", y)
    np.savez(tmp_path / "run.npz", W=W.astype(np.float32), H=H.astype(np.float32), y=y)
    M = np.stack([H.astype(np.float32).astype(float)[y == c].mean(axis=0) for c in range(5)])
    np.save(tmp_path / "M.npy", M)
    (tmp_path / "counts.txt").write_text("\n".join(map(str, COUNTS)) + "\n")
    return tmp_path


def base(d):
    return ["--classifier", d / "W.npy", "--features", d / "H.npy", "--labels", d / "y.npy"]


def test_json_is_the_python_api(capsys, files):
    code, out, err = run(capsys, *base(files), "--json")
    assert code == 0 and err == ""
    obj = json.loads(out)
    ref = measure(np.load(files / "W.npy"), np.load(files / "H.npy"), np.load(files / "y.npy"))
    assert obj == json.loads(json.dumps(ref.as_dict()))
    assert obj["class_counts"] == list(COUNTS) and obj["center"] == "balanced"
    code, out2, _ = run(capsys, "--classifier", f"{files}/run.npz:W", "--features", f"{files}/run.npz:H",
                        "--labels", f"{files}/run.npz:y", "--json")
    assert code == 0 and json.loads(out2) == obj


def test_center_flag_and_means_with_counts(capsys, files):
    _, out, _ = run(capsys, *base(files), "--center", "weighted", "--json")
    weighted = json.loads(out)
    assert weighted["center"] == "weighted"
    code, out, err = run(capsys, "--classifier", files / "W.npy", "--means", files / "M.npy",
                         "--counts", ",".join(map(str, COUNTS)), "--center", "weighted", "--json")
    assert code == 0 and err == ""
    means = json.loads(out)
    assert means["nc1"] is None and means["nc4"] is None
    for key in ("classifiers", "embeddings", "logits"):
        assert means["distance_to_seli"][key] == pytest.approx(weighted["distance_to_seli"][key], rel=1e-9)
    code, out, _ = run(capsys, "--classifier", files / "W.npy", "--means", files / "M.npy",
                       "--counts-file", files / "counts.txt", "--json")
    assert code == 0 and json.loads(out)["class_counts"] == list(COUNTS)


def test_table(capsys, files):
    code, out, err = run(capsys, *base(files))
    assert code == 0 and err == ""
    assert "k = 5 classes, n = 73 examples, d = 6" in out
    assert "class counts: 40, 20, 8, 3, 2 (imbalance ratio 20)" in out
    for text in ("distance (Sec. 5)", "classifiers  W", "NC1  (1/k) tr(Sigma_W Sigma_B^+)", "NC4",
                 "per-class norms beside SELI's"):
        assert text in out
    obj = measure(np.load(files / "W.npy"), np.load(files / "H.npy"), np.load(files / "y.npy")).as_dict()
    assert f"{obj['distance_to_seli']['classifiers']:.4g}" in out
    assert f"{obj['nc1']:.4g}" in out


def test_table_of_an_exact_seli_network_says_seli(capsys, tmp_path):
    W, H, y, _ = seli_network((50, 50, 5, 5), d=5, a=2.0, b=0.5)
    np.save(tmp_path / "W.npy", W)
    np.save(tmp_path / "H.npy", H)
    np.save(tmp_path / "y.npy", y)
    code, out, _ = run(capsys, *base(tmp_path))
    assert code == 0 and "(classifiers nearer SELI, class means nearer SELI)" in out


def test_out_writes_json_and_figure(capsys, files):
    out_dir = files / "res"
    code, out, err = run(capsys, *base(files), "--out", out_dir, "--json")
    assert code == 0 and err == ""
    assert json.loads((out_dir / "measure.json").read_text()) == json.loads(out)
    assert (out_dir / "measure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out_dir / "measure.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in out_dir.iterdir()) == ["measure.json", "measure.pdf", "measure.png"]


def test_pt_and_safetensors_sources(capsys, files):
    torch = pytest.importorskip("torch")
    W = np.load(files / "W.npy")
    lin = torch.nn.Linear(6, 5, bias=False)
    lin.weight.data = torch.tensor(W)
    torch.save({"model": {"fc.weight": lin.weight.data}}, files / "model.pt")
    code, out, _ = run(capsys, "--classifier", f"{files}/model.pt:model.fc.weight", "--features",
                       files / "H.npy", "--labels", files / "y.npy", "--json")
    assert code == 0
    _, ref, _ = run(capsys, *base(files), "--json")
    assert json.loads(out) == json.loads(ref)


# --------------------------------------------------------------------------- bad input: exit 2


@pytest.mark.parametrize("argv, match", [
    (["--classifier", "{d}/nope.pt:fc.weight", "--features", "{d}/H.npy", "--labels", "{d}/y.npy"],
     "`--classifier` file {d}/nope.pt does not exist; check the path."),
    (["--classifier", "{d}/run.npz:w", "--features", "{d}/H.npy", "--labels", "{d}/y.npy"],
     "`--classifier` file {d}/run.npz has no array 'w'; did you mean {d}/run.npz:W? available: W, H, y."),
    (["--classifier", "{d}/W.npy", "--features", "{d}/M.npy", "--labels", "{d}/y.npy"],
     "--labels {d}/y.npy has 73 labels but the features have 5 rows"),
    (["--classifier", "{d}/H.npy", "--features", "{d}/H.npy", "--labels", "{d}/y.npy"],
     "is 73 x 6: d = 6 < k - 1 = 72"),
    (["--classifier", "{d}/W.npy", "--features", "{d}/H.npy", "--labels", "{d}/bad_y.npy"],
     "--labels {d}/bad_y.npy must lie in [0, 5) for the 5 classifier rows; got label 5 at row 0."),
    (["--classifier", "{d}/W.npy", "--features", "{d}/nan_H.npy", "--labels", "{d}/y.npy"],
     "--features {d}/nan_H.npy holds NaN or inf (first at row 3)"),
    (["--classifier", "{d}/W.npy", "--features", "{d}/H.npy"], "`seli measure` needs --labels"),
    (["--classifier", "{d}/W.npy", "--means", "{d}/M.npy", "--features", "{d}/H.npy"],
     "`--means` replaces features and labels, but --features was given too"),
    (["--classifier", "{d}/W.npy", "--means", "{d}/M.npy"],
     "`--means` needs the class counts from exactly one of --counts or --counts-file; got neither."),
    (["--classifier", "{d}/W.npy", "--features", "{d}/H.npy", "--labels", "{d}/y.npy", "--counts", "1,2"],
     "`--counts` goes with --means"),
    (["--classifier", "{d}/W.npy", "--means", "{d}/M.npy", "--counts", "4,4"],
     "--counts lists 2 classes but --classifier {d}/W.npy has 5 rows"),
    (["--classifier", "{d}/W.npy", "--features", "{d}/H.npy", "--labels", "{d}/y.npy", "--center", "mean"],
     "argument --center: invalid choice"),
    (["--classifier", "{d}/W.npy", "--features", "{d}/nope.npy", "--labels", "{d}/y.npy", "--out", "{d}/W.npy"],
     "`--out` must be a folder; got '{d}"),
    (["--classifier", "{d}/W.npy", "--features", "{d}/H.npy", "--labels", "{d}/y.npy", "--out", "{d}/W.npy/sub"],
     "is a file, not a folder. Give another path."),
    (["--classifier", "{d}/W.npy", "--features", "{d}/H.npy", "--labels", "{d}/y.npy", "--out", ""],
     "`--out` must name a folder; got ''"),
    (["--classifier", "{d}/W.npy", "--features", "{d}/H.npy", "--labels", "{d}/y.npy", "--out", "/proc/x"],
     "`--out` points into /proc"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, files, argv, match):
    np.save(files / "bad_y.npy", np.full(73, 5))
    H = np.load(files / "H.npy")
    H[3, 2] = np.nan
    np.save(files / "nan_H.npy", H)
    before = {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()}
    code, out, err = run(capsys, *[a.format(d=files) for a in argv])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert match.format(d=files)[:60] in err
    assert {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()} == before


def test_out_checks_come_before_any_work(capsys, files):
    (files / "res" / "measure.png").mkdir(parents=True)  # a folder where the figure goes
    code, _, err = run(capsys, *base(files), "--out", files / "res")
    assert code == 2 and "--out" in err and "measure.png" in err and "folder" in err
    assert not (files / "res" / "measure.json").exists()


def test_a_failed_run_leaves_an_earlier_output_untouched(capsys, files):
    out_dir = files / "res"
    assert run(capsys, *base(files), "--out", out_dir)[0] == 0
    saved = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    np.save(files / "bad_y.npy", np.full(73, 9))
    code, _, err = run(capsys, "--classifier", files / "W.npy", "--features", files / "H.npy",
                       "--labels", files / "bad_y.npy", "--out", out_dir)
    assert code == 2 and "got label 9" in err
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == saved


def test_real_process_exit_status(files):
    proc = subprocess.run(
        [sys.executable, "-m", "seli_cli.main", "measure", "--classifier", str(files / "W.npy"),
         "--features", str(files / "H.npy"), "--labels", str(files / "M.npy")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "must be a 1-D array of n class indices; got shape (5, 6)" in proc.stderr


# --------------------------------------------------------------------------- the README's examples

README_PYTHON = '''
import numpy as np
import measurement
import seli_exact

counts = seli_exact.long_tailed(10, 100, n_max=500)      # CIFAR-10-LT's profile, n = 1236
W, M = seli_exact.factorize(seli_exact.sel_svd(counts), d=64)  # Theorem 1: SELI, as columns
y = counts.labels()
rng = np.random.default_rng(0)
H = M[:, y].T + 0.05 * rng.standard_normal((counts.n, 64))  # features (n, d) around the means
m = measurement.measure(W.T, H, y)   # PyTorch layouts: classifier (k, d) like fc.weight
print(f"SELI {m.distance_to_seli.classifiers:.2g}, ETF {m.distance_to_etf.classifiers:.2g}, "
      f"NC1 {m.nc1:.2g}")
np.save("W.npy", W.T); np.save("H.npy", H); np.save("y.npy", y)
'''
README_CLI = "seli measure --classifier W.npy --features H.npy --labels y.npy --out measure_out"
README_NETWORK = '''
import measurement
import torch
from training.data import load_digits
from training.features import collect_features
from training.models import build_model

data = load_digits()                                     # scikit-learn's 8x8 digits
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(torch.tensor(data.x), torch.tensor(data.y)), batch_size=256)
model = build_model("mlp", (1, 8, 8), 10, width=64, seed=0)   # your trained model here
f = collect_features(model, loader)          # a forward hook on the last nn.Linear
m = measurement.measure(f.classifier, f.features, f.labels, bias=f.bias)
print(m.as_dict()["distance_to_seli"], m.nc1, m.nc4)
'''


def test_readme_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(README_PYTHON, {})
    printed = capsys.readouterr().out
    assert printed.startswith("SELI ") and "ETF 0.5" in printed
    assert main(README_CLI.split()[1:]) == 0
    assert {"measure.json", "measure.png", "measure.pdf"} <= {p.name for p in (tmp_path / "measure_out").iterdir()}
    pytest.importorskip("torch")
    exec(README_NETWORK, {})
