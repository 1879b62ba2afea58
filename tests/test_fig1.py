"""`seli reproduce fig1`: the files, the coordinates behind them, and bad input."""

import json

import numpy as np
import pytest

from seli_cli.main import main
from seli_exact import SeliInputError, from_counts, sel_matrix, seli_geometry, step
from seli_exact.fig1 import fig1_coordinates


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
