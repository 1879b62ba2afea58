"""Class-count models (Definition 1) and their error messages."""

import os
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from seli_exact import SeliInputError, from_counts, long_tailed, sel_svd, step
from seli_exact.counts import MAX_COUNT, MAX_COUNTS_FILE_BYTES, _dec, counts_from_file


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
        (dict(k=1, R=2, rho=0.5, n_min=1), r"`k` must be in \[2, 100000\]; got k=1"),
        (dict(k=4, R="1e300", rho=0.5, n_min=1), r"`R` \* `n_min` must be at most 2\^52 .*\(1\.000e\+300\)"),
        (dict(k=3, R=2, rho="0.333333", n_min=1),
         r"got rho=0\.333333, k=3 \(0\.999999 classes\)\. Try rho=1/3 or rho=2/3\."),
        (dict(k=3, R=2, rho="0.33333333333333", n_min=1), r"\(0\.99999999999999 classes\)"),
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
        # an empty item or a space inside one was dropped or joined: "5,,2" meant [5, 2] and
        # "5 5,2" meant [55, 2]; now each is one sentence
        ("5,,2", r"^`counts` has an empty item in '5,,2' \(item 2\); give one class size "
                 r"between each pair of commas"),
        (",5,2", r"empty item in ',5,2' \(item 1\)"),
        ("5,2,", r"empty item in '5,2,' \(item 3\)"),
        ("5, \t,2", r"empty item .*\(item 2\)"),
        (" , ", r"empty item"),
        ("5 5,2", r"^`counts` item '5 5' has a space inside; separate class sizes by commas"),
    ],
)
def test_counts_errors(value, match):
    with pytest.raises(SeliInputError, match=match):
        from_counts(value)


def test_labels_are_class_ordered():
    c = from_counts([2, 1, 3])
    y = c.labels()
    assert np.all(np.diff(y) >= 0) and np.bincount(y).tolist() == [2, 1, 3]


@pytest.mark.parametrize("rho, k, expected", [
    ("0.3333333333333333", 3, Fraction(1, 3)),    # the float64 nearest 1/3
    ("0.33333333333333331", 3, Fraction(1, 3)),   # another decimal of that same float
    (0.6666666666666666, 3, Fraction(2, 3)),      # a Python float
    ("0.14285714285714285", 7, Fraction(1, 7)),
])
def test_rho_decimal_of_whole_classes_means_j_over_k(rho, k, expected):
    c = step(k, 10, rho, 1)
    assert c.params["rho"] == expected and c.params["s"] == expected * k


def test_rho_rule_takes_only_the_float_of_j_over_k():
    """A decimal near j/k but a different float64 is refused, and an exact Fraction that is
    not j/k is never rounded to it."""
    with pytest.raises(SeliInputError, match="whole number of minority classes"):
        step(3, 10, "0.333333333333333", 1)  # 15 threes: another float than 1/3's
    with pytest.raises(SeliInputError, match="whole number of minority classes"):
        step(3, 10, Fraction(3333333333333333, 10**16), 1)


def test_dec_is_exact():
    assert _dec(Fraction(999999, 10**6)) == "0.999999"
    assert _dec(Fraction(-5, 4)) == "-1.25" and _dec(Fraction(1, 3)) == "1/3"
    assert _dec(Fraction(10**20)) == "1.000e+20" and _dec(Fraction(10**17)) == str(10**17)


def test_counts_are_bounded_by_float64():
    assert from_counts([1, MAX_COUNT]).counts == (1, MAX_COUNT)
    with pytest.raises(SeliInputError, match=r"at most 2\^52 = 4503599627370496 .* got 4503599627370497 "
                                             r"for class 1"):
        from_counts([1, MAX_COUNT + 1])
    with pytest.raises(SeliInputError, match=r"got 1\.000e\+300 for class 0"):
        from_counts(["1e300", 1])
    with pytest.raises(SeliInputError, match="at most 100,000 classes"):
        from_counts([1] * 100_001)


