"""Trainer settings declared once: a dataclass field carries its help, default and validation.

A trainer's config is a frozen dataclass whose fields are made with `setting(default, help,
kind=..., ...)`. From that one declaration come

  * the validation: `resolve(config)` (called first in `__post_init__`) parses every field with
    `seli_exact.validate`'s finite ranges, so text such as "1e400" or "nan" is one sentence;
  * the CLI flags and their help text (`seli_cli.settings.add_settings` reads `spec(field)`);
  * config.json (`training.runio.config_dict`, the resolved fields in declaration order).

Cross-field rules (d >= k - 1, conflicting flags) stay in the config's own `__post_init__`,
after `resolve`.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo:
...     epochs: int = setting(10, "passes over the data", kind="whole", minimum=1, maximum=1000)
...     lrs: tuple = setting((0.4,), "learning rates", kind="real", many=True, minimum=0,
...                          maximum=10, inclusive=False, flag="lr")
...     def __post_init__(self):
...         resolve(self)
>>> Demo(epochs="20", lrs="0.1,0.2")
Demo(epochs=20, lrs=(0.1, 0.2))
>>> Demo(epochs="1e400")
Traceback (most recent call last):
...
seli_exact.errors.SeliInputError: `epochs` must be a whole number with an exponent of at most 300; got '1e400'.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

from seli_exact.errors import SeliInputError
from seli_exact.validate import rational, real, whole

KINDS = ("whole", "real", "rational", "choice", "bool", "text", "counts", "profile")
_KEY = "seli_setting"


@dataclass(frozen=True)
class Spec:
    """How one setting is parsed, checked and offered on the command line.

    kind      whole | real | rational | choice | bool | text | counts (a class-count vector,
              with a --NAME-file twin on the CLI) | profile (a count-profile spec)
    many      a comma-separated list, kept as a tuple (at least one item; `distinct`: no repeats)
    optional  None is a legal value; `unset` says in the help what None stands for
    flag      the CLI flag without dashes ("" = the field name with dashes; None = no flag)
    group     the title of the --help group the flag is listed under
    """

    help: str
    kind: str
    minimum: object = None
    maximum: object = None
    inclusive: bool = True
    choices: tuple = ()
    many: bool = False
    distinct: bool = False
    optional: bool = False
    unset: str = ""
    flag: str | None = ""
    group: str = ""
    fix: str = ""
    negatable: bool = False
    as_float: bool = False  # rational text ("1/3") kept as a float

    def flag_name(self, field_name: str) -> str | None:
        if self.flag is None:
            return None
        return self.flag or field_name.replace("_", "-")

    def label(self, field_name: str) -> str:
        """The name error messages use: the flag's name, so a CLI user recognises it."""
        return (self.flag or field_name).replace("-", "_")


def setting(default, help: str, *, kind: str, **spec) -> dataclasses.Field:
    """A dataclass field declaring one setting (see `Spec` for the keywords)."""
    if kind not in KINDS:
        raise ValueError(f"unknown setting kind {kind!r}")
    s = Spec(help=help, kind=kind, **spec)
    if s.optional and not s.unset and default is None:
        raise ValueError("an optional setting with default None needs `unset` (what None means)")
    return dataclasses.field(default=default, metadata={_KEY: s})


def spec(field: dataclasses.Field) -> Spec | None:
    """The Spec of a dataclass field made by `setting`, or None."""
    return field.metadata.get(_KEY)


def settings(config_cls) -> list[tuple[dataclasses.Field, Spec]]:
    """Every declared setting of a config class, in declaration order."""
    return [(f, spec(f)) for f in dataclasses.fields(config_cls) if spec(f) is not None]


def resolve(config) -> None:
    """Parse and check every declared field of a (frozen) config in place."""
    for f, s in settings(type(config)):
        value = getattr(config, f.name)
        object.__setattr__(config, f.name, parse(s, f.name, value))


def parse(s: Spec, name: str, value):
    """One setting's value from a number, a sequence or the text a user typed."""
    label = s.label(name)
    if value is None:
        if s.optional:
            return None
        raise SeliInputError(f"`{label}` needs a value; got None.{_fix(s.fix)}")
    if s.many:
        items = _items(label, value, s.fix)
        out = tuple(_one(s, label, v) for v in items)
        if s.distinct:
            seen = []
            for v in out:
                if v in seen:
                    raise SeliInputError(
                        f"`{label}` lists {_show(v)} twice; got {[_show(x) for x in out]}. "
                        "List each value once."
                    )
                seen.append(v)
        return out
    return _one(s, label, value)


def _items(label: str, value, fix: str) -> list:
    if isinstance(value, str):
        items = [x.strip() for x in value.split(",")]
        if not value.strip() or any(x == "" for x in items):
            raise SeliInputError(
                f"`{label}` must be a comma-separated list with no empty item; got {value!r}."
                f"{_fix(fix)}"
            )
        return items
    if isinstance(value, (list, tuple)):
        if not value:
            raise SeliInputError(f"`{label}` must list at least one value; got none.{_fix(fix)}")
        return list(value)
    return [value]


def _one(s: Spec, label: str, v):
    k = s.kind
    if k == "whole":
        return whole(label, v, minimum=s.minimum, maximum=s.maximum, fix=s.fix)
    if k == "real":
        return real(label, v, minimum=s.minimum, maximum=s.maximum, inclusive=s.inclusive,
                    fix=s.fix)
    if k == "rational":
        q = rational(label, v, minimum=s.minimum, maximum=s.maximum, fix=s.fix)
        return float(q) if s.as_float else q
    if k == "choice":
        if v not in s.choices:
            raise SeliInputError(
                f"`{label}` must be one of {', '.join(map(str, s.choices))}; got {v!r}. "
                "Pick one of those."
            )
        return v
    if k == "bool":
        if not isinstance(v, bool):
            raise SeliInputError(f"`{label}` must be True or False; got {v!r}.")
        return v
    if k == "counts":
        from seli_exact.counts import from_counts

        return from_counts(v if isinstance(v, str) else list(v)).counts
    if k == "profile":
        from seli_exact.counts import parse_profiles

        if not isinstance(v, str):
            raise SeliInputError(f"`{label}` must be a profile spec (text); got {v!r}.{_fix(s.fix)}")
        parse_profiles(v)  # the syntax and every vector it names are checked now
        return v.strip()
    if not isinstance(v, str):  # text
        raise SeliInputError(f"`{label}` must be text; got {v!r}.{_fix(s.fix)}")
    if not v.strip():
        raise SeliInputError(f"`{label}` must not be empty.{_fix(s.fix)}")
    return v


def default_text(field: dataclasses.Field, s: Spec) -> str:
    """The default as the help shows it: 1,5,10,100 for a tuple, 1/2 for a Fraction."""
    d = field.default
    if d is None:
        return s.unset
    if isinstance(d, bool):
        return "on" if d else "off"
    if isinstance(d, tuple):
        return ",".join(_show(x) for x in d)
    return _show(d)


def _show(v) -> str:
    if isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def _fix(fix: str) -> str:
    return f" {fix}" if fix else ""
