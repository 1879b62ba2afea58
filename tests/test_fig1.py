"""`seli reproduce fig1`: the files, the coordinates behind them, and bad input."""

import json

import numpy as np
import pytest

from seli_cli.main import main
from seli_exact import SeliInputError, from_counts, sel_matrix, seli_geometry, step
from figures.fig1 import fig1_coordinates


def test_fig1_coordinates_realize_the_sel_matrix():
    c = step(4, 10, "1/2", 5)
    xy = fig1_coordinates(c)
    W, M = xy["W"], xy["M"]  # (3, 4) each
    Z = sel_matrix(c)
    np.testing.assert_allclose(W.T @ M[:, c.labels()], Z, atol=1e-13)
    np.testing.assert_allclose(W.T @ W, seli_geometry(c).W_gram, atol=1e-13)


def test_fig1_cli_writes_png_pdf_json(tmp_path, capsys):
    assert main(["reproduce", "fig1", "--out", str(tmp_path), "--R", "5"]) == 0
    png, pdf = (tmp_path / "fig1.png").read_bytes(), (tmp_path / "fig1.pdf").read_bytes()
    assert png.startswith(b"\x89PNG") and pdf.startswith(b"%PDF")
    data = json.loads((tmp_path / "fig1.json").read_text())
    assert data["class_counts"] == [25, 25, 5, 5]
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left behind


def test_fig1_needs_four_classes(tmp_path, capsys):
    with pytest.raises(SeliInputError, match=r"needs k = 4 classes; got k=3"):
        fig1_coordinates(from_counts([3, 2, 1]))
    assert main(["reproduce", "fig1", "--out", str(tmp_path), "--counts", "3,2,1"]) == 2
    assert "needs k = 4 classes" in capsys.readouterr().err
    assert not (tmp_path / "fig1.png").exists()


def test_fig1_checks_everything_before_writing(tmp_path, capsys):
    """k != 4 and a bad --out are refused before the folder is made or anything is drawn."""
    out = tmp_path / "new" / "figs"
    assert main(["reproduce", "fig1", "--out", str(out), "--counts", "3,2,1"]) == 2
    assert not (tmp_path / "new").exists() and "needs k = 4" in capsys.readouterr().err
    (tmp_path / "file").write_text("keep")
    for bad, sentence in ((str(tmp_path / "file"), "which is a file"),
                          ("", "would mean the current folder"),
                          ("/proc/fig1", "points into /proc"),
                          (str(tmp_path / "file" / "sub"), "is a file, not a folder")):
        assert main(["reproduce", "fig1", "--out", bad]) == 2
        err = capsys.readouterr().err
        assert sentence in err and err.count("\n") == 1
    assert (tmp_path / "file").read_text() == "keep"


def test_fig1_cost_does_not_grow_with_n(tmp_path, capsys):
    """The heat map draws one block per class, so counts near 2^52 draw as fast as 110."""
    big = 2**52
    assert main(["reproduce", "fig1", "--out", str(tmp_path), "--counts", f"{big},{big},1,1"]) == 0
    data = json.loads((tmp_path / "fig1.json").read_text())
    assert data["class_counts"] == [big, big, 1, 1]
    assert (tmp_path / "fig1.png").stat().st_size < 2_000_000


def test_drawn_mean_scale_keeps_means_apart_from_classifiers():
    """The means are enlarged by one stated factor (angles and norm ratios kept), never past
    55% of the shortest classifier; the ETF case (W = M) is drawn as it is."""
    from figures.fig1 import mean_scale

    for c in (step(4, 10, "1/2", 5), step(4, 100, "1/2", 5), from_counts([1000, 100, 10, 1])):
        xy = fig1_coordinates(c)
        s = mean_scale(xy["W"], xy["M"])
        longest_mean = s * np.linalg.norm(xy["M"], axis=0).max()
        assert s >= 1 and longest_mean <= 0.55 * np.linalg.norm(xy["W"], axis=0).min()
        assert (s + 0.5) * np.linalg.norm(xy["M"], axis=0).max() > \
            0.55 * np.linalg.norm(xy["W"], axis=0).min()  # the largest such half-step
    etf = fig1_coordinates(from_counts([1, 1, 1, 1]))
    assert mean_scale(etf["W"], etf["M"]) == 1.0
