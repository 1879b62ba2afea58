"""Every setting of a deep-net run (Fig 2), declared once; see `training.settings`.

The recipe (the defaults): SGD with momentum 0.9 and weight decay 5e-4, lr 0.1 divided by 10 at
1/3 and 2/3 of 350 epochs, batch 128 (32 on the small digits set), cross-entropy, no
augmentation, on an (R, 1/2)-STEP subsample with R = 10. Instead of STEP the training set may
follow explicit class counts (`counts`) or a long-tail profile (`profile`, e.g.
exp:k=10:ratio=100:n_max=170); the data set must hold enough images of every class.

Imports no torch, so that the CLI can build its flags without it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from fractions import Fraction

from seli_exact.counts import ClassCounts, parse_profile, parse_profiles, step
from seli_exact.errors import SeliInputError

from .cost import THREADS_MIN_FLOPS
from .data import CLASS_SIZES, DATASETS, SHAPES, largest_n_min
from .settings import resolve, setting

ARCHS = ("mlp", "resnet18", "vgg13")  # training.models builds each of them

DATA = "data and network"
COUNTS = "class counts (default: (R, 1/2)-STEP with R = 10, n_min the largest the data allow)"
OPTIMIZER = ("optimizer (defaults: SGD, lr 0.1, momentum 0.9, wd 5e-4, 350 epochs, lr / 10 at "
             "1/3 and 2/3)")
DEVICE = "device and precision"
RUN_MANAGEMENT = "run management"

DEFAULT_R = Fraction(10)
DEFAULT_RHO = Fraction(1, 2)
_DEVICE = re.compile(r"^(cpu|cuda(:\d{1,4})?)$")
_FLOPS_TEXT = f"{THREADS_MIN_FLOPS:.0e}".replace("e+0", "e")  # 6e7


@dataclass(frozen=True)
class DeepNetConfig:
    """Everything that defines a deep-net run; saved resolved in config.json beside the results."""

    dataset: str = setting(
        "digits", "digits is scikit-learn's bundled 8x8 set and needs no files; the others are "
        "read from torchvision's folders under --data-root", kind="choice", choices=DATASETS,
        group=DATA)
    data_root: str | None = setting(
        None, "folder holding MNIST/raw, FashionMNIST/raw or cifar-10-batches-py (nothing is "
        "downloaded)", kind="text", optional=True, unset="none (digits needs no files)",
        group=DATA)
    arch: str | None = setting(None, "network", kind="choice", choices=ARCHS, optional=True,
                               unset="mlp on digits, resnet18 otherwise", group=DATA)
    width: int | None = setting(
        None, "MLP width or base channels of ResNet/VGG", kind="whole", optional=True, minimum=1,
        maximum=65536, unset="the architecture's own (mlp 256, resnet/vgg 64)", group=DATA,
        fix="Leave it out for the architecture's own.")
    R: Fraction | None = setting(
        None, "imbalance ratio of the (R, rho)-STEP subsample", kind="rational", optional=True,
        minimum=1, maximum=10**6, unset="10", group=COUNTS,
        fix="R is the imbalance ratio (majority size / minority size), e.g. 10.")
    rho: Fraction | None = setting(
        None, "minority fraction of (R, rho)-STEP", kind="rational", optional=True, minimum=0,
        maximum=1, unset="1/2", group=COUNTS, fix="rho is the minority fraction, e.g. 1/2.")
    n_min: int | None = setting(
        None, "images per minority class", kind="whole", optional=True, minimum=1,
        maximum=10**9, unset="the largest the data set allows", group=COUNTS,
        fix="Leave it out for the largest the data allow.")
    counts: tuple | None = setting(
        None, "explicit class counts n1,n2,... (one per class of the data set) instead of STEP",
        kind="counts", optional=True, unset="none (STEP)", group=COUNTS)
    profile: str | None = setting(
        None, "a count profile instead of STEP: exp:k=K:ratio=R[:n_max=N] (CIFAR-10-LT's rule, "
        "n_c = floor(N R^(-c/(K-1))), N defaults to 5000; K is the data set's 10 classes) or "
        "step:k=K:R=R:rho=RHO:n_min=N", kind="profile", optional=True, unset="none (STEP)",
        group=COUNTS)
    seed: int = setting(0, "seed of the subsample, initialization and shuffling", kind="whole",
                        minimum=0, maximum=2**63 - 1, group=DATA, fix="Try 0.")
    epochs: int = setting(350, "epochs", kind="whole", minimum=1, maximum=10**6,
                          group=OPTIMIZER, fix="Try 350.")
    batch_size: int | None = setting(
        None, "SGD batch size", kind="whole", optional=True, minimum=1, maximum=10**7,
        unset="128; 32 on digits, whose ~935-image STEP set would otherwise give only ~8 SGD "
        "steps an epoch", group=OPTIMIZER, fix="Try 128.")
    lr: float = setting(0.1, "initial learning rate", kind="real", minimum=0, maximum=1000,
                        inclusive=False, group=OPTIMIZER, fix="Try 0.1.")
    momentum: float = setting(0.9, "SGD momentum", kind="real", minimum=0, maximum=1,
                              group=OPTIMIZER, fix="Try 0.9.")
    weight_decay: float = setting(5e-4, "weight decay", kind="real", minimum=0, maximum=1000,
                                  group=OPTIMIZER, fix="Try 5e-4.")
    milestones: tuple = setting(
        ("1/3", "2/3"), "fractions of the epochs where lr is multiplied by --gamma, "
        "comma-separated, increasing", kind="real", many=True, minimum=0, maximum=1,
        inclusive=False, group=OPTIMIZER, fix="Try 1/3,2/3 (or --gamma 1 for a constant rate).")
    gamma: float = setting(0.1, "learning-rate factor at each milestone", kind="real",
                           minimum=0, maximum=1000, group=OPTIMIZER, fix="Try 0.1.")
    device: str = setting("cpu", "cpu, cuda or cuda:N", kind="text", group=DEVICE)
    bf16: bool = setting(False, "bfloat16 autocast for the training steps", kind="bool",
                         group=DEVICE)
    channels_last: bool | None = setting(
        None, "channels_last memory format", kind="bool", optional=True, negatable=True,
        unset="on for conv nets on cuda", group=DEVICE)
    tf32: bool = setting(False, "allow TF32 matmuls and convolutions on cuda", kind="bool",
                         group=DEVICE)
    threads: int | None = setting(
        None, "CPU threads for torch during the run (the result depends on it: see README)",
        kind="whole", optional=True, minimum=1, maximum=4096,
        unset=f"1 for networks below {_FLOPS_TEXT} flops per training step (the digits MLP), "
              "else the cores this process may use; the choice is saved in config.json",
        group=DEVICE,
        fix="Try 1.")
    metrics_every: str = setting("log", "measure at log-spaced epochs or every epoch",
                                 kind="choice", choices=("log", "epoch"), group=RUN_MANAGEMENT)
    per_decade: int = setting(20, "metric rows per decade of epochs (log-spaced)", kind="whole",
                              minimum=1, maximum=1000, flag="log-per-decade",
                              group=RUN_MANAGEMENT, fix="Try 20.")
    eval_batch: int = setting(1024, "batch of the measuring pass", kind="whole", minimum=1,
                              maximum=10**7, group=RUN_MANAGEMENT, fix="Try 1024.")
    checkpoint_every: int = setting(10, "epochs between checkpoints (and at the end)",
                                    kind="whole", minimum=1, maximum=10**6,
                                    group=RUN_MANAGEMENT, fix="Try 10.")

    def __post_init__(self):
        resolve(self)
        s = lambda name, v: object.__setattr__(self, name, v)  # noqa: E731 - frozen dataclass
        if self.arch is None:
            s("arch", "mlp" if self.dataset == "digits" else "resnet18")
        if self.batch_size is None:
            s("batch_size", 32 if self.dataset == "digits" else 128)
        sources = [name for name in ("counts", "profile") if getattr(self, name) is not None]
        stepped = [name for name in ("R", "rho", "n_min") if getattr(self, name) is not None]
        if len(sources) > 1:
            raise SeliInputError(
                "`counts` and `profile` both give the class counts; give one of --counts, "
                "--counts-file or --profile."
            )
        if sources and stepped:
            flags = ", ".join("--" + n.replace("_", "-") for n in stepped)
            raise SeliInputError(
                f"`{sources[0]}` replaces the STEP model, but {flags} was given too; drop "
                f"{flags} or --{sources[0]}."
            )
        if self.profile is not None:
            parse_profile(self.profile)  # one count vector per run
        if not sources:
            s("R", DEFAULT_R if self.R is None else self.R)
            s("rho", DEFAULT_RHO if self.rho is None else self.rho)
            if not 0 < self.rho < 1:
                raise SeliInputError(
                    f"`rho` must lie strictly between 0 and 1; got rho={self.rho}. Try rho=1/2."
                )
        ms = self.milestones
        if list(ms) != sorted(set(ms)):
            raise SeliInputError(
                f"`milestones` must be increasing fractions of the epochs in (0, 1); got "
                f"{list(ms)}. Try 1/3,2/3 (or --gamma 1 for a constant rate)."
            )
        if not _DEVICE.match(self.device):
            raise SeliInputError(
                f"`device` must be cpu or cuda (cuda:N for GPU N); got {self.device!r}. "
                "Try --device cpu."
            )
        if self.data_root is not None and self.dataset == "digits":
            raise SeliInputError(
                f"`data_root` names where data files are, but digits is built in and reads none; "
                f"got data_root={self.data_root!r}. Drop --data-root, or pick --dataset mnist, "
                "fashion-mnist or cifar10."
            )
        if self.tf32 and not self.device.startswith("cuda"):
            raise SeliInputError(
                f"`tf32` allows TF32 arithmetic on CUDA devices only; got device={self.device}. "
                "Drop --tf32, or use --device cuda."
            )
        if self.threads is None:  # tiny networks gain nothing from threads that only wait
            from .cost import default_threads, step_flops

            s("threads", default_threads(step_flops(self.arch, SHAPES[self.dataset], 10,
                                                    self.width, self.batch_size)))

    def class_counts(self, k: int) -> ClassCounts | None:
        """The counts of `counts` or `profile` for a data set of k classes; None for STEP
        (whose counts depend on the data set's sizes)."""
        if self.counts is not None:
            c = ClassCounts(tuple(self.counts))
        elif self.profile is not None:
            c = parse_profile(self.profile)
        else:
            return None
        if c.k != k:
            what = f"--counts lists {c.k}" if self.counts is not None \
                else f"--profile {self.profile!r} has k={c.k}"
            raise SeliInputError(
                f"{what} classes, but {self.dataset} has {k}; give one count per class "
                f"(k={k})."
            )
        return c

    def feature_dim(self) -> int:
        """d, the width of the penultimate features (training.models: an MLP's width, 8 x the
        base channels of ResNet-18 and VGG-13)."""
        if self.arch == "mlp":
            return 256 if self.width is None else self.width
        return 8 * (64 if self.width is None else self.width)

    def milestone_epochs(self) -> tuple[int, ...]:
        """The epochs after which the learning rate is multiplied by gamma."""
        return tuple(max(1, round(m * self.epochs)) for m in self.milestones)

    def lr_at(self, epoch: int) -> float:
        """Learning rate during epoch `epoch` (1-based): the step schedule."""
        drops = sum(1 for m in self.milestone_epochs() if epoch > m)
        return self.lr * self.gamma**drops

    def extend_epochs(self, saved: dict, done: int) -> str | None:
        """Why a resumed run that has trained `done` epochs may not go on under `self.epochs`
        (None: it may). The milestones are fractions of the epochs, so a new count moves them;
        it is allowed only when every epoch already trained keeps its learning rate (always for
        a constant rate, gamma = 1), so the run is the one a fresh run of the new count trains.
        """
        if self.epochs < done:
            return (f"the run has already trained {done} epochs, more than --epochs "
                    f"{self.epochs}; pass --epochs {done} or more")
        try:
            old = dataclasses.replace(self, epochs=saved["epochs"])
        except (KeyError, SeliInputError):
            return "config.json holds no valid epoch count to compare with"
        for e in range(1, done + 1):
            if old.lr_at(e) != self.lr_at(e):
                fr = ", ".join(f"{m:.4g}" for m in self.milestones)
                return (f"the learning rate drops by --gamma at the fractions {fr} of --epochs, "
                        f"so {self.epochs} epochs would train epoch {e} at lr {self.lr_at(e):g} "
                        f"where this run used {old.lr_at(e):g}; start a fresh --out (or use "
                        "--gamma 1, a constant rate, for runs that are to be extended)")
        return None

    def expected_counts(self) -> ClassCounts | None:
        """The training set's class counts when the data set is the original (data.CLASS_SIZES),
        for estimates made before any file is read; None when those sizes cannot supply them
        (the check made when the data are read then says why)."""
        sizes = CLASS_SIZES[self.dataset]
        if self.counts is not None or self.profile is not None:
            c = self.class_counts(len(sizes))
        else:
            n_min = self.n_min if self.n_min is not None else largest_n_min(sizes, self.R, self.rho)
            if n_min < 1:
                return None
            c = step(len(sizes), self.R, self.rho, n_min)
        return c if all(a <= b for a, b in zip(c.counts, sizes)) else None

    def seconds_estimate(self) -> float | None:
        """The training's estimated seconds on one CPU thread (training.cost), from the
        network's arithmetic and the expected class counts; None on cuda (nothing measured
        there) or when the counts are not known before the data are read."""
        if self.device.startswith("cuda"):
            return None
        counts = self.expected_counts()
        if counts is None:
            return None
        from .cost import DN_DENSE_EPOCHS, deepnet_seconds
        from .runio import log_epochs

        measured = self.epochs + 1 if self.metrics_every == "epoch" else min(
            self.epochs + 1, len(log_epochs(self.epochs, self.per_decade)) + DN_DENSE_EPOCHS)
        return deepnet_seconds(arch=self.arch, shape=SHAPES[self.dataset], k=counts.k,
                               width=self.width, n=counts.n, batch=self.batch_size,
                               epochs=self.epochs, measured=measured)

    def describe_counts(self) -> str:
        """How the training set's counts are chosen, in words (for titles and summaries)."""
        if self.counts is not None:
            return f"counts {list(self.counts)}"
        if self.profile is not None:
            return parse_profile(self.profile).describe()
        return f"({self.R}, {self.rho})-STEP"


def single_profiles(spec: str) -> list[str]:
    """A profile spec that lists values, as one spec per count vector (one run each).

    >>> single_profiles("exp:k=10:ratio=1,10:n_max=100")
    ['exp:k=10:ratio=1:n_max=100', 'exp:k=10:ratio=10:n_max=100']
    """
    name = spec.strip().split(":")[0]
    out = []
    for c in parse_profiles(spec):
        p = c.params
        if name == "exp":
            out.append(f"exp:k={p['k']}:ratio={_text(p['ratio'])}:n_max={p['n_max']}")
        else:
            out.append(f"step:k={p['k']}:R={_text(p['R'])}:rho={_text(p['rho'])}:"
                       f"n_min={p['n_min']}")
    return out


def _text(q) -> str:
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"
