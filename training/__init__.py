"""Training confirmations of the paper's experiments (Sec. 5): the UFM (Fig 4) and deep nets (Fig 2).

Public names:
  settings        setting, resolve, settings: each trainer setting declared once, as a
                  dataclass field with its help, default and checks       (training.settings)
  run management  RunDir, MetricsLog, NonFiniteError, check_finite, config_dict,
                  environment, rng_state, restore_rng, log_epochs, has_run (training.runio);
                  RunLock, one process per run folder                     (training.runlock)
  cost            network_macs, network_params, default_threads, ufm_seconds,
                  deepnet_seconds: what a run costs before it starts       (training.cost)
  UFM (Fig 4)     UFMConfig (training.ufm_config), UFMResult, Run, train_ufm, make_runs,
                  ufm_counts, evaluate, final_arrays                        (training.ufm)
  engines         epoch_permutation; KernelEngine, TorchEngine, AutogradEngine live in
                  training.ufm_engines (which imports torch)
  deep nets       DeepNetConfig (training.deepnet_config), DeepNetResult, train_deepnet,
                  load_deepnet_run (training.deepnet), build_model (training.models),
                  LabelledData, Subset, load_dataset, subsample, step_subsample,
                  profile_subsample (training.data); the figures are in figures.fig2/fig4
  your network    collect_features, PenultimateFeatures: penultimate features by a forward
                  hook on the last nn.Linear, for measurement.measure       (training.features)
  sweeps          training.sweep (Ray; `seli sweep`)

Importing this package does not import torch; the functions that train do, when called.
"""

from .data import (
    LabelledData,
    StepSubset,
    Subset,
    load_dataset,
    profile_subsample,
    step_subsample,
    subsample,
)
from .cost import deepnet_seconds, default_threads, network_macs, network_params, ufm_seconds
from .deepnet_config import DeepNetConfig
from .runio import (
    MetricsLog,
    NonFiniteError,
    RunDir,
    check_finite,
    config_dict,
    environment,
    has_run,
    log_epochs,
    restore_rng,
    rng_state,
)
from .runlock import RunLock
from .settings import resolve, setting, settings
from .ufm import Run, UFMResult, evaluate, final_arrays, make_runs, train_ufm
from .ufm_config import UFMConfig, ufm_counts


def epoch_permutation(seeds, epoch, n):
    """The UFM's per-epoch batch order (see training.ufm_engines.epoch_permutation)."""
    from .ufm_engines import epoch_permutation as f

    return f(seeds, epoch, n)


# names whose modules import torch, resolved on first use
_LAZY = {
    "DeepNetResult": ("deepnet", "DeepNetResult"),
    "train_deepnet": ("deepnet", "train"),
    "load_deepnet_run": ("deepnet", "load_run"),
    "build_model": ("models", "build_model"),
    "collect_features": ("features", "collect_features"),
    "PenultimateFeatures": ("features", "PenultimateFeatures"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "setting", "resolve", "settings",
    "MetricsLog", "NonFiniteError", "RunDir", "check_finite", "config_dict",
    "environment", "has_run", "log_epochs", "restore_rng", "rng_state", "RunLock",
    "network_macs", "network_params", "default_threads", "ufm_seconds", "deepnet_seconds",
    "Run", "UFMConfig", "UFMResult", "evaluate", "final_arrays", "make_runs", "train_ufm",
    "ufm_counts", "epoch_permutation",
    "DeepNetConfig", "LabelledData", "StepSubset", "Subset", "load_dataset", "profile_subsample",
    "step_subsample", "subsample",
    *_LAZY,
]
