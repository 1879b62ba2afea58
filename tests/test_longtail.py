"""The long-tail figure (figures.longtail) and the count profiles and files it reads."""

import json

import numpy as np
import pytest

from seli_exact import SeliInputError, from_counts, seli_geometry
from seli_exact.counts import counts_from_file, parse_profile
from figures.longtail import MAX_PIXELS, _block_mean, longtail_numbers, make_longtail

SMALL = ["exp:k=6:ratio=10:n_max=100", "exp:k=40:ratio=50:n_max=500"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("longtail")
    return out, make_longtail(out, SMALL)


def test_writes_png_pdf_json(written):
    out, paths = written
    assert [p.name for p in paths] == ["longtail.png", "longtail.pdf", "longtail.json"]
    assert (out / "longtail.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "longtail.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "longtail.png").stat().st_size > 50_000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_json_numbers_against_the_dense_route(written):
    """Norms and cosines in the JSON against LAPACK's eigen-decomposition (the dense route)."""
    out, _ = written
    data = json.loads((out / "longtail.json").read_text())
    assert [p["profile"] for p in data["profiles"]] == SMALL
    for p in data["profiles"]:
        c = parse_profile(p["profile"])
        ref = seli_geometry(c, route="dense")
        assert p["counts"] == list(c.counts) and p["k"] == c.k and p["n"] == c.n
        np.testing.assert_allclose(p["classifier_norms"], np.sqrt(np.diag(ref.W_gram)), rtol=1e-12)
        np.testing.assert_allclose(p["embedding_norms"], np.sqrt(np.diag(ref.M_gram)), rtol=1e-12)
        # k <= MAX_PIXELS: the exact matrix, None (NaN here) on the diagonal
        cos = np.array(p["cosines"]["classifier"], dtype=float)
        assert np.isnan(np.diag(cos)).all()
        off = ~np.eye(c.k, dtype=bool)
        np.testing.assert_allclose(cos[off], ref.classifier_cosines[off], rtol=1e-10, atol=1e-14)
        assert p["etf_cosine"] == pytest.approx(-1 / (c.k - 1))


def test_long_tail_norm_order():
    """Head classifiers are longer and head class means shorter (Lemma 3.1's order, for a tail)."""
    d = longtail_numbers(parse_profile("exp:k=10:ratio=100"))
    w, h = np.array(d["classifier_norms"]), np.array(d["embedding_norms"])
    assert (np.diff(w) < 0).all() and (np.diff(h) > 0).all()
    assert min(d["alignment"]) > 0.9


def test_block_mean_by_hand():
    C = np.arange(16, dtype=float).reshape(4, 4)
    out = _block_mean(C, 2)  # 2 x 2 blocks, diagonal left out
    assert out.shape == (2, 2)
    assert out[0, 0] == pytest.approx((1 + 4) / 2)  # C[0, 1], C[1, 0]
    assert out[0, 1] == pytest.approx((2 + 3 + 6 + 7) / 4)
    assert np.isnan(_block_mean(np.eye(1), 1)).all()


def test_wide_matrix_is_averaged_in_the_json(tmp_path):
    k = MAX_PIXELS + 20
    make_longtail(tmp_path, [f"exp:k={k}:ratio=4:n_max=400"])
    p = json.loads((tmp_path / "longtail.json").read_text())["profiles"][0]
    assert p["cosines"]["classes_per_cell"] == 2
    assert len(p["cosines"]["classifier"]) == int(np.ceil(k / 2))


@pytest.mark.slow
def test_default_profiles_cifar_and_imagenet_sized(tmp_path):
    paths = make_longtail(tmp_path)
    data = json.loads(paths[2].read_text())
    assert [p["k"] for p in data["profiles"]] == [10, 1000]
    assert data["profiles"][1]["counts"][0] == 1280 and data["profiles"][1]["counts"][-1] == 5


def test_bad_input_refused_and_nothing_written(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(SeliInputError, match=r"`out_dir` must be a folder; got .*file.txt"):
        make_longtail(f, SMALL)
    with pytest.raises(SeliInputError, match=r"k must be at most 5000; got k=6000"):
        make_longtail(tmp_path / "out", [from_counts([2] * 6000)])
    with pytest.raises(SeliInputError, match=r"`profile` must start with one of exp, step"):
        make_longtail(tmp_path / "out", ["pow:k=10:ratio=10"])
    with pytest.raises(SeliInputError, match=r"at least one count profile"):
        make_longtail(tmp_path / "out", [])
    assert not (tmp_path / "out").exists()


# --- count profiles and files: the messages (tests/test_counts.py covers STEP and --counts) ----
@pytest.mark.parametrize("spec, match", [
    ("exp", r"`profile` must look like exp:k=K:ratio=R\[:n_max=N\]; got 'exp'"),
    ("zipf:k=10:ratio=100", r"`profile` must start with one of exp, step; got 'zipf'"),
    ("exp:k=10:ratio=100:alpha=2", r"`profile` parameter 'alpha=2' is not one of its parameters"),
    ("exp:k=10:k=11:ratio=100", r"`profile` parameter 'k=11' is given twice"),
    ("exp:k=10", r"`profile` 'exp:k=10' lacks ratio"),
    ("exp:k=10:ratio=", r"`profile` parameter ratio has an empty value"),
    ("exp:k=1:ratio=10", r"`k` must be in \[2, 100000\]; got k=1"),
    ("exp:k=10:ratio=0.5", r"`ratio` must be at least 1"),
    ("exp:k=10:ratio=100:n_max=50", r"`ratio` must be at most `n_max`"),
    ("exp:k=2,3:ratio=1,2", r"may list several values for one parameter only"),
])
def test_profile_errors(spec, match):
    with pytest.raises(SeliInputError, match=match):
        parse_profile(spec)


def test_profile_values():
    assert parse_profile("exp:k=10:ratio=100").counts == (5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50)
    c = parse_profile("exp:k=1000:ratio=256:n_max=1280")
    assert (c.k, c.counts[0], c.counts[-1], c.n, len(c.blocks())) == (1000, 1280, 5, 229853, 529)


@pytest.mark.parametrize("text, match", [
    ("5\n0\n", r"line 2: every class count must be a whole number >= 1; got '0'"),
    ("5\n-3\n", r"line 2: every class count must be a whole number >= 1; got '-3'"),
    ("5\n2.5\n", r"line 2: .* got '2.5'"),
    ("[5, 2.5]", r"item 2: .* got 2.5"),
    ("[5, [2]]", r"must hold a flat JSON list"),
    ("[5, 2", r"starts like a JSON list but is not one"),
    ("# nothing\n\n", r"holds no counts"),
])
def test_counts_file_errors(tmp_path, text, match):
    f = tmp_path / "counts.txt"
    f.write_text(text)
    with pytest.raises(SeliInputError, match=match):
        counts_from_file(f)


def test_counts_file_reads_lines_and_json(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.json"
    a.write_text("# CIFAR-10-LT head\n5000\n\n2997  # next\n50\n")
    b.write_text("[5000, 2997, 50]")
    assert counts_from_file(a).counts == counts_from_file(b).counts == (5000, 2997, 50)
    with pytest.raises(SeliInputError, match=r"does not exist"):
        counts_from_file(tmp_path / "missing.txt")
    with pytest.raises(SeliInputError, match=r"is a folder"):
        counts_from_file(tmp_path)
    assert from_counts([5000, 2997, 50]) == counts_from_file(a)
