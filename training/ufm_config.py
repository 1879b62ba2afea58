"""Every setting of a UFM training run (Fig 4), declared once; see `training.settings`.

Paper setup (Sec. 5, Fig 4), the defaults: k = 4, (R, 1/2)-STEP with n_min chosen so that
n = ((R+1)/2) k n_min is about 400, SGD with constant learning rate 0.4, batch size 4, no
weight decay, 1e5 epochs, R = 1, 5, 10, 100, seeds 0, 1, 2. The paper does not state d; d = 16.

Besides STEP the class counts may be one explicit vector (`counts`) or a profile spec
(`profile`, e.g. exp:k=10:ratio=1,10,100:n_max=100, the CIFAR-10-LT rule), which may list
several vectors as R lists several ratios. Each count vector is one group of runs, named in the
metrics by its imbalance ratio (column "R"): STEP's R, the profile's ratio (or R), or
max/min of explicit counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from seli_exact.counts import MAX_CLASSES, ClassCounts, parse_profiles, step, step_near_n
from seli_exact.errors import SeliInputError

from .settings import resolve, setting

COUNTS = "class counts (default: the paper's (R, 1/2)-STEP with n near 400)"
MODEL = "model and optimizer (defaults: the paper's Fig 4 setup)"
RUNS = "runs"
RUN_MANAGEMENT = "run management"

DEFAULT_R = (1, 5, 10, 100)
DEFAULT_RHO = Fraction(1, 2)
DEFAULT_N_TARGET = 400
DEFAULT_K = 4
DEFAULT_BATCH = 4
# The trainer refuses a configuration whose arrays would need more than this (see memory_bytes).
MAX_BYTES = 8 * 2**30
MAX_EPOCHS = 10**9


@dataclass(frozen=True)
class UFMConfig:
    """Every setting of a UFM training run; the resolved values go to config.json."""

    k: int | None = setting(
        None, "classes", kind="whole", optional=True, minimum=2, maximum=MAX_CLASSES,
        unset=f"{DEFAULT_K} (STEP); the length of --counts or the profile's k otherwise",
        group=COUNTS, fix="The model needs at least two classes.")
    R: tuple | None = setting(
        None, "imbalance ratios of (R, rho)-STEP, comma-separated (one group of runs each)",
        kind="rational", many=True, distinct=True, optional=True, minimum=1, maximum=10**9,
        unset=",".join(map(str, DEFAULT_R)), group=COUNTS,
        fix="R is an imbalance ratio (majority size / minority size), e.g. 10.")
    rho: Fraction | None = setting(
        None, "minority fraction of (R, rho)-STEP; rho*k must be whole", kind="rational",
        optional=True, minimum=0, maximum=1, unset="1/2", group=COUNTS,
        fix="rho is the minority fraction, e.g. 1/2.")
    n_target: int | None = setting(
        None, "n_min is chosen so that n is nearest this (Sec. 5)", kind="whole", optional=True,
        minimum=2, maximum=10**9, unset=str(DEFAULT_N_TARGET), flag="n-target", group=COUNTS,
        fix="Try 400.")
    n_min: int | None = setting(
        None, "fix n_min (examples per minority class) for every R instead of --n-target",
        kind="whole", optional=True, minimum=1, maximum=10**9,
        unset="chosen from --n-target", group=COUNTS, fix="Try 5.")
    counts: tuple | None = setting(
        None, "explicit class counts n1,n2,... instead of STEP (one group of runs)",
        kind="counts", optional=True, unset="none (STEP)", group=COUNTS)
    profile: str | None = setting(
        None, "a count profile instead of STEP: exp:k=K:ratio=R[:n_max=N] (CIFAR-10-LT's rule, "
        "n_c = floor(N R^(-c/(K-1))), N defaults to 5000) or step:k=K:R=R:rho=RHO:n_min=N; one "
        "parameter may list values (ratio=1,10,100), one group of runs each",
        kind="profile", optional=True, unset="none (STEP)", group=COUNTS)
    d: int = setting(16, "feature dimension, >= k-1", kind="whole", minimum=1, maximum=100_000,
                     group=MODEL, fix="Try 16.")
    seeds: tuple = setting(
        (0, 1, 2), "seeds, comma-separated (one run each: initialization and batch order)",
        kind="whole", many=True, distinct=True, minimum=0, maximum=2**64 - 1, group=RUNS,
        fix="Seeds are whole numbers >= 0, e.g. 0,1,2.")
    lrs: tuple = setting(
        (0.4,), "learning rates, comma-separated (one run each); constant over training",
        kind="real", many=True, distinct=True, minimum=0, maximum=10**6, inclusive=False,
        flag="lr", group=MODEL, fix="Try 0.4.")
    optimizer: str = setting("sgd", "sgd (shuffled mini-batches) or gd (full batch)",
                             kind="choice", choices=("sgd", "gd"), group=MODEL)
    batch_size: int | None = setting(
        None, "SGD batch size (the last batch of an epoch may be smaller); not with gd",
        kind="whole", optional=True, minimum=1, maximum=10**9, unset=f"{DEFAULT_BATCH} (sgd)",
        group=MODEL, fix="Try 4.")
    reduction: str = setting(
        "mean", "cross-entropy over a batch: mean (PyTorch's) or sum (Eqn (1)'s part)",
        kind="choice", choices=("mean", "sum"), group=MODEL)
    lam: float = setting(0.0, "ridge of (1), applied as weight decay on W and H", kind="real",
                         minimum=0, maximum=10**6, group=MODEL, fix="Use 0 for Fig 4.")
    init_scale: float = setting(1.0, "W, H entries start as N(0, s^2/d)", kind="real", minimum=0,
                                maximum=10**6, inclusive=False, group=MODEL, fix="Try 1.")
    epochs: int = setting(100_000, "epochs (passes over the n examples)", kind="whole",
                          minimum=0, maximum=MAX_EPOCHS, group=RUN_MANAGEMENT, fix="Try 100000.")
    log_per_decade: int = setting(20, "metric rows per decade of epochs (log-spaced)",
                                  kind="whole", minimum=1, maximum=1000, group=RUN_MANAGEMENT,
                                  fix="Try 20.")
    checkpoint_every: int = setting(1000, "epochs between checkpoints", kind="whole", minimum=1,
                                    maximum=MAX_EPOCHS, group=RUN_MANAGEMENT, fix="Try 1000.")
    dtype: str = setting("float64", "float64 or float32 (no TF32, no autocast)", kind="choice",
                         choices=("float64", "float32"), group=RUNS)
    device: str = setting("cpu", "cpu or cuda", kind="choice", choices=("cpu", "cuda"),
                          group=RUNS)
    engine: str = setting(
        "auto", "auto: the compiled C loop on cpu, batched torch on cuda; autograd is the plain "
        "PyTorch loop", kind="choice", choices=("auto", "kernel", "torch", "autograd"),
        group=RUNS)
    threads: int = setting(0, "CPU threads of the kernel engine; 0: torch's thread count",
                           kind="whole", minimum=0, maximum=4096, group=RUNS,
                           fix="0 means all of torch's threads.")
    cuda_graphs: bool = setting(False, "torch engine on cuda: replay each epoch as a CUDA graph",
                                kind="bool", group=RUNS)

    def __post_init__(self):
        resolve(self)
        s = lambda name, v: object.__setattr__(self, name, v)  # noqa: E731 - frozen dataclass
        sources = [name for name in ("counts", "profile") if getattr(self, name) is not None]
        stepped = [name for name in ("R", "rho", "n_target", "n_min")
                   if getattr(self, name) is not None]
        if len(sources) > 1:
            raise SeliInputError(
                "`counts` and `profile` both give the class counts; give one of --counts, "
                "--counts-file or --profile."
            )
        if sources and stepped:
            raise SeliInputError(
                f"`{sources[0]}` replaces the STEP model, but {_flags(stepped)} was given too; "
                f"drop {_flags(stepped)} or --{sources[0]}."
            )
        if self.n_min is not None and self.n_target is not None:
            raise SeliInputError(
                f"`n_min` fixes the class sizes, so `n_target` cannot choose them; got "
                f"n_min={self.n_min} and n_target={self.n_target}. Give one of --n-min or "
                "--n-target."
            )
        if not sources:  # R as ints where whole: the group labels of the metrics rows ("10")
            s("R", tuple(_whole_or(Fraction(r)) for r in (self.R or DEFAULT_R)))
            s("rho", DEFAULT_RHO if self.rho is None else self.rho)
            if self.n_min is None:
                s("n_target", DEFAULT_N_TARGET if self.n_target is None else self.n_target)
            s("k", DEFAULT_K if self.k is None else self.k)
        groups = _groups(self)  # Definition 1's conditions, the profile, the counts
        ks = sorted({c.k for _, c in groups})
        if len(ks) > 1:
            raise SeliInputError(
                f"`profile` {self.profile!r} names count vectors with k = {ks}; the runs of one "
                "UFM training share k, so list another parameter or train each k separately."
            )
        if self.k is not None and self.k != ks[0]:
            raise SeliInputError(
                f"`k`={self.k} disagrees with the {ks[0]} classes of the given counts; drop --k "
                "(the counts fix it)."
            )
        s("k", ks[0])
        labels = [str(label) for label, _ in groups]
        twice = next((x for i, x in enumerate(labels) if x in labels[:i]), None)
        if twice is not None:
            raise SeliInputError(
                f"`profile` {self.profile!r} names two count vectors with the imbalance ratio "
                f"{twice}, and the runs are told apart by it; list distinct ratios."
            )
        if self.d < self.k - 1:
            raise SeliInputError(
                f"`d` must be at least k-1 = {self.k - 1} (Section 2 assumes d >= k-1); got "
                f"d={self.d}. Pass --d {self.k - 1} or more."
            )
        if self.optimizer == "gd":
            if self.batch_size is not None:
                raise SeliInputError(
                    f"`batch_size` is ignored by full-batch gd; got batch_size={self.batch_size} "
                    "with optimizer=gd. Drop --batch-size, or use --optimizer sgd."
                )
        else:
            if self.batch_size is None:
                s("batch_size", DEFAULT_BATCH)
            label, c = min(groups, key=lambda g: g[1].n)
            if self.batch_size > c.n:
                raise SeliInputError(
                    f"`batch_size` {self.batch_size} is larger than the n = {c.n} examples of the "
                    f"runs with R={label}; pass --batch-size {c.n} or less (or --optimizer gd for "
                    "full batches)."
                )
        if self.cuda_graphs and (self.device != "cuda" or self.engine not in ("auto", "torch")):
            raise SeliInputError(
                f"`cuda_graphs` replays the torch engine's steps on a GPU; got "
                f"device={self.device}, engine={self.engine}. Add --device cuda (engine auto or "
                "torch), or drop --cuda-graphs."
            )
        if self.threads != 0 and (self.device == "cuda" or self.engine in ("torch", "autograd")):
            raise SeliInputError(
                f"`threads` splits the runs of the CPU kernel engine and nothing else; got "
                f"threads={self.threads} with device={self.device}, engine={self.engine}. Drop "
                "--threads, or use --engine kernel (or auto) on the cpu."
            )
        if self.device == "cuda" and self.engine == "kernel":
            raise SeliInputError(
                "`engine` kernel runs on the CPU only; got device=cuda. Use --engine torch or auto."
            )
        need = self.memory_bytes()
        if need > MAX_BYTES:
            raise SeliInputError(
                f"this UFM training would need about {need / 2**30:.3g} GiB for {self.runs()} runs "
                f"of up to n = {max(c.n for _, c in groups)} examples in d = {self.d} with "
                f"k = {self.k} classes, above the {MAX_BYTES / 2**30:g} GiB this trainer allows; "
                "lower the class counts, d, or the number of seeds, ratios and learning rates."
            )

    # -- what the settings resolve to
    def groups(self) -> list[tuple[object, ClassCounts]]:
        """(label, counts) per group of runs, in the order the runs nest (see make_runs)."""
        return _groups(self)

    def runs(self) -> int:
        return len(self.groups()) * len(self.seeds) * len(self.lrs)

    def memory_bytes(self) -> int:
        """An upper estimate of the arrays a run of this config holds at once (8-byte floats):
        the state W, H and the torch engine's per-step copies (about 4 (runs, n+1, d)), the
        metrics' logits and one-hot labels per group (about 3 (runs, k, n)) and the reference
        Gram matrices (3 (k, k))."""
        n_max = max(c.n for _, c in self.groups())
        runs = self.runs()
        return 8 * (4 * runs * (n_max + 1) * self.d + 3 * runs * self.k * n_max
                    + 3 * self.k * self.k)

    def seconds_estimate(self, engine: str | None = None) -> float | None:
        """The whole training's estimated seconds on this machine's CPU (training.cost), with
        `engine` for "auto" (default: the compiled kernel, as on any machine with a C
        compiler); None on cuda, where nothing has been measured."""
        if self.device == "cuda":
            return None
        from .cost import cores, ufm_seconds
        from .runio import log_epochs

        ns = [c.n for _, c in self.groups() for _ in range(len(self.seeds) * len(self.lrs))]
        name = self.engine if self.engine != "auto" else (engine or "kernel")
        return ufm_seconds(engine=name, runs=ns, k=self.k, d=self.d,
                           batch=None if self.optimizer == "gd" else self.batch_size,
                           epochs=self.epochs, rows=len(log_epochs(self.epochs, self.log_per_decade)),
                           threads=self.threads or cores())

    def extend_epochs(self, saved: dict, done: int) -> str | None:
        """Why a resumed run may not go on to `self.epochs` (None: it may).

        The learning rate is constant, so every epoch trains the same way whatever the total:
        a finished run extends, and a run stops early only where it has not passed yet.
        """
        if self.epochs < done:
            return (f"the run has already trained {done} epochs, more than --epochs "
                    f"{self.epochs}; pass --epochs {done} or more")
        return None


def _groups(cfg: UFMConfig) -> list[tuple[object, ClassCounts]]:
    if cfg.counts is not None:
        c = ClassCounts(tuple(cfg.counts))
        return [(_whole_or(c.imbalance_ratio), c)]
    if cfg.profile is not None:
        out = []
        for c in parse_profiles(cfg.profile):
            label = c.params.get("ratio", c.params.get("R"))
            out.append((_whole_or(Fraction(label)), c))
        return out
    return [(R, ufm_counts(cfg.k, R, cfg.rho, cfg.n_target, cfg.n_min)) for R in cfg.R]


def _whole_or(q: Fraction):
    return int(q) if q.denominator == 1 else q


def _flags(names) -> str:
    return ", ".join("--" + n.replace("_", "-") for n in names)


def ufm_counts(k: int, R, rho, n_target: int | None, n_min: int | None = None) -> ClassCounts:
    """(R, rho)-STEP counts with n_min chosen so n = ((1-rho) k R + rho k) n_min is nearest n_target.

    >>> [ufm_counts(4, R, "1/2", 400).counts for R in (1, 10, 100)]
    [(100, 100, 100, 100), (180, 180, 18, 18), (200, 200, 2, 2)]
    """
    if n_min is None:
        return step_near_n(k, R, rho, n_target)
    return step(k, R, rho, n_min)
