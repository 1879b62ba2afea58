"""Sec. 5, Fig 2: a deep net trained beyond zero training error approaches SELI rather than ETF.

`cases` trains the digits default (an MLP on scikit-learn's 8x8 digits, (10, 1/2)-STEP, the
paper's SGD recipe; training.deepnet, torch imported inside) and keeps its metric rows;
`judge_deepnet(rows, zero_error_epoch)` is the judgement on such rows. From the zero-training-
error epoch to the end of training:
  * the distances to SELI of classifiers, centred class means and logits decrease;
  * at the end the distances to SELI of classifiers and class means lie below those to ETF.
(For logits SELI and ETF share the target G* = I - 11^T/k, so there is nothing to compare.)
The distances come from seli_exact's metric library, first read at the dense route's SELI point
(proofs_check.calibration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from seli_exact import step
from seli_exact.verdict import Status, Verdict

from ..calibration import Calibration, calibrate, calibration_rows

ID = "deepnet_digits"
REFERENCE = "Sec. 5, Fig 2"
STATEMENT = ("an MLP trained on (10, 1/2)-STEP digits beyond zero training error: the distances to "
             "SELI decrease and end below the distances to ETF")
PROFILES = ("thorough",)
ORDER = 230
ROUTES = ("structured_svd", "lapack")
OBJECTS = ("classifiers", "embeddings", "logits")
COMPARED = ("classifiers", "embeddings")  # logits: the same target in both geometries


@dataclass(frozen=True, eq=False)
class Case:
    rows: tuple  # metric rows {epoch, seli_<obj>, etf_<obj>} of one run
    zero_error_epoch: int | None
    context: dict  # config and data, for the evidence
    calibration: Calibration  # the metric library at the run's SELI point


def judge_deepnet(rows: list[dict], zero_error_epoch: int | None, *, claim_id: str = ID,
                  context: dict | None = None) -> Verdict:
    """Verdict on measured rows of one run. Margins are relative: (d_seli(zero) - d_seli(end)) /
    d_seli(zero) for the decrease and (d_etf(end) - d_seli(end)) / d_etf(end) for the
    comparison; all must be > 0 (a NaN margin counts as the worst, and fails)."""
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


def cases(profile: str) -> list[Case]:
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
    return [Case(tuple(result.rows), result.zero_error_epoch, context, calibrate(result.counts))]


def judge(cases: list[Case]) -> Verdict:
    if len(cases) != 1:
        return Verdict(ID, Status.ERROR, 0, evidence={"exception": f"expected one run, got {len(cases)}"})
    case = cases[0]
    cal_rows = calibration_rows(case.calibration)
    v = judge_deepnet(list(case.rows), case.zero_error_epoch, context=case.context)
    evidence = dict(v.evidence, calibration=cal_rows)
    bad = [row for row in cal_rows if not row["ok"]]
    if bad:  # the instrument is wrong: its readings refute nothing and verify nothing
        return Verdict(ID, Status.REFUTED, len(cal_rows), evidence=dict(evidence, failing=bad))
    return Verdict(ID, v.status, v.instances, v.worst, v.worst_kind, evidence)


def _rows(seli_end, etf_end) -> tuple:
    zero = {"epoch": 10, "seli_classifiers": 0.4, "seli_embeddings": 0.8, "seli_logits": 0.5,
            "etf_classifiers": 0.5, "etf_embeddings": 0.9, "etf_logits": 0.5}
    end = {"epoch": 350, **{f"seli_{o}": v for o, v in zip(OBJECTS, seli_end)},
           "etf_classifiers": etf_end[0], "etf_embeddings": etf_end[1], "etf_logits": seli_end[2]}
    return (zero, end)


def _good() -> Case:
    return Case(_rows((0.1, 0.3, 0.2), (0.4, 0.45)), 10, {}, calibrate(step(10, 10, "1/2", 2)))


def planted() -> dict[str, list[Case]]:
    good = _good()
    return {
        "SELI and ETF swapped for the classifiers": [replace(good, rows=_rows((0.4, 0.3, 0.2), (0.1, 0.45)))],
        "class means nearer ETF": [replace(good, rows=_rows((0.1, 0.5, 0.2), (0.4, 0.45)))],
        "a distance that grew": [replace(good, rows=_rows((0.1, 0.9, 0.2), (0.4, 0.95)))],
        "a NaN distance": [replace(good, rows=_rows((0.1, float("nan"), 0.2), (0.4, 0.45)))],
        "a metric library that misreads the SELI point": [
            replace(good, calibration=replace(good.calibration, seli=(0.01, 0.0, 0.0)))],
    }


def undecided() -> dict[str, list[Case]]:
    good = _good()
    return {"a run that never reached zero training error": [replace(good, zero_error_epoch=None)]}
