"""Class-count models (Definition 1) and their error messages."""

from fractions import Fraction

import numpy as np
import pytest

from seli_exact import SeliInputError, from_counts, long_tailed, step


def test_step_fig1_case():
    c = step(4, 10, "1/2", 5)
    assert c.counts == (50, 50, 5, 5)  # Sec. 1: two majorities of 50, two minorities of 5
    assert c.n == 110
    assert c.groups() == {"majority": (0, 1), "minority": (2, 3)}
    assert c.labels().tolist() == [0] * 50 + [1] * 50 + [2] * 5 + [3] * 5


def test_step_majorities_first_and_sizes():
    c = step(6, "5/2", Fraction(1, 3), 4)
    assert c.counts == (10, 10, 10, 10, 4, 4)
    assert c.params["m"] == 4 and c.params["s"] == 2


def test_from_counts_text_and_list_agree():
    assert from_counts("3, 7,1") == from_counts([3, 7, 1])
    assert from_counts([3, 7, 1]).blocks() == [(1, (2,)), (3, (0,)), (7, (1,))]


def test_long_tailed_profile():
    c = long_tailed(5, 16, 160)
    assert c.counts == (160, 80, 40, 20, 10)
    assert c.imbalance_ratio == 16


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(k=1, R=2, rho=0.5, n_min=1), r"`k` must be at least 2; got k=1"),
        (dict(k="four", R=2, rho=0.5, n_min=1), r"`k` must be a whole number; got the text 'four'"),
        (dict(k=4, R=0.5, rho=0.5, n_min=1), r"`R` must be at least 1 .*got R=1/2"),
        (dict(k=4, R="x", rho=0.5, n_min=1), r"`R` must be a number; got the text 'x'"),
        (dict(k=4, R=2, rho=1, n_min=1), r"`rho` must lie strictly between 0 and 1; got rho=1"),
        (dict(k=4, R=2, rho=0, n_min=1), r"`rho` must lie strictly between 0 and 1"),
        (dict(k=4, R=2, rho=0.3, n_min=5),
         r"`rho` \* `k` must be a whole number of minority classes; got rho=0.3, k=4 \(1.2 classes\)\. "
         r"Try rho=0.25 or rho=0.5\."),
        (dict(k=4, R=2, rho=0.5, n_min=0), r"`n_min` must be at least 1; got n_min=0"),
        (dict(k=4, R=2, rho=0.5, n_min=1.5), r"`n_min` must be a whole number; got 1.5"),
        (dict(k=4, R=2.5, rho=0.5, n_min=3), r"`R` \* `n_min` must be a whole number .* Choose n_min a multiple of 2"),
    ],
)
def test_step_errors(kwargs, match):
    with pytest.raises(SeliInputError, match=match):
        step(**kwargs)


@pytest.mark.parametrize(
    "value, match",
    [
        ("3,0,2", r"got 0 for class 1"),
        ("3,-2", r"got -2 for class 1"),
        ("3,2.5", r"got '2.5' for class 1"),
        ("3,abc", r"got 'abc' for class 1"),
        ("7", r"at least 2 classes; got \[7\]"),
        ("", r"comma-separated list"),
    ],
)
def test_counts_errors(value, match):
    with pytest.raises(SeliInputError, match=match):
        from_counts(value)


def test_labels_are_class_ordered():
    c = from_counts([2, 1, 3])
    y = c.labels()
    assert np.all(np.diff(y) >= 0) and np.bincount(y).tolist() == [2, 1, 3]
