"""Command-line flags generated from the trainers' declared settings (training.settings).

`add_settings(parser, Config, names)` adds one flag per named setting: the flag's name, its help
text (with the default) and its group all come from the setting's declaration, and every value is
checked by the config itself; `settings_from_args(args, Config, names)` collects the flags that
were given (the rest keep the config's defaults). `add_run_management_arguments` declares the
flags every run folder shares: --out, --resume, --progress (--no-progress).
"""

from __future__ import annotations

import dataclasses

from seli_exact.errors import SeliInputError

from .progress import HEARTBEAT_S, Progress, add_progress_argument

RUN_MANAGEMENT = "run management"


def _group(p, title: str):
    """The parser's argument group `title`, made on first use (one per title)."""
    groups = p.__dict__.setdefault("_seli_groups", {})
    if title not in groups:
        groups[title] = p.add_argument_group(title) if title else p
    return groups[title]


def add_run_management_arguments(p, *, files: str, resume: str):
    """--out, --resume, --allow-long and --progress: the flags of every command that writes a
    run folder.

    `files` describes what the command writes into --out; `resume` what --resume continues.
    Returns the "run management" group, where the trainers' checkpoint and logging settings
    are listed too."""
    from .limits import TRAIN_TIME_LIMIT_S, seconds_text

    g = _group(p, RUN_MANAGEMENT)
    g.add_argument("--out", required=True, metavar="DIR", help=f"output folder: {files}")
    g.add_argument("--resume", action="store_true", help=resume)
    g.add_argument("--allow-long", dest="allow_long", action="store_true",
                   help=f"train even when the run is estimated to take more than "
                        f"{seconds_text(TRAIN_TIME_LIMIT_S)} on the CPU (the estimate counts the "
                        "run's arithmetic, see training/cost.py; without this flag such a run is "
                        "refused before it starts, as a mistyped --epochs usually is)")
    add_progress_argument(g)
    g.add_argument("--no-progress", dest="progress", action="store_const", const="never",
                   help="the same as --progress never")
    return g


class LazyProgress:
    """The trainers' progress line (seli_cli.progress, counting epochs): `progress(done,
    **postfix)`, with the loss and training error after the ETA."""

    def __init__(self, total: int, desc: str, mode: str):
        self.total = total
        # off a terminal (a log, a pipe): a heartbeat line a minute, so long runs never go quiet
        self.line = Progress(desc, mode or "auto", unit="epochs", heartbeat=HEARTBEAT_S,
                             since_first=True)

    def __call__(self, done: int, **postfix) -> None:
        self.line(done, self.total, **postfix)

    def close(self) -> None:
        self.line.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _fields(config_cls) -> dict:
    from training.settings import spec

    return {f.name: (f, spec(f)) for f in dataclasses.fields(config_cls) if spec(f) is not None}


def add_settings(p, config_cls, names, *, overrides: dict | None = None) -> None:
    """One flag per setting in `names` (in that order), under the setting's group.

    `overrides` maps a setting to Spec fields to replace for this command only, e.g.
    {"R": {"many": True, "unset": "1,10,100"}} where a command runs one config per listed value.
    """
    from training.settings import default_text

    fields = _fields(config_cls)
    for name in names:
        f, s = fields[name]
        if overrides and name in overrides:
            s = dataclasses.replace(s, **overrides[name])
        flag = s.flag_name(name)
        if flag is None:
            continue
        g = _group(p, s.group)
        default = default_text(f, s)
        help_text = f"{s.help}; default {default}" if default else s.help
        if s.kind == "bool":
            g.add_argument(f"--{flag}", dest=name, action="store_true", default=None,
                           help=help_text)
            if s.negatable:
                g.add_argument(f"--no-{flag}", dest=name, action="store_false",
                               help=f"the opposite of --{flag}")
            continue
        if s.kind == "choice":
            metavar = "{" + ",".join(map(str, s.choices)) + "}"
        elif s.kind == "profile":
            metavar = "SPEC"
        elif s.many or s.kind == "counts":
            metavar = "A,B,..."
        else:
            metavar = flag.upper().replace("-", "_")
        g.add_argument(f"--{flag}", dest=name, metavar=metavar, help=help_text)
        if s.kind == "counts":
            g.add_argument(f"--{flag}-file", dest=f"{name}_file", metavar="FILE",
                           help=f"the same from a file: one count per line (# comments) or a "
                                f"JSON list; instead of --{flag}")


def settings_from_args(args, config_cls, names) -> dict:
    """{setting: value as typed} for every flag of `names` that was given."""
    fields = _fields(config_cls)
    kw = {}
    for name in names:
        _, s = fields[name]
        value = getattr(args, name, None)
        if s.kind == "counts":
            path = getattr(args, f"{name}_file", None)
            if path is not None:
                if value is not None:
                    raise SeliInputError(
                        f"`--{s.flag_name(name)}` and `--{s.flag_name(name)}-file` both give the "
                        "class counts; give one of them."
                    )
                from seli_exact.counts import MAX_COUNTS_FILE_BYTES, counts_from_file

                from .args import in_file

                value = counts_from_file(in_file(f"--{s.flag_name(name)}-file", path,
                                                 max_bytes=MAX_COUNTS_FILE_BYTES)).counts
        if value is not None:
            kw[name] = value
    return kw


def names_of(config_cls, *, groups=None, exclude=()) -> list[str]:
    """The settings of `config_cls` with a flag, in declaration order, optionally only those of
    the given groups and without `exclude`."""
    out = []
    for name, (_, s) in _fields(config_cls).items():
        if s.flag_name(name) is None or name in exclude:
            continue
        if groups is None or s.group in groups:
            out.append(name)
    return out


__all__ = ["LazyProgress", "add_run_management_arguments", "add_settings", "names_of",
           "settings_from_args"]
