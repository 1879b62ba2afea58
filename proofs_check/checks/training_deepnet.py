"""Sec. 5, Fig 2: a deep net trained beyond zero training error approaches SELI rather than ETF.

The check trains the digits default (an MLP on scikit-learn's 8x8 digits, (10, 1/2)-STEP, the
paper's SGD recipe) and judges its trajectory with `judge_deepnet`, a pure function of the
measured rows, so that a planted wrong trajectory can be shown to be refuted.

From the zero-training-error epoch to the end of training:
  * the distances to SELI of classifiers, centred class means and logits decrease;
  * at the end the distances to SELI of classifiers and class means lie below those to ETF.
(For logits SELI and ETF share the target G* = I - 11^T/k, so there is nothing to compare.)
"""

from __future__ import annotations

import math

from ..registry import claim
from seli_exact.verdict import Status, Verdict

CLAIM_ID = "deepnet_digits"
OBJECTS = ("classifiers", "embeddings", "logits")
COMPARED = ("classifiers", "embeddings")  # logits: the same target in both geometries


def judge_deepnet(rows: list[dict], zero_error_epoch: int | None, *, claim_id: str = CLAIM_ID,
                  context: dict | None = None) -> Verdict:
    """Verdict on measured rows {epoch, seli_<obj>, etf_<obj>} of one run.

    Margins are relative: (d_seli(zero) - d_seli(end)) / d_seli(zero) for the decrease and
    (d_etf(end) - d_seli(end)) / d_etf(end) for the comparison; all must be > 0.
    """
    evidence = dict(context or {})
    evidence["zero_error_epoch"] = zero_error_epoch
    if not rows:
        return Verdict(claim_id, Status.UNDECIDED, 0, evidence=evidence | {"reason": "no rows"})
    if zero_error_epoch is None:
        evidence["reason"] = "training never reached zero training error"
        return Verdict(claim_id, Status.UNDECIDED, 0, evidence=evidence)
    at_zero = next((r for r in rows if r["epoch"] == zero_error_epoch), None)
    end = rows[-1]
    if at_zero is None or end["epoch"] <= zero_error_epoch:
        evidence["reason"] = "no measured epoch after the zero-training-error epoch"
        return Verdict(claim_id, Status.UNDECIDED, 0, evidence=evidence)
    margins: dict[str, float] = {}
    for obj in OBJECTS:
        a, b = at_zero[f"seli_{obj}"], end[f"seli_{obj}"]
        margins[f"seli_{obj}_decreases"] = _ratio(a - b, a)
    for obj in COMPARED:
        s, e = end[f"seli_{obj}"], end[f"etf_{obj}"]
        margins[f"seli_below_etf_{obj}"] = _ratio(e - s, e)
    # a NaN margin (a NaN distance) compares false with everything, so min() could pass over
    # it; it counts as the worst, and fails
    worst_name = next((k for k, m in margins.items() if not math.isfinite(m)), None) \
        or min(margins, key=margins.get)
    worst = margins[worst_name]
    evidence |= {
        "epochs": [zero_error_epoch, end["epoch"]],
        "at_zero_error": {k: at_zero[k] for k in at_zero if k.startswith(("seli_", "etf_"))},
        "end": {k: end[k] for k in end if k.startswith(("seli_", "etf_"))},
        "margins": margins,
        "worst": worst_name,
    }
    status = Status.VERIFIED if math.isfinite(worst) and worst > 0 else Status.REFUTED
    return Verdict(claim_id, status, 1, worst=worst, worst_kind="margin", evidence=evidence)


def _ratio(num: float, den: float) -> float:
    """num / den as a float; NaN when den is 0 or either is not a finite number."""
    num, den = float(num), float(den)
    if not (math.isfinite(num) and math.isfinite(den)) or den == 0:
        return math.nan
    return num / den


@claim(CLAIM_ID, "Sec. 5, Fig 2",
       "an MLP trained on (10, 1/2)-STEP digits beyond zero training error: the distances to SELI "
       "decrease and end below the distances to ETF",
       profiles=("thorough",))
def check(profile: str) -> Verdict:
    import torch

    from training.deepnet import DeepNetConfig, train

    config = DeepNetConfig(dataset="digits", arch="mlp", R=10, seed=0)
    # one thread: the run is then the same on every CPU (a sum's order changes with the thread
    # count, and 350 epochs amplify the last bit), and a small MLP is no faster with more
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with torch.random.fork_rng(devices=[]):
            result = train(config)
    finally:
        torch.set_num_threads(threads)
    context = {"config": {"dataset": config.dataset, "arch": config.arch, "R": str(config.R),
                          "epochs": config.epochs, "batch_size": config.batch_size,
                          "lr": config.lr, "weight_decay": config.weight_decay,
                          "torch_threads": 1, "torch": torch.__version__},
               "class_counts": list(result.counts.counts), "seconds": result.seconds}
    return judge_deepnet(result.rows, result.zero_error_epoch, context=context)
