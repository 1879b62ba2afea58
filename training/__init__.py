"""Training confirmations of the paper's experiments (Sec. 5): the UFM (Fig 4) and deep nets (Fig 2).

Public names:
  run management  RunDir, MetricsLog, Progress, NonFiniteError, check_finite, config_dict,
                  environment, rng_state, restore_rng, log_epochs          (training.runio)
  UFM (Fig 4)     UFMConfig, UFMResult, Run, train_ufm, make_runs, ufm_counts, evaluate
                                                                            (training.ufm)
  engines         epoch_permutation; KernelEngine, TorchEngine, AutogradEngine live in
                  training.ufm_engines (which imports torch)
  figure          plot_fig4, fig4_table                                     (training.fig4)
  deep nets       DeepNetConfig, DeepNetResult, train_deepnet, load_deepnet_run (training.deepnet),
                  build_model (training.models), LabelledData, StepSubset, load_dataset,
                  step_subsample (training.data), plot_fig2 (training.fig2)
  sweeps          training.sweep (Ray; `seli sweep`)

Importing this package does not import torch; the functions that train do, when called.
"""

from .data import LabelledData, StepSubset, load_dataset, step_subsample
from .fig2 import plot_fig2
from .fig4 import fig4_table, plot_fig4
from .runio import (
    MetricsLog,
    NonFiniteError,
    Progress,
    RunDir,
    check_finite,
    config_dict,
    environment,
    log_epochs,
    restore_rng,
    rng_state,
)
from .ufm import Run, UFMConfig, UFMResult, evaluate, make_runs, train_ufm, ufm_counts


def epoch_permutation(seeds, epoch, n):
    """The UFM's per-epoch batch order (see training.ufm_engines.epoch_permutation)."""
    from .ufm_engines import epoch_permutation as f

    return f(seeds, epoch, n)


# names whose modules import torch, resolved on first use
_LAZY = {
    "DeepNetConfig": ("deepnet", "DeepNetConfig"),
    "DeepNetResult": ("deepnet", "DeepNetResult"),
    "train_deepnet": ("deepnet", "train"),
    "load_deepnet_run": ("deepnet", "load_run"),
    "build_model": ("models", "build_model"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MetricsLog", "NonFiniteError", "Progress", "RunDir", "check_finite", "config_dict",
    "environment", "log_epochs", "restore_rng", "rng_state",
    "Run", "UFMConfig", "UFMResult", "evaluate", "make_runs", "train_ufm", "ufm_counts",
    "epoch_permutation", "fig4_table", "plot_fig4",
    "LabelledData", "StepSubset", "load_dataset", "step_subsample", "plot_fig2",
    *_LAZY,
]