# Counts up to MAX_COUNT, with the gaps of 1 next to it that stalled the iteration at 2^53.
huge = st.one_of(st.integers(1, MAX_COUNT), st.integers(MAX_COUNT - 64, MAX_COUNT),
                 st.sampled_from([1, 2, 3]))


@given(st.lists(huge, min_size=2, max_size=12))
@example([1, MAX_COUNT])
@example([MAX_COUNT - 1, MAX_COUNT])
@example([3, MAX_COUNT - 2, MAX_COUNT - 1, MAX_COUNT])
@example(list(range(MAX_COUNT - 30, MAX_COUNT + 1)))
def test_secular_iteration_converges_on_every_allowed_count_vector(counts):
    """The structured SVD runs on any counts the model accepts: each eigenvalue mu of P D P
    lies in its gap and satisfies P D P v = mu v to working precision (Sec. A)."""
    c = from_counts(counts)
    s = sel_svd(c)
    D = np.asarray(c.counts, dtype=float)
    P = np.eye(c.k) - 1.0 / c.k
    A = P @ np.diag(D) @ P  # (k, k)
    mu = s.sigma**2
    scale = D.max()
    residual = np.abs(A @ s.V - s.V * mu[None, :]).max()
    assert np.all(np.isfinite(s.sigma)) and residual <= 1e-9 * scale


def test_counts_file_refuses_devices_pipes_and_huge_files(tmp_path):
    with pytest.raises(SeliInputError, match="is not a regular file"):
        counts_from_file("/dev/zero")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(SeliInputError, match="is not a regular file"):
        counts_from_file(tmp_path / "fifo")  # would block forever if opened
    big = tmp_path / "big.txt"
    big.write_bytes(b"1\n" * (MAX_COUNTS_FILE_BYTES // 2 + 1))
    with pytest.raises(SeliInputError, match=r"holds 4,000,002 bytes, more than the 4,000,000"):
        counts_from_file(big)
    with pytest.raises(SeliInputError, match="is a folder"):
        counts_from_file(tmp_path)


def _long_tail_by_bisection(k, ratio, n_max):
    """The defining rule, by integer bisection on m^(k-1) p^c <= n_max^(k-1) q^c."""
    p, q, e = Fraction(ratio).numerator, Fraction(ratio).denominator, k - 1
    out = []
    for c in range(k):
        lo, hi = 1, n_max
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if mid**e * p**c <= n_max**e * q**c else (lo, mid - 1)
        out.append(lo)
    return tuple(out)


@given(st.integers(2, 40), st.sampled_from([1, 2, 16, 100, 4096, 5000, 10**6, 2**52]),
       st.one_of(st.integers(1, 200), st.sampled_from([Fraction(9, 4), Fraction(5, 3), 2**30])))
@example(5, 160, 16)
@example(3, 10**6, 100)
@example(41, 2**52, 2**40)
def test_long_tail_matches_integer_bisection(k, n_max, ratio):
    if ratio > n_max:
        ratio = n_max
    assert long_tailed(k, ratio, n_max).counts == _long_tail_by_bisection(k, ratio, n_max)


def test_long_tail_of_many_classes_is_quick():
    c = long_tailed(100_000, 100)
    assert c.counts[0] == 5000 and c.counts[-1] == 50
    assert all(a >= b for a, b in zip(c.counts, c.counts[1:]))


@pytest.mark.parametrize("counts", [[1, MAX_COUNT], [MAX_COUNT - 1, MAX_COUNT],
                                    [3, MAX_COUNT - 2, MAX_COUNT - 1, MAX_COUNT]])
def test_mpmath_route_converges_at_the_largest_counts(counts):
    """The 30-digit route (a float64 solve, then Newton in MPFR) on the extreme allowed counts:
    every secular root mu solves sum_c 1/(n_c - mu) = 0 to its precision."""
    s = sel_svd(from_counts(counts), "mpmath", 30)
    ctx = s.arithmetic.ctx
    for term in s.spectrum:
        if term.kind == "secular":
            f = sum(1 / (ctx.mpf(n) - term.mu) for n in counts)
            scale = sum(1 / abs(ctx.mpf(n) - term.mu) for n in counts)
            assert abs(f) <= ctx.mpf(10) ** -25 * scale
