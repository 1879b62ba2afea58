"""`seli train ufm` and `seli reproduce fig4`; the sgd_ufm check's judgement can fail."""

from __future__ import annotations

import csv
import json

import pytest

torch = pytest.importorskip("torch")

from proofs_check.checks.training_ufm import judge_sgd_ufm  # noqa: E402
from seli_exact.verdict import Status  # noqa: E402
from seli_cli.main import main  # noqa: E402
from training.fig4 import fig4_table  # noqa: E402

SMALL = ["--R", "1,10", "--seeds", "0,1", "--n-target", "44", "--epochs", "30", "--no-progress"]


def test_train_ufm_writes_run_folder_and_summary(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "ufm", "--out", str(out), *SMALL, "--checkpoint-every", "10"]) == 0
    text = capsys.readouterr().out
    assert "kernel engine" in text or "torch engine" in text
    assert {"config.json", "metrics.csv", "metrics.jsonl", "checkpoint.pt"} <= {p.name for p in out.iterdir()}
    cfg = json.loads((out / "config.json").read_text())["config"]
    assert cfg["R"] == [1, 10] and cfg["lrs"] == [0.4] and cfg["batch_size"] == 4
    assert cfg["reduction"] == "mean" and cfg["dtype"] == "float64" and cfg["device"] == "cpu"
    rows = list(csv.DictReader((out / "metrics.csv").read_text().splitlines()))
    assert {r["R"] for r in rows} == {"1", "10"} and max(int(r["epoch"]) for r in rows) == 30


def test_train_ufm_json_and_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "ufm", "--out", str(out), *SMALL, "--json"]) == 0
    last = json.loads(capsys.readouterr().out)
    assert len(last) == 4 and all(r["epoch"] == 30 for r in last)
    # a second start refuses the folder; --resume finds the run finished and changes nothing
    assert main(["train", "ufm", "--out", str(out), *SMALL]) == 2
    assert "pass --resume" in capsys.readouterr().err
    before = (out / "metrics.csv").read_bytes()
    assert main(["train", "ufm", "--out", str(out), *SMALL, "--resume"]) == 0
    assert (out / "metrics.csv").read_bytes() == before


