"""seli_exact.validate: every number at the boundary has a finite range and one clear sentence."""

from fractions import Fraction

import pytest

from seli_exact import SeliInputError
from seli_exact.validate import rational, real, relative_path, whole


@pytest.mark.parametrize("text, match", [
    ("1e400", r"`x` must be a number with an exponent of at most 300; got '1e400'"),
    ("inf", r"`x` must be a number; got the text 'inf'"),
    ("nan", r"`x` must be a number; got the text 'nan'"),
    ("", r"`x` must be a number; got empty text"),
    ("١٢", r"`x` must be a number written with ASCII digits; got '١٢'"),
    ("½", r"written with ASCII digits"),
    ("9" * 65, r"at most 64 characters; got 65 characters"),
])
def test_hostile_numerals_are_refused_with_one_sentence(text, match):
    with pytest.raises(SeliInputError, match=match):
        rational("x", text)


def test_ranges_closed_and_open():
    assert whole("k", "4", minimum=2, maximum=4) == 4
    with pytest.raises(SeliInputError, match=r"`k` must be in \[2, 4\]; got k=5"):
        whole("k", 5, minimum=2, maximum=4)
    assert real("lr", "1e-300", minimum=0, inclusive=False) == 1e-300
    with pytest.raises(SeliInputError, match=r"`lr` must be greater than 0; got lr=0.0"):
        real("lr", "0", minimum=0, inclusive=False)
    with pytest.raises(SeliInputError, match=r"`lr` must be a number; got the text '1e300 \* 2'"):
        real("lr", "1e300 * 2")  # not a numeral: never evaluated
    # a float beyond float range (below the exponent cap, so it gets as far as float())
    with pytest.raises(SeliInputError, match=r"beyond float range"):
        real("lr", "9" * 20 + "e299")


def test_floats_are_taken_by_their_decimal_text():
    assert rational("rho", 0.1) == Fraction(1, 10)
    with pytest.raises(SeliInputError, match=r"`k` must be a whole number; got True"):
        whole("k", True)


def test_relative_paths_need_an_existing_current_folder(tmp_path):
    """`cd d; rm -r ../d`: a relative path names nothing there; an absolute one still works."""
    import os

    old = os.getcwd()
    d = tmp_path / "d"
    d.mkdir()
    os.chdir(d)
    try:
        relative_path("--out", "figs")  # the folder exists: nothing to refuse
        os.rmdir(d)
        relative_path("--out", str(tmp_path / "figs"))
        with pytest.raises(SeliInputError, match=r"^`--out` 'figs' is relative to the current "
                           r"folder, which no longer exists \(it was removed\); cd to an "
                           r"existing folder or give an absolute path\.$"):
            relative_path("--out", "figs")
    finally:
        os.chdir(old)
