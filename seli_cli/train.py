"""`seli train ufm|deepnet`: training confirmations (Fig 4 and Fig 2)."""

from .dispatch import add_targets, run_target

MODELS: dict[str, tuple[str, str]] = {
    "ufm": ("seli_cli.train_ufm", "the unconstrained-features model (Fig 4): batched SGD / GD, STEP or long-tailed counts"),
    "deepnet": ("seli_cli.train_deepnet", "a deep net on imbalanced data, STEP or a long tail (Fig 2)"),
}


def add_arguments(p, argv=()) -> None:
    add_targets(p, list(argv), MODELS, "model")


def run(args) -> int:
    return run_target(args)