@pytest.mark.parametrize("argv, match", [
    (["--d", "2"], "error: `d` must be at least k-1 = 3"),
    (["--lr", "fast"], "error: `--lr` must be a number; got 'fast'"),
    (["--R", "1,0.5"], "error: `R` must be at least 1"),
])
def test_train_ufm_bad_input_is_one_line_exit_2(tmp_path, capsys, argv, match):
    assert main(["train", "ufm", "--out", str(tmp_path), *SMALL, *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(match) and err.count("\n") == 1


def test_train_ufm_bad_folders_are_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert main(["train", "ufm", "--out", str(tmp_path / "file" / "run"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: `--out` ") and "cannot be created as a folder" in err
    assert err.count("\n") == 1
    out = tmp_path / "run"
    assert main(["train", "ufm", "--out", str(out), *SMALL]) == 0
    capsys.readouterr()
    ckpt = out / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:64])  # a checkpoint cut short (a bad copy)
    metrics = (out / "metrics.jsonl").read_bytes()
    assert main(["train", "ufm", "--out", str(out), *SMALL, "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --resume cannot read the checkpoint {ckpt} (")
    assert err.count("\n") == 1 and (out / "metrics.jsonl").read_bytes() == metrics


def test_train_ufm_nan_is_one_line_exit_1(tmp_path, capsys):
    argv = ["train", "ufm", "--out", str(tmp_path), "--R", "10", "--seeds", "0", "--n-target", "24",
            "--lr", "20", "--reduction", "sum", "--epochs", "500", "--no-progress"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "became nan at epoch" in err[0]


def test_reproduce_fig4_writes_png_pdf_csv(tmp_path, capsys):
    assert main(["reproduce", "fig4", "--out", str(tmp_path), *SMALL[:4], "--epochs", "20",
                 "--no-progress"]) == 0
    for name in ("fig4.png", "fig4.pdf", "fig4.csv"):
        assert (tmp_path / name).stat().st_size > 1000 or name == "fig4.csv"
    assert (tmp_path / "fig4.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "fig4.pdf").read_bytes()[:5] == b"%PDF-"
    table = list(csv.DictReader((tmp_path / "fig4.csv").read_text().splitlines()))
    assert {t["quantity"] for t in table} == {"classifiers", "embeddings", "logits"}
    assert {t["geometry"] for t in table} == {"seli", "etf"}
    assert all(t["seeds"] == "2" for t in table)  # --seeds 0,1


def test_fig4_table_aggregates_over_seeds():
    rows = []
    for seed, v in ((0, 0.2), (1, 0.4)):
        rows.append({"epoch": 5, "R": "10", "seed": seed, **{f"{g}_{q}": v + (g == "etf")
                     for g in ("seli", "etf") for q in ("classifiers", "embeddings", "logits")}})
    t = {(r["quantity"], r["geometry"]): r for r in fig4_table(rows)}
    assert t["classifiers", "seli"]["mean"] == pytest.approx(0.3)
    assert (t["classifiers", "seli"]["min"], t["classifiers", "seli"]["max"]) == (0.2, 0.4)
    assert t["logits", "etf"]["mean"] == pytest.approx(1.3)


# --------------------------------------------------------------------------- the check


def _rows(R, traj_seli, traj_etf, error_last=0.0):
    """Synthetic metric rows: per epoch the SELI / ETF distance of every quantity."""
    out = []
    for (epoch, s), e in zip(traj_seli, traj_etf):
        out.append({"epoch": epoch, "R": R, "seed": 0, "error": error_last if epoch == traj_seli[-1][0] else 0.5,
                    **{f"seli_{q}": s for q in ("classifiers", "embeddings", "logits")},
                    **{f"etf_{q}": e for q in ("classifiers", "embeddings", "logits")}})
    return out


GOOD = [(0, 1.0), (100, 0.5), (1000, 0.3)]


def test_judge_verifies_a_converging_table():
    v = judge_sgd_ufm(_rows("10", GOOD, [1.0, 0.8, 0.7]) + _rows("1", GOOD, [1.0, 0.5, 0.3]))
    assert v.status is Status.VERIFIED and v.instances == 1
    assert v.worst == pytest.approx(0.2)


@pytest.mark.parametrize("name, rows", [
    ("not decreasing", _rows("10", [(0, 1.0), (100, 0.3), (1000, 0.35)], [1, 0.8, 0.7])),
    ("ends above ETF", _rows("10", GOOD, [1.0, 0.4, 0.25])),
    ("training error left", _rows("10", GOOD, [1.0, 0.8, 0.7], error_last=0.1)),
])
def test_judge_refutes_a_planted_non_converging_trajectory(name, rows):
    v = judge_sgd_ufm(rows)
    assert v.status is Status.REFUTED, name
    assert v.evidence["failures"]


def test_judge_on_a_real_short_run_and_on_its_swapped_geometry():
    # a real (short) R = 10 run is verified; the same trajectory with the SELI and ETF columns
    # swapped (a run that approached ETF instead) must be refuted.
    from training.ufm import UFMConfig, train_ufm

    res = train_ufm(UFMConfig(R=(10,), seeds=(0,), epochs=300, log_per_decade=10))
    early = min(r["epoch"] for r in res.rows if r["epoch"] >= 10)
    assert judge_sgd_ufm(res.rows, decrease_from=early).status is Status.VERIFIED
    swapped = []
    for r in res.rows:
        s = dict(r)
        for q in ("classifiers", "embeddings", "logits"):
            s[f"seli_{q}"], s[f"etf_{q}"] = r[f"etf_{q}"], r[f"seli_{q}"]
        swapped.append(s)
    assert judge_sgd_ufm(swapped, decrease_from=early).status is Status.REFUTED


def test_judge_is_undecided_without_imbalanced_runs():
    assert judge_sgd_ufm(_rows("1", GOOD, [1, 1, 1])).status is Status.UNDECIDED


@pytest.mark.slow
def test_sgd_ufm_claim_is_verified():
    from proofs_check.checks.training_ufm import sgd_ufm

    v = sgd_ufm("thorough")
    assert v.status is Status.VERIFIED, v.evidence
